// rnnlab: the loop over time of SimpleRNN, LSTM and GRU as XLA FFI custom calls (CPU).
//
// One call runs a whole layer over a batch: the input projection of each
// step, the loop over time and, for training, the backward loop. Per step:
// the products with the input kernel and the recurrent kernel (register-
// blocked, vectorised, weights packed once per call), the activations
// (Eigen's float32 rational tanh, as XLA uses) and the masked state update,
// fused. Batch rows are independent, so they are split over XLA's intra-op
// thread pool and each thread runs the whole time loop for its rows. With
// AVX-512 (compiled with -march=native) the products and activations use
// 16-lane vectors; otherwise 8 (AVX2). The weight gradients, products over the
// long time axis, copy their transposed operand into contiguous blocks when its
// stride is long.
//
// Layout (row-major, float32, batch-major as Keras):
//   x      (B, T, E)    inputs
//   kernel (E, G*H)     input kernel, bias (G*H) input bias (G gates, Keras' order)
//   u      (H, G*H)     recurrent kernel; rb (G*H) recurrent bias (GRU, reset_after=True)
//   mask   (B, T)       1 where the step is real, 0 where padded (state carried)
//   h0     (B, H)       initial state (and c0 (B, H), the LSTM's initial cell state)
//   hs     (B, T, H)    state after each step, in processing order (reversed
//                       time when `reverse`, as Keras' go_backwards)
//   c_last (B, H)       the LSTM's final cell state
// Backward calls take the gradient of hs (or, with last_only, of its last step;
// for the LSTM also that of c_last) and return dx, d_kernel, d_bias, d_u (and
// d_rb for GRU), then d_h0 (and d_c0); the weight gradients are summed per
// thread after the loop, then over threads in a fixed order.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#ifdef __AVX__
#include <immintrin.h>
#endif
#include <memory>
#include <mutex>
#include <vector>

#ifndef RNNLAB_CORE_ONLY  // the products and activations alone, for micro-benchmarks
#include "xla/ffi/api/ffi.h"
namespace ffi = xla::ffi;
#endif

namespace {

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
#ifdef __AVX512F__
// AVX-512: 16-lane vectors for the widest column stripes and the activations.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
#endif

// Lanes and unaligned type of each vector type.
template <typename V>
struct VecInfo;
template <>
struct VecInfo<v8> {
  static constexpr int lanes = 8;
  using Unaligned = v8u;
};
#ifdef __AVX512F__
template <>
struct VecInfo<v16> {
  static constexpr int lanes = 16;
  using Unaligned = v16u;
};
#endif

template <typename V>
inline V loadv(const float* p) {
  return *reinterpret_cast<const typename VecInfo<V>::Unaligned*>(p);
}
template <typename V>
inline void storev(float* p, V v) {
  *reinterpret_cast<typename VecInfo<V>::Unaligned*>(p) = v;
}
// a in every lane (a plain broadcast: `V{} + a` would add a zero first).
template <typename V>
inline V splatv(float a);
template <>
inline v8 splatv<v8>(float a) {
  return v8{a, a, a, a, a, a, a, a};
}
#ifdef __AVX512F__
template <>
inline v16 splatv<v16>(float a) {
  return v16{a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
}
#endif
inline v8 load8(const float* p) { return loadv<v8>(p); }
inline void store8(float* p, v8 v) { storev<v8>(p, v); }
inline v8 splat(float a) { return splatv<v8>(a); }

// ---------------------------------------------------------------- products

// C[M, j0:j0+W] += A[M, K] @ B[K, j0:j0+W] for W = two vectors of V (16 or 32
// columns), MR rows at a time. A[r, k] is at A[r * lda + k * ka] (ka = 1:
// row-major; lda = 1: A is transposed).
template <typename V, int MR>
inline void block_two(int64_t K, const float* A, int64_t lda, int64_t ka, const float* B, int64_t ldb, float* C,
                      int64_t ldc) {
  constexpr int L = VecInfo<V>::lanes;
  V acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) {
    acc0[r] = loadv<V>(C + r * ldc);
    acc1[r] = loadv<V>(C + r * ldc + L);
  }
  for (int64_t k = 0; k < K; ++k) {
    const V b0 = loadv<V>(B + k * ldb), b1 = loadv<V>(B + k * ldb + L);
    for (int r = 0; r < MR; ++r) {
      const V a = splatv<V>(A[r * lda + k * ka]);
      acc0[r] += a * b0;
      acc1[r] += a * b1;
    }
  }
  for (int r = 0; r < MR; ++r) {
    storev<V>(C + r * ldc, acc0[r]);
    storev<V>(C + r * ldc + L, acc1[r]);
  }
}

template <int MR>
inline void block16(int64_t K, const float* A, int64_t lda, int64_t ka, const float* B, int64_t ldb, float* C,
                    int64_t ldc) {
  block_two<v8, MR>(K, A, lda, ka, B, ldb, C, ldc);
}

#ifdef __AVX512F__
template <int MR>
inline void block32(int64_t K, const float* A, int64_t lda, int64_t ka, const float* B, int64_t ldb, float* C,
                    int64_t ldc) {
  block_two<v16, MR>(K, A, lda, ka, B, ldb, C, ldc);
}
constexpr int64_t kWide = 32;  // the widest column stripe
#else
constexpr int64_t kWide = 16;
#endif

template <int MR>
inline void block8(int64_t K, const float* A, int64_t lda, int64_t ka, const float* B, int64_t ldb, float* C,
                   int64_t ldc) {
  v8 acc[MR];
  for (int r = 0; r < MR; ++r) acc[r] = load8(C + r * ldc);
  for (int64_t k = 0; k < K; ++k) {
    const v8 b = load8(B + k * ldb);
    for (int r = 0; r < MR; ++r) acc[r] += splat(A[r * lda + k * ka]) * b;
  }
  for (int r = 0; r < MR; ++r) store8(C + r * ldc, acc[r]);
}

template <int MR>
inline void block1(int64_t K, const float* A, int64_t lda, int64_t ka, const float* B, int64_t ldb, float* C,
                   int64_t ldc) {
  for (int r = 0; r < MR; ++r) {
    float s = C[r * ldc];
    for (int64_t k = 0; k < K; ++k) s += A[r * lda + k * ka] * B[k * ldb];
    C[r * ldc] = s;
  }
}


// Rows in blocks of 6 (12 accumulators for block16: enough independent FMAs
// to hide the FMA latency), then the remainder.
#define RNNLAB_ROWS(NAME)                                                                       \
  inline void NAME##_rows(int64_t M, int64_t K, const float* A, int64_t lda, int64_t ka,       \
                          const float* B, int64_t ldb, float* C, int64_t ldc) {                \
    int64_t i = 0;                                                                              \
    for (; i + 6 <= M; i += 6) NAME<6>(K, A + i * lda, lda, ka, B, ldb, C + i * ldc, ldc);     \
    switch (M - i) {                                                                            \
      case 5: NAME<5>(K, A + i * lda, lda, ka, B, ldb, C + i * ldc, ldc); break;               \
      case 4: NAME<4>(K, A + i * lda, lda, ka, B, ldb, C + i * ldc, ldc); break;               \
      case 3: NAME<3>(K, A + i * lda, lda, ka, B, ldb, C + i * ldc, ldc); break;               \
      case 2: NAME<2>(K, A + i * lda, lda, ka, B, ldb, C + i * ldc, ldc); break;               \
      case 1: NAME<1>(K, A + i * lda, lda, ka, B, ldb, C + i * ldc, ldc); break;               \
      default: break;                                                                           \
    }                                                                                           \
  }
