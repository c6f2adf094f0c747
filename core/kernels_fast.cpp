// kernels_fast.cpp: the fast conv/linear kernels, float (conv2d_fast, linear_fast) and integer (conv2d_int,
// linear_int), checked against kernels_reference.cpp by tests/unit/test_kernels.cpp.
// Each is a GEMM C += A * B, cache-blocked over K, with a 4-row register-tile microkernel per instruction set.
// Float: A = weights (conv) or activations (linear) read in place, B = im2col rows (conv) or the transposed
// weight (linear, pack_linear_fast). Integer: one driver (gemm_i16); A = activations, read in place (linear)
// or, for the conv, as an implicit im2col from the packed input (output pixels as rows, no im2col copy), and
// B = the weight in pairs of k, in column panels (weight_panels: pack_conv_int, pack_linear_int). The pack_*
// functions let a caller pack a weight once for many calls (a configured Model). Float
// sums come out in a different order than the reference (within a tolerance); integer sums are exact in
// int32 (wrapping, like the reference) so the integer kernels match it bit for bit.
//
// [SECTION] Instruction set selection
// [SECTION] Shared helpers: im2col rows, small copies, work split
// [SECTION] Float microkernels (AVX2+FMA, SSE2, wasm SIMD128, scalar)
// [SECTION] Float GEMM driver and kernels
// [SECTION] Integer microkernels (AVX2, SSE2, wasm SIMD128, scalar)
// [SECTION] Integer GEMM driver and kernels
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/kernels.hpp"
#include "core/parallel.hpp"
#include "core/scratch.hpp"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define QUANTLAB_WASM_SIMD 1
#elif (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define QUANTLAB_X86 1
#endif

// The register tiles keep their accumulators in arrays indexed by small constant loops; GCC keeps such an
// array in registers only if the loops are unrolled early (else it stores it to the stack every iteration).
#if defined(__clang__)
#define QUANTLAB_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define QUANTLAB_UNROLL _Pragma("GCC unroll 4")
#else
#define QUANTLAB_UNROLL
#endif

