// Read-only file maps: the bytes at any offset (page-aligned or not), the refusals (a range past the end of the file,
// a missing file, a directory, bad arguments), empty ranges, and unmapping.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "test_support.h"

namespace jembed_test {
namespace {

std::string temp_path(const char* name) {
#if defined(_WIN32)
  const char* dir = getenv("TEMP");
  return std::string(dir != nullptr ? dir : ".") + "\\" + name;
#else
  const char* dir = getenv("TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
#endif
}

}  // namespace

void test_mapped_file() {
  const std::string path = temp_path("jembed_mapped_file_test.bin");
  // Three pages and a bit, so that ranges start and end inside pages and cross page boundaries.
  std::vector<unsigned char> bytes(3 * 4096 + 123);
  for (size_t k = 0; k < bytes.size(); ++k) {
    bytes[k] = static_cast<unsigned char>((k * 131 + 7) & 0xff);
  }
  FILE* file = fopen(path.c_str(), "wb");
  check(file != nullptr, "map: temp file created");
  if (file == nullptr) {
    return;
  }
  fwrite(bytes.data(), 1, bytes.size(), file);
  fclose(file);
  const int64_t size = static_cast<int64_t>(bytes.size());
  const int64_t ranges[][2] = {{0, size}, {1, size - 1}, {4095, 2}, {4096, 4096}, {5000, size - 5000}, {size, 0}};
  for (const auto& range : ranges) {
    const std::string what = "map [" + std::to_string(range[0]) + ", +" + std::to_string(range[1]) + ")";
    int64_t status = 99;
    const intptr_t address = jembed_map_file(path.c_str(), range[0], range[1], 1, &status);
    check(address != 0 && status == 0, what + ": mapped");
    if (address == 0) {
      continue;
    }
    check(range[1] == 0 || memcmp(reinterpret_cast<const void*>(address), bytes.data() + range[0],
                                  static_cast<size_t>(range[1])) == 0,
          what + ": the file's bytes");
    check(jembed_unmap_file(address, range[1]) == 0, what + ": unmapped");
  }
  int64_t status = 0;
  check(jembed_map_file(path.c_str(), 1, size, 0, &status) == 0 && status == JEMBED_MAP_ERR_SHORT_FILE,
        "map: a range one byte past the end is refused");
  check(jembed_map_file(path.c_str(), size + 1, 0, 0, &status) == 0 && status == JEMBED_MAP_ERR_SHORT_FILE,
        "map: an offset past the end is refused");
  check(jembed_map_file(path.c_str(), -1, 4, 0, &status) == 0 && status == JEMBED_MAP_ERR_ARGUMENT,
        "map: a negative offset is refused");
  check(jembed_map_file(path.c_str(), 8, INT64_MAX, 0, &status) == 0 && status == JEMBED_MAP_ERR_ARGUMENT,
        "map: an offset + length that overflows is refused");
  check(jembed_map_file((path + ".missing").c_str(), 0, 1, 0, &status) == 0 && status > 0,
        "map: a missing file gives the OS error");
  check(jembed_map_file(nullptr, 0, 1, 0, &status) == 0 && status == JEMBED_MAP_ERR_ARGUMENT,
        "map: no path is refused");
#if !defined(_WIN32)
  check(jembed_map_file("/tmp", 0, 0, 0, &status) == 0 && status == JEMBED_MAP_ERR_NOT_REGULAR,
        "map: a directory is refused");
#endif
  check(jembed_unmap_file(0, 4) == -1, "unmap: no address is refused");
  remove(path.c_str());
}

}  // namespace jembed_test
