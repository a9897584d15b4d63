// lstmkit's fused CPU LSTM kernel: one layer, one direction, a whole sequence per call.
//
// Forward (per call):  one GEMM projects the inputs of all T steps, G = X W_ih^T + b  (T*B, 4H);
// then per step one recurrent GEMM (B, 4H) += h_{t-1} W_hh^T and ONE fused pointwise pass
// (gates, cell, variants). Backward is written by hand: per step one fused pointwise pass and
// one GEMM dh_{t-1} = dG_t W_hh; the weight gradients are large GEMMs over all steps.
//
// Equations (gate order i, f, g, o; act = sigmoid or hard_sigmoid; x_t (B, F), h (B, P), c (B, H)):
//   r      = m_rd * h_{t-1}                               recurrent dropout mask m_rd (B, P)
//   a      = LN(W_ih x_t; g_ih) + LN(W_hh r; g_hh) + b    layer_norm   (else W_ih x_t + W_hh r + b)
//   i      = act(a_i + w_ci * c_{t-1})                    peephole terms only with peephole
//   f      = act(a_f + w_cf * c_{t-1});   i = 1 - f       with coupled_gates
//   g      = tanh(a_g)
//   c'     = f * c_{t-1} + i * g
//   o      = act(a_o + w_co * c')
//   h'     = o * tanh(LN(c'; g_c, b_c))                   layer_norm   (else o * tanh(c'))
//   h''    = W_hr h'                                      proj_size    (else h')
//   c_t    = z_c * c_{t-1} + (1 - z_c) * c'               zoneout weights z (mask values or p)
//   h_t    = z_h * h_{t-1} + (1 - z_h) * h''
//   past a sequence's end (t >= lengths[b]): state unchanged, output 0.
// LN(v; g) = g * (v - mean(v)) / sqrt(var(v) + 1e-5) over the last dimension (biased variance).
//
// Portability: no -march flags. The pointwise loops and the small GEMM are compiled for three
// ISA levels with GCC's target_clones (runtime dispatch through ifunc); everything else goes
// through ATen (its BLAS, its thread pool via at::parallel_for). at::parallel_for is a header
// template whose `omp parallel` is compiled into this library: fused_cpu.py builds it with
// -fopenmp linked against torch's own libgomp file (the loader reuses the loaded runtime, so only
// torch's OpenMP runtime is in the process); without OpenMP the loops run on one thread.
//
// Threads: with B >= 2 * split_min_rows() rows the time loop is split by batch rows (each thread
// runs the recurrence of its rows, its GEMMs on one thread: no synchronisation per step);
// otherwise each step's GEMM may use several MKL threads and the pointwise pass is a parallel_for.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define LK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LK_CLONES
#endif
#define LK_INLINE inline __attribute__((always_inline))
// Sum reductions vectorise only when reassociation is allowed: say so per loop (omp simd).
#define LK_PRAGMA(x) _Pragma(#x)
#define LK_SIMD_REDUCE(...) LK_PRAGMA(omp simd reduction(+ : __VA_ARGS__))

using at::Tensor;
using OptT = std::optional<Tensor>;

namespace {

constexpr double kEps = 1e-5;
// Below this many multiply-adds a GEMM runs in our own register-blocked loop (BLAS call overhead
// dominates there); LSTMKIT_SMALL_GEMM overrides it (for benchmarking).
int64_t small_gemm_limit() {
  static const int64_t v = [] {
    const char* e = std::getenv("LSTMKIT_SMALL_GEMM");
    return e ? std::atoll(e) : int64_t(1) << 16;
  }();
  return v;
}

// Per-step GEMMs of at most this many multiply-adds run on one MKL thread (see Blas below); larger
// ones are split across torch's threads. LSTMKIT_SERIAL_GEMM overrides it (for benchmarking).
int64_t serial_gemm_limit() {
  static const int64_t v = [] {
    const char* e = std::getenv("LSTMKIT_SERIAL_GEMM");
    return e ? std::atoll(e) : int64_t(1) << 20;
  }();
  return v;
}

// The time loop is split by batch rows across torch's threads (each thread runs the whole recurrence
// of its rows: no synchronisation per step) when every thread gets at least this many rows;
// LSTMKIT_SPLIT_ROWS overrides it (0 = never split, for benchmarking).
int64_t split_min_rows() {
  static const int64_t v = [] {
    const char* e = std::getenv("LSTMKIT_SPLIT_ROWS");
    return e ? std::atoll(e) : int64_t(4);
  }();
  return v;
}

// Rows per task of a row-split time loop over B rows, or 0 (one time loop, per-step parallelism).
int64_t split_rows(int64_t B) {
  const int64_t nt = at::get_num_threads(), m = split_min_rows();
  if (nt < 2 || m <= 0 || at::in_parallel_region()) return 0;
  const int64_t tasks = std::min<int64_t>(nt, B / m);
  return tasks < 2 ? 0 : (B + tasks - 1) / tasks;
}

// ---------------------------------------------------------------- buffer pool
// The big per-sequence buffers (gates, cells, layer-norm statistics: (T, B, 4H) each) are allocated
// on every call; from the system allocator that means fresh pages, i.e. page faults and zeroing on
// first touch: 15-30 % of a forward pass at these sizes. Blocks of at least kPoolMin bytes come
// from a process-wide free list instead, and go back to it when their tensor is freed (whichever
// thread frees it); at most LSTMKIT_POOL_MB (default 512, 0 = off) MiB of free blocks are kept.
constexpr size_t kPoolMin = size_t(1) << 20;
constexpr size_t kPoolRound = size_t(1) << 16;
struct Pool {
  std::mutex mu;
  std::multimap<size_t, void*> free;  // size -> block
  size_t cached = 0;
  size_t cap = [] {
    const char* e = std::getenv("LSTMKIT_POOL_MB");
    return e ? size_t(std::atoll(e)) << 20 : size_t(512) << 20;
  }();
};
Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: tensors may be freed during interpreter exit
  return *p;
}
void pool_release(void* ptr, size_t n) {
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (p.cached + n <= p.cap) {
      p.free.emplace(n, ptr);
      p.cached += n;
      return;
    }
  }
  std::free(ptr);
}
// An uninitialised tensor like at::empty(sizes, opts), from the pool when large.
Tensor pooled_empty(at::IntArrayRef sizes, const at::TensorOptions& opts) {
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  const size_t bytes = size_t(numel) * opts.dtype().itemsize();
  Pool& p = pool();
  if (bytes < kPoolMin || p.cap == 0) return at::empty(sizes, opts);
  const size_t n = (bytes + kPoolRound - 1) / kPoolRound * kPoolRound;
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> g(p.mu);
    auto it = p.free.find(n);
    if (it != p.free.end()) {
      ptr = it->second;
      p.free.erase(it);
      p.cached -= n;
    }
  }
  if (!ptr) {
    ptr = std::aligned_alloc(64, n);
    if (!ptr) return at::empty(sizes, opts);
  }
  return at::from_blob(ptr, sizes, [n](void* q) { pool_release(q, n); }, opts);
}

// ---------------------------------------------------------------- scalar math (vectorisable)
template <typename T> LK_INLINE T lk_exp(T x);
template <> LK_INLINE double lk_exp<double>(double x) { return std::exp(x); }
// Cephes-style expf: range reduction + degree-6 polynomial + exponent bits; branch-free so GCC
// vectorises it. Max relative error ~2 ulp on the clamped range.
template <> LK_INLINE float lk_exp<float>(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  float fx = x * 1.44269504088896341f;
  fx = fx + (fx >= 0.f ? 0.5f : -0.5f);
  int32_t n = static_cast<int32_t>(fx);  // round to nearest
  float fn = static_cast<float>(n);
  float r = x - fn * 0.693359375f;
  r = r - fn * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}
template <typename T> LK_INLINE T lk_sigmoid(T x) { return T(1) / (T(1) + lk_exp<T>(-x)); }
template <typename T> LK_INLINE T lk_tanh(T x) { return T(1) - T(2) / (T(1) + lk_exp<T>(T(2) * x)); }
template <> LK_INLINE double lk_tanh<double>(double x) { return std::tanh(x); }
// Gate activation: sigmoid, or Keras' hard_sigmoid clip(0.2 x + 0.5, 0, 1); templated so loops vectorise.
template <typename T, bool HARD> LK_INLINE T act_t(T x) {
  if constexpr (HARD) {
    T y = T(0.2) * x + T(0.5);
    return y < T(0) ? T(0) : (y > T(1) ? T(1) : y);
  } else {
    return lk_sigmoid<T>(x);
  }
}
template <typename T, bool HARD> LK_INLINE T dact_t(T a) {
  if constexpr (HARD) return (a > T(0) && a < T(1)) ? T(0.2) : T(0);
  else return a * (T(1) - a);
}
// i, f, g activations and c' = f * c_{t-1} + i * g (in place on the gate row).
template <typename T, bool HARD, bool COUPLED>
LK_INLINE void gates_ifg(int64_t H, T* __restrict g, const T* __restrict cp, T* __restrict cn) {
  for (int64_t j = 0; j < H; ++j) {
    T f = act_t<T, HARD>(g[H + j]);
    T i = COUPLED ? T(1) - f : act_t<T, HARD>(g[j]);
    T gg = lk_tanh<T>(g[2 * H + j]);
    g[j] = i; g[H + j] = f; g[2 * H + j] = gg;
    cn[j] = f * cp[j] + i * gg;
  }
}
template <typename T, bool HARD>
LK_INLINE void gate_o(int64_t H, T* __restrict go, const T* __restrict tc, T* __restrict hh) {
  for (int64_t j = 0; j < H; ++j) {
    T o = act_t<T, HARD>(go[j]);
    go[j] = o;
    hh[j] = o * tc[j];
  }
}
// backward of h' = o * tanh(n): dG_o and dL/dn.
template <typename T, bool HARD>
LK_INLINE void bwd_o(int64_t H, const T* __restrict go, const T* __restrict tc, const T* __restrict dhh,
                     T* __restrict dgo, T* __restrict dtn) {
  for (int64_t j = 0; j < H; ++j) {
    T o = go[j], t = tc[j];
    dgo[j] = dhh[j] * t * dact_t<T, HARD>(o);
    dtn[j] = dhh[j] * o * (T(1) - t * t);
  }
}
// backward of c' = f c_{t-1} + i g with peepholes (zero weights when off). dcn = dL/dc' (total),
// dc in: z * dL/dc_t, out: dL/dc_{t-1}.
template <typename T, bool HARD, bool COUPLED>
LK_INLINE void bwd_ifg(int64_t H, const T* __restrict g, const T* __restrict cp, const T* __restrict dcn,
                       T* __restrict dc, T* __restrict dG, const T* __restrict wci, const T* __restrict wcf) {
  for (int64_t j = 0; j < H; ++j) {
    T i = g[j], f = g[H + j], gg = g[2 * H + j], d = dcn[j];
    T di = d * gg;
    T df = d * cp[j];
    T dpi = T(0);
    if (COUPLED) df -= di; else dpi = di * dact_t<T, HARD>(i);
    T dpf = df * dact_t<T, HARD>(f);
    dc[j] += d * f + wci[j] * dpi + wcf[j] * dpf;
    dG[j] = dpi;
    dG[H + j] = dpf;
    dG[2 * H + j] = d * i * (T(1) - gg * gg);
  }
}
// ---------------------------------------------------------------- row reductions (layer norm)
// Each sum over a row is one `omp simd` reduction (one vector accumulator). The rows are short
// (H or 4H = 64..1024 floats: 4-64 vectors), so the fixed cost of the horizontal reductions
// dominates: splitting a row into four interleaved accumulators (four reductions each) measured
// 6-7 % slower for the whole layer-norm forward than one accumulator (in-process A/B of two builds).

