// Read-only memory maps of files, for tables that live in safetensors or .npy files (torch.load(mmap=True),
// safetensors' safe_open). Mapping costs the same for a 4 KB and a 4 GB file: pages are read on first touch, one copy
// in the page cache is shared by every process that maps the file, and nothing is copied.
//
// The mapping is PROT_READ, so a stray write faults instead of changing the file; Java refuses writes before they
// get here. The file is checked to hold every mapped byte when it is mapped: bytes past the end of a file fault with
// SIGBUS when touched. A file truncated later, while mapped, still does that; that is documented, not preventable.
#include <errno.h>
#include <stdint.h>

#include "jembed/jembed.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace {

#if !defined(_WIN32)
int64_t page_size() {
  const long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? size : 4096;
}
#else
int64_t allocation_granularity() {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwAllocationGranularity;
}
#endif

constexpr int64_t kHugePage = 2 * 1024 * 1024;

}  // namespace

extern "C" {

intptr_t jembed_map_file(const char* path, int64_t offset, int64_t length, int32_t huge_pages, int64_t* status) {
  int64_t ignored = 0;
  int64_t* result = status != nullptr ? status : &ignored;
  if (path == nullptr || offset < 0 || length < 0 || offset > INT64_MAX - length) {
    *result = JEMBED_MAP_ERR_ARGUMENT;
    return 0;
  }
#if defined(_WIN32)
  const int64_t granularity = allocation_granularity();
  const int64_t start = offset - offset % granularity;
  const int64_t delta = offset - start;
  const int wide_length = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, nullptr, 0);
  if (wide_length <= 0) {
    *result = JEMBED_MAP_ERR_ARGUMENT;
    return 0;
  }
  wchar_t* wide = static_cast<wchar_t*>(HeapAlloc(GetProcessHeap(), 0, sizeof(wchar_t) * wide_length));
  if (wide == nullptr) {
    *result = JEMBED_ERR_ALLOC;
    return 0;
  }
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, wide_length);
  HANDLE file = CreateFileW(wide, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  HeapFree(GetProcessHeap(), 0, wide);
  if (file == INVALID_HANDLE_VALUE) {
    *result = static_cast<int64_t>(GetLastError());
    return 0;
  }
  LARGE_INTEGER size;
  if (!GetFileSizeEx(file, &size)) {
    *result = static_cast<int64_t>(GetLastError());
    CloseHandle(file);
    return 0;
  }
  if (offset + length > size.QuadPart) {
    CloseHandle(file);
    *result = JEMBED_MAP_ERR_SHORT_FILE;
    return 0;
  }
  if (length == 0 || size.QuadPart == 0) {
    // Windows cannot map an empty range; an empty tensor still needs an address that is never read.
    CloseHandle(file);
    *result = 0;
    return reinterpret_cast<intptr_t>(jembed_alloc(0));
  }
  HANDLE mapping = CreateFileMappingW(file, nullptr, PAGE_READONLY, 0, 0, nullptr);
  CloseHandle(file);
  if (mapping == nullptr) {
    *result = static_cast<int64_t>(GetLastError());
    return 0;
  }
  void* base = MapViewOfFile(mapping, FILE_MAP_READ, static_cast<DWORD>(static_cast<uint64_t>(start) >> 32),
                             static_cast<DWORD>(start & 0xffffffff), static_cast<SIZE_T>(length + delta));
  CloseHandle(mapping);  // the view keeps the mapping alive
  (void)huge_pages;
  if (base == nullptr) {
    *result = static_cast<int64_t>(GetLastError());
    return 0;
  }
  *result = 0;
  return reinterpret_cast<intptr_t>(base) + delta;
#else
  const int64_t page = page_size();
  const int64_t start = offset - offset % page;
  const int64_t delta = offset - start;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *result = errno;
    return 0;
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    *result = errno;
    close(fd);
    return 0;
  }
  if (!S_ISREG(info.st_mode)) {
    close(fd);
    *result = JEMBED_MAP_ERR_NOT_REGULAR;
    return 0;
  }
  if (offset + length > static_cast<int64_t>(info.st_size)) {
    close(fd);
    *result = JEMBED_MAP_ERR_SHORT_FILE;
    return 0;
  }
  // An empty range maps one byte (mmap refuses zero), never read, so that an empty tensor has an address.
  const size_t mapped = static_cast<size_t>(length + delta) + (length == 0 ? 1 : 0);
  void* base = mmap(nullptr, mapped, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
  const int map_errno = errno;
  close(fd);  // the mapping keeps the file open
  if (base == MAP_FAILED) {
    *result = map_errno;
    return 0;
  }
#if defined(MADV_HUGEPAGE)
  // Advice only: file-backed huge pages need a kernel and file system that offer them (read-only THP for files,
  // tmpfs with huge=); elsewhere the call fails and the pages stay small.
  if (huge_pages != 0 && length >= kHugePage) {
    madvise(base, mapped, MADV_HUGEPAGE);
  }
#else
  (void)huge_pages;
#endif
  *result = 0;
  return reinterpret_cast<intptr_t>(base) + delta;
#endif
}

int jembed_unmap_file(intptr_t address, int64_t length) {
  if (address == 0 || length < 0) {
    return -1;
  }
#if defined(_WIN32)
  if (length == 0) {
    jembed_free(reinterpret_cast<void*>(address));
    return 0;
  }
  const int64_t granularity = allocation_granularity();
  const intptr_t base = address - static_cast<intptr_t>(static_cast<uint64_t>(address) % granularity);
  return UnmapViewOfFile(reinterpret_cast<void*>(base)) ? 0 : -1;
#else
  const int64_t page = page_size();
  const intptr_t base = address - static_cast<intptr_t>(static_cast<uint64_t>(address) % page);
  const size_t mapped = static_cast<size_t>(length + (address - base)) + (length == 0 ? 1 : 0);
  return munmap(reinterpret_cast<void*>(base), mapped) == 0 ? 0 : -1;
#endif
}

}  // extern "C"