namespace quantlab {
namespace {

//-----------------------------------------------------------------------------------------------------------
// [SECTION] Instruction set selection
//-----------------------------------------------------------------------------------------------------------
// Picked once per process. QUANTLAB_KERNEL_ISA=scalar|sse2|avx2 asks for a lower level than the machine has
// (to test or time the fallbacks); it never raises it. kAvx512 differs from kAvx2 in the float tiles only
// (16-lane FMA, the same chain per output value: the same bits); the integer tiles stay AVX2's.

enum class Isa { kScalar, kSse2, kAvx2, kAvx512, kWasm };

Isa detect_isa() {
#if defined(QUANTLAB_WASM_SIMD)
    return Isa::kWasm;
#else
    const char* env = std::getenv("QUANTLAB_KERNEL_ISA");
    const bool want_scalar = env && std::strcmp(env, "scalar") == 0;
    const bool want_sse2 = env && std::strcmp(env, "sse2") == 0;
    const bool want_avx2 = env && std::strcmp(env, "avx2") == 0;
#if defined(QUANTLAB_X86)
    __builtin_cpu_init();
    if (!want_scalar && !want_sse2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return !want_avx2 && __builtin_cpu_supports("avx512f") ? Isa::kAvx512 : Isa::kAvx2;
#endif
#if defined(__SSE2__)
    if (!want_scalar) return Isa::kSse2;
#endif
    (void)want_sse2;
    (void)want_avx2;
    (void)want_scalar;
    return Isa::kScalar;
#endif
}

Isa isa() {
    static const Isa selected = detect_isa();
    return selected;
}

//-----------------------------------------------------------------------------------------------------------
// [SECTION] Shared helpers: im2col rows, small copies, work split
//-----------------------------------------------------------------------------------------------------------

constexpr int kTileRows = 4;     // rows of C per microkernel call (output channels or batch rows)
constexpr int kMaxTileCols = 48; // widest microkernel tile (AVX-512: 3 x 16 floats; AVX2: 3 x 8 floats or int32)
constexpr int kKcF32 = 128;      // K block of the float GEMM: a 24-column B slice stays in L1
// K block of the integer GEMM, in pairs of k (the conv's: whole runs up to that many pairs). wasm's 8-column
// tiles read a 16 KB B slice at 512 pairs, and four times fewer tile calls measured 3 % faster there; AVX2's
// 24-column tiles measured best at 128.
#if defined(QUANTLAB_WASM_SIMD)
constexpr int kKcPairs = 512;
#else
constexpr int kKcPairs = 128;
#endif
constexpr int64_t kMinParallelMacs = int64_t(1) << 18;  // below this, threads cost more than they give

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Block length for cutting n into blocks of at most max_block, all about the same length (no short last one).
int even_block(int n, int max_block) {
    const int blocks = std::max(1, (n + max_block - 1) / max_block);
    return std::max(1, (n + blocks - 1) / blocks);
}

// Copies n elements with 16-byte moves, the last one overlapping the one before: every read and write stays
// inside [0, n). The rows copied here are short (the output width), so a memcpy call would dominate.
template <class T>
inline void copy_short(T* dst, const T* src, int n) {
    constexpr int kStep = int(16 / sizeof(T));
    if (n < kStep) {
        for (int t = 0; t < n; ++t) dst[t] = src[t];
        return;
    }
    int t = 0;
    for (; t + kStep <= n; t += kStep) std::memcpy(dst + t, src + t, 16);
    if (t < n) std::memcpy(dst + n - kStep, src + n - kStep, 16);
}

// One im2col row for kernel offset (ky, kx) of one input channel, output rows [i0, i1):
// dst[(i - i0) * ow + j] = x_plane[(i + ky - pad) * w + (j + kx - pad)], 0 where that falls in the padding.
template <class T>
void im2col_row(const T* x_plane, const ConvShape& s, int ky, int kx, int i0, int i1, T* dst) {
    const int ow = s.ow();
    const int j_lo = std::clamp(s.pad - kx, 0, ow);             // first j inside the input
    const int j_hi = std::clamp(s.w + s.pad - kx, j_lo, ow);    // one past the last
    for (int i = i0; i < i1; ++i, dst += ow) {
        const int yy = i + ky - s.pad;
        if (yy < 0 || yy >= s.h) {
            std::fill(dst, dst + ow, T(0));
            continue;
        }
        for (int j = 0; j < j_lo; ++j) dst[j] = T(0);  // loops, not std::fill: usually empty, a memset call is not
        copy_short(dst + j_lo, x_plane + int64_t(yy) * s.w + (j_lo + kx - s.pad), j_hi - j_lo);
        for (int j = j_hi; j < ow; ++j) dst[j] = T(0);
    }
}

// How a conv is cut into tasks: whole images when the batch keeps every thread busy, otherwise each image
// is also cut into bands of output rows (so n = 1 still uses every core).
struct ConvSplit {
    int bands = 1;        // row bands per image
    int rows_per_band = 0;
};

// row_multiple: bands start at multiples of it (2 when a 2x2 pool runs on each band's output).
ConvSplit conv_split(const ConvShape& s, int row_multiple = 1) {
    ConvSplit split;
    const int oh = s.oh();
    split.rows_per_band = oh;
    const int threads = num_threads();
    const int64_t macs = int64_t(s.n) * s.o * oh * s.ow() * s.c * s.k * s.k;
    if (threads > 1 && s.n < 2 * threads && macs >= kMinParallelMacs) {
        split.bands = std::min(oh, (2 * threads + s.n - 1) / s.n);
        split.rows_per_band = int(round_up((oh + split.bands - 1) / split.bands, row_multiple));
        split.bands = (oh + split.rows_per_band - 1) / split.rows_per_band;
    }
    return split;
}

// Runs fn over [0, count) in parallel when the whole job is worth it, else serially.
void maybe_parallel(int64_t count, int64_t total_macs, const std::function<void(int64_t, int64_t)>& fn) {
    if (count <= 0) return;
    if (total_macs < kMinParallelMacs)
        fn(0, count);
    else
        parallel_for(0, count, fn);
}

//-----------------------------------------------------------------------------------------------------------
// [SECTION] Float microkernels (AVX2+FMA, SSE2, wasm SIMD128, scalar)
//-----------------------------------------------------------------------------------------------------------
// A tile adds a (4 x kc) block of A times a (kc x cols) block of B to a 4 x cols block of C:
//   c[r * ldc + j] += sum_k a[r][k] * b[k * ldb + j]
// a[r] points at row r of A (k contiguous); B and C are row-major. Each C element is one chain of
// multiply-adds in k order, whatever the tile's position or width, so results do not depend on how the work
// was cut into tiles or threads. zero: the chains start from +0 instead of C's values (C is only written).
using TileF32 = void (*)(int kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc, bool zero);

struct F32Kernels {
    int cols;          // widest tile; narrower tiles are cols - 8, cols - 16, ...
    TileF32 tile[kMaxTileCols / 8 + 1];  // tile[v]: v * 8 columns
};

void tile_f32_scalar(int kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc, bool zero) {
    float acc[kTileRows][8];
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        for (int j = 0; j < 8; ++j) acc[r][j] = zero ? 0.0f : c[r * ldc + j];
    for (int k = 0; k < kc; ++k, b += ldb)
        QUANTLAB_UNROLL
        for (int r = 0; r < kTileRows; ++r) {
            const float ar = a[r][k];
            for (int j = 0; j < 8; ++j) acc[r][j] += ar * b[j];
        }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        for (int j = 0; j < 8; ++j) c[r * ldc + j] = acc[r][j];
}

// 4-wide SIMD without FMA: the same 4 x 8 tile for SSE2 and wasm SIMD128, two vectors per row.
template <class Ops>
void tile_f32_4wide(int kc, const float* const* a, const float* b, int64_t ldb, float* c, int64_t ldc, bool zero) {
    using V = typename Ops::V;
    static constexpr float kZeros[4] = {0, 0, 0, 0};
    V acc[kTileRows][2];
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r) {
        acc[r][0] = Ops::load(zero ? kZeros : c + r * ldc);
        acc[r][1] = Ops::load(zero ? kZeros : c + r * ldc + 4);
    }
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    for (int k = 0; k < kc; ++k, b += ldb) {
        const V b0 = Ops::load(b), b1 = Ops::load(b + 4);
        V ar = Ops::splat(a0 + k);
        acc[0][0] = Ops::madd(ar, b0, acc[0][0]);
        acc[0][1] = Ops::madd(ar, b1, acc[0][1]);
        ar = Ops::splat(a1 + k);
        acc[1][0] = Ops::madd(ar, b0, acc[1][0]);
        acc[1][1] = Ops::madd(ar, b1, acc[1][1]);
        ar = Ops::splat(a2 + k);
        acc[2][0] = Ops::madd(ar, b0, acc[2][0]);
        acc[2][1] = Ops::madd(ar, b1, acc[2][1]);
        ar = Ops::splat(a3 + k);
        acc[3][0] = Ops::madd(ar, b0, acc[3][0]);
        acc[3][1] = Ops::madd(ar, b1, acc[3][1]);
    }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r) {
        Ops::store(c + r * ldc, acc[r][0]);
        Ops::store(c + r * ldc + 4, acc[r][1]);
    }
}

#if defined(QUANTLAB_X86) && defined(__SSE2__)
struct Sse2F32 {
    using V = __m128;
    static V load(const float* p) { return _mm_loadu_ps(p); }
    static void store(float* p, V v) { _mm_storeu_ps(p, v); }
    static V splat(const float* p) { return _mm_set1_ps(*p); }
    static V madd(V a, V b, V acc) { return _mm_add_ps(_mm_mul_ps(a, b), acc); }
};
#endif

#if defined(QUANTLAB_WASM_SIMD)
struct WasmF32 {
    using V = v128_t;
    static V load(const float* p) { return wasm_v128_load(p); }
    static void store(float* p, V v) { wasm_v128_store(p, v); }
    static V splat(const float* p) { return wasm_v128_load32_splat(p); }
    static V madd(V a, V b, V acc) { return wasm_f32x4_add(wasm_f32x4_mul(a, b), acc); }
};
#endif

#if defined(QUANTLAB_X86)
// 4 x (8 * NV) tile: 4 * NV accumulators + NV B vectors + 1 broadcast fit the 16 ymm registers for NV <= 3.
template <int NV>
__attribute__((target("avx2,fma"))) void tile_f32_avx2(int kc, const float* const* a, const float* b, int64_t ldb,
                                                        float* c, int64_t ldc, bool zero) {
    __m256 acc[kTileRows][NV];
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) acc[r][v] = zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 8 * v);
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    for (int k = 0; k < kc; ++k, b += ldb) {
        __m256 bv[NV];
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + 8 * v);
        __m256 ar = _mm256_broadcast_ss(a0 + k);
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) acc[0][v] = _mm256_fmadd_ps(ar, bv[v], acc[0][v]);
        ar = _mm256_broadcast_ss(a1 + k);
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) acc[1][v] = _mm256_fmadd_ps(ar, bv[v], acc[1][v]);
        ar = _mm256_broadcast_ss(a2 + k);
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) acc[2][v] = _mm256_fmadd_ps(ar, bv[v], acc[2][v]);
        ar = _mm256_broadcast_ss(a3 + k);
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) acc[3][v] = _mm256_fmadd_ps(ar, bv[v], acc[3][v]);
    }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) _mm256_storeu_ps(c + r * ldc + 8 * v, acc[r][v]);
}

