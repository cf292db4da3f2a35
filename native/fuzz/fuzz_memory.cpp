// Fuzz target: jembed_alloc / jembed_copy / jembed_free and the variant API, as a sequence of operations on a few
// slots. Contract (jembed.h): alloc gives NULL for a negative size, else a 64-byte aligned block (2 MiB aligned from
// 2 MiB on) of at least that many bytes (64 for 0) that the caller may fill; copy of bytes <= 0 does nothing;
// free(NULL) is harmless; variant_name is never NULL; select_variant refuses what variant_supported denies.
#include "fuzz_common.h"

namespace {

constexpr int kSlots = 6;
constexpr int64_t kHugePage = 2 << 20;

struct Slot {
  unsigned char* block = nullptr;
  int64_t bytes = 0;
  unsigned char fill = 0;
};

int64_t pick_size(fuzz::Reader& in) {
  const uint8_t k = in.u8();
  if (k < 160) {
    return in.u16() % 4097;
  }
  if (k < 200) {
    return 0;
  }
  if (k < 215) {
    return kHugePage + in.u16() % 4096 - (k % 2 ? 1 : 0);  // at and around the huge-page threshold
  }
  if (k < 235) {
    return -static_cast<int64_t>(in.u16()) - 1;
  }
  if (k < 245) {
    return std::numeric_limits<int64_t>::min();
  }
  return 65536 + in.u16();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Reader in(data, size);
  Slot slots[kSlots];
  const int ops = 1 + in.u8() % 24;
  for (int op = 0; op < ops && (op == 0 || in.remaining() > 0); ++op) {
    const uint8_t kind = in.u8() % 5;
    Slot& a = slots[in.u8() % kSlots];
    Slot& b = slots[in.u8() % kSlots];
    switch (kind) {
      case 0: {  // (re)allocate and fill
        jembed_free(a.block);
        a = Slot();
        const int64_t bytes = pick_size(in);
        void* block = jembed_alloc(bytes);
        if (bytes < 0) {
          FUZZ_CHECK(block == nullptr, "memory");
          break;
        }
        FUZZ_CHECK(block != nullptr, "memory");
        const uintptr_t align = bytes >= kHugePage ? kHugePage : 64;
        FUZZ_CHECK(reinterpret_cast<uintptr_t>(block) % align == 0, "memory");
        a.block = static_cast<unsigned char*>(block);
        a.bytes = bytes == 0 ? 64 : bytes;
        a.fill = in.u8();
        memset(a.block, a.fill, static_cast<size_t>(a.bytes));  // ASan: the whole block is ours
        break;
      }
      case 1: {  // copy a prefix of b into a
        if (a.block == nullptr || b.block == nullptr || &a == &b) {
          break;
        }
        const int64_t limit = a.bytes < b.bytes ? a.bytes : b.bytes;
        const uint8_t k = in.u8();
        const int64_t bytes = k < 30 ? -static_cast<int64_t>(k) : (k < 60 ? 0 : in.u16() % (limit + 1));
        std::vector<unsigned char> before(a.block, a.block + a.bytes);
        jembed_copy(a.block, b.block, bytes);
        for (int64_t i = 0; i < a.bytes; ++i) {
          FUZZ_CHECK(a.block[i] == (i < bytes ? b.block[i] : before[static_cast<size_t>(i)]), "memory");
        }
        break;
      }
      case 2:  // free (twice is the caller's bug; NULL is fine)
        jembed_free(a.block);
        a = Slot();
        jembed_free(nullptr);
        break;
      case 3: {  // the variant API with any integer
        const int v = static_cast<int>(in.u32());
        const char* name = jembed_variant_name(v);
        FUZZ_CHECK(name != nullptr, "memory");
        FUZZ_CHECK((v >= 0 && v < JEMBED_VARIANT_COUNT) == (name[0] != '\0'), "memory");
        const int supported = jembed_variant_supported(v);
        FUZZ_CHECK(supported == 0 || supported == 1, "memory");
        const int before = jembed_active_variant();
        const int selected = jembed_select_variant(v);
        FUZZ_CHECK(selected == (supported ? 0 : -1), "memory");
        FUZZ_CHECK(jembed_active_variant() == (supported ? v : before), "memory");
        jembed_select_variant(JEMBED_VARIANT_SCALAR);
        break;
      }
      default:  // the block still holds what was written
        for (int64_t i = 0; a.block != nullptr && i < a.bytes && i < 256; ++i) {
          (void)a.block[i];
        }
        break;
    }
  }
  for (Slot& s : slots) {
    jembed_free(s.block);
  }
  return 0;
}
