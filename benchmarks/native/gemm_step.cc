// Micro-benchmark of the native loops' building blocks, one thread, no XLA:
// the per-step product (B x H) @ (H x G*H) and the tanh.
//   g++ -O3 -march=native -std=c++17 -I src/rnnlab/layers/native benchmarks/native/gemm_step.cc -o /tmp/gemm_step
//   /tmp/gemm_step 16 64 1
#define RNNLAB_CORE_ONLY
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "rnn_loops.cc"

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? std::atoll(argv[1]) : 16, H = argc > 2 ? std::atoll(argv[2]) : 64,
                G = argc > 3 ? std::atoll(argv[3]) : 1;
  std::vector<float> h(B * H, 0.01f), u(H * G * H, 0.02f), z(B * G * H, 0.0f);
  const int reps = 200000 / std::max<int64_t>(1, B * G * H * H / 4096);
  auto time = [&](auto&& f) {
    double best = 1e30;
    for (int round = 0; round < 5; ++round) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < reps; ++i) f();
      const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, us / reps);
    }
    return best;
  };
  const double g = time([&] { gemm_acc(B, G * H, H, h.data(), H, u.data(), G * H, z.data(), G * H); });
  const double t = time([&] { tanh_array(z.data(), z.data(), B * G * H); });
  std::printf("B=%ld H=%ld G=%ld: product %.3f us (%.1f GFLOP/s), tanh %.3f us (%.2f ns/value), checksum %g\n", B, H,
              G, g, 2.0 * B * H * G * H / g / 1e3, t, t * 1e3 / (B * G * H), z[0]);
}
