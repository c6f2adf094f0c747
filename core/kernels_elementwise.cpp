// kernels_elementwise.cpp: the per-value passes of the fast and integer forward passes (centred codes,
// fake-quant, finiteness, min/max, BatchNorm + ReLU, max pooling), in SIMD (SSE2 on x86-64, wasm SIMD128 in
// the browser) with a scalar tail. Each computes exactly what its scalar definition does: the same IEEE
// operations on each value, and comparisons in the same operand order, so results are bit-identical (the
// pool takes its maxima in another order, which only a zero's sign could tell). The reference backend keeps
// the quantizer's plain loops for its quantization; tests/unit/test_kernels_elementwise.cpp checks these
// against them. They matter because they run over every activation: on the page they took a third of the
// integer forward pass while they were scalar loops.
#include <algorithm>
#include <cmath>

#include "core/kernels.hpp"
#include "core/quantizer.hpp"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define QUANTLAB_EW_WASM 1
#elif (defined(__x86_64__) || defined(__i386__)) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>
#define QUANTLAB_EW_SSE2 1
#endif

namespace quantlab {

namespace {
// std::max(a, b) is (a < b) ? b : a, and std::min(a, b) is (b < a) ? b : a: these lane-wise forms keep
// that operand order (wasm's pmin/pmax are defined so; SSE's max_ps(x, y) is x > y ? x : y).
#if defined(QUANTLAB_EW_WASM)
using F4 = v128_t;
inline F4 load4(const float* p) { return wasm_v128_load(p); }
inline void store4(float* p, F4 v) { wasm_v128_store(p, v); }
inline F4 splat4(float v) { return wasm_f32x4_splat(v); }
inline F4 max4(F4 a, F4 b) { return wasm_f32x4_pmax(a, b); }  // std::max(a, b)
inline F4 min4(F4 a, F4 b) { return wasm_f32x4_pmin(a, b); }  // std::min(a, b)
inline F4 add4(F4 a, F4 b) { return wasm_f32x4_add(a, b); }
inline F4 sub4(F4 a, F4 b) { return wasm_f32x4_sub(a, b); }
inline F4 mul4(F4 a, F4 b) { return wasm_f32x4_mul(a, b); }
inline F4 div4(F4 a, F4 b) { return wasm_f32x4_div(a, b); }
inline F4 even4(F4 a, F4 b) { return wasm_i32x4_shuffle(a, b, 0, 2, 4, 6); }
inline F4 odd4(F4 a, F4 b) { return wasm_i32x4_shuffle(a, b, 1, 3, 5, 7); }
inline F4 from_i32x4(const int32_t* p) { return wasm_f32x4_convert_i32x4(wasm_v128_load(p)); }
// 4 x 4 transpose: rows r0..r3 in, columns out in place.
inline void transpose4(F4& r0, F4& r1, F4& r2, F4& r3) {
    const F4 t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
    const F4 t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
    r0 = wasm_i64x2_shuffle(t0, t2, 0, 2), r1 = wasm_i64x2_shuffle(t0, t2, 1, 3);
    r2 = wasm_i64x2_shuffle(t1, t3, 0, 2), r3 = wasm_i64x2_shuffle(t1, t3, 1, 3);
}
#define QUANTLAB_EW_SIMD 1
#elif defined(QUANTLAB_EW_SSE2)
using F4 = __m128;
inline F4 load4(const float* p) { return _mm_loadu_ps(p); }
inline void store4(float* p, F4 v) { _mm_storeu_ps(p, v); }
inline F4 splat4(float v) { return _mm_set1_ps(v); }
inline F4 max4(F4 a, F4 b) { return _mm_max_ps(b, a); }  // b > a ? b : a == std::max(a, b)
inline F4 min4(F4 a, F4 b) { return _mm_min_ps(b, a); }  // b < a ? b : a == std::min(a, b)
inline F4 add4(F4 a, F4 b) { return _mm_add_ps(a, b); }
inline F4 sub4(F4 a, F4 b) { return _mm_sub_ps(a, b); }
inline F4 mul4(F4 a, F4 b) { return _mm_mul_ps(a, b); }
inline F4 div4(F4 a, F4 b) { return _mm_div_ps(a, b); }
inline F4 even4(F4 a, F4 b) { return _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); }
inline F4 odd4(F4 a, F4 b) { return _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)); }
inline F4 from_i32x4(const int32_t* p) { return _mm_cvtepi32_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline void transpose4(F4& r0, F4& r1, F4& r2, F4& r3) { _MM_TRANSPOSE4_PS(r0, r1, r2, r3); }
#define QUANTLAB_EW_SIMD 1
#endif
}  // namespace