RNNLAB_ROWS(block16)
#ifdef __AVX512F__
RNNLAB_ROWS(block32)
#endif
RNNLAB_ROWS(block8)
RNNLAB_ROWS(block1)
#undef RNNLAB_ROWS

// C[M, N] += A[M, K] @ B[K, N]. Column stripes outside, so each stripe of B
// (K x 16) stays in L1 while every row uses it.
void gemm_acc(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, int64_t ka, const float* B,
              int64_t ldb, float* C, int64_t ldc) {
  int64_t j = 0;
#ifdef __AVX512F__
  for (; j + 32 <= N; j += 32) block32_rows(M, K, A, lda, ka, B + j, ldb, C + j, ldc);
#endif
  for (; j + 16 <= N; j += 16) block16_rows(M, K, A, lda, ka, B + j, ldb, C + j, ldc);
  for (; j + 8 <= N; j += 8) block8_rows(M, K, A, lda, ka, B + j, ldb, C + j, ldc);
  for (; j < N; ++j) block1_rows(M, K, A, lda, ka, B + j, ldb, C + j, ldc);
}

// C[M, N] += A[M, K] @ B[K, N], all row-major.
inline void gemm_acc(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B,
                     int64_t ldb, float* C, int64_t ldc) {
  gemm_acc(M, N, K, A, lda, 1, B, ldb, C, ldc);
}

// B's columns packed stripe by stripe (kWide, then 16, 8 and 1 wide), each stripe
// K x width contiguous: the per-step products read their stripe sequentially
// instead of at a stride of N floats (which, for N a multiple of 256, maps
// every row of a stripe to the same L1 cache sets).
void pack_columns_into(const float* B, int64_t K, int64_t N, int64_t ldb, float* out) {
  int64_t j = 0;
  auto stripe = [&](int64_t width) {
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < width; ++c) *out++ = B[k * ldb + j + c];
    j += width;
  };
  while (j + kWide <= N) stripe(kWide);
  while (j + 16 <= N) stripe(16);
  while (j + 8 <= N) stripe(8);
  while (j < N) stripe(1);
}

std::vector<float> pack_columns(const float* B, int64_t K, int64_t N, int64_t ldb) {
  std::vector<float> packed(K * N);
  pack_columns_into(B, K, N, ldb, packed.data());
  return packed;
}

