// Runs a fuzz target once on each input file, for compilers without libFuzzer (gcc): usage
//   fuzz_<target> FILE_OR_DIRECTORY...
// Directories are read one level deep, in name order. Any contract violation aborts, as under libFuzzer.
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool run_file(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) {
    fprintf(stderr, "cannot open %s\n", path.c_str());
    return false;
  }
  std::vector<uint8_t> bytes;
  uint8_t buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, f)) > 0) {
    bytes.insert(bytes.end(), buffer, buffer + got);
  }
  fclose(f);
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int inputs = 0;
  for (int a = 1; a < argc; ++a) {
    struct stat st;
    if (stat(argv[a], &st) != 0) {
      fprintf(stderr, "no such file or directory: %s\n", argv[a]);
      return 2;
    }
    if (!S_ISDIR(st.st_mode)) {
      inputs += run_file(argv[a]) ? 1 : 0;
      continue;
    }
    std::vector<std::string> names;
    if (DIR* dir = opendir(argv[a])) {
      while (dirent* entry = readdir(dir)) {
        if (entry->d_name[0] != '.') {
          names.push_back(entry->d_name);
        }
      }
      closedir(dir);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      inputs += run_file(std::string(argv[a]) + "/" + name) ? 1 : 0;
    }
  }
  // Also the empty input, as libFuzzer always runs it.
  LLVMFuzzerTestOneInput(nullptr, 0);
  printf("%s: replayed %d inputs, no contract violation\n", argv[0], inputs);
  return inputs > 0 ? 0 : 1;
}