namespace {
// The centred code of each value, as a whole float: round_half_even(clamp(x / scale, lo, hi)), NaN -> lo
// (x * (1/scale) instead of x / scale with inverse: CodeRange::codes_of).
// Each output element i of `emit` gets the code of x[i]; `emit(i, t8)` takes 8 codes at a time (SIMD) and
// `emit1(i, t)` one (the tail).
template <class Emit8, class Emit1>
void centred_codes(const float* x, int64_t n, float scale, float lo, float hi, bool inverse, Emit8 emit8, Emit1 emit1) {
    int64_t i = 0;
    const float inv = 1.0f / scale;
#if defined(QUANTLAB_EW_SIMD)
    const F4 vs = splat4(scale), vinv = splat4(inv), vlo = splat4(lo), vhi = splat4(hi), big = splat4(12582912.0f);
    for (; i + 8 <= n; i += 8) {
        F4 t[2];
        for (int h = 0; h < 2; ++h) {
            const F4 q = inverse ? mul4(load4(x + i + 4 * h), vinv) : div4(load4(x + i + 4 * h), vs);
            // max(lo, q) keeps lo for a NaN q (the scalar `!(t >= lo)`); then min with hi; then the same
            // add-and-subtract rounding as round_half_even (quantizer.hpp).
            t[h] = sub4(add4(min4(max4(vlo, q), vhi), big), big);
        }
        emit8(i, t[0], t[1]);
    }
#endif
    for (; i < n; ++i) {
        float t = inverse ? x[i] * inv : x[i] / scale;
        if (!(t >= lo)) t = lo;
        if (t > hi) t = hi;
        emit1(i, round_half_even(t));
    }
}
}  // namespace

void quantize_centred(const float* x, int64_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                      int16_t* codes, bool multiply_inverse) {
    centred_codes(
        x, n, scale, float(qmin - zero_point), float(qmax - zero_point), multiply_inverse,
        [&](int64_t i, auto t0, auto t1) {
            (void)i, (void)t0, (void)t1;
#if defined(QUANTLAB_EW_WASM)
            // Whole numbers in [lo, hi] (|.| < 2^15): the truncating conversion and the narrowing are exact.
            wasm_v128_store(codes + i, wasm_i16x8_narrow_i32x4(wasm_i32x4_trunc_sat_f32x4(t0), wasm_i32x4_trunc_sat_f32x4(t1)));
#elif defined(QUANTLAB_EW_SSE2)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + i), _mm_packs_epi32(_mm_cvttps_epi32(t0), _mm_cvttps_epi32(t1)));
#endif
        },
        [&](int64_t i, float t) { codes[i] = int16_t(t); });
}

void fake_quant_tensor(const float* x, int64_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax, float* out,
                       bool multiply_inverse) {
    // dequantize_value(q, S, Z) = S * float(q - Z), and q - Z is the centred code.
    centred_codes(
        x, n, scale, float(qmin - zero_point), float(qmax - zero_point), multiply_inverse,
        [&](int64_t i, auto t0, auto t1) {
            (void)i, (void)t0, (void)t1;
#if defined(QUANTLAB_EW_SIMD)
            const F4 vs = splat4(scale);
            store4(out + i, mul4(vs, t0));
            store4(out + i + 4, mul4(vs, t1));
#endif
        },
        [&](int64_t i, float t) { out[i] = scale * t; });
}