// Packs the transpose of a (rows, cols) row-major matrix: B = a^T (cols x rows).
std::vector<float> pack_transposed(const float* a, int64_t rows, int64_t cols) {
  std::vector<float> t(rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[j * rows + i] = a[i * cols + j];
  return pack_columns(t.data(), cols, rows, rows);
}

// C[M, N] += A[M, K] @ B[K, N] with B from pack_columns; A[r, k] at A[r * lda + k * ka].
void gemm_acc_packed(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, int64_t ka, const float* P,
                     float* C, int64_t ldc) {
  int64_t j = 0;
#ifdef __AVX512F__
  for (; j + 32 <= N; j += 32, P += K * 32) block32_rows(M, K, A, lda, ka, P, 32, C + j, ldc);
#endif
  for (; j + 16 <= N; j += 16, P += K * 16) block16_rows(M, K, A, lda, ka, P, 16, C + j, ldc);
  for (; j + 8 <= N; j += 8, P += K * 8) block8_rows(M, K, A, lda, ka, P, 8, C + j, ldc);
  for (; j < N; ++j, P += K) block1_rows(M, K, A, lda, ka, P, 1, C + j, ldc);
}

// Rows of the inner dimension per panel: a 32-wide stripe's panel (24 KB) stays
// in L1 while every block of rows reads it.
constexpr int64_t kPanel = 192;

// C[M, N] += A^T @ B: A (K, M) row-major (A^T[r, k] at A[k * lda + r]), B from
// pack_columns. The products over a long time or batch axis (weight gradients)
// have this form. Reading A^T in place would touch a new cache line (and, at
// lda = 1024, a new page) for every k, so each panel of kPanel rows of A is
// first copied into blocks of 6 rows of A^T, each block contiguous (k-major),
// then multiplied stripe by stripe. Shorter strides are read in place.
void gemm_acc_packed_at(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* P, float* C,
                        int64_t ldc) {
  if (std::abs(lda) < 512) {  // short strides read well in place (measured: benchmarks/native/gemm_at.cc)
    gemm_acc_packed(M, N, K, A, 1, lda, P, C, ldc);
    return;
  }
  thread_local std::vector<float> blocks;
  if (static_cast<int64_t>(blocks.size()) < M * kPanel) blocks.resize(M * kPanel);
  for (int64_t k0 = 0; k0 < K; k0 += kPanel) {
    const int64_t kc = std::min(kPanel, K - k0);
    // Block starting at row i (height h = min(6, M - i)) at blocks + i * kc, element (r, k) at k * h + r.
    for (int64_t k = 0; k < kc; ++k) {
      const float* row = A + (k0 + k) * lda;
      int64_t i = 0;
      for (; i + 6 <= M; i += 6) std::memcpy(blocks.data() + i * kc + k * 6, row + i, 6 * sizeof(float));
      if (i < M) std::memcpy(blocks.data() + i * kc + k * (M - i), row + i, (M - i) * sizeof(float));
    }
    auto rows = [&](auto block, auto tail, const float* p, int64_t width, float* c) {
      int64_t i = 0;
      for (; i + 6 <= M; i += 6) block(kc, blocks.data() + i * kc, 1, 6, p, width, c + i * ldc, ldc);
      if (i < M) tail(M - i, kc, blocks.data() + i * kc, 1, M - i, p, width, c + i * ldc, ldc);
    };
    const float* p = P;  // this panel starts k0 rows into each stripe
    int64_t j = 0;
#ifdef __AVX512F__
    for (; j + 32 <= N; j += 32, p += K * 32) rows(block32<6>, block32_rows, p + k0 * 32, 32, C + j);
#endif
    for (; j + 16 <= N; j += 16, p += K * 16) rows(block16<6>, block16_rows, p + k0 * 16, 16, C + j);
    for (; j + 8 <= N; j += 8, p += K * 8) rows(block8<6>, block8_rows, p + k0 * 8, 8, C + j);
    for (; j < N; ++j, p += K) rows(block1<6>, block1_rows, p + k0, 1, C + j);
  }
}

inline void gemm_acc_packed(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* P, float* C,
                            int64_t ldc) {
  gemm_acc_packed(M, N, K, A, lda, 1, P, C, ldc);
}

// ------------------------------------------------------------- activations

// Eigen's float32 rational tanh (the approximation XLA's CPU backend uses).
constexpr float kTanhClamp = 7.90531110763549805f;
constexpr float kA13 = -2.76076847742355e-16f, kA11 = 2.00018790482477e-13f, kA9 = -8.60467152213735e-11f,
                kA7 = 5.12229709037114e-08f, kA5 = 1.48572235717979e-05f, kA3 = 6.37261928875436e-04f,
                kA1 = 4.89352455891786e-03f, kB6 = 1.19825839466702e-06f, kB4 = 1.18534705686654e-04f,
                kB2 = 2.26843463243900e-03f, kB0 = 4.89352518554385e-03f;

// 1/q for q > 0: the hardware's approximate reciprocal refined by one Newton
// step (~23 bits from AVX's 12-bit estimate), far cheaper than a division.
inline v8 reciprocal(v8 q) {
#ifdef __AVX__
  const v8 r = (v8)_mm256_rcp_ps((__m256)q);
  return r * (2.0f - q * r);
#else
  return 1.0f / q;
#endif
}
#ifdef __AVX512F__
inline v16 reciprocal(v16 q) {
  const v16 r = (v16)_mm512_rcp14_ps((__m512)q);
  return r * (2.0f - q * r);
}
#endif

template <typename V>
inline V tanhv(V x) {
  const V hi = splatv<V>(kTanhClamp), lo = splatv<V>(-kTanhClamp);
  x = x > hi ? hi : x;
  x = x < lo ? lo : x;
  const V x2 = x * x;
  V p = x2 * kA13 + kA11;
  p = x2 * p + kA9;
  p = x2 * p + kA7;
  p = x2 * p + kA5;
  p = x2 * p + kA3;
  p = x2 * p + kA1;
  V q = x2 * kB6 + kB4;
  q = x2 * q + kB2;
  q = x2 * q + kB0;
  return x * p * reciprocal(q);  // q >= kB0 > 0
}
inline v8 tanh8(v8 x) { return tanhv<v8>(x); }

inline float tanh1(float x) {
  v8 v = splat(x);
  return tanh8(v)[0];
}

// out[i] = tanh(in[i]) for i from `i` in steps of V's lanes; returns where it stopped.
template <typename V>
inline int64_t tanh_span(const float* in, float* out, int64_t i, int64_t n) {
  constexpr int L = VecInfo<V>::lanes;
  for (; i + L <= n; i += L) storev<V>(out + i, tanhv<V>(loadv<V>(in + i)));
  return i;
}

// out[i] = tanh(in[i]); in may equal out. (sigmoid(x) = 0.5 + 0.5 tanh(x / 2) where needed.)
void tanh_array(const float* in, float* out, int64_t n) {
  int64_t i = 0;
#ifdef __AVX512F__
  i = tanh_span<v16>(in, out, i, n);
#endif
  i = tanh_span<v8>(in, out, i, n);
  for (; i < n; ++i) out[i] = tanh1(in[i]);
}


// Blend where padded: state = m * new + (1 - m) * state (exact for m in {0, 1}).
inline void masked_update(float* state, const float* fresh, float m, int64_t n) {
  const float keep = 1.0f - m;
  for (int64_t j = 0; j < n; ++j) state[j] = m * fresh[j] + keep * state[j];
}

// One LSTM step for columns j.. of one row in steps of V's lanes (see
// lstm_cell); returns where it stopped.
template <typename V>
inline int64_t lstm_cell_span(int64_t j, int64_t H, float* z, float* c, float* h, float m) {
  constexpr int L = VecInfo<V>::lanes;
  const V half = splatv<V>(0.5f), take = splatv<V>(m), keep = splatv<V>(1.0f - m);
  for (; j + L <= H; j += L) {
    const V i = half + half * tanhv<V>(half * loadv<V>(z + j));
    const V f = half + half * tanhv<V>(half * loadv<V>(z + H + j));
    const V g = tanhv<V>(loadv<V>(z + 2 * H + j));
    const V o = half + half * tanhv<V>(half * loadv<V>(z + 3 * H + j));
    storev<V>(z + j, i);
    storev<V>(z + H + j, f);
    storev<V>(z + 2 * H + j, g);
    storev<V>(z + 3 * H + j, o);
    const V c_old = loadv<V>(c + j), c_new = f * c_old + i * g;
    storev<V>(c + j, take * c_new + keep * c_old);
    storev<V>(h + j, take * (o * tanhv<V>(c_new)) + keep * loadv<V>(h + j));
  }
  return j;
}

// One LSTM step for one row, elementwise part fused into one pass: z holds
// the pre-activations (i, f, g, o; 4H) and receives the activations; c and h
// are updated in place where m = 1 and kept where m = 0.
inline void lstm_cell(int64_t H, float* z, float* c, float* h, float m) {
  int64_t j = 0;
#ifdef __AVX512F__
  j = lstm_cell_span<v16>(j, H, z, c, h, m);
#endif
  j = lstm_cell_span<v8>(j, H, z, c, h, m);
  for (; j < H; ++j) {
    const float i = 0.5f + 0.5f * tanh1(0.5f * z[j]), f = 0.5f + 0.5f * tanh1(0.5f * z[H + j]);
    const float g = tanh1(z[2 * H + j]), o = 0.5f + 0.5f * tanh1(0.5f * z[3 * H + j]);
    z[j] = i, z[H + j] = f, z[2 * H + j] = g, z[3 * H + j] = o;
    const float c_new = f * c[j] + i * g;
    h[j] = m * (o * tanh1(c_new)) + (1.0f - m) * h[j];
    c[j] = m * c_new + (1.0f - m) * c[j];
  }
}

// One GRU step for columns j.. of one row in steps of V's lanes (see
// gru_cell); returns where it stopped.
template <typename V>
inline int64_t gru_cell_span(int64_t j, int64_t H, const float* x, const float* inner, float* a, float* h, float m) {
  constexpr int L = VecInfo<V>::lanes;
  const V half = splatv<V>(0.5f), one = splatv<V>(1.0f), take = splatv<V>(m), keep = splatv<V>(1.0f - m);
  for (; j + L <= H; j += L) {
    const V z = half + half * tanhv<V>(half * (loadv<V>(x + j) + loadv<V>(inner + j)));
    const V r = half + half * tanhv<V>(half * (loadv<V>(x + H + j) + loadv<V>(inner + H + j)));
    const V hh = tanhv<V>(loadv<V>(x + 2 * H + j) + r * loadv<V>(inner + 2 * H + j));
    storev<V>(a + j, z);
    storev<V>(a + H + j, r);
    storev<V>(a + 2 * H + j, hh);
    const V h_old = loadv<V>(h + j);
    storev<V>(h + j, take * (z * h_old + (one - z) * hh) + keep * h_old);
  }
  return j;
}

// One GRU step (reset_after=True) for one row, fused: x the projected inputs
// (3H), inner = h @ u + rb (3H); writes a = (z, r, hh) and updates h where m = 1.
inline void gru_cell(int64_t H, const float* x, const float* inner, float* a, float* h, float m) {
  int64_t j = 0;
#ifdef __AVX512F__
  j = gru_cell_span<v16>(j, H, x, inner, a, h, m);
#endif
  j = gru_cell_span<v8>(j, H, x, inner, a, h, m);
  for (; j < H; ++j) {
    const float z = 0.5f + 0.5f * tanh1(0.5f * (x[j] + inner[j]));
    const float r = 0.5f + 0.5f * tanh1(0.5f * (x[H + j] + inner[H + j]));
    const float hh = tanh1(x[2 * H + j] + r * inner[2 * H + j]);
    a[j] = z, a[H + j] = r, a[2 * H + j] = hh;
    h[j] = m * (z * h[j] + (1.0f - z) * hh) + (1.0f - m) * h[j];
  }
}

#ifndef RNNLAB_CORE_ONLY
// ------------------------------------------------------------------ threads

// How many chunks of batch rows to run in parallel: one per pool thread, at
// least 8 rows each.
int64_t chunk_count(ffi::ThreadPool& pool, int64_t rows) {
  constexpr int64_t kMinRows = 8;
  static const int64_t max_threads = [] {
    const char* env = std::getenv("RNNLAB_NATIVE_THREADS");
    return env ? std::max<int64_t>(1, std::atoll(env)) : INT64_MAX;
  }();
  const int64_t threads = std::min<int64_t>(pool.num_threads(), max_threads);
  return std::max<int64_t>(1, std::min<int64_t>(threads, rows / kMinRows));
}

// Runs fn(chunk, row_begin, row_end) for every chunk, on XLA's intra-op thread
// pool and the calling thread. The caller claims chunks too, so the work
// finishes even when no pool thread is free.
template <typename F>
void parallel_rows(ffi::ThreadPool& pool, int64_t rows, int64_t chunks, F&& fn) {
  if (chunks == 1) {
    fn(0, 0, rows);
    return;
  }
  struct State {
    std::atomic<int64_t> next{0};
    int64_t done = 0;
    std::mutex mu;
    std::condition_variable cv;
  };
  auto state = std::make_shared<State>();
  auto* fn_ptr = &fn;
  auto work = [state, fn_ptr, chunks, rows]() {
    for (int64_t c; (c = state->next.fetch_add(1)) < chunks;) {
      (*fn_ptr)(c, rows * c / chunks, rows * (c + 1) / chunks);
      std::lock_guard<std::mutex> lock(state->mu);
      if (++state->done == chunks) state->cv.notify_all();
    }
  };
  for (int64_t c = 1; c < chunks; ++c) pool.Schedule(std::function<void()>(work));
  work();
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->done == chunks; });
}

