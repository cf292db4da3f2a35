// The C++ driver behind the kernel-only figures of docs/bench/issue13-speed-goals.md: one thread calls the kernels
// directly, 64 index sets of 4096 over a 100k x 128 float table, and prints the min, 10th percentile and median per call.
// Build (after mvn package): g++ -O2 -std=c++17 -I native/include docs/bench/issue13-kernel-driver.cpp \
//   target/native-build-linux-x86_64/libjembed_kernels.a -o /tmp/driver && NOTRIM=1 /tmp/driver 1500
// NOTRIM=1 turns glibc's heap trimming off, so that per-call allocations cost what they cost in a JVM.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <algorithm>
#include <random>
#include <vector>
#include "jembed/jembed.h"

static double now_ns() { timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

#include <malloc.h>
int main(int argc, char** argv) {
  if (getenv("NOTRIM")) { mallopt(M_TRIM_THRESHOLD, 1 << 30); mallopt(M_MMAP_THRESHOLD, 1 << 30); }
  const int64_t rows = 100000, dim = 128, batch = 4096, sets = 64;
  const int calls = argc > 1 ? atoi(argv[1]) : 1500;
  float* table = (float*)jembed_alloc(rows * dim * 4);
  float* gw = (float*)jembed_alloc(rows * dim * 4);
  float* go = (float*)jembed_alloc(batch * dim * 4);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t k = 0; k < rows * dim; ++k) { table[k] = u(rng); gw[k] = 0; }
  for (int64_t k = 0; k < batch * dim; ++k) go[k] = u(rng);
  std::vector<std::vector<int64_t>> idx(sets, std::vector<int64_t>(batch));
  for (auto& s : idx) for (auto& v : s) v = rng() % rows;
  auto bench = [&](const char* name, auto fn) {
    std::vector<double> t;
    for (int c = 0; c < calls; ++c) {
      const double a = now_ns();
      fn(idx[c % sets].data());
      t.push_back(now_ns() - a);
    }
    std::sort(t.begin(), t.end());
    printf("%-28s min %8.1f us  p10 %8.1f  median %8.1f\n", name, t[0] / 1e3, t[t.size() / 10] / 1e3, t[t.size() / 2] / 1e3);
  };
  for (int round = 0; round < 2; ++round) {
    bench("renorm 1 owner", [&](const int64_t* i) { jembed_renorm_f32_i64(table, rows, dim, i, batch, 1.0, 2.0, 1, 0); });
    bench("renorm owner 0 of 2", [&](const int64_t* i) { jembed_renorm_f32_i64(table, rows, dim, i, batch, 1.0, 2.0, 2, 0); });
    bench("backward plain", [&](const int64_t* i) { jembed_dense_backward_f32_i64(gw, rows, dim, i, batch, go, -1, 0, 1, 0); });
    bench("backward scaled", [&](const int64_t* i) { jembed_dense_backward_f32_i64(gw, rows, dim, i, batch, go, -1, 1, 1, 0); });
  }
  return 0;
}