// mean and 1/sqrt(var + eps) of x[0, n) (biased variance), in two passes (the mean, then the spread
// around it). A one-pass form, var = mean(d^2) - mean(d)^2 over values shifted by x[0], halved the reads
// but lost digits whenever x[0] lay far from the row's mean relative to its spread (a pre-activation
// row's four gate blocks have different offsets): the kernel's float32 layer-norm gradients were then up
// to ~12x further from float64 than the pure-PyTorch path's (issue 13). Two passes: within ~2x.
template <typename T>
LK_INLINE void row_stats(const T* __restrict x, int64_t n, T& mean, T& rstd) {
  T a = 0;
  LK_SIMD_REDUCE(a)
  for (int64_t j = 0; j < n; ++j) a += x[j];
  const T m = a / T(n);
  T v = 0;
  LK_SIMD_REDUCE(v)
  for (int64_t j = 0; j < n; ++j) { const T u = x[j] - m; v += u * u; }
  mean = m;
  rstd = T(1) / std::sqrt(v / T(n) + T(kEps));
}

// s1 = mean of d[j] g[j], s2 = mean of d[j] g[j] xh[j] over [0, n) (layer-norm backward).
template <typename T>
LK_INLINE void row_dmeans(const T* __restrict d, const T* __restrict g, const T* __restrict xh, int64_t n, T& s1,
                          T& s2) {
  const int64_t h = n / 2;
  T a1 = 0, a2 = 0, b1 = 0, b2 = 0;
  LK_SIMD_REDUCE(a1, a2, b1, b2)
  for (int64_t j = 0; j < h; ++j) {
    const T u = d[j] * g[j], w = d[h + j] * g[h + j];
    a1 += u; a2 += u * xh[j]; b1 += w; b2 += w * xh[h + j];
  }
  T r1 = a1 + b1, r2 = a2 + b2;
  for (int64_t j = 2 * h; j < n; ++j) { const T u = d[j] * g[j]; r1 += u; r2 += u * xh[j]; }
  s1 = r1 / T(n);
  s2 = r2 / T(n);
}

// ---------------------------------------------------------------- small GEMM
// C (M, N) = [C +] A (M, K, row stride lda) @ Bm (K, N), all row-major. Inner loop over N vectorises.
// One column block of NB outputs kept in registers across the whole K loop.
template <typename T, int NB>
LK_INLINE void gemm_block(int64_t K, const T* __restrict a, const T* __restrict Bm, int64_t N, T* __restrict c,
                          bool acc) {
  T r[NB];
  for (int u = 0; u < NB; ++u) r[u] = acc ? c[u] : T(0);
  for (int64_t k = 0; k < K; ++k) {
    const T av = a[k];
    const T* __restrict b = Bm + k * N;
    for (int u = 0; u < NB; ++u) r[u] += av * b[u];
  }
  for (int u = 0; u < NB; ++u) c[u] = r[u];
}
template <typename T>
LK_INLINE void small_gemm_impl(int64_t m0, int64_t m1, int64_t N, int64_t K, const T* A, int64_t lda,
                               const T* Bm, T* C, bool acc) {
  for (int64_t m = m0; m < m1; ++m) {
    T* c = C + m * N;
    const T* a = A + m * lda;
    int64_t n = 0;
    for (; n + 64 <= N; n += 64) gemm_block<T, 64>(K, a, Bm + n, N, c + n, acc);
    for (; n + 16 <= N; n += 16) gemm_block<T, 16>(K, a, Bm + n, N, c + n, acc);
    for (; n < N; ++n) gemm_block<T, 1>(K, a, Bm + n, N, c + n, acc);
  }
}
LK_CLONES void small_gemm(int64_t m0, int64_t m1, int64_t N, int64_t K, const float* A, int64_t lda,
                          const float* Bm, float* C, bool acc) {
  small_gemm_impl<float>(m0, m1, N, K, A, lda, Bm, C, acc);
}
void small_gemm(int64_t m0, int64_t m1, int64_t N, int64_t K, const double* A, int64_t lda,
                const double* Bm, double* C, bool acc) {
  small_gemm_impl<double>(m0, m1, N, K, A, lda, Bm, C, acc);
}

// ---------------------------------------------------------------- BLAS without ATen's per-call overhead
// The per-step GEMMs are small ((B, P) x (P, 4H) and back): ATen's addmm_/mm_out on from_blob tensors
// adds ~1.5-2 us per call to a 6-8 us GEMM (B = 32, H = 64; measured). So the Fortran BLAS gemm of the
// library torch itself links (MKL in the x86 wheels, OpenBLAS elsewhere) is called directly: looked up
// at run time in the shared object that holds ATen (never another BLAS that happens to be loaded),
// checked once on a small product against a plain loop (an ILP64 build or a missing symbol fails the
// check), and ATen's GEMM is used whenever the lookup or the check fails.
using sgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                          const int*, const float*, const int*, const float*, float*, const int*);
using dgemm_fn = void (*)(const char*, const char*, const int*, const int*, const int*, const double*,
                          const double*, const int*, const double*, const int*, const double*, double*, const int*);
// MKL's per-thread thread count (Fortran interface: the count by pointer; returns the previous
// local setting, 0 = none). Torch's MKL splits even a (32, 64) x (64, 256) GEMM across threads; inside
// the time loop that costs 3-5 us per step (the two halves of each step's output land in two cores'
// caches and the pointwise pass then pulls them back), so small per-step GEMMs run on one thread.
using mkl_local_fn = int (*)(const int*);
using mkl_max_fn = int (*)();
struct Blas {
  sgemm_fn s = nullptr;
  dgemm_fn d = nullptr;
  mkl_local_fn set_local = nullptr;  // null unless torch's BLAS is MKL and the call checked out
};
template <typename T, typename Fn>
bool blas_self_check(Fn fn) {
  // C (2, 3) = A (2, 4) @ B (4, 3), row-major, through the column-major call used below.
  T a[8], b[12], c[6], ref[6];
  for (int i = 0; i < 8; ++i) a[i] = T(i + 1) * T(0.5);
  for (int i = 0; i < 12; ++i) b[i] = T(i % 5) - T(1.5);
  for (int m = 0; m < 2; ++m)
    for (int n = 0; n < 3; ++n) {
      T acc = 0;
      for (int k = 0; k < 4; ++k) acc += a[m * 4 + k] * b[k * 3 + n];
      ref[m * 3 + n] = acc;
      c[m * 3 + n] = T(0);
    }
  const int M = 3, N = 2, K = 4, lda = 3, ldb = 4, ldc = 3;
  const T one = 1, zero = 0;
  fn("N", "N", &M, &N, &K, &one, b, &lda, a, &ldb, &zero, c, &ldc);
  for (int i = 0; i < 6; ++i)
    if (std::abs(c[i] - ref[i]) > T(1e-4)) return false;
  return true;
}
const Blas& blas() {
  static const Blas b = [] {
    Blas r;
    if (const char* e = std::getenv("LSTMKIT_ATEN_GEMM"); e && *e && *e != '0') return r;
    Dl_info info;  // the shared object that holds ATen's mm (libtorch_cpu)
    if (!dladdr(reinterpret_cast<void*>(&at::_ops::mm::call), &info) || !info.dli_fname) return r;
    void* lib = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);  // already loaded: a new reference
    if (!lib) return r;
    auto s = reinterpret_cast<sgemm_fn>(dlsym(lib, "sgemm_"));
    auto d = reinterpret_cast<dgemm_fn>(dlsym(lib, "dgemm_"));
    if (s && blas_self_check<float>(s)) r.s = s;
    if (d && blas_self_check<double>(d)) r.d = d;
    auto loc = reinterpret_cast<mkl_local_fn>(dlsym(lib, "mkl_set_num_threads_local_"));
    auto mx = reinterpret_cast<mkl_max_fn>(dlsym(lib, "mkl_get_max_threads"));
    if (loc && mx && (r.s || r.d)) {  // check: a local count of 1 is seen, then undone
      const int one = 1;
      const int prev = loc(&one);
      const bool ok = mx() == 1;
      loc(&prev);
      if (ok) r.set_local = loc;
    }
    return r;  // the reference to lib is kept for the life of the process
  }();
  return b;
}

// C = [C +] A @ Bm where Bm_t is the (K, N) tensor whose data is Bm (row-major, A with row stride K).
template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, const T* A, const Tensor& Bm_t, T* C, bool acc, bool one_thread = false) {
  const T* Bm = Bm_t.data_ptr<T>();
  if (M * N * K <= small_gemm_limit()) {
    small_gemm(0, M, N, K, A, K, Bm, C, acc);
    return;
  }
  const Blas& bl = blas();
  const bool fits = M < (int64_t(1) << 31) && N < (int64_t(1) << 31) && K < (int64_t(1) << 31);
  if (fits && ((std::is_same_v<T, float> && bl.s) || (std::is_same_v<T, double> && bl.d))) {
    // row-major C (M, N) = A (M, K) B (K, N)  <=>  column-major C^T (N, M) = B^T (N, K) A^T (K, M)
    const int m = int(N), n = int(M), k = int(K);
    const T one = 1, beta = acc ? T(1) : T(0);
    const bool serial = bl.set_local && (one_thread || M * N * K <= serial_gemm_limit());
    const int single = 1;
    const int prev = serial ? bl.set_local(&single) : 0;
    if constexpr (std::is_same_v<T, float>)
      bl.s("N", "N", &m, &n, &k, &one, Bm, &m, A, &k, &beta, C, &m);
    else
      bl.d("N", "N", &m, &n, &k, &one, Bm, &m, A, &k, &beta, C, &m);
    if (serial) bl.set_local(&prev);
    return;
  }
  auto opts = Bm_t.options();
  Tensor At = at::from_blob(const_cast<T*>(A), {M, K}, opts);
  Tensor Ct = at::from_blob(C, {M, N}, opts);
  if (acc)
    Ct.addmm_(At, Bm_t);
  else
    at::mm_out(Ct, At, Bm_t);
}

// ---------------------------------------------------------------- per-step pointwise passes
template <typename T>
struct Cfg {
  int64_t B, H, P;
  bool peep, ln, coupled, hard, zc_on, zh_on, has_len;
  bool keep;          // forward: write the layer-norm by-products (xhat, 1/std) for the backward
  bool ln_x_in_step;  // forward without by-products: the gates hold raw W_ih x, normalised in the step's
                      // pass (2-4 % faster there; with by-products a separate pass first is 8 % faster)
  T zc_p, zh_p;
  const T *wci, *wcf, *wco;       // peephole (H) each
  const T *wci0, *wcf0, *wco0;    // the same, or zeros without peepholes (backward)
  const T *gih, *ghh, *gc, *bc;   // layer-norm gains (4H, 4H, H) and c bias (H)
  const T* bias;                  // (4H) or null: added in the pointwise pass (layer norm: in ln_in_rows,
                                  // never null there: zeros without a bias)
  const int64_t* len;             // (B) or null
};

