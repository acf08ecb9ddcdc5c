// Micro-benchmark of the packed products, one thread, no XLA: C[M, N] += A @ B
// with A row-major, or (fifth argument 1) C += A^T @ B with A (K, M), the form
// of the weight gradients (gemm_acc_packed_at).
//   g++ -O3 -march=native -std=c++17 -I src/rnnlab/layers/native benchmarks/native/gemm_at.cc -o /tmp/gemm_at
//   /tmp/gemm_at 1024 256 399 1     # the LSTM's d_u at 256 units, 400 steps
#define RNNLAB_CORE_ONLY
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include "rnn_loops.cc"
int main(int argc, char** argv) {
  const int64_t M = std::atoll(argv[1]), N = std::atoll(argv[2]), K = std::atoll(argv[3]);
  const bool transposed = argc > 4 && std::atoll(argv[4]) != 0;
  std::vector<float> a(M * K, 0.01f), b(K * N, 0.02f), c(M * N, 0.0f);
  auto p = pack_columns(b.data(), K, N, N);
  const int reps = std::max<int64_t>(3, 2000000000LL / (2 * M * N * K));
  double best = 1e30;
  for (int round = 0; round < 5; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) {
      if (transposed) gemm_acc_packed_at(M, N, K, a.data(), M, p.data(), c.data(), N);
      else gemm_acc_packed(M, N, K, a.data(), K, 1, p.data(), c.data(), N);
    }
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps);
  }
  std::printf("M=%ld N=%ld K=%ld %s: %.1f us, %.1f GFLOP/s (%g)\n", M, N, K, transposed ? "A^T" : "A", best, 2.0 * M * N * K / best / 1e3, c[0]);
}