// Sums per-chunk partial gradients (rows x cols, transposed) in chunk order
// (deterministic) into out (cols x rows).
void sum_partials_transposed(const std::vector<std::vector<float>>& partials, float* out, int64_t rows,
                             int64_t cols) {
  std::fill(out, out + rows * cols, 0.0f);
  for (const auto& p : partials)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) out[j * rows + i] += p[i * cols + j];
}

// Sums per-chunk partial gradients in chunk order (deterministic) into out.
void sum_partials(const std::vector<std::vector<float>>& partials, float* out, int64_t n) {
  std::fill(out, out + n, 0.0f);
  for (const auto& p : partials)
    for (int64_t i = 0; i < n; ++i) out[i] += p[i];
}

// Sums of the rows of a (rows, n) block, added to out (the bias gradients).
void add_column_sums(const float* a, int64_t rows, int64_t n, float* out) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < n; ++j) out[j] += a[i * n + j];
}

// Shapes: B batch rows, T steps, E input features, H units, G = gates * H.
struct Dims {
  int64_t B, T, E, H, G;
  int64_t time(int64_t s, bool reverse) const { return reverse ? T - 1 - s : s; }
};

using F32 = ffi::Buffer<ffi::F32>;
using F32Out = ffi::ResultBuffer<ffi::F32>;