// 4 x (16 * NZ + 8 * NH) tile: NZ zmm vectors per row and, for widths that are odd multiples of 8, one ymm
// vector more. The FMAs are AVX2's, per value in the same k order: the same bits, twice the lanes.
template <int NZ, int NH>
__attribute__((target("avx512f,avx2,fma"))) void tile_f32_avx512(int kc, const float* const* a, const float* b,
                                                                  int64_t ldb, float* c, int64_t ldc, bool zero) {
    constexpr int kZ = NZ > 0 ? NZ : 1;  // array sizes must be positive; NZ = 0 leaves them unused
    __m512 acc[kTileRows][kZ];
    __m256 acch[kTileRows];
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r) {
        QUANTLAB_UNROLL
        for (int v = 0; v < NZ; ++v) acc[r][v] = zero ? _mm512_setzero_ps() : _mm512_loadu_ps(c + r * ldc + 16 * v);
        if (NH) acch[r] = zero ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + 16 * NZ);
    }
    for (int k = 0; k < kc; ++k, b += ldb) {
        __m512 bv[kZ];
        QUANTLAB_UNROLL
        for (int v = 0; v < NZ; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
        const __m256 bh = NH ? _mm256_loadu_ps(b + 16 * NZ) : _mm256_setzero_ps();
        QUANTLAB_UNROLL
        for (int r = 0; r < kTileRows; ++r) {
            const __m512 ar = _mm512_set1_ps(a[r][k]);
            QUANTLAB_UNROLL
            for (int v = 0; v < NZ; ++v) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
            // Its own broadcast, not a cast of ar's low half: GCC 12's cast intrinsic warns (-Wmaybe-uninitialized).
            if (NH) acch[r] = _mm256_fmadd_ps(_mm256_set1_ps(a[r][k]), bh, acch[r]);
        }
    }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r) {
        QUANTLAB_UNROLL
        for (int v = 0; v < NZ; ++v) _mm512_storeu_ps(c + r * ldc + 16 * v, acc[r][v]);
        if (NH) _mm256_storeu_ps(c + r * ldc + 16 * NZ, acch[r]);
    }
}
#endif

const F32Kernels& f32_kernels() {
    static const F32Kernels kernels = [] {
        switch (isa()) {
#if defined(QUANTLAB_X86)
            case Isa::kAvx512:
                return F32Kernels{48, {nullptr, tile_f32_avx512<0, 1>, tile_f32_avx512<1, 0>, tile_f32_avx512<1, 1>,
                                       tile_f32_avx512<2, 0>, tile_f32_avx512<2, 1>, tile_f32_avx512<3, 0>}};
            case Isa::kAvx2:
                return F32Kernels{24, {nullptr, tile_f32_avx2<1>, tile_f32_avx2<2>, tile_f32_avx2<3>}};
#endif
#if defined(QUANTLAB_X86) && defined(__SSE2__)
            case Isa::kSse2:
                return F32Kernels{8, {nullptr, tile_f32_4wide<Sse2F32>, nullptr, nullptr}};
#endif
#if defined(QUANTLAB_WASM_SIMD)
            case Isa::kWasm:
                return F32Kernels{8, {nullptr, tile_f32_4wide<WasmF32>, nullptr, nullptr}};
#endif
            default:
                return F32Kernels{8, {nullptr, tile_f32_scalar, nullptr, nullptr}};
        }
    }();
    return kernels;
}

//-----------------------------------------------------------------------------------------------------------
// [SECTION] Float GEMM driver and kernels
//-----------------------------------------------------------------------------------------------------------

// (kernels.hpp) Loop order: K blocks outside, so one block of A rows and one B slice per column panel are
// reused from cache; tiles over the C border go through a small buffer. row(i): A's row i.
template <class RowOf>
void gemm_f32_driver(int m, int n, int kdim, const RowOf& row, const float* b, int64_t ldb, float* c, int64_t ldc,
                     bool accumulate) {
    const F32Kernels& kern = f32_kernels();
    const int step = even_block(kdim, kKcF32);
    if (kdim <= 0 && !accumulate)
        for (int i = 0; i < m; ++i) std::fill(c + int64_t(i) * ldc, c + int64_t(i) * ldc + n, 0.0f);
    for (int k0 = 0; k0 < kdim; k0 += step) {
        const int kc = std::min(step, kdim - k0);
        const bool zero = k0 == 0 && !accumulate;  // later K blocks add to what the first wrote
        for (int j0 = 0; j0 < n; j0 += kern.cols) {
            const int width = int(std::min<int64_t>(kern.cols, round_up(n - j0, 8)));
            const int cols = std::min(width, n - j0);
            const TileF32 tile = kern.tile[width / 8];
            const float* bk = b + int64_t(k0) * ldb + j0;
            for (int i0 = 0; i0 < m; i0 += kTileRows) {
                const float* ar[kTileRows];
                for (int r = 0; r < kTileRows; ++r) ar[r] = row(std::min(i0 + r, m - 1)) + k0;
                const int rows = std::min(kTileRows, m - i0);
                float* ct = c + int64_t(i0) * ldc + j0;
                if (rows == kTileRows && cols == width) {
                    tile(kc, ar, bk, ldb, ct, ldc, zero);
                    continue;
                }
                float border[kTileRows * kMaxTileCols] = {};
                if (!zero)
                    for (int r = 0; r < rows; ++r) std::copy(ct + r * ldc, ct + r * ldc + cols, border + r * kMaxTileCols);
                tile(kc, ar, bk, ldb, border, kMaxTileCols, zero);
                for (int r = 0; r < rows; ++r) std::copy(border + r * kMaxTileCols, border + r * kMaxTileCols + cols, ct + r * ldc);
            }
        }
    }
}

}  // namespace

void gemm_f32(int m, int n, int kdim, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
              int64_t ldc, bool accumulate) {
    gemm_f32_driver(m, n, kdim, [a, lda](int i) { return a + int64_t(i) * lda; }, b, ldb, c, ldc, accumulate);
}

void gemm_f32_rows(int m, int n, int kdim, const float* const* a_rows, const float* b, int64_t ldb, float* c,
                   int64_t ldc, bool accumulate) {
    gemm_f32_driver(m, n, kdim, [a_rows](int i) { return a_rows[i]; }, b, ldb, c, ldc, accumulate);
}

void im2col_rows_f32(const float* x_plane, const ConvShape& s, int ky, int kx, int i0, int i1, float* dst) {
    im2col_row(x_plane, s, ky, kx, i0, i1, dst);
}