// Pointers for one time step t (each points at row 0 of that step's (B, width) block).
template <typename T>
struct StepPtrs {
  int64_t t;
  T* gate;        // (B,4H) in: pre-activation (no LN); out: activations i f g o
  T* xhx;         // (B,4H) LN: normalised input projection (written here)
  T* rsx;         // (B)    LN: its 1/std
  const T* gh;    // (B,4H) LN: raw recurrent projection
  T* xhh;         // (B,4H) LN: normalised recurrent projection (saved)
  T* rsh;         // (B)    LN: its 1/std
  const T* cp;    // (B,H)  c_{t-1}
  T* cout;        // (B,H)  c_t
  T* cnew;        // (B,H)  c' (only with zoneout on c; else c' == c_t)
  T* chat;        // (B,H)  LN: normalised c'
  T* rsc;         // (B)    LN: its 1/std
  T* tc;          // (B,H)  tanh(LN(c'))
  T* hh;          // (B,H)  o * tanh(.)
  const T* zcm;   // (B,H)  zoneout mask on c or null
};

template <typename T>
LK_INLINE void fwd_rows_impl(const Cfg<T>& c, const StepPtrs<T>& s, int64_t b0, int64_t b1) {
  const int64_t H = c.H, G = 4 * H;
  const bool hard = c.hard;
  for (int64_t b = b0; b < b1; ++b) {
    T* __restrict g = s.gate + b * G;
    const T* __restrict cp = s.cp + b * H;
    T* __restrict co = s.cout + b * H;
    T* __restrict tc = s.tc + b * H;
    T* __restrict hh = s.hh + b * H;
    T* __restrict cn = s.cnew ? s.cnew + b * H : co;
    if (c.has_len && s.t >= c.len[b]) {  // past this sequence's end: state carried, gates zero
      for (int64_t j = 0; j < G; ++j) g[j] = T(0);
      for (int64_t j = 0; j < H; ++j) { co[j] = cp[j]; cn[j] = cp[j]; tc[j] = T(0); hh[j] = T(0); }
      if (c.ln && c.keep) {
        for (int64_t j = 0; j < G; ++j) { s.xhh[b * G + j] = T(0); s.xhx[b * G + j] = T(0); }
        s.rsx[b] = T(0);
        for (int64_t j = 0; j < H; ++j) s.chat[b * H + j] = T(0);
        s.rsh[b] = T(0);
        s.rsc[b] = T(0);
      }
      continue;
    }
    if (!c.ln && c.bias) {
      const T* __restrict bb = c.bias;
      for (int64_t j = 0; j < G; ++j) g[j] += bb[j];
    }
    if (c.ln) {
      const T* __restrict r = s.gh + b * G;  // W_hh r
      const T* __restrict ghh = c.ghh;
      T mean, rs;
      row_stats(r, G, mean, rs);
      if (c.ln_x_in_step) {  // inference: g holds W_ih x; both layer norms and the bias in one pass
        const T* __restrict gih = c.gih;
        const T* __restrict bb = c.bias;  // never null with layer norm (zeros without a bias)
        T mx, rx;
        row_stats(g, G, mx, rx);
        for (int64_t j = 0; j < G; ++j) g[j] = gih[j] * ((g[j] - mx) * rx) + ghh[j] * ((r[j] - mean) * rs) + bb[j];
      } else if (c.keep) {  // g holds gih * LN(W_ih x_t) + b already (ln_in_rows, before the chunk's steps)
        T* __restrict xh = s.xhh + b * G;
        s.rsh[b] = rs;
        for (int64_t j = 0; j < G; ++j) {
          T v = (r[j] - mean) * rs;
          xh[j] = v;
          g[j] += ghh[j] * v;
        }
      } else {
        for (int64_t j = 0; j < G; ++j) g[j] += ghh[j] * ((r[j] - mean) * rs);
      }
    }
    if (c.peep) {
      const T* __restrict wci = c.wci;
      const T* __restrict wcf = c.wcf;
      for (int64_t j = 0; j < H; ++j) { g[j] += wci[j] * cp[j]; g[H + j] += wcf[j] * cp[j]; }
    }
    if (hard) {
      if (c.coupled) gates_ifg<T, true, true>(H, g, cp, cn); else gates_ifg<T, true, false>(H, g, cp, cn);
    } else {
      if (c.coupled) gates_ifg<T, false, true>(H, g, cp, cn); else gates_ifg<T, false, false>(H, g, cp, cn);
    }
    if (c.ln) {
      T mean, rs;
      row_stats(cn, H, mean, rs);
      const T* __restrict gc = c.gc;
      const T* __restrict bc = c.bc;
      if (c.keep) {
        T* __restrict ch = s.chat + b * H;
        s.rsc[b] = rs;
        for (int64_t j = 0; j < H; ++j) {
          T v = (cn[j] - mean) * rs;
          ch[j] = v;
          tc[j] = lk_tanh<T>(gc[j] * v + bc[j]);
        }
      } else {
        for (int64_t j = 0; j < H; ++j) tc[j] = lk_tanh<T>(gc[j] * ((cn[j] - mean) * rs) + bc[j]);
      }
    } else {
      for (int64_t j = 0; j < H; ++j) tc[j] = lk_tanh<T>(cn[j]);
    }
    if (c.peep) {
      const T* __restrict wco = c.wco;
      for (int64_t j = 0; j < H; ++j) g[3 * H + j] += wco[j] * cn[j];
    }
    if (hard) gate_o<T, true>(H, g + 3 * H, tc, hh); else gate_o<T, false>(H, g + 3 * H, tc, hh);
    if (c.zc_on) {
      if (s.zcm) {
        const T* __restrict z = s.zcm + b * H;
        for (int64_t j = 0; j < H; ++j) co[j] = z[j] * cp[j] + (T(1) - z[j]) * cn[j];
      } else {
        const T z = c.zc_p;
        for (int64_t j = 0; j < H; ++j) co[j] = z * cp[j] + (T(1) - z) * cn[j];
      }
    }
  }
}
// Layer norm of the input projection, for a chunk of steps at once (it does not depend on the
// recurrence): rows [r0, r1) of gates hold W_ih x; out: gates = g_ih * xhat + b and, when xhx is not
// null, xhat and 1/std (saved for the backward). Rows past a sequence's end are overwritten in their
// step by fwd_rows.
template <typename T>
LK_INLINE void ln_in_rows_impl(const Cfg<T>& c, T* gates, T* xhx, T* rsx, int64_t r0, int64_t r1) {
  const int64_t G = 4 * c.H;
  const T* __restrict gih = c.gih;
  const T* __restrict bb = c.bias;
  for (int64_t r = r0; r < r1; ++r) {
    T* __restrict g = gates + r * G;
    T m, rs;
    row_stats(g, G, m, rs);
    if (xhx) {
      T* __restrict xx = xhx + r * G;
      rsx[r] = rs;
      for (int64_t j = 0; j < G; ++j) { T u = (g[j] - m) * rs; xx[j] = u; g[j] = gih[j] * u + bb[j]; }
    } else {  // inference: no by-products
      for (int64_t j = 0; j < G; ++j) g[j] = gih[j] * ((g[j] - m) * rs) + bb[j];
    }
  }
}
LK_CLONES void ln_in_rows(const Cfg<float>& c, float* g, float* xx, float* rs, int64_t r0, int64_t r1) {
  ln_in_rows_impl<float>(c, g, xx, rs, r0, r1);
}
void ln_in_rows(const Cfg<double>& c, double* g, double* xx, double* rs, int64_t r0, int64_t r1) {
  ln_in_rows_impl<double>(c, g, xx, rs, r0, r1);
}
LK_CLONES void fwd_rows(const Cfg<float>& c, const StepPtrs<float>& s, int64_t b0, int64_t b1) {
  fwd_rows_impl<float>(c, s, b0, b1);
}
void fwd_rows(const Cfg<double>& c, const StepPtrs<double>& s, int64_t b0, int64_t b1) {
  fwd_rows_impl<double>(c, s, b0, b1);
}

// h_t from h'' (after the optional projection): zoneout on h, lengths, output.
template <typename T>
void fin_rows(const Cfg<T>& c, int64_t t, const T* hsrc, const T* hprev, const T* zhm, T* hs, T* y,
              int64_t b0, int64_t b1) {
  const int64_t P = c.P;
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict src = hsrc + b * P;
    const T* __restrict hp = hprev + b * P;
    T* __restrict ho = hs + b * P;
    if (c.has_len && t >= c.len[b]) {
      for (int64_t j = 0; j < P; ++j) ho[j] = hp[j];
      if (y != hs)
        for (int64_t j = 0; j < P; ++j) y[b * P + j] = T(0);
      continue;
    }
    if (c.zh_on) {
      if (zhm) {
        const T* __restrict z = zhm + b * P;
        for (int64_t j = 0; j < P; ++j) ho[j] = z[j] * hp[j] + (T(1) - z[j]) * src[j];
      } else {
        const T z = c.zh_p;
        for (int64_t j = 0; j < P; ++j) ho[j] = z * hp[j] + (T(1) - z) * src[j];
      }
    } else {
      for (int64_t j = 0; j < P; ++j) ho[j] = src[j];
    }
    if (y != hs)
      for (int64_t j = 0; j < P; ++j) y[b * P + j] = ho[j];
  }
}

// Backward pointwise pass for one step. In: dhh (B,H) = dL/dh', dc (B,H) = dL/dc_t.
// Out: dG (B,4H) = dL/da, dgh (B,4H) = dL/d(W_hh r) (LN only; else dG), dc <- dL/dc_{t-1},
// dtn (B,H) = dL/d(LN(c')) (LN only).
template <typename T>
struct BwdPtrs {
  int64_t t;
  const T* gate; const T* cp; const T* cnew; const T* tc;
  const T* chat; const T* rsc; const T* xhh; const T* rsh; const T* xhx; const T* rsx;
  const T* zcm; const T* dhh;
  T* dc; T* dG; T* dgh; T* dtn; T* dcn; T* dgx;
};