// Reads and checks x (B, T, E), kernel (E, G), bias (G), u (H, G), mask (B, T).
ffi::Error read_dims(int64_t gates, F32& x, F32& kernel, F32& bias, F32& u, F32& mask, Dims* d) {
  auto xd = x.dimensions(), kd = kernel.dimensions(), ud = u.dimensions(), md = mask.dimensions();
  if (xd.size() != 3 || kd.size() != 2 || ud.size() != 2 || md.size() != 2)
    return ffi::Error::InvalidArgument("rnnlab: expected x (B, T, E), kernel (E, G), u (H, G), mask (B, T)");
  *d = Dims{xd[0], xd[1], xd[2], ud[0], ud[1]};
  if (d->G != gates * d->H || kd[0] != d->E || kd[1] != d->G || static_cast<int64_t>(bias.element_count()) != d->G ||
      md[0] != d->B || md[1] != d->T)
    return ffi::Error::InvalidArgument("rnnlab: inconsistent shapes of x, kernel, bias, u and mask");
  return ffi::Error::Success();
}

// Starts step t's pre-activations of a chunk's rows: z (nb, G) = x_t @ kernel + bias,
// x_t read in place from x (B, T, E) (row r at x_rows + r * T * E).
inline void project_step(const Dims& d, const float* x_rows, int64_t nb, int64_t t, const float* kernel_packed,
                         const float* bias, float* z) {
  for (int64_t r = 0; r < nb; ++r) std::memcpy(z + r * d.G, bias, d.G * sizeof(float));
  gemm_acc_packed(nb, d.G, d.E, x_rows + t * d.E, d.T * d.E, kernel_packed, z, d.G);
}

// A reusable per-thread buffer of at least n floats (not zeroed): the large
// per-call buffers stay mapped between calls instead of being page-faulted in
// again every batch. `slot` tells apart buffers used at the same time: 0 and 1
// by the backward loops, 2 and 3 for packed copies of hs and x.
float* scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[4];
  std::vector<float>& buffer = buffers[slot];
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(n);
  return buffer.data();
}

// The projection's backward for one chunk: dx = d_xp @ kernel^T, d_kernel^T += d_xp^T @ x
// (kept transposed, G x E: the long inner dimension then reads x's rows, packed,
// instead of d_xp's rows at a stride of G floats), d_bias += column sums of d_xp.
void project_backward(const Dims& d, const float* x_rows, int64_t nb, const float* kernel_t_packed, const float* d_xp,
                      float* dx_rows, float* d_kernel_t, float* d_bias) {
  const int64_t rows = nb * d.T;
  std::fill(dx_rows, dx_rows + rows * d.E, 0.0f);
  gemm_acc_packed(rows, d.E, d.G, d_xp, d.G, kernel_t_packed, dx_rows, d.E);
  float* x_packed = scratch(3, rows * d.E);
  pack_columns_into(x_rows, rows, d.E, d.E, x_packed);
  gemm_acc_packed_at(d.G, d.E, rows, d_xp, d.G, x_packed, d_kernel_t, d.E);
  add_column_sums(d_xp, rows, d.G, d_bias);
}

// d_u^T (G x H) += sum over steps s of d_pre(s)^T @ h_{s-1} for one batch row:
// steps s >= 1 as one product with a long inner dimension (T - 1) after the
// loop, step 0 with the initial state h0. hs rows are in processing order
// (packed for the product); d_pre rows (gradient of the pre-activation's
// recurrent part) are in time order, so reversed when the loop ran backwards.
void accumulate_du(int64_t T, int64_t H, int64_t G, const float* hs_row, const float* d_pre_row, const float* h0_row,
                   bool reverse, float* du_t) {
  if (T < 1) return;
  const float* d_first = d_pre_row + (reverse ? (T - 1) * G : 0);  // step 0's
  if (std::any_of(h0_row, h0_row + H, [](float v) { return v != 0.0f; }))  // skipped for the usual zeros
    for (int64_t g = 0; g < G; ++g)
      for (int64_t j = 0; j < H; ++j) du_t[g * H + j] += d_first[g] * h0_row[j];
  if (T < 2) return;
  const float* first = reverse ? d_pre_row + (T - 2) * G : d_pre_row + G;
  float* hs_packed = scratch(2, (T - 1) * H);
  pack_columns_into(hs_row, T - 1, H, H, hs_packed);
  gemm_acc_packed_at(G, H, T - 1, first, reverse ? -G : G, hs_packed, du_t, H);
}

// Checks that a state input or output is (B, H).
inline ffi::Error check_state(int64_t n, const Dims& d) {
  if (n != d.B * d.H) return ffi::Error::InvalidArgument("rnnlab: the states must be (batch, units)");
  return ffi::Error::Success();
}

// Gradient arriving at the output of step s of row b: every step's (d_hs is
// (B, T, H)) or, with last_only, only the last step's (d_hs is (B, H)).
inline const float* output_grad(const float* DHS, int64_t b, int64_t s, const Dims& d, bool last_only) {
  if (last_only) return s == d.T - 1 ? DHS + b * d.H : nullptr;
  return DHS + (b * d.T + s) * d.H;
}

// Per-chunk partial gradients, summed in chunk order at the end (kernel and u
// transposed: G x E and G x H).
struct Partials {
  std::vector<std::vector<float>> kernel, bias, u, rb;
  Partials(int64_t chunks, const Dims& d)
      : kernel(chunks, std::vector<float>(d.E * d.G, 0.0f)),
        bias(chunks, std::vector<float>(d.G, 0.0f)),
        u(chunks, std::vector<float>(d.H * d.G, 0.0f)),
        rb(chunks, std::vector<float>(d.G, 0.0f)) {}
};