namespace {

thread_local std::vector<float> t_cols_f32;  // im2col block of the conv being computed on this thread

// One image, output rows [i0, i1): im2col of those rows into a (K x round_up(P, 8)) block, then
// y[o][p] = bias[o] + sum_k w[o][k] * col[k][p].
void conv2d_f32_band(const float* x, const float* weight, const float* bias, const ConvShape& s, int64_t img,
                     int i0, int i1, float* y) {
    const int ow = s.ow(), kdim = s.c * s.k * s.k;
    const int cols = (i1 - i0) * ow;
    const int64_t ldb = round_up(cols, 8);
    float* col = scratch(t_cols_f32, kdim * ldb);
    const float* x_img = x + img * s.c * s.h * s.w;
    for (int ch = 0, kk = 0; ch < s.c; ++ch)
        for (int ky = 0; ky < s.k; ++ky)
            for (int kx = 0; kx < s.k; ++kx, ++kk) {
                float* row = col + kk * ldb;
                // Zero the last 8 columns first (a fixed-size store, no memset call), im2col then overwrites
                // the valid ones: the padding columns [cols, ldb) stay 0.
                std::memset(row + ldb - 8, 0, 8 * sizeof(float));
                im2col_row(x_img + int64_t(ch) * s.h * s.w, s, ky, kx, i0, i1, row);
            }
    const int64_t out_plane = int64_t(s.oh()) * ow;
    float* y_band = y + img * s.o * out_plane + int64_t(i0) * ow;
    for (int o = 0; o < s.o; ++o) std::fill(y_band + o * out_plane, y_band + o * out_plane + cols, bias ? bias[o] : 0.0f);
    gemm_f32(s.o, cols, kdim, weight, kdim, col, ldb, y_band, out_plane);
}

}  // namespace

// x: (N,C,H,W), weight: (O,C,K,K), y: (N,O,OH,OW). Tasks are (image, band of output rows).
void conv2d_fast(const float* x, const float* weight, const float* bias, const ConvShape& s, float* y) {
    if (s.n <= 0 || s.o <= 0 || s.oh() <= 0 || s.ow() <= 0) return;
    const ConvSplit split = conv_split(s);
    const int64_t macs = int64_t(s.n) * s.o * s.oh() * s.ow() * s.c * s.k * s.k;
    maybe_parallel(int64_t(s.n) * split.bands, macs, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int band = int(t % split.bands);
            const int i0 = band * split.rows_per_band, i1 = std::min(s.oh(), i0 + split.rows_per_band);
            conv2d_f32_band(x, weight, bias, s, t / split.bands, i0, i1, y);
        }
    });
}

namespace {

// Rows of batch per linear task, and how the output columns are cut when the batch alone is too small.
struct LinearSplit {
    int64_t row_blocks = 1, col_blocks = 1;
    int rows_per_block = 0, cols_per_block = 0;
};

LinearSplit linear_split(int n, int in, int out) {
    LinearSplit split;
    split.rows_per_block = n;
    split.cols_per_block = out;
    const int threads = num_threads();
    if (threads == 1 || int64_t(n) * in * out < kMinParallelMacs) return split;
    constexpr int kRowsPerTask = 32;
    split.rows_per_block = std::min(n, kRowsPerTask);
    split.row_blocks = (n + split.rows_per_block - 1) / split.rows_per_block;
    if (split.row_blocks < 2 * threads) {
        const int64_t panels = (out + kMaxTileCols - 1) / kMaxTileCols;
        const int64_t want = std::min<int64_t>(panels, (2 * threads + split.row_blocks - 1) / split.row_blocks);
        split.cols_per_block = int((panels + want - 1) / want) * kMaxTileCols;
        split.col_blocks = (out + split.cols_per_block - 1) / split.cols_per_block;
    }
    return split;
}

}  // namespace

// weight: (OUT,IN) -> (IN x round_up(OUT, 8)), so that the tile reads contiguous output columns.
PackedWeightF32 pack_linear_fast(const float* weight, int in, int out) {
    const int64_t ldb = round_up(out, 8);
    PackedWeightF32 packed;
    std::vector<float>& wt = packed.wt;
    wt.assign(size_t(std::max(in, 1) * ldb), 0.0f);
    constexpr int kBlock = 32;  // transpose in square blocks so both sides stay in cache
    for (int o0 = 0; o0 < out; o0 += kBlock)
        for (int i0 = 0; i0 < in; i0 += kBlock)
            for (int o = o0; o < std::min(out, o0 + kBlock); ++o)
                for (int i = i0; i < std::min(in, i0 + kBlock); ++i) wt[size_t(i * ldb + o)] = weight[int64_t(o) * in + i];
    return packed;
}

// x: (N,IN), y: (N,OUT). Tasks are blocks of batch rows (and of columns when the batch is small).
void linear_fast(const float* x, const PackedWeightF32& weight, const float* bias, int n, int in, int out, float* y) {
    if (n <= 0 || out <= 0) return;
    const int64_t ldb = round_up(out, 8);
    const LinearSplit split = linear_split(n, in, out);
    maybe_parallel(split.row_blocks * split.col_blocks, int64_t(n) * in * out, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int r0 = int(t / split.col_blocks) * split.rows_per_block;
            const int c0 = int(t % split.col_blocks) * split.cols_per_block;
            const int rows = std::min(split.rows_per_block, n - r0), cols = std::min(split.cols_per_block, out - c0);
            float* yb = y + int64_t(r0) * out + c0;
            for (int r = 0; r < rows; ++r)
                for (int j = 0; j < cols; ++j) yb[int64_t(r) * out + j] = bias ? bias[c0 + j] : 0.0f;
            gemm_f32(rows, cols, in, x + int64_t(r0) * in, in, weight.wt.data() + c0, ldb, yb, out);
        }
    });
}

// x: (N,IN), weight: (OUT,IN), y: (N,OUT); the weight is transposed on every call.
void linear_fast(const float* x, const float* weight, const float* bias, int n, int in, int out, float* y) {
    if (n <= 0 || out <= 0) return;
    linear_fast(x, pack_linear_fast(weight, in, out), bias, n, in, out, y);
}

const char* kernel_isa() {
    switch (isa()) {
        case Isa::kAvx512: return "avx512f+fma (integer: avx2)";
        case Isa::kAvx2: return "avx2+fma";
        case Isa::kSse2: return "sse2";
        case Isa::kWasm: return "wasm-simd128";
        default: return "scalar";
    }
}

//-----------------------------------------------------------------------------------------------------------
// [SECTION] Integer microkernels (AVX2, SSE2, wasm SIMD128, scalar)
//-----------------------------------------------------------------------------------------------------------
// Codes are multiplied in pairs of k: B is stored as [k / 2][column][2] int16, a[r] + 2 * kp holds the pair
// (a[r][2kp], a[r][2kp+1]), and one multiply-add instruction gives a[2kp] * b[2kp] + a[2kp+1] * b[2kp+1] per
// column in int32 (pmaddwd / i32x4.dot_i16x8). Sums wrap modulo 2^32 like the reference's int32 adds (the one
// pair that overflows pmaddwd, (-32768)^2 * 2, wraps to the same value), so they equal it exactly.
//   c[r * ldc + j] (+)= sum_kp a[r][2kp..2kp+1] . b[kp * ldb + 2j .. 2j+1]    (c: int32, ldb in int16 units)
// The first K block (first = true) overwrites c, later ones add to it.