bool all_finite(const float* x, int64_t n) {
    int64_t i = 0;
#if defined(QUANTLAB_EW_SIMD)
    // v * 0 is 0 for a finite v and NaN for an infinite or NaN one; a NaN anywhere stays NaN in the sum.
    const F4 zero = splat4(0.0f);
    F4 acc0 = zero, acc1 = zero;
    for (; i + 8 <= n; i += 8) {
        acc0 = add4(acc0, mul4(load4(x + i), zero));
        acc1 = add4(acc1, mul4(load4(x + i + 4), zero));
    }
    alignas(16) float lanes[4];
    store4(lanes, add4(acc0, acc1));
    for (float v : lanes)
        if (v != 0.0f) return false;
#endif
    for (; i < n; ++i)
        if (!std::isfinite(x[i])) return false;
    return true;
}

void min_max(const float* x, int64_t n, float* lo, float* hi) {
    if (n <= 0) return;
    float mn = x[0], mx = x[0];
    int64_t i = 0;
#if defined(QUANTLAB_EW_SIMD)
    if (n >= 8) {
        F4 mn0 = load4(x), mn1 = load4(x + 4), mx0 = mn0, mx1 = mn1;
        for (i = 8; i + 8 <= n; i += 8) {
            const F4 a = load4(x + i), b = load4(x + i + 4);
            mn0 = min4(mn0, a), mn1 = min4(mn1, b);
            mx0 = max4(mx0, a), mx1 = max4(mx1, b);
        }
        alignas(16) float a[4], b[4];
        store4(a, min4(mn0, mn1));
        store4(b, max4(mx0, mx1));
        for (int k = 0; k < 4; ++k) mn = std::min(mn, a[k]), mx = std::max(mx, b[k]);
    }
#endif
    for (; i < n; ++i) mn = std::min(mn, x[i]), mx = std::max(mx, x[i]);
    *lo = mn;
    *hi = mx;
}

void affine_planes(float* x, int64_t n, int64_t c, int64_t hw, const float* a, const float* b, bool relu) {
    for (int64_t img = 0; img < n; ++img)
        for (int64_t ch = 0; ch < c; ++ch) {
            float* p = x + (img * c + ch) * hw;
            const float ac = a[ch], bc = b[ch];
            int64_t i = 0;
#if defined(QUANTLAB_EW_SIMD)
            const F4 va = splat4(ac), vb = splat4(bc), zero = splat4(0.0f);
            for (; i + 4 <= hw; i += 4) {
                F4 v = add4(mul4(load4(p + i), va), vb);
                // v > 0 ? v : 0 (a NaN becomes 0, as in the scalar ReLU): max(0, v) in std::max's order.
                if (relu) v = max4(zero, v);
                store4(p + i, v);
            }
#endif
            for (; i < hw; ++i) {
                const float v = p[i] * ac + bc;
                p[i] = relu ? (v > 0 ? v : 0.0f) : v;
            }
        }
}

void max_pool(const float* src, int64_t planes, int64_t h, int64_t w, int64_t k, float* dst) {
    const int64_t oh = h / k, ow = w / k;
    for (int64_t b = 0; b < planes; ++b, src += h * w, dst += oh * ow) {
        for (int64_t i = 0; i < oh; ++i) {
            float* d = dst + i * ow;
            if (k == 2) {
                const float* r0 = src + 2 * i * w;
                const float* r1 = r0 + w;
                int64_t j = 0;
#if defined(QUANTLAB_EW_SIMD)
                // Rows first, then the column pairs: two shuffles per 4 outputs instead of four. The maximum
                // of finite values does not depend on the order (up to the sign of a zero maximum).
                // A short last group is done as the 4 outputs ending the row, overlapping the group before
                // (rows here are 14 and 5 outputs long: scalar tails cost as much as the vector body).
                auto four = [&](int64_t jj) {
                    const F4 v0 = max4(load4(r0 + 2 * jj), load4(r1 + 2 * jj));
                    const F4 v1 = max4(load4(r0 + 2 * jj + 4), load4(r1 + 2 * jj + 4));
                    store4(d + jj, max4(even4(v0, v1), odd4(v0, v1)));
                };
                for (; j + 4 <= ow; j += 4) four(j);
                if (j < ow && ow >= 4) {
                    four(ow - 4);
                    j = ow;
                }
#endif
                for (; j < ow; ++j)
                    d[j] = std::max(std::max(r0[2 * j], r0[2 * j + 1]), std::max(r1[2 * j], r1[2 * j + 1]));
                continue;
            }
            for (int64_t j = 0; j < ow; ++j) {
                float m = src[i * k * w + j * k];
                for (int64_t dy = 0; dy < k; ++dy)
                    for (int64_t dx = 0; dx < k; ++dx) m = std::max(m, src[(i * k + dy) * w + j * k + dx]);
                d[j] = m;
            }
        }
    }
}

