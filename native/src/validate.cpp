// Index validation on its own, for lookups split among threads: every index is checked before any part writes, so
// a split lookup that fails changes nothing, as a one-thread one does (its gather validates first by itself).
// Baseline code, like dispatch.cpp: the blocks of first_out_of_range vectorise with whatever the target offers.
#include "gather_loop.h"

extern "C" {

int64_t jembed_first_bad_index_i64(const int64_t* idx, int64_t n, int64_t num_rows) {
  return n < 0 || num_rows < 0 ? JEMBED_ERR_ARGUMENT : jembed::first_out_of_range(idx, n, num_rows);
}

int64_t jembed_first_bad_index_i32(const int32_t* idx, int64_t n, int64_t num_rows) {
  return n < 0 || num_rows < 0 ? JEMBED_ERR_ARGUMENT : jembed::first_out_of_range(idx, n, num_rows);
}

}  // extern "C"