template <typename T>
LK_INLINE void bwd_rows_impl(const Cfg<T>& c, const BwdPtrs<T>& s, int64_t b0, int64_t b1) {
  const int64_t H = c.H, G = 4 * H;
  const bool hard = c.hard;
  for (int64_t b = b0; b < b1; ++b) {
    T* __restrict dG = s.dG + b * G;
    if (c.has_len && s.t >= c.len[b]) {  // dc passes through unchanged
      for (int64_t j = 0; j < G; ++j) dG[j] = T(0);
      if (c.ln) {
        for (int64_t j = 0; j < G; ++j) { s.dgh[b * G + j] = T(0); s.dgx[b * G + j] = T(0); }
        for (int64_t j = 0; j < H; ++j) s.dtn[b * H + j] = T(0);
      }
      continue;
    }
    const T* __restrict g = s.gate + b * G;
    const T* __restrict cp = s.cp + b * H;
    const T* __restrict tc = s.tc + b * H;
    const T* __restrict dhh = s.dhh + b * H;
    T* __restrict dc = s.dc + b * H;
    T* __restrict dtn = s.dtn + b * H;  // scratch when not LN
    if (hard) bwd_o<T, true>(H, g + 3 * H, tc, dhh, dG + 3 * H, dtn);
    else bwd_o<T, false>(H, g + 3 * H, tc, dhh, dG + 3 * H, dtn);
    T* __restrict dcn = s.dcn + b * H;
    if (c.ln) {  // back through LN(c'; g_c, b_c)
      const T* __restrict ch = s.chat + b * H;
      const T* __restrict gc = c.gc;
      T m1, m2;
      row_dmeans(dtn, gc, ch, H, m1, m2);
      const T rs = s.rsc[b];
      for (int64_t j = 0; j < H; ++j) dcn[j] = rs * (dtn[j] * gc[j] - m1 - ch[j] * m2);
    } else {
      for (int64_t j = 0; j < H; ++j) dcn[j] = dtn[j];
    }
    {
      const T* __restrict wco = c.wco0;
      const T* __restrict dpo = dG + 3 * H;
      for (int64_t j = 0; j < H; ++j) dcn[j] += wco[j] * dpo[j];
    }
    if (s.zcm) {  // zoneout on c: dc' += (1 - z) dc_t ; dc_{t-1} starts at z dc_t
      const T* __restrict z = s.zcm + b * H;
      for (int64_t j = 0; j < H; ++j) { T d = dc[j]; dcn[j] += (T(1) - z[j]) * d; dc[j] = z[j] * d; }
    } else {
      const T z = c.zc_on ? c.zc_p : T(0);
      for (int64_t j = 0; j < H; ++j) { T d = dc[j]; dcn[j] += (T(1) - z) * d; dc[j] = z * d; }
    }
    if (hard) {
      if (c.coupled) bwd_ifg<T, true, true>(H, g, cp, dcn, dc, dG, c.wci0, c.wcf0);
      else bwd_ifg<T, true, false>(H, g, cp, dcn, dc, dG, c.wci0, c.wcf0);
    } else {
      if (c.coupled) bwd_ifg<T, false, true>(H, g, cp, dcn, dc, dG, c.wci0, c.wcf0);
      else bwd_ifg<T, false, false>(H, g, cp, dcn, dc, dG, c.wci0, c.wcf0);
    }
    if (c.ln) {  // back through LN(W_hh r; g_hh)
      const T* __restrict xh = s.xhh + b * G;
      const T* __restrict ghh = c.ghh;
      T* __restrict dgh = s.dgh + b * G;
      T a1, a2;
      row_dmeans(dG, ghh, xh, G, a1, a2);
      const T r = s.rsh[b];
      for (int64_t j = 0; j < G; ++j) dgh[j] = r * (dG[j] * ghh[j] - a1 - xh[j] * a2);
      // and back through LN(W_ih x; g_ih)
      const T* __restrict xx = s.xhx + b * G;
      const T* __restrict gih = c.gih;
      T* __restrict dgx = s.dgx + b * G;
      T e1, e2;
      row_dmeans(dG, gih, xx, G, e1, e2);
      const T rx = s.rsx[b];
      for (int64_t j = 0; j < G; ++j) dgx[j] = rx * (dG[j] * gih[j] - e1 - xx[j] * e2);
    }
  }
}
LK_CLONES void bwd_rows(const Cfg<float>& c, const BwdPtrs<float>& s, int64_t b0, int64_t b1) {
  bwd_rows_impl<float>(c, s, b0, b1);
}
void bwd_rows(const Cfg<double>& c, const BwdPtrs<double>& s, int64_t b0, int64_t b1) {
  bwd_rows_impl<double>(c, s, b0, b1);
}

// Per-step accumulation of the bias, layer-norm gain and peephole gradients (rows past the end are zero), for
// the columns [j0, j1) of the 4H-wide sums (and the same columns, below H, of the H-wide ones). Run on
// one thread: splitting the columns across two threads measured no faster (an extra sync per step).
// Two-level sums: this step's rows are summed into a scratch row first, which is then added to the totals,
// so a float32 rounding error grows with B + T terms rather than T * B in one accumulator (these
// gradients were ~6x further from float64 than the pure-PyTorch path's at T = 30, B = 40; now ~2-3x).
template <typename T>
LK_INLINE void accum_rows(const Cfg<T>& c, const BwdPtrs<T>& s, T* db, T* dgih, T* dghh, T* dgc, T* dbc,
                          T* dpeep, int64_t j0, int64_t j1, int64_t b0, int64_t b1) {
  const int64_t H = c.H, G = 4 * H;
  const int64_t h1 = std::min(j1, H);
  for (int64_t b = b0; b < b1; ++b) {
    const T* __restrict dG = s.dG + b * G;
    if (db) {
      T* __restrict o = db;
      for (int64_t j = j0; j < j1; ++j) o[j] += dG[j];
    }
    if (dpeep) {  // w_ci, w_cf see c_{t-1}; w_co sees c'
      const T* __restrict cp = s.cp + b * H;
      const T* __restrict cn = s.cnew + b * H;
      T* __restrict pi = dpeep;
      T* __restrict pf = dpeep + H;
      T* __restrict po = dpeep + 2 * H;
      for (int64_t j = j0; j < h1; ++j) {
        pi[j] += dG[j] * cp[j];
        pf[j] += dG[H + j] * cp[j];
        po[j] += dG[3 * H + j] * cn[j];
      }
    }
    if (c.ln) {
      const T* __restrict xx = s.xhx + b * G;
      const T* __restrict xh = s.xhh + b * G;
      const T* __restrict dt = s.dtn + b * H;
      const T* __restrict ch = s.chat + b * H;
      T* __restrict o1 = dgih;
      T* __restrict o2 = dghh;
      T* __restrict o3 = dgc;
      T* __restrict o4 = dbc;
      for (int64_t j = j0; j < j1; ++j) { o1[j] += dG[j] * xx[j]; o2[j] += dG[j] * xh[j]; }
      for (int64_t j = j0; j < h1; ++j) { o3[j] += dt[j] * ch[j]; o4[j] += dt[j]; }
    }
  }
}
template <typename T>
LK_INLINE void accum_impl(const Cfg<T>& c, const BwdPtrs<T>& s, T* db, T* dgih, T* dghh, T* dgc, T* dbc,
                          T* dpeep, int64_t j0, int64_t j1, int64_t b0, int64_t b1) {
  const int64_t H = c.H, G = 4 * H;
  // scratch layout: db (G), dgih (G), dghh (G), dpeep (3H), dgc (H), dbc (H); one per thread
  thread_local std::vector<T> scratch;
  const size_t need = size_t(3 * G + 5 * H);
  if (scratch.size() < need) scratch.resize(need);
  T* base = scratch.data();
  T* part[6] = {db ? base : nullptr,           dgih ? base + G : nullptr,         dghh ? base + 2 * G : nullptr,
                dpeep ? base + 3 * G : nullptr, dgc ? base + 3 * G + 3 * H : nullptr, dbc ? base + 3 * G + 4 * H : nullptr};
  T* total[6] = {db, dgih, dghh, dpeep, dgc, dbc};
  const int64_t h1 = std::min(j1, H);
  // the column ranges each sum uses ([j0, j1) of the 4H-wide ones; the peephole's three H-wide rows)
  auto each = [&](auto&& f) {
    for (int k = 0; k < 6; ++k) {
      if (!part[k]) continue;
      if (k < 3) {
        f(part[k], total[k], j0, j1);
      } else if (k == 3) {
        for (int r = 0; r < 3; ++r) f(part[k] + r * H, total[k] + r * H, j0, h1);
      } else {
        f(part[k], total[k], j0, h1);
      }
    }
  };
  each([](T* p, T*, int64_t a, int64_t e) { for (int64_t j = a; j < e; ++j) p[j] = T(0); });
  accum_rows<T>(c, s, part[0], part[1], part[2], part[4], part[5], part[3], j0, j1, b0, b1);
  each([](T* p, T* t, int64_t a, int64_t e) { for (int64_t j = a; j < e; ++j) t[j] += p[j]; });
}
LK_CLONES void accum(const Cfg<float>& c, const BwdPtrs<float>& s, float* db, float* a, float* b, float* d, float* e,
                     float* p, int64_t j0, int64_t j1, int64_t b0, int64_t b1) {
  accum_impl<float>(c, s, db, a, b, d, e, p, j0, j1, b0, b1);
}
void accum(const Cfg<double>& c, const BwdPtrs<double>& s, double* db, double* a, double* b, double* d, double* e,
           double* p, int64_t j0, int64_t j1, int64_t b0, int64_t b1) {
  accum_impl<double>(c, s, db, a, b, d, e, p, j0, j1, b0, b1);
}

// Backward, before the pointwise pass: dtot = dL/dh_t (valid rows), dpre = (1 - z_h) dtot.
template <typename T>
LK_INLINE void bwd_pre_impl(int64_t B, int64_t P, int64_t t, const int64_t* len, const T* dh, const T* dy,
                            const T* zh, T zp, T* dtot, T* dpre) {
  for (int64_t b = 0; b < B; ++b) {
    const int64_t o = b * P;
    T* __restrict dt = dtot + o;
    T* __restrict dp = dpre + o;
    if (len && t >= len[b]) {
      for (int64_t j = 0; j < P; ++j) { dt[j] = T(0); dp[j] = T(0); }
      continue;
    }
    const T* __restrict a = dh + o;
    const T* __restrict c = dy + o;
    if (zh) {
      const T* __restrict z = zh + o;
      for (int64_t j = 0; j < P; ++j) { T d = a[j] + c[j]; dt[j] = d; dp[j] = (T(1) - z[j]) * d; }
    } else {
      for (int64_t j = 0; j < P; ++j) { T d = a[j] + c[j]; dt[j] = d; dp[j] = (T(1) - zp) * d; }
    }
  }
}
// Backward, after the recurrent GEMM: dh_{t-1} = dhin * m_rd + z_h * dtot (rows past the end unchanged).
template <typename T>
LK_INLINE void bwd_post_impl(int64_t B, int64_t P, int64_t t, const int64_t* len, const T* dhin, const T* rd,
                             const T* zh, T zp, const T* dtot, T* dh) {
  for (int64_t b = 0; b < B; ++b) {
    if (len && t >= len[b]) continue;
    const int64_t o = b * P;
    T* __restrict d = dh + o;
    const T* __restrict di = dhin + o;
    const T* __restrict dt = dtot + o;
    if (zh) {
      const T* __restrict z = zh + o;
      if (rd) {
        const T* __restrict r = rd + o;
        for (int64_t j = 0; j < P; ++j) d[j] = di[j] * r[j] + z[j] * dt[j];
      } else {
        for (int64_t j = 0; j < P; ++j) d[j] = di[j] + z[j] * dt[j];
      }
    } else if (rd) {
      const T* __restrict r = rd + o;
      for (int64_t j = 0; j < P; ++j) d[j] = di[j] * r[j] + zp * dt[j];
    } else if (zp != T(0)) {
      for (int64_t j = 0; j < P; ++j) d[j] = di[j] + zp * dt[j];
    } else {
      for (int64_t j = 0; j < P; ++j) d[j] = di[j];
    }
  }
}
LK_CLONES void bwd_pre(int64_t B, int64_t P, int64_t t, const int64_t* len, const float* dh, const float* dy,
                       const float* zh, float zp, float* dtot, float* dpre) {
  bwd_pre_impl<float>(B, P, t, len, dh, dy, zh, zp, dtot, dpre);
}
void bwd_pre(int64_t B, int64_t P, int64_t t, const int64_t* len, const double* dh, const double* dy,
             const double* zh, double zp, double* dtot, double* dpre) {
  bwd_pre_impl<double>(B, P, t, len, dh, dy, zh, zp, dtot, dpre);
}
LK_CLONES void bwd_post(int64_t B, int64_t P, int64_t t, const int64_t* len, const float* dhin, const float* rd,
                        const float* zh, float zp, const float* dtot, float* dh) {
  bwd_post_impl<float>(B, P, t, len, dhin, rd, zh, zp, dtot, dh);
}
void bwd_post(int64_t B, int64_t P, int64_t t, const int64_t* len, const double* dhin, const double* rd,
              const double* zh, double zp, const double* dtot, double* dh) {
  bwd_post_impl<double>(B, P, t, len, dhin, rd, zh, zp, dtot, dh);
}