void rescale_pixels(const int32_t* acc, int64_t pixels, int64_t ld, const float* scale, const float* bias,
                    const float* a, const float* b, bool relu, float* out) {
    for (int64_t p = 0; p < pixels; ++p) {
        const int32_t* in = acc + p * ld;
        float* o = out + p * ld;
        int64_t j = 0;
#if defined(QUANTLAB_EW_SIMD)
        const F4 zero = splat4(0.0f);
        for (; j + 4 <= ld; j += 4) {
            F4 v = add4(mul4(from_i32x4(in + j), load4(scale + j)), load4(bias + j));
            if (a) {
                v = add4(mul4(v, load4(a + j)), load4(b + j));
                if (relu) v = max4(zero, v);  // v > 0 ? v : 0, as affine_planes
            }
            store4(o + j, v);
        }
#endif
        for (; j < ld; ++j) {
            float v = float(in[j]) * scale[j] + bias[j];
            if (a) {
                v = v * a[j] + b[j];
                if (relu) v = v > 0 ? v : 0.0f;
            }
            o[j] = v;
        }
    }
}

void max_pool2_pixels(const float* x, int64_t h, int64_t w, int64_t ld, float* out) {
    const int64_t oh = h / 2, ow = w / 2;
    for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
            const float* tl = x + (2 * i * w + 2 * j) * ld;
            const float *tr = tl + ld, *bl = tl + w * ld, *br = bl + ld;
            float* o = out + (i * ow + j) * ld;
            int64_t c = 0;
#if defined(QUANTLAB_EW_SIMD)
            for (; c + 4 <= ld; c += 4)
                store4(o + c, max4(max4(load4(tl + c), load4(tr + c)), max4(load4(bl + c), load4(br + c))));
#endif
            for (; c < ld; ++c) o[c] = std::max(std::max(tl[c], tr[c]), std::max(bl[c], br[c]));
        }
}

namespace {

// dst[c * dst_ld + r] = src[r * src_ld + c] for r < rows, c < cols: 4 x 4 blocks through registers, then the rests.
void transpose(const float* src, int64_t rows, int64_t cols, int64_t src_ld, float* dst, int64_t dst_ld) {
    int64_t c = 0;
#if defined(QUANTLAB_EW_SIMD)
    for (; c + 4 <= cols; c += 4) {
        int64_t r = 0;
        for (; r + 4 <= rows; r += 4) {
            F4 r0 = load4(src + r * src_ld + c), r1 = load4(src + (r + 1) * src_ld + c);
            F4 r2 = load4(src + (r + 2) * src_ld + c), r3 = load4(src + (r + 3) * src_ld + c);
            transpose4(r0, r1, r2, r3);
            store4(dst + c * dst_ld + r, r0);
            store4(dst + (c + 1) * dst_ld + r, r1);
            store4(dst + (c + 2) * dst_ld + r, r2);
            store4(dst + (c + 3) * dst_ld + r, r3);
        }
        for (; r < rows; ++r)
            for (int64_t k = c; k < c + 4; ++k) dst[k * dst_ld + r] = src[r * src_ld + k];
    }
#endif
    for (; c < cols; ++c)
        for (int64_t r = 0; r < rows; ++r) dst[c * dst_ld + r] = src[r * src_ld + c];
}

}  // namespace

void store_planes(const float* x, int64_t pixels, int64_t ld, int64_t channels, float* y, int64_t plane) {
    transpose(x, pixels, channels, ld, y, plane);
}

void load_planes(const float* y, int64_t plane, int64_t channels, int64_t pixels, float* x, int64_t ld) {
    transpose(y, channels, pixels, plane, x, ld);
}

}  // namespace quantlab
