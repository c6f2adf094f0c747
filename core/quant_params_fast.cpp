// quant_params_fast.cpp: the MSE range search of quantizer.cpp, candidates interleaved and over threads
// (quant_params_fast.hpp). The arithmetic per value and candidate is quantizer.cpp's, term for term.
#include "core/quant_params_fast.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/kernels.hpp"  // all_finite
#include "core/parallel.hpp"

namespace quantlab {

namespace {

constexpr int kSteps = 100;  // quantizer.cpp's grid
constexpr int kGroup = 8;    // candidates per pass over the values
constexpr int64_t kMinParallelWork = int64_t(1) << 17;  // value x candidate terms below which threads cost more

struct Candidate {
    RealRange range;
    float scale = 1;
    int32_t zp = 0;
};

// Candidates four to a 128-bit vector (GCC/Clang vector extensions: SSE2 natively, v128 in wasm), their error
// sums two to a vector of doubles.
typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));
typedef double D2 __attribute__((vector_size(16)));

// The squared errors of candidates c[0..count) over x, each one double sum in value order (as slice_mse). The
// terms are quantize_value and dequantize_value's: t = codes_of(v, S), clamped to [qmin - Z, qmax - Z] (a NaN to
// the low end), rounded half to even; S * round(t) is their S * float(q - Z) exactly (q - Z = round(t), an integer
// far below 2^24).
template <bool kMultiplyInverse>
void group_errors(const float* x, int64_t n, const Candidate* c, int count, CodeRange range, double* err) {
    constexpr int kHalves = kGroup / 4;
    F4 scale[kHalves], inv[kHalves], lo[kHalves], hi[kHalves];
    for (int j = 0; j < kGroup; ++j) {
        const Candidate& k = c[std::min(j, count - 1)];  // a short group repeats its last candidate
        scale[j / 4][j % 4] = k.scale;
        inv[j / 4][j % 4] = 1.0f / k.scale;  // codes_of's r * (1 / S) for full codes
        lo[j / 4][j % 4] = float(range.qmin - k.zp);
        hi[j / 4][j % 4] = float(range.qmax - k.zp);
    }
    const float big = 12582912.0f;  // round_half_even's constant
    D2 e[2 * kHalves] = {};
    for (int64_t i = 0; i < n; ++i) {
        const F4 vv = F4{} + x[i];
        const D2 vd = D2{} + double(x[i]);
        for (int h = 0; h < kHalves; ++h) {
            F4 t = kMultiplyInverse ? vv * inv[h] : vv / scale[h];
            const I4 below = ~(t >= lo[h]);  // all ones where !(t >= lo), a NaN included
            t = (F4)(((I4)lo[h] & below) | ((I4)t & ~below));
            const I4 above = t > hi[h];
            t = (F4)(((I4)hi[h] & above) | ((I4)t & ~above));
            const F4 q = scale[h] * ((t + big) - big);
            const D2 d0 = vd - __builtin_convertvector(__builtin_shufflevector(q, q, 0, 1), D2);
            const D2 d1 = vd - __builtin_convertvector(__builtin_shufflevector(q, q, 2, 3), D2);
            e[2 * h] += d0 * d0;
            e[2 * h + 1] += d1 * d1;
        }
    }
    for (int j = 0; j < count; ++j) err[j] = e[j / 2][j % 2];
}

RealRange search(const float* x, int64_t n, const QuantSpec& spec, bool threads) {
    const float lo = *std::min_element(x, x + n), hi = *std::max_element(x, x + n);
    const CodeRange range = code_range(spec.bits, spec.symmetric, spec.codes);
    Candidate c[kSteps];
    for (int k = 0; k < kSteps; ++k) {  // k = 0 is quantizer.cpp's i = kSteps: its order, widest first
        const float f = float(kSteps - k) / kSteps;
        c[k].range = {lo * f, hi * f};
        if (spec.symmetric) {
            const float m = std::max(std::fabs(lo), std::fabs(hi)) * f;
            c[k].range = {-m, m};
        }
        params_from_range(c[k].range, spec.bits, spec.symmetric, &c[k].scale, &c[k].zp, spec.codes);
    }
    double err[kSteps];
    const int64_t groups = (kSteps + kGroup - 1) / kGroup;
    const auto run = [&](int64_t g0, int64_t g1) {
        for (int64_t g = g0; g < g1; ++g) {
            const int first = int(g) * kGroup;
            (range.multiply_inverse ? group_errors<true> : group_errors<false>)(x, n, c + first, std::min(kGroup, kSteps - first),
                                                                              range, err + first);
        }
    };
    if (threads && n * kSteps >= kMinParallelWork)
        parallel_for(0, groups, run);
    else
        run(0, groups);
    RealRange best{lo, hi};
    double best_err = std::numeric_limits<double>::infinity();
    for (int k = 0; k < kSteps; ++k)
        if (err[k] < best_err) {  // strict: ties keep the wider range
            best_err = err[k];
            best = c[k].range;
        }
    return best;
}

}  // namespace

RealRange mse_range_fast(const float* x, int64_t n, const QuantSpec& spec) { return search(x, n, spec, true); }

Result<QuantParams> compute_params_fast(const float* x, const Shape& shape, const QuantSpec& spec) {
    const int64_t n = numel(shape);
    if (spec.rule != RangeRule::kMse || !validate(spec) || n <= 0 || (shape.empty() && spec.per_channel) || !all_finite(x, n))
        return compute_params(x, shape, spec);
    const int64_t channels = spec.per_channel ? shape[0] : 1;
    const int64_t cs = n / channels;
    std::vector<RealRange> ranges(static_cast<size_t>(channels));
    const auto run = [&](int64_t c0, int64_t c1) {
        // One channel per task when there are several: each search stays on its thread.
        for (int64_t ch = c0; ch < c1; ++ch) ranges[size_t(ch)] = search(x + ch * cs, cs, spec, channels == 1);
    };
    if (channels > 1 && n * kSteps >= kMinParallelWork)
        parallel_for(0, channels, run);
    else
        run(0, channels);
    return params_for_ranges(ranges, spec);
}

}  // namespace quantlab