int64_t grain_for(int64_t width) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, width)); }

Tensor none(const at::TensorOptions& o) { return at::empty({0}, o); }
bool has(const OptT& t) { return t.has_value() && t->defined(); }

template <typename T>
T* ptr_or_null(const Tensor& t) { return t.defined() && t.numel() > 0 ? t.data_ptr<T>() : nullptr; }

struct Inputs {
  Tensor x, w_ih, w_hh, bias, w_hr, h0, c0, len, peep, gih, ghh, gc, bc, rd, zcm, zhm;
  int64_t T, B, F, H, P;
  bool proj, ln, peephole, has_len, zc_on, zh_on;
};

Inputs prepare(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const OptT& bias, const OptT& w_hr,
               const Tensor& h0, const Tensor& c0, const OptT& lengths, const OptT& peep, const OptT& gih,
               const OptT& ghh, const OptT& gc, const OptT& bc, const OptT& rd, const OptT& zcm,
               const OptT& zhm, double zc_p, double zh_p) {
  Inputs in;
  TORCH_CHECK(x.dim() == 3, "lstm_fused: x must be (T, B, F), got ", x.sizes());
  TORCH_CHECK(x.device().is_cpu(), "lstm_fused: CPU tensors only");
  in.x = x.contiguous();
  in.T = x.size(0); in.B = x.size(1); in.F = x.size(2);
  TORCH_CHECK(in.T > 0 && in.B > 0, "lstm_fused: empty sequence or batch");
  in.w_ih = w_ih.contiguous();
  in.H = w_ih.size(0) / 4;
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == 4 * in.H && w_ih.size(1) == in.F, "lstm_fused: w_ih must be (4H, F)");
  in.w_hh = w_hh.contiguous();
  in.P = w_hh.size(1);
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * in.H, "lstm_fused: w_hh must be (4H, P)");
  in.proj = has(w_hr);
  if (in.proj) {
    in.w_hr = w_hr->contiguous();
    TORCH_CHECK(in.w_hr.size(0) == in.P && in.w_hr.size(1) == in.H, "lstm_fused: w_hr must be (P, H)");
  } else {
    TORCH_CHECK(in.P == in.H, "lstm_fused: w_hh must be (4H, H) without projection");
  }
  if (has(bias)) { in.bias = bias->contiguous(); TORCH_CHECK(in.bias.numel() == 4 * in.H, "lstm_fused: bias must be (4H)"); }
  in.h0 = h0.contiguous(); in.c0 = c0.contiguous();
  TORCH_CHECK(in.h0.numel() == in.B * in.P && in.c0.numel() == in.B * in.H, "lstm_fused: h0 (B,P) / c0 (B,H) shape");
  in.has_len = has(lengths);
  if (in.has_len) {
    in.len = lengths->to(at::kLong).contiguous();
    TORCH_CHECK(in.len.numel() == in.B, "lstm_fused: lengths must be (B)");
  }
  in.peephole = has(peep);
  if (in.peephole) { in.peep = peep->contiguous(); TORCH_CHECK(in.peep.numel() == 3 * in.H, "lstm_fused: peephole must be (3, H)"); }
  in.ln = has(gih);
  if (in.ln) {
    TORCH_CHECK(has(ghh) && has(gc) && has(bc), "lstm_fused: layer norm needs all four parameters");
    in.gih = gih->contiguous(); in.ghh = ghh->contiguous(); in.gc = gc->contiguous(); in.bc = bc->contiguous();
  }
  if (has(rd)) { in.rd = rd->contiguous(); TORCH_CHECK(in.rd.numel() == in.B * in.P, "lstm_fused: rd_mask must be (B, P)"); }
  if (has(zcm)) { in.zcm = zcm->contiguous(); TORCH_CHECK(in.zcm.numel() == in.T * in.B * in.H, "lstm_fused: zc_mask must be (T, B, H)"); }
  if (has(zhm)) { in.zhm = zhm->contiguous(); TORCH_CHECK(in.zhm.numel() == in.T * in.B * in.P, "lstm_fused: zh_mask must be (T, B, P)"); }
  in.zc_on = in.zcm.defined() || zc_p != 0.0;
  in.zh_on = in.zhm.defined() || zh_p != 0.0;
  return in;
}

template <typename T>
Cfg<T> make_cfg(const Inputs& in, bool coupled, bool hard, double zc_p, double zh_p) {
  Cfg<T> c;
  c.B = in.B; c.H = in.H; c.P = in.P;
  c.peep = in.peephole; c.ln = in.ln; c.coupled = coupled; c.hard = hard;
  c.zc_on = in.zc_on; c.zh_on = in.zh_on; c.has_len = in.has_len;
  c.zc_p = T(zc_p); c.zh_p = T(zh_p);
  const T* pp = ptr_or_null<T>(in.peep);
  c.wci = pp; c.wcf = pp ? pp + in.H : nullptr; c.wco = pp ? pp + 2 * in.H : nullptr;
  c.wci0 = c.wci; c.wcf0 = c.wcf; c.wco0 = c.wco;
  c.gih = ptr_or_null<T>(in.gih); c.ghh = ptr_or_null<T>(in.ghh);
  c.gc = ptr_or_null<T>(in.gc); c.bc = ptr_or_null<T>(in.bc);
  c.bias = ptr_or_null<T>(in.bias);
  c.keep = true;
  c.ln_x_in_step = false;
  c.len = in.has_len ? in.len.data_ptr<int64_t>() : nullptr;
  return c;
}

using Fwd15 = std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor,
                         Tensor, Tensor, Tensor, Tensor, Tensor>;