namespace {

// A tile's K range is `runs` runs of k consecutive pairs: run r reads row i's pairs at a[i] + run_off[r] + 2 kx
// (kx < k), and B's rows one after another (ldb apart) through all runs. A GEMM with contiguous rows is one
// run (run_off = {0}); the conv's implicit im2col is one run per (channel pair, kernel row), K = kernel
// width long, at that row's offset in the packed input (conv2d_int_band).
using TileI16 = void (*)(int runs, int k, const int32_t* run_off, const int16_t* const* a, const int16_t* b,
                         int64_t ldb, bool first, int32_t* c, int64_t ldc);

struct I16Kernels {
    int cols;
    TileI16 tile[4];  // tile[v]: v * 8 columns
};

#if defined(QUANTLAB_X86)
inline int32_t load_pair(const int16_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
#endif

void tile_i16_scalar(int runs, int k, const int32_t* run_off, const int16_t* const* a, const int16_t* b, int64_t ldb,
                     bool first, int32_t* c, int64_t ldc) {
    uint32_t acc[kTileRows][8];  // unsigned: wrapping adds are defined behaviour
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        for (int j = 0; j < 8; ++j) acc[r][j] = first ? 0u : uint32_t(c[r * ldc + j]);
    for (int run = 0; run < runs; ++run)
        for (int kx = 0; kx < k; ++kx, b += ldb)
            QUANTLAB_UNROLL
            for (int r = 0; r < kTileRows; ++r) {
                const int16_t* ap = a[r] + run_off[run] + 2 * kx;
                const int32_t a0 = ap[0], a1 = ap[1];
                for (int j = 0; j < 8; ++j) acc[r][j] += uint32_t(a0 * b[2 * j]) + uint32_t(a1 * b[2 * j + 1]);
            }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        for (int j = 0; j < 8; ++j) c[r * ldc + j] = int32_t(acc[r][j]);
}

template <class Ops>
void tile_i16_4wide(int runs, int k, const int32_t* run_off, const int16_t* const* a, const int16_t* b, int64_t ldb,
                    bool first, int32_t* c, int64_t ldc) {
    using V = typename Ops::V;
    V acc[kTileRows][2];
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r) {
        acc[r][0] = first ? Ops::zero() : Ops::load(c + r * ldc);
        acc[r][1] = first ? Ops::zero() : Ops::load(c + r * ldc + 4);
    }
    for (int run = 0; run < runs; ++run) {
        const int32_t off = run_off[run];
        const int16_t *a0 = a[0] + off, *a1 = a[1] + off, *a2 = a[2] + off, *a3 = a[3] + off;
        for (int kx = 0; kx < k; ++kx, b += ldb) {
            const V b0 = Ops::load(b), b1 = Ops::load(b + 8);
            V ar = Ops::splat_pair(a0 + 2 * kx);
            acc[0][0] = Ops::dot_add(ar, b0, acc[0][0]);
            acc[0][1] = Ops::dot_add(ar, b1, acc[0][1]);
            ar = Ops::splat_pair(a1 + 2 * kx);
            acc[1][0] = Ops::dot_add(ar, b0, acc[1][0]);
            acc[1][1] = Ops::dot_add(ar, b1, acc[1][1]);
            ar = Ops::splat_pair(a2 + 2 * kx);
            acc[2][0] = Ops::dot_add(ar, b0, acc[2][0]);
            acc[2][1] = Ops::dot_add(ar, b1, acc[2][1]);
            ar = Ops::splat_pair(a3 + 2 * kx);
            acc[3][0] = Ops::dot_add(ar, b0, acc[3][0]);
            acc[3][1] = Ops::dot_add(ar, b1, acc[3][1]);
        }
    }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r) {
        Ops::store(c + r * ldc, acc[r][0]);
        Ops::store(c + r * ldc + 4, acc[r][1]);
    }
}

#if defined(QUANTLAB_X86) && defined(__SSE2__)
struct Sse2I16 {
    using V = __m128i;
    static V zero() { return _mm_setzero_si128(); }
    static V load(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
    static void store(int32_t* p, V v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }
    static V splat_pair(const int16_t* p) { return _mm_set1_epi32(load_pair(p)); }
    static V dot_add(V a, V b, V acc) { return _mm_add_epi32(acc, _mm_madd_epi16(a, b)); }
};
#endif

#if defined(QUANTLAB_WASM_SIMD)
struct WasmI16 {
    using V = v128_t;
    static V zero() { return wasm_i32x4_splat(0); }
    static V load(const void* p) { return wasm_v128_load(p); }
    static void store(int32_t* p, V v) { wasm_v128_store(p, v); }
    static V splat_pair(const int16_t* p) { return wasm_v128_load32_splat(p); }
    static V dot_add(V a, V b, V acc) { return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(a, b)); }
};
#endif

#if defined(QUANTLAB_X86)
// avx2 only, no fma: nothing here is floating point.
template <int NV>
__attribute__((target("avx2"))) void tile_i16_avx2(int runs, int k, const int32_t* run_off, const int16_t* const* a,
                                                    const int16_t* b, int64_t ldb, bool first, int32_t* c, int64_t ldc) {
    __m256i acc[kTileRows][NV];
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v)
            acc[r][v] = first ? _mm256_setzero_si256()
                              : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * ldc + 8 * v));
    for (int run = 0; run < runs; ++run) {
        const int32_t off = run_off[run];
        const int16_t *a0 = a[0] + off, *a1 = a[1] + off, *a2 = a[2] + off, *a3 = a[3] + off;
        for (int kx = 0; kx < k; ++kx, b += ldb) {
            __m256i bv[NV];
            QUANTLAB_UNROLL
            for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16 * v));
            __m256i ar = _mm256_set1_epi32(load_pair(a0 + 2 * kx));
            QUANTLAB_UNROLL
            for (int v = 0; v < NV; ++v) acc[0][v] = _mm256_add_epi32(acc[0][v], _mm256_madd_epi16(ar, bv[v]));
            ar = _mm256_set1_epi32(load_pair(a1 + 2 * kx));
            QUANTLAB_UNROLL
            for (int v = 0; v < NV; ++v) acc[1][v] = _mm256_add_epi32(acc[1][v], _mm256_madd_epi16(ar, bv[v]));
            ar = _mm256_set1_epi32(load_pair(a2 + 2 * kx));
            QUANTLAB_UNROLL
            for (int v = 0; v < NV; ++v) acc[2][v] = _mm256_add_epi32(acc[2][v], _mm256_madd_epi16(ar, bv[v]));
            ar = _mm256_set1_epi32(load_pair(a3 + 2 * kx));
            QUANTLAB_UNROLL
            for (int v = 0; v < NV; ++v) acc[3][v] = _mm256_add_epi32(acc[3][v], _mm256_madd_epi16(ar, bv[v]));
        }
    }
    QUANTLAB_UNROLL
    for (int r = 0; r < kTileRows; ++r)
        QUANTLAB_UNROLL
        for (int v = 0; v < NV; ++v) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + 8 * v), acc[r][v]);
}
#endif

