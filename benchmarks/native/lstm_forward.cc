// Micro-benchmark of the LSTM's forward loop for one thread's rows, no XLA: per step the input
// projection, the recurrent product, the activations and the copy of h (mode 0); the products
// alone (mode 1); without the copy (mode 2); or rows in blocks of MODE rows, each block through
// the whole step before the next (MODE >= 10).
//   g++ -O3 -march=native -std=c++17 -I src/rnnlab/layers/native benchmarks/native/lstm_forward.cc -o /tmp/lstm_forward
//   /tmp/lstm_forward 128 64 0     # rows (batch 256 over 2 threads), units, mode
#define RNNLAB_CORE_ONLY
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include "rnn_loops.cc"
int main(int argc, char** argv) {
  const int64_t nb = std::atoll(argv[1]), T = 100, E = 32, H = std::atoll(argv[2]), G = 4 * H;
  const int mode = std::atoi(argv[3]);  // 0 all, 1 products only, 2 no hs copy
  std::vector<float> x(nb * T * E, 0.1f), w(E * G, 0.01f), u(H * G, 0.01f), bias(G, 0.0f), hs(nb * T * H);
  auto wp = pack_columns(w.data(), E, G, G), up = pack_columns(u.data(), H, G, G);
  std::vector<float> h(nb * H, 0.0f), c(nb * H, 0.0f), z(nb * G);
  double best = 1e30;
  for (int round = 0; round < 20; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    if (mode >= 10) {  // row blocks of `mode` rows, each through the whole step
      const int64_t R = mode;
      for (int64_t t = 0; t < T; ++t)
        for (int64_t r0 = 0; r0 < nb; r0 += R) {
          const int64_t n = std::min(R, nb - r0);
          float* zb = &z[r0 * G];
          for (int64_t r = 0; r < n; ++r) std::memcpy(zb + r * G, bias.data(), G * 4);
          gemm_acc_packed(n, G, E, x.data() + r0 * T * E + t * E, T * E, wp.data(), zb, G);
          gemm_acc_packed(n, G, H, &h[r0 * H], H, up.data(), zb, G);
          for (int64_t r = r0; r < r0 + n; ++r) {
            lstm_cell(H, &z[r * G], &c[r * H], &h[r * H], 1.0f);
            std::memcpy(&hs[(r * T + t) * H], &h[r * H], H * 4);
          }
        }
    } else
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t r = 0; r < nb; ++r) std::memcpy(&z[r * G], bias.data(), G * 4);
      gemm_acc_packed(nb, G, E, x.data() + t * E, T * E, wp.data(), z.data(), G);
      gemm_acc_packed(nb, G, H, h.data(), H, up.data(), z.data(), G);
      if (mode == 1) continue;
      for (int64_t r = 0; r < nb; ++r) {
        lstm_cell(H, &z[r * G], &c[r * H], &h[r * H], 1.0f);
        if (mode == 0) std::memcpy(&hs[(r * T + t) * H], &h[r * H], H * 4);
      }
    }
    best = std::min(best, std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("nb=%ld H=%ld mode=%d: %.0f us per call, %.1f GFLOP/s\n", nb, H, mode, best, 2.0 * nb * T * (E + H) * G / best / 1e3);
}