// Returns (y, h_n, c_n, gates, c_seq, h_seq, c_new, tanh_c, h_pre, xhat_ih, rstd_ih, xhat_hh, rstd_hh,
//          xhat_c, rstd_c); unused ones are empty (0,). gates = activations i f g o (T, B, 4H), c_seq the
// cell states c_t (T, B, H): returned as-is, so return_gates costs no extra pass.
// save = false (inference, no return_gates): only y, h_n, c_n; the other buffers shrink to one step
// (two slots for the states), and the input projection runs per chunk of steps whose gates fit in
// cache, instead of (T, B, 4H) arrays written to memory and read back.
Fwd15 lstm_fwd(const Tensor& x_, const Tensor& w_ih_, const Tensor& w_hh_, const OptT& bias_, const OptT& w_hr_,
               const Tensor& h0_, const Tensor& c0_, const OptT& lengths_, const OptT& peep_, const OptT& gih_,
               const OptT& ghh_, const OptT& gc_, const OptT& bc_, const OptT& rd_, const OptT& zcm_,
               const OptT& zhm_, double zc_p, double zh_p, bool reverse, bool coupled, bool hard, bool save) {
  Inputs in = prepare(x_, w_ih_, w_hh_, bias_, w_hr_, h0_, c0_, lengths_, peep_, gih_, ghh_, gc_, bc_, rd_, zcm_,
                      zhm_, zc_p, zh_p);
  const int64_t T = in.T, B = in.B, F = in.F, H = in.H, P = in.P, G = 4 * H;
  auto opts = in.x.options();
  // Steps per input-projection chunk: all of them when saving; else ~1 MiB of float gates (at least
  // 64 rows per GEMM).
  const int64_t Kc = save ? T
                          : std::min<int64_t>(T, std::max<int64_t>({int64_t(1), (int64_t(1) << 18) / (B * G),
                                                                    (64 + B - 1) / B}));
  const int64_t S = save ? T : 1;   // steps held by the per-step buffers
  const int64_t S2 = save ? T : 2;  // ... by the states (previous and current)
  Tensor gates = pooled_empty({Kc, B, G}, opts);
  // W_ih x (of all steps when saving, else per chunk below); the bias is added in the pointwise pass
  // (addmm would first write the broadcast bias over all T*B rows: 8 % of a forward at 64,200,64,128).
  if (save) {
    Tensor g2 = gates.view({T * B, G});
    at::mm_out(g2, in.x.view({T * B, F}), in.w_ih.t());
  }
  Tensor xhx = none(opts), rsx = none(opts), xhh = none(opts), rsh = none(opts), chat = none(opts),
         rsc = none(opts);
  if (in.ln && save) {
    xhx = pooled_empty({T, B, G}, opts); rsx = at::empty({T, B}, opts);
    xhh = pooled_empty({T, B, G}, opts); rsh = at::empty({T, B}, opts);
    chat = pooled_empty({T, B, H}, opts); rsc = at::empty({T, B}, opts);
  }
  // Layer norm wants a bias row in the step's pass (zeros when the layer has none).
  Tensor ln_bias = in.ln && !in.bias.defined() ? at::zeros({G}, opts) : Tensor();
  Tensor cout = pooled_empty({S2, B, H}, opts);
  Tensor y = pooled_empty({T, B, P}, opts);
  Tensor hout = in.has_len ? pooled_empty({S2, B, P}, opts) : none(opts);
  Tensor cnew = in.zc_on ? pooled_empty({S, B, H}, opts) : none(opts);
  Tensor tc = pooled_empty({S, B, H}, opts);
  Tensor hh = in.proj ? pooled_empty({S, B, H}, opts) : none(opts);
  const bool need_fin = in.proj || in.zh_on || in.has_len;
  Tensor wt_hh = in.w_hh.t().contiguous();                       // (P, 4H)
  Tensor wt_hr = in.proj ? in.w_hr.t().contiguous() : Tensor();  // (H, P)
  const int64_t rows = split_rows(B);
  Tensor hn, cn;

  AT_DISPATCH_FLOATING_TYPES(in.x.scalar_type(), "lstmkit_lstm_fwd", [&] {
    using T_ = scalar_t;
    Cfg<T_> c = make_cfg<T_>(in, coupled, hard, zc_p, zh_p);
    if (ln_bias.defined()) c.bias = ln_bias.data_ptr<T_>();
    c.keep = save;
    c.ln_x_in_step = in.ln && !save;
    Tensor hin_buf = in.rd.defined() ? at::empty({B, P}, opts) : Tensor();
    Tensor gh_buf = in.ln ? at::empty({B, G}, opts) : Tensor();
    Tensor hp_buf = in.proj ? at::empty({B, P}, opts) : Tensor();
    Tensor hh_buf = (!in.proj && need_fin) ? at::empty({B, H}, opts) : Tensor();
    T_* gp = gates.data_ptr<T_>();
    T_* cop = cout.data_ptr<T_>();
    T_* hop = ptr_or_null<T_>(hout);
    T_* yp = y.data_ptr<T_>();
    const T_* rdp = ptr_or_null<T_>(in.rd);
    const T_* zcp = ptr_or_null<T_>(in.zcm);
    const T_* zhp = ptr_or_null<T_>(in.zhm);
    const T_* h0p = in.h0.data_ptr<T_>();
    const T_* c0p = in.c0.data_ptr<T_>();
    const int64_t grain = grain_for(G);
    // Step t's row 0 in a per-step buffer of width w (null stays null).
    auto at_t = [&](const Tensor& buf, int64_t t, int64_t w) -> T_* {
      T_* b = ptr_or_null<T_>(buf);
      return b ? b + (save ? t : 0) * B * w : nullptr;
    };
    auto c_at = [&](int64_t k, int64_t t) { return cop + (save ? t : (k & 1)) * B * H; };
    auto h_at = [&](int64_t k, int64_t t) { return in.has_len ? hop + (save ? t : (k & 1)) * B * P : yp + t * B * P; };
    // The steps k in [k0, k1) for rows [b0, b1); their gates start at step t_lo. split: this is one
    // task of a row-split loop (its own GEMMs on one thread); else all rows, with per-step parallelism.
    auto run_rows = [&](int64_t b0, int64_t b1, int64_t k0, int64_t k1, int64_t t_lo, bool split) {
      const int64_t n = b1 - b0;
      if (in.ln && save && split)  // the input projection's layer norm: these rows, all steps first
        for (int64_t k = k0; k < k1; ++k) {
          const int64_t t = reverse ? T - 1 - k : k;
          ln_in_rows(c, gp + (t - t_lo) * B * G, at_t(xhx, t, G), at_t(rsx, t, 1), b0, b1);
        }
      for (int64_t k = k0; k < k1; ++k) {
        const int64_t t = reverse ? T - 1 - k : k;
        const int64_t tp = reverse ? t + 1 : t - 1;
        const T_* cp = k == 0 ? c0p : c_at(k - 1, tp);
        const T_* hp = k == 0 ? h0p : h_at(k - 1, tp);
        T_* gate = gp + (t - t_lo) * B * G;
        const T_* hin = hp;
        if (rdp) {
          T_* hb = hin_buf.data_ptr<T_>();
          for (int64_t q = b0 * P; q < b1 * P; ++q) hb[q] = hp[q] * rdp[q];
          hin = hb;
        }
        StepPtrs<T_> s;
        s.t = t;
        s.gate = gate;
        s.xhx = at_t(xhx, t, G);
        s.rsx = at_t(rsx, t, 1);
        s.gh = in.ln ? gh_buf.data_ptr<T_>() : nullptr;
        s.xhh = at_t(xhh, t, G);
        s.rsh = at_t(rsh, t, 1);
        s.cp = cp;
        s.cout = c_at(k, t);
        s.cnew = at_t(cnew, t, H);
        s.chat = at_t(chat, t, H);
        s.rsc = at_t(rsc, t, 1);
        s.tc = at_t(tc, t, H);
        s.hh = in.proj ? at_t(hh, t, H) : (need_fin ? hh_buf.data_ptr<T_>() : h_at(k, t));
        s.zcm = zcp ? zcp + t * B * H : nullptr;
        if (in.ln) {
          gemm<T_>(n, G, P, hin + b0 * P, wt_hh, gh_buf.data_ptr<T_>() + b0 * G, false, split);
        } else {
          gemm<T_>(n, G, P, hin + b0 * P, wt_hh, gate + b0 * G, true, split);
        }
        if (split)
          fwd_rows(c, s, b0, b1);
        else
          at::parallel_for(b0, b1, grain, [&](int64_t r0, int64_t r1) { fwd_rows(c, s, r0, r1); });
        if (need_fin) {
          const T_* src = s.hh;
          if (in.proj) {
            gemm<T_>(n, P, H, s.hh + b0 * H, wt_hr, hp_buf.data_ptr<T_>() + b0 * P, false, split);
            src = hp_buf.data_ptr<T_>();
          }
          fin_rows<T_>(c, t, src, hp, zhp ? zhp + t * B * P : nullptr, h_at(k, t), yp + t * B * P, b0, b1);
        }
      }
    };
    // Saving (training), the input projection's layer norm runs over all rows before the steps: 8 %
    // faster for a training step than inside each step's pass (its row statistics leave the
    // recurrence's critical path). Without by-products the step's pass does it (2-4 % faster there).
    T_* xxp = ptr_or_null<T_>(xhx);
    T_* rxp = ptr_or_null<T_>(rsx);
    for (int64_t k0 = 0; k0 < T; k0 += Kc) {
      const int64_t n = std::min(Kc, T - k0);
      const int64_t t_lo = save ? 0 : (reverse ? T - k0 - n : k0);
      if (!save) {
        Tensor g2 = gates.narrow(0, 0, n).view({n * B, G});
        at::mm_out(g2, in.x.narrow(0, t_lo, n).view({n * B, F}), in.w_ih.t());
      }
      if (rows) {
        at::parallel_for(0, B, rows, [&](int64_t b0, int64_t b1) { run_rows(b0, b1, k0, k0 + n, t_lo, true); });
      } else {
        if (in.ln && save)  // saving: one chunk, all T steps from t = 0
          at::parallel_for(0, n * B, grain, [&](int64_t r0, int64_t r1) { ln_in_rows(c, gp, xxp, rxp, r0, r1); });
        run_rows(0, B, k0, k0 + n, t_lo, false);
      }
    }
    const int64_t tl = reverse ? 0 : T - 1;
    hn = at::from_blob(h_at(T - 1, tl), {B, P}, opts).clone();
    cn = at::from_blob(c_at(T - 1, tl), {B, H}, opts).clone();
  });
  if (!save) {  // distinct empty tensors: a custom op's outputs must not alias each other
    auto e = [&] { return none(opts); };
    return Fwd15(y, hn, cn, e(), e(), e(), e(), e(), e(), e(), e(), e(), e(), e(), e());
  }
  return Fwd15(y, hn, cn, gates, cout, hout, cnew, tc, hh, xhx, rsx, xhh, rsh, chat, rsc);
}

using Bwd12 = std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor>;