// ------------------------------------------------------------------ SimpleRNN

ffi::Error SimpleForwardImpl(ffi::ThreadPool pool, F32 x, F32 kernel, F32 bias, F32 u, F32 mask, F32 h0,
                             F32Out hs, bool reverse) {
  Dims d;
  if (auto e = read_dims(1, x, kernel, bias, u, mask, &d); e.failure()) return e;
  if (auto e = check_state(h0.element_count(), d); e.failure()) return e;
  const float* H0 = h0.typed_data();
  const float *X = x.typed_data(), *U = u.typed_data(), *Mk = mask.typed_data();
  float* HS = hs->typed_data();
  const int64_t H = d.H, T = d.T;
  const std::vector<float> up = pack_columns(U, H, H, H), wp = pack_columns(kernel.typed_data(), d.E, d.G, d.G);
  parallel_rows(pool, d.B, chunk_count(pool, d.B), [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    std::vector<float> h(H0 + b0 * H, H0 + b1 * H), z(nb * H);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = d.time(s, reverse);
      project_step(d, X + b0 * T * d.E, nb, t, wp.data(), bias.typed_data(), z.data());
      gemm_acc_packed(nb, H, H, h.data(), H, up.data(), z.data(), H);
      tanh_array(z.data(), z.data(), nb * H);
      for (int64_t r = 0; r < nb; ++r) {
        masked_update(&h[r * H], &z[r * H], Mk[(b0 + r) * T + t], H);
        std::memcpy(HS + ((b0 + r) * T + s) * H, &h[r * H], H * sizeof(float));
      }
    }
  });
  return ffi::Error::Success();
}

ffi::Error SimpleBackwardImpl(ffi::ThreadPool pool, F32 d_hs, F32 x, F32 kernel, F32 bias, F32 hs, F32 u, F32 mask,
                              F32 h0, F32Out dx, F32Out d_kernel, F32Out d_bias, F32Out d_u, F32Out d_h0, bool reverse,
                              bool last_only) {
  Dims d;
  if (auto e = read_dims(1, x, kernel, bias, u, mask, &d); e.failure()) return e;
  if (auto e = check_state(h0.element_count(), d); e.failure()) return e;
  const float* H0 = h0.typed_data();
  const float *DHS = d_hs.typed_data(), *X = x.typed_data(), *HS = hs.typed_data(), *Mk = mask.typed_data();
  const int64_t H = d.H, T = d.T;
  const std::vector<float> ut = pack_transposed(u.typed_data(), H, H), kt = pack_transposed(kernel.typed_data(), d.E, d.G);
  const int64_t chunks = chunk_count(pool, d.B);
  Partials parts(chunks, d);
  parallel_rows(pool, d.B, chunks, [&](int64_t c, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    std::vector<float> dh(nb * H, 0.0f), da(nb * H);
    float* dxp = scratch(0, nb * T * H);
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = d.time(s, reverse);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t b = b0 + r;
        const float m = Mk[b * T + t];
        const float *g = output_grad(DHS, b, s, d, last_only), *h = HS + (b * T + s) * H;
        float *dhr = &dh[r * H], *dar = &da[r * H];
#pragma GCC ivdep  // outputs never alias the inputs
        for (int64_t j = 0; j < H; ++j) {
          const float total = dhr[j] + (g ? g[j] : 0.0f);
          dar[j] = m * total * (1.0f - h[j] * h[j]);
          dhr[j] = (1.0f - m) * total;
        }
        std::memcpy(&dxp[(r * T + t) * H], dar, H * sizeof(float));
      }
      gemm_acc_packed(nb, H, H, da.data(), H, ut.data(), dh.data(), H);
    }
    for (int64_t r = 0; r < nb; ++r)
      accumulate_du(T, H, H, HS + (b0 + r) * T * H, &dxp[r * T * H], H0 + (b0 + r) * H, reverse, parts.u[c].data());
    std::copy(dh.begin(), dh.end(), d_h0->typed_data() + b0 * H);
    project_backward(d, X + b0 * T * d.E, nb, kt.data(), dxp, dx->typed_data() + b0 * T * d.E,
                     parts.kernel[c].data(), parts.bias[c].data());
  });
  sum_partials_transposed(parts.kernel, d_kernel->typed_data(), d.G, d.E);
  sum_partials(parts.bias, d_bias->typed_data(), d.G);
  sum_partials_transposed(parts.u, d_u->typed_data(), d.G, H);
  return ffi::Error::Success();
}

// ----------------------------------------------------------------------- LSTM

// Residuals per step: cs (B, T, H) cell states and gates (B, T, 4H) = i, f, g, o.
ffi::Error LstmForwardImpl(ffi::ThreadPool pool, F32 x, F32 kernel, F32 bias, F32 u, F32 mask, F32 h0, F32 c0,
                           F32Out hs, F32Out cs, F32Out gates, F32Out c_last, bool reverse, bool keep_residuals) {
  Dims d;
  if (auto e = read_dims(4, x, kernel, bias, u, mask, &d); e.failure()) return e;
  if (auto e = check_state(h0.element_count(), d); e.failure()) return e;
  if (auto e = check_state(c0.element_count(), d); e.failure()) return e;
  const float *H0 = h0.typed_data(), *C0 = c0.typed_data();
  const float *X = x.typed_data(), *U = u.typed_data(), *Mk = mask.typed_data();
  float *HS = hs->typed_data(), *CS = cs->typed_data(), *GS = gates->typed_data();
  const int64_t H = d.H, T = d.T, G = d.G;
  const std::vector<float> up = pack_columns(U, H, G, G), wp = pack_columns(kernel.typed_data(), d.E, G, G);
  parallel_rows(pool, d.B, chunk_count(pool, d.B), [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    std::vector<float> h(H0 + b0 * H, H0 + b1 * H), c(C0 + b0 * H, C0 + b1 * H), z(nb * G);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = d.time(s, reverse);
      project_step(d, X + b0 * T * d.E, nb, t, wp.data(), bias.typed_data(), z.data());
      gemm_acc_packed(nb, G, H, h.data(), H, up.data(), z.data(), G);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t b = b0 + r;
        float *zr = &z[r * G], *cr = &c[r * H], *hr = &h[r * H];
        lstm_cell(H, zr, cr, hr, Mk[b * T + t]);
        std::memcpy(HS + (b * T + s) * H, hr, H * sizeof(float));
        if (keep_residuals) {
          std::memcpy(CS + (b * T + s) * H, cr, H * sizeof(float));
          std::memcpy(GS + (b * T + s) * G, zr, G * sizeof(float));
        }
      }
    }
    std::copy(c.begin(), c.end(), c_last->typed_data() + b0 * H);
  });
  return ffi::Error::Success();
}