const I16Kernels& i16_kernels() {
    static const I16Kernels kernels = [] {
        switch (isa()) {
#if defined(QUANTLAB_X86)
            case Isa::kAvx512:  // the integer tiles have no AVX-512 version (yet)
            case Isa::kAvx2:
                return I16Kernels{24, {nullptr, tile_i16_avx2<1>, tile_i16_avx2<2>, tile_i16_avx2<3>}};
#endif
#if defined(QUANTLAB_X86) && defined(__SSE2__)
            case Isa::kSse2:
                return I16Kernels{8, {nullptr, tile_i16_4wide<Sse2I16>, nullptr, nullptr}};
#endif
#if defined(QUANTLAB_WASM_SIMD)
            case Isa::kWasm:
                return I16Kernels{8, {nullptr, tile_i16_4wide<WasmI16>, nullptr, nullptr}};
#endif
            default:
                return I16Kernels{8, {nullptr, tile_i16_scalar, nullptr, nullptr}};
        }
    }();
    return kernels;
}

// dst[2j] = r0[j], dst[2j+1] = r1[j] for j < n: two channels' rows into pair layout.
void interleave_pairs(const int16_t* r0, const int16_t* r1, int n, int16_t* dst) {
    int j = 0;
#if defined(QUANTLAB_X86) && defined(__SSE2__)
    for (; j + 8 <= n; j += 8) {
        const __m128i v0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + j));
        const __m128i v1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1 + j));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * j), _mm_unpacklo_epi16(v0, v1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * j + 8), _mm_unpackhi_epi16(v0, v1));
    }
#elif defined(QUANTLAB_WASM_SIMD)
    for (; j + 8 <= n; j += 8) {
        const v128_t v0 = wasm_v128_load(r0 + j), v1 = wasm_v128_load(r1 + j);
        wasm_v128_store(dst + 2 * j, wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11));
        wasm_v128_store(dst + 2 * j + 8, wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15));
    }
#endif
    for (; j < n; ++j) {
        dst[2 * j] = r0[j];
        dst[2 * j + 1] = r1[j];
    }
}

//-----------------------------------------------------------------------------------------------------------
// [SECTION] Integer GEMM driver and kernels
//-----------------------------------------------------------------------------------------------------------

// An (m x kdim) code matrix with an even row length: the input itself, or a copy padded with a zero column
// (a pair load at the last k would otherwise read one code past the row, and past the buffer at the end).
const int16_t* even_rows(const int16_t* a, int64_t m, int kdim, std::vector<int16_t>& copy) {
    if (kdim % 2 == 0) return a;
    copy.assign(size_t(m * (kdim + 1)), 0);
    for (int64_t r = 0; r < m; ++r) std::copy(a + r * kdim, a + (r + 1) * kdim, copy.data() + r * (kdim + 1));
    return copy.data();
}

thread_local std::vector<int16_t> t_xp_i16, t_a_i16;
thread_local std::vector<float> t_band_f32, t_pool_f32;
thread_local std::vector<int32_t> t_acc_i32, t_runs;
thread_local std::vector<const int16_t*> t_rows;  // A's row pointers (gemm_i16)

// The conv is a GEMM over k = (channel pair cp, ky, kx) with the two channels 2cp, 2cp+1 as the two halves of
// each pair. With the input's channels interleaved two by two (pack_channel_pairs), an output pixel's pairs
// for (cp, ky) are kernel-width consecutive pairs of the packed input: one run of the microkernel, read in
// place. An odd C's last channel pairs with itself one row down: its plane
// holds (row y, row y + 1) pairs, and its k = (kyp, kx) covers the taps (2 kyp, kx) and (2 kyp + 1, kx),
// the second zero-weighted past the kernel. That takes ceil(K / 2) * K pairs instead of K * K with a zero
// partner channel (the first conv's 3 channels: 40 pairs, not 50). Integer sums are exact, so the new order
// of k gives the reference's value bit for bit.
struct PairLayout {
    int full = 0;      // channel pairs (2cp, 2cp + 1)
    bool lone = false;  // an odd C's last channel, paired over rows
    int half_k = 0;     // ceil(K / 2): row pairs of the lone channel
    int kpairs(const ConvShape& s) const { return full * s.k * s.k + (lone ? half_k * s.k : 0); }
    int planes() const { return full + (lone ? 1 : 0); }
};
PairLayout pair_layout(const ConvShape& s) { return {s.c / 2, s.c % 2 == 1, (s.k + 1) / 2}; }

// The weight in that order: (O x 2 * kpairs) codes.
std::vector<int16_t> weight_channel_pairs(const int16_t* w, const ConvShape& s) {
    const PairLayout pl = pair_layout(s);
    const int kk2 = s.k * s.k, kpairs = pl.kpairs(s);
    std::vector<int16_t> out(size_t(s.o) * 2 * kpairs, 0);
    for (int o = 0; o < s.o; ++o) {
        int16_t* row = out.data() + size_t(o) * 2 * kpairs;
        const int16_t* wo = w + int64_t(o) * s.c * kk2;
        for (int c = 0; c < 2 * pl.full; ++c)
            for (int t = 0; t < kk2; ++t) row[2 * ((c / 2) * kk2 + t) + c % 2] = wo[c * kk2 + t];
        if (pl.lone) {
            const int16_t* wc = wo + (s.c - 1) * kk2;
            int16_t* dst = row + 2 * pl.full * kk2;
            for (int kyp = 0; kyp < pl.half_k; ++kyp)
                for (int kx = 0; kx < s.k; ++kx) {
                    dst[2 * (kyp * s.k + kx)] = wc[2 * kyp * s.k + kx];
                    if (2 * kyp + 1 < s.k) dst[2 * (kyp * s.k + kx) + 1] = wc[(2 * kyp + 1) * s.k + kx];
                }
        }
    }
    return out;
}

// dst[2j] = r0[j], dst[2j+1] = r1[j] for j < n, a missing row (nullptr) reading as zeros.
void interleave_rows(const int16_t* r0, const int16_t* r1, int n, int16_t* dst) {
    if (r0 && r1) return interleave_pairs(r0, r1, n, dst);
    for (int j = 0; j < n; ++j) {
        dst[2 * j] = r0 ? r0[j] : int16_t(0);
        dst[2 * j + 1] = r1 ? r1[j] : int16_t(0);
    }
}

// Rows [y0, y0 + rows) of the zero-padded image (padded coordinates) in pair planes of rows x (w + 2 pad)
// pairs: channels (2cp, 2cp + 1) interleaved, then the lone channel's (row, next row) plane.
void pack_channel_pairs(const int16_t* x_img, const ConvShape& s, int y0, int rows, int16_t* xp) {
    const PairLayout pl = pair_layout(s);
    const int pw = s.w + 2 * s.pad;
    const int64_t plane = int64_t(rows) * pw * 2, chan = int64_t(s.h) * s.w;
    // Zero padding columns; rows outside the image are written as zeros below.
    if (s.pad > 0) std::fill(xp, xp + pl.planes() * plane, int16_t(0));
    auto row_of = [&](int c, int yy) { return yy >= 0 && yy < s.h ? x_img + c * chan + int64_t(yy) * s.w : nullptr; };
    for (int p = 0; p < pl.planes(); ++p) {
        const bool lone = p == pl.full;
        for (int r = 0; r < rows; ++r) {
            const int yy = y0 + r - s.pad;
            int16_t* dst = xp + p * plane + (int64_t(r) * pw + s.pad) * 2;
            if (lone)
                interleave_rows(row_of(s.c - 1, yy), row_of(s.c - 1, yy + 1), s.w, dst);
            else
                interleave_rows(row_of(2 * p, yy), row_of(2 * p + 1, yy), s.w, dst);
        }
    }
}