// Returns (dx, dw_ih, dw_hh, dbias, dw_hr, dh0, dc0, dpeephole, dln_gain_ih, dln_gain_hh, dln_gain_c, dln_bias_c).
Bwd12 lstm_bwd(const Tensor& x_, const Tensor& w_ih_, const Tensor& w_hh_, const OptT& bias_, const OptT& w_hr_,
               const Tensor& h0_, const Tensor& c0_, const OptT& lengths_, const OptT& peep_, const OptT& gih_,
               const OptT& ghh_, const OptT& gc_, const OptT& bc_, const OptT& rd_, const OptT& zcm_,
               const OptT& zhm_, double zc_p, double zh_p, bool reverse, bool coupled, bool hard,
               const Tensor& y, const Tensor& gates_, const Tensor& cout_, const Tensor& hout_,
               const Tensor& cnew_, const Tensor& tc_, const Tensor& hh_, const Tensor& xhx_, const Tensor& rsx_,
               const Tensor& xhh_, const Tensor& rsh_, const Tensor& chat_, const Tensor& rsc_,
               const Tensor& dy_, const Tensor& dhn_, const Tensor& dcn_, bool need_dx) {
  Inputs in = prepare(x_, w_ih_, w_hh_, bias_, w_hr_, h0_, c0_, lengths_, peep_, gih_, ghh_, gc_, bc_, rd_, zcm_,
                      zhm_, zc_p, zh_p);
  const int64_t T = in.T, B = in.B, F = in.F, H = in.H, P = in.P, G = 4 * H;
  auto opts = in.x.options();
  Tensor gates = gates_.contiguous(), cout = cout_.contiguous(), tc = tc_.contiguous();
  Tensor hs = (in.has_len ? hout_ : y).contiguous();
  Tensor cnew = in.zc_on ? cnew_.contiguous() : cout;
  Tensor dy = dy_.contiguous();
  Tensor dh = dhn_.reshape({B, P}).clone();
  Tensor dc = dcn_.reshape({B, H}).clone();
  // With layer norm, dL/da is consumed within its step (the gain, bias and peephole sums are
  // accumulated there): a one-step scratch is enough (less memory traffic).
  // The weight-gradient GEMMs (and peephole sums) run per chunk of Kc steps (>= ~512 rows each) on
  // reused buffers, rather than on (T, B, 4H) gradients of all steps: less memory traffic and no
  // large fresh allocations (whose page faults cost ~15 % of a step).
  const int64_t Kc = std::min<int64_t>(T, std::max<int64_t>(8, (512 + B - 1) / B));
  const bool dG_scratch = in.ln;  // then dL/da is consumed within its step
  Tensor dG = pooled_empty({dG_scratch ? 1 : Kc, B, G}, opts);
  // With layer norm, dL/d(W_hh r) and dL/d(W_ih x) differ from dL/da (chunk buffers of their own).
  Tensor dGH = in.ln ? pooled_empty({Kc, B, G}, opts) : dG;
  Tensor dTN = in.ln ? at::empty({B, H}, opts) : Tensor();  // dL/dLN(c'): one step
  Tensor dGXb = in.ln ? pooled_empty({Kc, B, G}, opts) : dG;
  Tensor dw_ih = at::zeros({G, F}, opts);
  Tensor dw_hh = at::zeros({G, P}, opts);
  Tensor dx = need_dx ? pooled_empty({T, B, F}, opts) : none(opts);
  Tensor dpeep = in.peephole ? at::zeros({3, H}, opts) : none(opts);
  // Weight/input gradients of the steps [t0, t1) held in chunk slots 0 .. t1-t0-1 (layer norm).
  // The backward must not read padding: dL/da is zero past each sequence's end, but 0 * NaN = NaN, so
  // the inputs of those steps (which may hold anything, NaN or inf included) are replaced by zeros before
  // the weight-gradient GEMM (a select, not a product). Only with lengths: one pass over x.
  Tensor xw = in.x;
  if (in.has_len) {
    Tensor valid = at::arange(T, in.len.options()).unsqueeze(1).lt(in.len.unsqueeze(0)).unsqueeze(-1);  // (T, B, 1)
    xw = at::where(valid, in.x, at::zeros({}, opts));
  }
  auto flush = [&](int64_t t0, int64_t t1) {
    const int64_t n = t1 - t0;
    Tensor gx = dGXb.narrow(0, 0, n).reshape({n * B, G});
    Tensor gh = dGH.narrow(0, 0, n).reshape({n * B, G});
    dw_ih.addmm_(gx.t(), xw.narrow(0, t0, n).reshape({n * B, F}));
    if (need_dx) {
      Tensor dxv = dx.narrow(0, t0, n).view({n * B, F});
      at::mm_out(dxv, gx, in.w_ih);
    }
    const Tensor& hsv = hs;
    Tensor h0v = in.h0.reshape({1, B, P});
    Tensor hp;  // h_{t-1} of each step in processing order, (n, B, P)
    if (!reverse) {
      hp = t0 > 0 ? hsv.narrow(0, t0 - 1, n) : (n == 1 ? h0v : at::cat({h0v, hsv.narrow(0, 0, n - 1)}, 0));
    } else {
      hp = t1 < T ? hsv.narrow(0, t0 + 1, n) : (n == 1 ? h0v : at::cat({hsv.narrow(0, t0 + 1, n - 1), h0v}, 0));
    }
    if (in.rd.defined()) hp = hp * in.rd.view({1, B, P});
    dw_hh.addmm_(gh.t(), hp.reshape({n * B, P}));
  };
  Tensor db = in.bias.defined() ? at::zeros({G}, opts) : none(opts);
  Tensor dgih = in.ln ? at::zeros({G}, opts) : none(opts);
  Tensor dghh = in.ln ? at::zeros({G}, opts) : none(opts);
  Tensor dgc = in.ln ? at::zeros({H}, opts) : none(opts);
  Tensor dbc = in.ln ? at::zeros({H}, opts) : none(opts);
  Tensor dHP = in.proj ? pooled_empty({T, B, P}, opts) : Tensor();
  Tensor w_hh = in.w_hh;             // (4H, P): dh_{t-1} = dgh @ W_hh
  Tensor w_hr = in.proj ? in.w_hr : Tensor();  // (P, H): dh' = dh'' @ W_hr

  AT_DISPATCH_FLOATING_TYPES(in.x.scalar_type(), "lstmkit_lstm_bwd", [&] {
    using T_ = scalar_t;
    Cfg<T_> c = make_cfg<T_>(in, coupled, hard, zc_p, zh_p);
    Tensor dhtot = at::empty({B, P}, opts);
    Tensor dhh_buf = at::empty({B, H}, opts);
    Tensor dhin = at::empty({B, P}, opts);
    Tensor dtn_scratch = in.ln ? Tensor() : at::empty({B, H}, opts);
    Tensor dcn_buf = at::empty({B, H}, opts);
    Tensor zeros3 = at::zeros({3 * H}, opts);
    if (!in.peephole) {
      const T_* z = zeros3.data_ptr<T_>();
      c.wci0 = z; c.wcf0 = z + H; c.wco0 = z + 2 * H;
    }
    T_* dhp_ = dh.data_ptr<T_>();
    T_* dcp_ = dc.data_ptr<T_>();
    T_* dtot = dhtot.data_ptr<T_>();
    const T_* dyp = dy.data_ptr<T_>();
    const T_* gp = gates.data_ptr<T_>();
    const T_* cop = cout.data_ptr<T_>();
    const T_* cnp = cnew.data_ptr<T_>();
    const T_* tcp = tc.data_ptr<T_>();
    const T_* c0p = in.c0.data_ptr<T_>();
    const T_* rdp = ptr_or_null<T_>(in.rd);
    const T_* zcp = ptr_or_null<T_>(in.zcm);
    const T_* zhp = ptr_or_null<T_>(in.zhm);
    const int64_t* lp = c.len;
    T_* dGp = dG.data_ptr<T_>();
    T_* dGHp = dGH.data_ptr<T_>();
    const int64_t grain = grain_for(G);
    T_* dbp = ptr_or_null<T_>(db);
    T_* dgihp = ptr_or_null<T_>(dgih);
    T_* dghhp = ptr_or_null<T_>(dghh);
    T_* dgcp = ptr_or_null<T_>(dgc);
    T_* dbcp = ptr_or_null<T_>(dbc);
    T_* dpp = ptr_or_null<T_>(dpeep);  // (3, H) sums, accumulated per step
    // Row split (see split_rows): each task runs the steps of a chunk for its rows; the per-step sums
    // go to per-task partial sums (added up at the end), the weight GEMMs run between chunks.
    const int64_t rows = split_rows(B);
    const int64_t ntask = rows ? (B + rows - 1) / rows : 1;
    auto parts = [&](const Tensor& total, int64_t w) {
      return (ntask > 1 && total.numel() > 0) ? at::zeros({ntask, w}, opts) : Tensor();
    };
    Tensor db_p = parts(db, G), dgih_p = parts(dgih, G), dghh_p = parts(dghh, G), dgc_p = parts(dgc, H),
           dbc_p = parts(dbc, H), dpp_p = parts(dpeep, 3 * H);
    auto slot = [](const Tensor& part, T_* total, int64_t task, int64_t w) {
      return part.defined() ? part.data_ptr<T_>() + task * w : total;
    };
    const bool sums = dbp || in.ln || dpp;
    T_* dhpre_base = in.proj ? dHP.data_ptr<T_>() : dhh_buf.data_ptr<T_>();
    T_* dhi = dhin.data_ptr<T_>();
    // Step t for rows [b0, b1) (task: which partial sums; split: inside a row-split task).
    auto bstep = [&](int64_t t, int64_t b0, int64_t b1, int64_t task, bool split) {
      const int64_t n = b1 - b0;
      const int64_t tp = reverse ? t + 1 : t - 1;
      const bool first = reverse ? (t == T - 1) : (t == 0);
      const T_* cp = first ? c0p : cop + tp * B * H;
      // (a) dL/dh_t (valid rows), then through zoneout on h and the projection
      const T_* dys = dyp + t * B * P;
      T_* dhpre = in.proj ? dhpre_base + t * B * P : dhpre_base;
      const T_ zp = in.zh_on ? T_(zh_p) : T_(0);
      const T_* zh_t = zhp ? zhp + t * B * P : nullptr;
      const int64_t* lr = lp ? lp + b0 : nullptr;
      const int64_t o = b0 * P;
      bwd_pre(n, P, t, lr, dhp_ + o, dys + o, zh_t ? zh_t + o : nullptr, zp, dtot + o, dhpre + o);
      if (in.proj) gemm<T_>(n, H, P, dhpre + o, w_hr, dhh_buf.data_ptr<T_>() + b0 * H, false, split);
      // (b) pointwise
      BwdPtrs<T_> s;
      s.t = t;
      s.gate = gp + t * B * G;
      s.cp = cp;
      s.cnew = cnp + t * B * H;
      s.tc = tcp + t * B * H;
      s.chat = in.ln ? chat_.data_ptr<T_>() + t * B * H : nullptr;
      s.rsc = in.ln ? rsc_.data_ptr<T_>() + t * B : nullptr;
      s.xhh = in.ln ? xhh_.data_ptr<T_>() + t * B * G : nullptr;
      s.xhx = in.ln ? xhx_.data_ptr<T_>() + t * B * G : nullptr;
      s.rsx = in.ln ? rsx_.data_ptr<T_>() + t * B : nullptr;
      s.dgx = in.ln ? dGXb.data_ptr<T_>() + (t % Kc) * B * G : nullptr;
      s.rsh = in.ln ? rsh_.data_ptr<T_>() + t * B : nullptr;
      s.zcm = zcp ? zcp + t * B * H : nullptr;
      s.dhh = dhh_buf.data_ptr<T_>();
      s.dc = dcp_;
      s.dG = dGp + (dG_scratch ? 0 : (t % Kc) * B * G);
      s.dgh = dGHp + (t % Kc) * B * G;
      s.dtn = in.ln ? dTN.data_ptr<T_>() : dtn_scratch.data_ptr<T_>();
      s.dcn = dcn_buf.data_ptr<T_>();
      if (split)
        bwd_rows(c, s, b0, b1);
      else
        at::parallel_for(b0, b1, grain, [&](int64_t r0, int64_t r1) { bwd_rows(c, s, r0, r1); });
      if (sums)
        accum(c, s, slot(db_p, dbp, task, G), slot(dgih_p, dgihp, task, G), slot(dghh_p, dghhp, task, G),
              slot(dgc_p, dgcp, task, H), slot(dbc_p, dbcp, task, H), slot(dpp_p, dpp, task, 3 * H), 0, G, b0, b1);
      // (c) dL/dh_{t-1} = (dgh W_hh) * m_rd + z_h * dL/dh_t ; rows past the end carry dh unchanged
      gemm<T_>(n, P, G, s.dgh + b0 * G, w_hh, dhi + o, false, split);
      bwd_post(n, P, t, lr, dhi + o, rdp ? rdp + o : nullptr, zh_t ? zh_t + o : nullptr, zp, dtot + o, dhp_ + o);
    };
    // Chunks of Kc steps (slots t % Kc), in processing order; the weight gradients of a chunk are
    // flushed when it is complete.
    const int64_t nchunks = (T + Kc - 1) / Kc;
    for (int64_t q = 0; q < nchunks; ++q) {
      const int64_t ci = reverse ? q : nchunks - 1 - q;
      const int64_t t0 = ci * Kc, t1 = std::min(T, t0 + Kc);
      auto run = [&](int64_t b0, int64_t b1, int64_t task, bool split) {
        TORCH_INTERNAL_ASSERT(task < ntask);
        for (int64_t kk = 0; kk < t1 - t0; ++kk) bstep(reverse ? t0 + kk : t1 - 1 - kk, b0, b1, task, split);
      };
      if (rows)
        at::parallel_for(0, B, rows, [&](int64_t b0, int64_t b1) { run(b0, b1, b0 / rows, true); });
      else
        run(0, B, 0, false);
      flush(t0, t1);
    }
    auto add_parts = [](const Tensor& total, const Tensor& part) {
      if (part.defined()) total.add_(part.sum(0));
    };
    add_parts(db, db_p); add_parts(dgih, dgih_p); add_parts(dghh, dghh_p);
    add_parts(dgc, dgc_p); add_parts(dbc, dbc_p); add_parts(dpeep, dpp_p.defined() ? dpp_p.view({ntask, 3, H}) : dpp_p);
  });

  Tensor dw_hr = in.proj ? at::mm(dHP.view({T * B, P}).t(), hh_.contiguous().view({T * B, H})) : none(opts);
  return Bwd12(dx, dw_ih, dw_hh, db, dw_hr, dh.view(h0_.sizes()), dc.view(c0_.sizes()), dpeep, dgih, dghh, dgc, dbc);
}

// ---------------------------------------------------------------- autograd (C++)
// The autograd formula lives here rather than in Python (torch.library.register_autograd): the Python
// route cost ~290 us per training step (context set-up, saving, the backward call), 6 % of a whole
// step at B = 32, T = 100, H = 64. Both ops go through the dispatcher, so under torch.compile the
// registered fake implementations run instead of the CPU kernels.
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

const c10::OperatorHandle& fwd_op() {
  static const c10::OperatorHandle h = c10::Dispatcher::singleton().findSchemaOrThrow("lstmkit_fused::lstm_fwd", "");
  return h;
}
const c10::OperatorHandle& bwd_op() {
  static const c10::OperatorHandle h = c10::Dispatcher::singleton().findSchemaOrThrow("lstmkit_fused::lstm_bwd", "");
  return h;
}
// The differentiable backward (double backward): implemented in Python (fused_cpu.py) for the
// CompositeImplicitAutograd key, by recomputing the layer through PyTorch operations.
const c10::OperatorHandle& bwd_graph_op() {
  static const c10::OperatorHandle h =
      c10::Dispatcher::singleton().findSchemaOrThrow("lstmkit_fused::lstm_bwd_graph", "");
  return h;
}
constexpr int kNumIn = 16;  // tensor arguments of lstm_fwd (optional ones saved as undefined)