ffi::Error LstmBackwardImpl(ffi::ThreadPool pool, F32 d_hs, F32 d_c_last, F32 x, F32 kernel, F32 bias, F32 hs, F32 cs,
                            F32 gates, F32 u, F32 mask, F32 h0, F32 c0, F32Out dx, F32Out d_kernel, F32Out d_bias,
                            F32Out d_u, F32Out d_h0, F32Out d_c0, bool reverse, bool last_only) {
  Dims d;
  if (auto e = read_dims(4, x, kernel, bias, u, mask, &d); e.failure()) return e;
  for (int64_t n : {d_c_last.element_count(), h0.element_count(), c0.element_count()})
    if (auto e = check_state(n, d); e.failure()) return e;
  const float *DCL = d_c_last.typed_data(), *H0 = h0.typed_data(), *C0 = c0.typed_data();
  const float *DHS = d_hs.typed_data(), *X = x.typed_data(), *HS = hs.typed_data(), *CS = cs.typed_data(),
              *GS = gates.typed_data(), *Mk = mask.typed_data();
  const int64_t H = d.H, T = d.T, G = d.G;
  const std::vector<float> ut = pack_transposed(u.typed_data(), H, G), kt = pack_transposed(kernel.typed_data(), d.E, G);
  const int64_t chunks = chunk_count(pool, d.B);
  Partials parts(chunks, d);
  parallel_rows(pool, d.B, chunks, [&](int64_t ch, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    std::vector<float> dh(nb * H, 0.0f), dc(DCL + b0 * H, DCL + b1 * H), dz(nb * G), tc(H);
    float* dxp = scratch(0, nb * T * G);
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = d.time(s, reverse);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t b = b0 + r;
        const float m = Mk[b * T + t], keep = 1.0f - m;
        const float *c = CS + (b * T + s) * H, *g_in = output_grad(DHS, b, s, d, last_only),
                    *gt = GS + (b * T + s) * G;
        const float *i = gt, *f = gt + H, *g = gt + 2 * H, *o = gt + 3 * H;
        const float* c_prev = s > 0 ? CS + (b * T + s - 1) * H : C0 + b * H;
        tanh_array(c, tc.data(), H);
        float *dhr = &dh[r * H], *dcr = &dc[r * H], *dzr = &dz[r * G];
#pragma GCC ivdep  // outputs never alias the inputs
        for (int64_t j = 0; j < H; ++j) {
          const float dh_total = dhr[j] + (g_in ? g_in[j] : 0.0f);
          const float dh_cell = m * dh_total;
          const float dct = m * dcr[j] + dh_cell * o[j] * (1.0f - tc[j] * tc[j]);
          const float cp = c_prev[j];
          dzr[j] = dct * g[j] * i[j] * (1.0f - i[j]);
          dzr[H + j] = dct * cp * f[j] * (1.0f - f[j]);
          dzr[2 * H + j] = dct * i[j] * (1.0f - g[j] * g[j]);
          dzr[3 * H + j] = dh_cell * tc[j] * o[j] * (1.0f - o[j]);
          dcr[j] = keep * dcr[j] + dct * f[j];
          dhr[j] = keep * dh_total;
        }
        std::memcpy(&dxp[(r * T + t) * G], dzr, G * sizeof(float));
      }
      gemm_acc_packed(nb, H, G, dz.data(), G, ut.data(), dh.data(), H);
    }
    for (int64_t r = 0; r < nb; ++r)
      accumulate_du(T, H, G, HS + (b0 + r) * T * H, &dxp[r * T * G], H0 + (b0 + r) * H, reverse, parts.u[ch].data());
    std::copy(dh.begin(), dh.end(), d_h0->typed_data() + b0 * H);
    std::copy(dc.begin(), dc.end(), d_c0->typed_data() + b0 * H);
    project_backward(d, X + b0 * T * d.E, nb, kt.data(), dxp, dx->typed_data() + b0 * T * d.E,
                     parts.kernel[ch].data(), parts.bias[ch].data());
  });
  sum_partials_transposed(parts.kernel, d_kernel->typed_data(), G, d.E);
  sum_partials(parts.bias, d_bias->typed_data(), G);
  sum_partials_transposed(parts.u, d_u->typed_data(), G, H);
  return ffi::Error::Success();
}

// ------------------------------------------------------------------------ GRU

// Keras' GRU with reset_after=True. Residuals per step (B, T, 4H): z, r, hh
// (candidate) and the recurrent part of the candidate's pre-activation.
ffi::Error GruForwardImpl(ffi::ThreadPool pool, F32 x, F32 kernel, F32 bias, F32 u, F32 rb, F32 mask, F32 h0,
                          F32Out hs, F32Out residuals, bool reverse, bool keep_residuals) {
  Dims d;
  if (auto e = read_dims(3, x, kernel, bias, u, mask, &d); e.failure()) return e;
  if (auto e = check_state(h0.element_count(), d); e.failure()) return e;
  const float* H0 = h0.typed_data();
  const int64_t H = d.H, T = d.T, G = d.G, R = 4 * H;
  if (static_cast<int64_t>(rb.element_count()) != G)
    return ffi::Error::InvalidArgument("rnnlab: the GRU's recurrent bias must have 3 * units values");
  const float *X = x.typed_data(), *U = u.typed_data(), *RB = rb.typed_data(), *Mk = mask.typed_data();
  float *HS = hs->typed_data(), *RS = residuals->typed_data();
  const std::vector<float> up = pack_columns(U, H, G, G), wp = pack_columns(kernel.typed_data(), d.E, G, G);
  parallel_rows(pool, d.B, chunk_count(pool, d.B), [&](int64_t, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    std::vector<float> h(H0 + b0 * H, H0 + b1 * H), inner(nb * G), xz(nb * G), a(G);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = d.time(s, reverse);
      project_step(d, X + b0 * T * d.E, nb, t, wp.data(), bias.typed_data(), xz.data());
      for (int64_t r = 0; r < nb; ++r) std::memcpy(&inner[r * G], RB, G * sizeof(float));
      gemm_acc_packed(nb, G, H, h.data(), H, up.data(), inner.data(), G);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t b = b0 + r;
        const float *xr = &xz[r * G], *in = &inner[r * G];
        float* hr = &h[r * H];
        gru_cell(H, xr, in, a.data(), hr, Mk[b * T + t]);
        std::memcpy(HS + (b * T + s) * H, hr, H * sizeof(float));
        if (keep_residuals) {
          float* rs = RS + (b * T + s) * R;
          std::memcpy(rs, a.data(), G * sizeof(float));
          std::memcpy(rs + G, in + 2 * H, H * sizeof(float));
        }
      }
    }
  });
  return ffi::Error::Success();
}