// B of the integer GEMM: the columns are the rows of an (o x row_len) code matrix, row o's pair kp being
// (rows[o][2kp], rows[o][2kp + 1]), zero past row_len. Stored in column panels, each as wide as the microkernel
// tile that reads it (I16Kernels::cols, the last one narrower) and stored whole: kpairs rows of 2 * width
// int16. A tile's B slice is then contiguous (the conv's 8 columns at 8 runs of 5 pairs: 12.8 KB), not one
// 32-byte piece per row, and it stays in L1 while every row tile of the band or batch block reads it.
// Panels start at multiples of the tile width, so a block of columns that starts at a multiple of
// kMaxTileCols starts a panel on every instruction set (linear_int's column blocks).
std::vector<int16_t> weight_panels(const int16_t* rows, int64_t row_len, int o, int kpairs) {
    const int panel = i16_kernels().cols;
    std::vector<int16_t> out(size_t(std::max(kpairs, 1)) * 2 * size_t(round_up(o, 8)), 0);
    for (int j0 = 0; j0 < o; j0 += panel) {
        const int width = int(std::min<int64_t>(panel, round_up(o - j0, 8)));
        int16_t* dst = out.data() + int64_t(kpairs) * 2 * j0;
        for (int c = 0; c < width && j0 + c < o; ++c) {
            const int16_t* src = rows + int64_t(j0 + c) * row_len;
            int16_t* d = dst + 2 * c;
            for (int64_t kp = 0; kp < row_len / 2; ++kp, d += 2 * width) std::memcpy(d, src + 2 * kp, 2 * sizeof(int16_t));
            if (row_len % 2 == 1) d[0] = src[row_len - 1];  // an odd row's last pair is (code, 0)
        }
    }
    return out;
}

// c (round_up(m, 4) x round_up(n, 8) int32, ldc) = A * B, the one integer GEMM driver. K is `runs` runs of k
// pairs: row i's pairs of run r start at row[i] + run_off[r] (TileI16). row[] has round_up(m, 4) entries (rows
// past m repeat a real one and land in C's padding rows), and B is weight_panels of runs * k pairs. K is cut
// into blocks of kKcPairs pairs at most: whole runs (the conv's runs are a kernel row long), or pieces of a
// run longer than that (a linear layer's one run over all of its inputs). An empty K gives C = 0.
void gemm_i16(int m, int n, int runs, int k, const int32_t* run_off, const int16_t* const* row, const int16_t* b,
              int32_t* c, int64_t ldc) {
    const int64_t kpairs = int64_t(runs) * k;
    if (kpairs <= 0) {
        for (int64_t i = 0; i < round_up(m, kTileRows); ++i) std::fill(c + i * ldc, c + i * ldc + round_up(n, 8), 0);
        return;
    }
    const I16Kernels& kern = i16_kernels();
    // One K block: nr runs from run r0 (offsets off), kc pairs of each from pair kx0 on.
    const auto block = [&](int r0, int nr, const int32_t* off, int kx0, int kc, bool first) {
        for (int j0 = 0; j0 < n; j0 += kern.cols) {
            const int width = int(std::min<int64_t>(kern.cols, round_up(n - j0, 8)));
            const TileI16 tile = kern.tile[width / 8];
            const int64_t ldb = 2 * width;
            const int16_t* bk = b + kpairs * 2 * j0 + (int64_t(r0) * k + kx0) * ldb;
            for (int i0 = 0; i0 < m; i0 += kTileRows)
                tile(nr, kc, off, row + i0, bk, ldb, first, c + int64_t(i0) * ldc + j0, ldc);
        }
    };
    if (k <= kKcPairs) {
        const int step = even_block(runs, kKcPairs / k);
        for (int r0 = 0; r0 < runs; r0 += step) block(r0, std::min(step, runs - r0), run_off + r0, 0, k, r0 == 0);
        return;
    }
    const int step = even_block(k, kKcPairs);
    for (int r = 0; r < runs; ++r)
        for (int kx0 = 0; kx0 < k; kx0 += step) {
            const int32_t off = run_off[r] + 2 * kx0;
            block(r, 1, &off, kx0, std::min(step, k - kx0), r == 0 && kx0 == 0);
        }
}

// The per-channel factors of conv2d_int's output pass, zero-padded to the GEMM's column count.
struct ConvRescale {
    std::vector<float> scale, bias, a, b;
    bool affine = false;  // a BatchNorm (or a ReLU alone: x * 1 + 0) follows
};

ConvRescale conv_rescale(const float* out_scale, const float* bias, const ConvPost& post, int o, int64_t ld) {
    ConvRescale r;
    r.scale.assign(size_t(ld), 0.0f);
    r.bias.assign(size_t(ld), 0.0f);  // no bias: + 0.0f, as the reference
    std::copy(out_scale, out_scale + o, r.scale.begin());
    if (bias) std::copy(bias, bias + o, r.bias.begin());
    r.affine = post.scale || post.relu;
    if (r.affine) {
        r.a.assign(size_t(ld), 1.0f);
        r.b.assign(size_t(ld), 0.0f);
        if (post.scale) std::copy(post.scale, post.scale + o, r.a.begin());
        if (post.shift) std::copy(post.shift, post.shift + o, r.b.begin());
    }
    return r;
}