Fwd15 call_fwd(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const OptT& bias, const OptT& w_hr,
               const Tensor& h0, const Tensor& c0, const OptT& lengths, const OptT& peep, const OptT& gih,
               const OptT& ghh, const OptT& gc, const OptT& bc, const OptT& rd, const OptT& zcm, const OptT& zhm,
               double zc_p, double zh_p, bool reverse, bool coupled, bool hard, bool save) {
  return fwd_op()
      .typed<Fwd15(const Tensor&, const Tensor&, const Tensor&, const OptT&, const OptT&, const Tensor&,
                   const Tensor&, const OptT&, const OptT&, const OptT&, const OptT&, const OptT&, const OptT&,
                   const OptT&, const OptT&, const OptT&, double, double, bool, bool, bool, bool)>()
      .call(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peep, gih, ghh, gc, bc, rd, zcm, zhm, zc_p, zh_p, reverse,
            coupled, hard, save);
}

class LstmFn : public torch::autograd::Function<LstmFn> {
 public:
  static variable_list forward(AutogradContext* ctx, const Tensor& x, const Tensor& w_ih, const Tensor& w_hh,
                               const OptT& bias, const OptT& w_hr, const Tensor& h0, const Tensor& c0,
                               const OptT& lengths, const OptT& peep, const OptT& gih, const OptT& ghh,
                               const OptT& gc, const OptT& bc, const OptT& rd, const OptT& zcm, const OptT& zhm,
                               double zc_p, double zh_p, bool reverse, bool coupled, bool hard) {
    at::AutoDispatchBelowADInplaceOrView guard;
    Fwd15 o = call_fwd(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peep, gih, ghh, gc, bc, rd, zcm, zhm, zc_p, zh_p,
                       reverse, coupled, hard, true);
    variable_list out = {std::get<0>(o),  std::get<1>(o),  std::get<2>(o),  std::get<3>(o),  std::get<4>(o),
                         std::get<5>(o),  std::get<6>(o),  std::get<7>(o),  std::get<8>(o),  std::get<9>(o),
                         std::get<10>(o), std::get<11>(o), std::get<12>(o), std::get<13>(o), std::get<14>(o)};
    auto val = [](const OptT& t) { return t.has_value() ? *t : Tensor(); };
    variable_list saved = {x,        w_ih,     w_hh,     val(bias), val(w_hr), h0,       c0,       val(lengths),
                           val(peep), val(gih), val(ghh), val(gc),  val(bc),   val(rd),  val(zcm), val(zhm)};
    saved.push_back(out[0]);
    for (size_t i = 3; i < out.size(); ++i) saved.push_back(out[i]);
    ctx->save_for_backward(saved);
    ctx->saved_data["zc_p"] = zc_p;
    ctx->saved_data["zh_p"] = zh_p;
    ctx->saved_data["flags"] = int64_t(reverse) | (int64_t(coupled) << 1) | (int64_t(hard) << 2);
    ctx->mark_non_differentiable(variable_list(out.begin() + 3, out.end()));  // by-products: no gradient
    ctx->set_materialize_grads(false);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    variable_list sv = ctx->get_saved_variables();
    auto opt = [&](int i) { return sv[i].defined() ? OptT(sv[i]) : OptT(); };
    const Tensor &x = sv[0], &h0 = sv[5], &c0 = sv[6], &y = sv[kNumIn];
    const int64_t flags = ctx->saved_data["flags"].toInt();
    const double zc_p = ctx->saved_data["zc_p"].toDouble(), zh_p = ctx->saved_data["zh_p"].toDouble();
    Tensor dy = grads[0].defined() ? grads[0] : at::zeros_like(y);
    Tensor dhn = grads[1].defined() ? grads[1].reshape(h0.sizes()) : at::zeros_like(h0);
    Tensor dcn = grads[2].defined() ? grads[2].reshape(c0.sizes()) : at::zeros_like(c0);
    const bool need_dx = ctx->needs_input_grad(0);
    Bwd12 g;
    if (at::GradMode::is_enabled()) {
      // create_graph=True: this backward is itself differentiated (gradient penalties, meta-learning,
      // gradgradcheck). The hand-written backward below is not differentiable, so the gradients are
      // computed through PyTorch operations instead (a recomputation of the layer: slower, only here).
      g = bwd_graph_op()
              .typed<Bwd12(const Tensor&, const Tensor&, const Tensor&, const OptT&, const OptT&, const Tensor&,
                           const Tensor&, const OptT&, const OptT&, const OptT&, const OptT&, const OptT&,
                           const OptT&, const OptT&, const OptT&, const OptT&, double, double, bool, bool, bool,
                           const Tensor&, const Tensor&, const Tensor&)>()
              .call(x, sv[1], sv[2], opt(3), opt(4), h0, c0, opt(7), opt(8), opt(9), opt(10), opt(11), opt(12),
                    opt(13), opt(14), opt(15), zc_p, zh_p, flags & 1, (flags >> 1) & 1, (flags >> 2) & 1, dy, dhn,
                    dcn);
    } else {
      // Below autograd: the kernel's own ATen calls (mm_out, ...) must not be recorded.
      at::AutoDispatchBelowADInplaceOrView guard;
      auto r = [&](int i) -> const Tensor& { return sv[kNumIn + i]; };  // r(1..12): gates .. rstd_c
      g = bwd_op().typed<Bwd12(const Tensor&, const Tensor&, const Tensor&, const OptT&, const OptT&,
                                     const Tensor&, const Tensor&, const OptT&, const OptT&, const OptT&,
                                     const OptT&, const OptT&, const OptT&, const OptT&, const OptT&, const OptT&,
                                     double, double, bool, bool, bool, const Tensor&, const Tensor&, const Tensor&,
                                     const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                     const Tensor&, const Tensor&, const Tensor&, bool)>()
                    .call(x, sv[1], sv[2], opt(3), opt(4), h0, c0, opt(7), opt(8), opt(9), opt(10), opt(11),
                          opt(12), opt(13), opt(14), opt(15), zc_p, zh_p, flags & 1, (flags >> 1) & 1,
                          (flags >> 2) & 1, y, r(1), r(2), r(3), r(4), r(5), r(6), r(7), r(8), r(9), r(10), r(11),
                          r(12), dy, dhn, dcn, need_dx);
    }
    const bool b = sv[3].defined(), p = sv[4].defined(), pe = sv[8].defined(), ln = sv[9].defined();
    Tensor u;
    return {need_dx ? std::get<0>(g) : u, std::get<1>(g), std::get<2>(g), b ? std::get<3>(g) : u,
            p ? std::get<4>(g) : u,        std::get<5>(g), std::get<6>(g), u,
            pe ? std::get<7>(g) : u,       ln ? std::get<8>(g) : u,  ln ? std::get<9>(g) : u,
            ln ? std::get<10>(g) : u,      ln ? std::get<11>(g) : u, u, u, u, u, u, u, u, u};
  }
};

Fwd15 lstm_fwd_autograd(const Tensor& x, const Tensor& w_ih, const Tensor& w_hh, const OptT& bias,
                        const OptT& w_hr, const Tensor& h0, const Tensor& c0, const OptT& lengths, const OptT& peep,
                        const OptT& gih, const OptT& ghh, const OptT& gc, const OptT& bc, const OptT& rd,
                        const OptT& zcm, const OptT& zhm, double zc_p, double zh_p, bool reverse, bool coupled,
                        bool hard, bool save) {
  // Not recorded (no_grad, or nothing to differentiate): straight to the kernel, as asked.
  auto rg = [](const OptT& t) { return t.has_value() && t->defined() && t->requires_grad(); };
  const bool record = at::GradMode::is_enabled() &&
                      (x.requires_grad() || w_ih.requires_grad() || w_hh.requires_grad() || h0.requires_grad() ||
                       c0.requires_grad() || rg(bias) || rg(w_hr) || rg(peep) || rg(gih) || rg(ghh) || rg(gc) ||
                       rg(bc));
  if (!record) {
    at::AutoDispatchBelowADInplaceOrView guard;
    return call_fwd(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peep, gih, ghh, gc, bc, rd, zcm, zhm, zc_p, zh_p,
                    reverse, coupled, hard, save);
  }
  variable_list o = LstmFn::apply(x, w_ih, w_hh, bias, w_hr, h0, c0, lengths, peep, gih, ghh, gc, bc, rd, zcm, zhm,
                                  zc_p, zh_p, reverse, coupled, hard);
  return Fwd15(o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12], o[13], o[14]);
}

}  // namespace

TORCH_LIBRARY(lstmkit_fused, m) {
  m.def(
      "lstm_fwd(Tensor x, Tensor w_ih, Tensor w_hh, Tensor? bias, Tensor? w_hr, Tensor h0, Tensor c0, "
      "Tensor? lengths, Tensor? peephole, Tensor? ln_gain_ih, Tensor? ln_gain_hh, Tensor? ln_gain_c, "
      "Tensor? ln_bias_c, Tensor? rd_mask, Tensor? zc_mask, Tensor? zh_mask, float zc_p, float zh_p, "
      "bool reverse, bool coupled, bool hard, bool save=True) -> (Tensor, Tensor, Tensor, Tensor, Tensor, "
      "Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def(
      "lstm_bwd(Tensor x, Tensor w_ih, Tensor w_hh, Tensor? bias, Tensor? w_hr, Tensor h0, Tensor c0, "
      "Tensor? lengths, Tensor? peephole, Tensor? ln_gain_ih, Tensor? ln_gain_hh, Tensor? ln_gain_c, "
      "Tensor? ln_bias_c, Tensor? rd_mask, Tensor? zc_mask, Tensor? zh_mask, float zc_p, float zh_p, "
      "bool reverse, bool coupled, bool hard, Tensor y, Tensor gates, Tensor c_seq, Tensor h_seq, "
      "Tensor c_new, Tensor tanh_c, Tensor h_pre, Tensor xhat_ih, Tensor rstd_ih, Tensor xhat_hh, "
      "Tensor rstd_hh, Tensor xhat_c, Tensor rstd_c, Tensor dy, Tensor dh_n, Tensor dc_n, bool need_dx) "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
  // lstm_bwd's results computed differentiably (double backward); kernel: Python, CompositeImplicitAutograd.
  m.def(
      "lstm_bwd_graph(Tensor x, Tensor w_ih, Tensor w_hh, Tensor? bias, Tensor? w_hr, Tensor h0, Tensor c0, "
      "Tensor? lengths, Tensor? peephole, Tensor? ln_gain_ih, Tensor? ln_gain_hh, Tensor? ln_gain_c, "
      "Tensor? ln_bias_c, Tensor? rd_mask, Tensor? zc_mask, Tensor? zh_mask, float zc_p, float zh_p, "
      "bool reverse, bool coupled, bool hard, Tensor dy, Tensor dh_n, Tensor dc_n) "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(lstmkit_fused, CPU, m) {
  m.impl("lstm_fwd", &lstm_fwd);
  m.impl("lstm_bwd", &lstm_bwd);
}

TORCH_LIBRARY_IMPL(lstmkit_fused, Autograd, m) { m.impl("lstm_fwd", &lstm_fwd_autograd); }