// The gradient of the recurrent part h @ u + rb (d_inner) differs from that of
// the projected inputs (d_xp) in the candidate's third (times r).
ffi::Error GruBackwardImpl(ffi::ThreadPool pool, F32 d_hs, F32 x, F32 kernel, F32 bias, F32 hs, F32 residuals, F32 u,
                           F32 mask, F32 h0, F32Out dx, F32Out d_kernel, F32Out d_bias, F32Out d_u, F32Out d_rb,
                           F32Out d_h0, bool reverse, bool last_only) {
  Dims d;
  if (auto e = read_dims(3, x, kernel, bias, u, mask, &d); e.failure()) return e;
  if (auto e = check_state(h0.element_count(), d); e.failure()) return e;
  const float* H0 = h0.typed_data();
  const float *DHS = d_hs.typed_data(), *X = x.typed_data(), *HS = hs.typed_data(), *RS = residuals.typed_data(),
              *Mk = mask.typed_data();
  const int64_t H = d.H, T = d.T, G = d.G, R = 4 * H;
  const std::vector<float> ut = pack_transposed(u.typed_data(), H, G), kt = pack_transposed(kernel.typed_data(), d.E, G);
  const int64_t chunks = chunk_count(pool, d.B);
  Partials parts(chunks, d);
  parallel_rows(pool, d.B, chunks, [&](int64_t c, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    std::vector<float> dh(nb * H, 0.0f), di(nb * G);
    float *dxp = scratch(0, nb * T * G), *di_all = scratch(1, nb * T * G);
    float* drb = parts.rb[c].data();
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = d.time(s, reverse);
      for (int64_t r = 0; r < nb; ++r) {
        const int64_t b = b0 + r;
        const float m = Mk[b * T + t], keep = 1.0f - m;
        const float *g_in = output_grad(DHS, b, s, d, last_only), *rs = RS + (b * T + s) * R;
        const float *z = rs, *rr = rs + H, *hh = rs + 2 * H, *in_h = rs + 3 * H;
        const float* h_prev = s > 0 ? HS + (b * T + s - 1) * H : H0 + b * H;
        float *dhr = &dh[r * H], *dir = &di[r * G], *dxr = &dxp[(r * T + t) * G];
#pragma GCC ivdep  // outputs never alias the inputs
        for (int64_t j = 0; j < H; ++j) {
          const float dh_total = dhr[j] + (g_in ? g_in[j] : 0.0f);
          const float dh_cell = m * dh_total;
          const float hp = h_prev[j];
          const float da_h = dh_cell * (1.0f - z[j]) * (1.0f - hh[j] * hh[j]);
          const float da_z = dh_cell * (hp - hh[j]) * z[j] * (1.0f - z[j]);
          const float da_r = da_h * in_h[j] * rr[j] * (1.0f - rr[j]);
          dxr[j] = da_z;
          dxr[H + j] = da_r;
          dxr[2 * H + j] = da_h;
          dir[j] = da_z;
          dir[H + j] = da_r;
          dir[2 * H + j] = da_h * rr[j];
          dhr[j] = keep * dh_total + dh_cell * z[j];
        }
        for (int64_t j = 0; j < G; ++j) drb[j] += dir[j];
        std::memcpy(&di_all[(r * T + t) * G], dir, G * sizeof(float));
      }
      gemm_acc_packed(nb, H, G, di.data(), G, ut.data(), dh.data(), H);
    }
    for (int64_t r = 0; r < nb; ++r)
      accumulate_du(T, H, G, HS + (b0 + r) * T * H, &di_all[r * T * G], H0 + (b0 + r) * H, reverse,
                    parts.u[c].data());
    std::copy(dh.begin(), dh.end(), d_h0->typed_data() + b0 * H);
    project_backward(d, X + b0 * T * d.E, nb, kt.data(), dxp, dx->typed_data() + b0 * T * d.E,
                     parts.kernel[c].data(), parts.bias[c].data());
  });
  sum_partials_transposed(parts.kernel, d_kernel->typed_data(), G, d.E);
  sum_partials(parts.bias, d_bias->typed_data(), G);
  sum_partials_transposed(parts.u, d_u->typed_data(), G, H);
  sum_partials(parts.rb, d_rb->typed_data(), G);
  return ffi::Error::Success();
}

#endif  // RNNLAB_CORE_ONLY
}  // namespace
#ifndef RNNLAB_CORE_ONLY

// Handlers: Ctx, then Args, then Rets, then Attrs, in each Impl's order.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabSimpleForward, SimpleForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Attr<bool>("reverse"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabSimpleBackward, SimpleBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("last_only"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabLstmForward, LstmForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("keep_residuals"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabLstmBackward, LstmBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("last_only"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabGruForward, GruForwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("keep_residuals"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabGruBackward, GruBackwardImpl,
                              ffi::Ffi::Bind()
                                  .Ctx<ffi::ThreadPool>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Arg<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Ret<F32>()
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("last_only"));
#endif  // RNNLAB_CORE_ONLY