// One image, output rows [i0, i1), as an implicit GEMM: the rows of A are the band's output pixels, read
// straight from the packed input (pixel i's pair for K index (p, ky, kx) sits at its top-left corner in
// plane p, ky rows and kx pairs on), B is the weight (w_b: pack_conv_int's panels), and C
// comes out pixel-major. No im2col matrix is written: for the notebook's conv2 that was 25 copies of the
// input per image. rs is padded to round_up(o, 8) channels.
void conv2d_int_band(const int16_t* x, const int16_t* w_b, const ConvRescale& rs, const ConvShape& s,
                     const ConvPost& post, int64_t img, int i0, int i1, float* y) {
    const PairLayout pl = pair_layout(s);
    const int ow = s.ow(), pw = s.w + 2 * s.pad;
    const int band_rows = i1 - i0, cols = band_rows * ow, rows_in = band_rows + s.k - 1;
    const int64_t plane = int64_t(rows_in) * pw * 2;
    int16_t* xp = scratch(t_xp_i16, pl.planes() * plane);
    pack_channel_pairs(x + img * s.c * s.h * s.w, s, i0, rows_in, xp);
    // K's runs, in weight_channel_pairs' order: (pair plane, kernel row), then the lone channel's row pairs.
    const int runs = pl.full * s.k + (pl.lone ? pl.half_k : 0);
    int32_t* run_off = scratch(t_runs, runs);
    for (int p = 0, r = 0; p < pl.planes(); ++p) {
        const bool lone = p == pl.full;
        for (int ky = 0; ky < (lone ? pl.half_k : s.k); ++ky) run_off[r++] = int32_t(p * plane + int64_t(lone ? 2 * ky : ky) * pw * 2);
    }
    // Rows past the last pixel (to a whole tile) repeat it; they land in C's padding rows.
    const int64_t m_pad = round_up(cols, kTileRows), ldc = round_up(s.o, 8);
    const int16_t** pixel = scratch(t_rows, m_pad);
    for (int q = 0; q < m_pad; ++q) {
        const int qq = std::min(q, cols - 1);
        pixel[q] = xp + (int64_t(qq / ow) * pw + qq % ow) * 2;
    }
    int32_t* acc = scratch(t_acc_i32, m_pad * ldc);
    gemm_i16(cols, s.o, runs, s.k, run_off, pixel, w_b, acc, ldc);
    // The output pass, pixel-major while in cache: rescale (+ BatchNorm, ReLU), the 2x2 pool, then out to
    // y's channel planes.
    float* f = scratch(t_band_f32, m_pad * ldc);
    rescale_pixels(acc, cols, ldc, rs.scale.data(), rs.bias.data(), rs.affine ? rs.a.data() : nullptr,
                   rs.affine ? rs.b.data() : nullptr, post.relu, f);
    int64_t pixels = cols, out_plane = int64_t(s.oh()) * ow, first = int64_t(i0) * ow;
    if (post.pool2) {
        float* g = scratch(t_pool_f32, int64_t(band_rows / 2) * (ow / 2) * ldc);
        max_pool2_pixels(f, band_rows, ow, ldc, g);
        f = g;
        pixels = int64_t(band_rows / 2) * (ow / 2);
        out_plane = int64_t(s.oh() / 2) * (ow / 2);
        first = int64_t(i0 / 2) * (ow / 2);
    }
    store_planes(f, pixels, ldc, s.o, y + img * s.o * out_plane + first, out_plane);
}

}  // namespace

// w_codes: (O,C,K,K) in weight_channel_pairs' K order, then in panels.
PackedWeightI16 pack_conv_int(const int16_t* w_codes, const ConvShape& s) {
    const int kpairs = pair_layout(s).kpairs(s);
    return {weight_panels(weight_channel_pairs(w_codes, s).data(), 2 * kpairs, s.o, kpairs)};
}

// w_codes: (OUT,IN), a row's inputs taken in pairs (an odd IN's last pair is (x, 0)).
PackedWeightI16 pack_linear_int(const int16_t* w_codes, int in, int out) {
    return {weight_panels(w_codes, in, out, (in + 1) / 2)};
}

// x_codes: (N,C,H,W), y: (N,O,OH,OW) float, or (N,O,OH/2,OW/2) with post.pool2.
void conv2d_int(const int16_t* x_codes, const PackedWeightI16& weight, const float* out_scale, const float* bias,
                const ConvShape& s, float* y, const ConvPost& post) {
    if (s.n <= 0 || s.o <= 0 || s.oh() <= 0 || s.ow() <= 0) return;
    const ConvRescale rs = conv_rescale(out_scale, bias, post, s.o, round_up(s.o, 8));
    const ConvSplit split = conv_split(s, post.pool2 ? 2 : 1);
    const int64_t macs = int64_t(s.n) * s.o * s.oh() * s.ow() * s.c * s.k * s.k;
    maybe_parallel(int64_t(s.n) * split.bands, macs, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int band = int(t % split.bands);
            const int i0 = band * split.rows_per_band, i1 = std::min(s.oh(), i0 + split.rows_per_band);
            conv2d_int_band(x_codes, weight.panels.data(), rs, s, post, t / split.bands, i0, i1, y);
        }
    });
}

// w_codes: (O,C,K,K), packed on every call.
void conv2d_int(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                const ConvShape& s, float* y, const ConvPost& post) {
    if (s.n <= 0 || s.o <= 0 || s.oh() <= 0 || s.ow() <= 0) return;
    conv2d_int(x_codes, pack_conv_int(w_codes, s), out_scale, bias, s, y, post);
}

// x_codes: (N,IN), y: (N,OUT) float. Tasks are blocks of batch rows and of columns (linear_split: column
// blocks start at multiples of kMaxTileCols, so at panel boundaries); each is one run of all the input pairs
// of its rows, read in place.
void linear_int(const int16_t* x_codes, const PackedWeightI16& weight, const float* out_scale, const float* bias,
                int n, int in, int out, float* y) {
    if (n <= 0 || out <= 0) return;
    const int kpairs = (in + 1) / 2;
    const LinearSplit split = linear_split(n, in, out);
    maybe_parallel(split.row_blocks * split.col_blocks, int64_t(n) * in * out, [&](int64_t t0, int64_t t1) {
        static constexpr int32_t kNoOffset = 0;
        for (int64_t t = t0; t < t1; ++t) {
            const int r0 = int(t / split.col_blocks) * split.rows_per_block;
            const int c0 = int(t % split.col_blocks) * split.cols_per_block;
            const int rows = std::min(split.rows_per_block, n - r0), cols = std::min(split.cols_per_block, out - c0);
            const int16_t* a = even_rows(x_codes + int64_t(r0) * in, rows, in, t_a_i16);
            const int64_t ldc = round_up(cols, 8), m_pad = round_up(rows, kTileRows);
            const int16_t** row = scratch(t_rows, m_pad);
            for (int64_t r = 0; r < m_pad; ++r) row[r] = a + std::min<int64_t>(r, rows - 1) * 2 * kpairs;
            int32_t* acc = scratch(t_acc_i32, m_pad * ldc);
            gemm_i16(rows, cols, 1, kpairs, &kNoOffset, row, weight.panels.data() + int64_t(kpairs) * 2 * c0, acc, ldc);
            for (int r = 0; r < rows; ++r) {
                float* y_r = y + int64_t(r0 + r) * out + c0;
                const int32_t* acc_r = acc + r * ldc;
                for (int j = 0; j < cols; ++j) y_r[j] = float(acc_r[j]) * out_scale[c0 + j] + (bias ? bias[c0 + j] : 0.0f);
            }
        }
    });
}

// w_codes: (OUT,IN), packed on every call.
void linear_int(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias, int n,
                int in, int out, float* y) {
    if (n <= 0 || out <= 0) return;
    linear_int(x_codes, pack_linear_int(w_codes, in, out), out_scale, bias, n, in, out, y);
}

}  // namespace quantlab
