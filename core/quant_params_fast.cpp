// quant_params_fast.cpp: the MSE range search of quantizer.cpp, candidates interleaved and over threads
// (quant_params_fast.hpp). The arithmetic per value and candidate is quantizer.cpp's, term for term.
#include "core/quant_params_fast.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#include "core/kernels.hpp"  // all_finite
#include "core/parallel.hpp"
#include "core/vec128.hpp"

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

// Candidates four to a 128-bit vector (core/vec128.hpp), their error sums two to a vector of doubles.

// Candidates c[0..count) four to a vector, 4 * kHalves lanes (a short group repeats its last candidate): their
// scales, the inverses (codes_of's r * (1 / S) for full codes) and the code range shifted by each zero point.
template <int kHalves>
struct GroupLanes {
    F4 scale[kHalves], inv[kHalves], lo[kHalves], hi[kHalves];
    GroupLanes(const Candidate* c, int count, CodeRange range) {
        for (int j = 0; j < 4 * kHalves; ++j) {
            const Candidate& k = c[std::min(j, count - 1)];
            scale[j / 4][j % 4] = k.scale;
            inv[j / 4][j % 4] = 1.0f / k.scale;
            lo[j / 4][j % 4] = float(range.qmin - k.zp);
            hi[j / 4][j % 4] = float(range.qmax - k.zp);
        }
    }
};
constexpr float kRoundBig = 12582912.0f;  // round_half_even's constant: (t + big) - big rounds t half to even

// The squared errors of candidates c[0..count) over x, each one double sum in value order (as slice_mse). The
// terms are quantize_value and dequantize_value's: t = codes_of(v, S), clamped to [qmin - Z, qmax - Z] (a NaN to
// the low end), rounded half to even; S * round(t) is their S * float(q - Z) exactly (q - Z = round(t), an integer
// far below 2^24). kHalves: 4 candidates per half (count <= 4 * kHalves).
template <bool kMultiplyInverse, int kHalves>
void group_errors(const float* x, int64_t n, const Candidate* c, int count, CodeRange range, double* err) {
    const GroupLanes<kHalves> g(c, count, range);
    const F4 *scale = g.scale, *inv = g.inv, *lo = g.lo, *hi = g.hi;
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
            const F4 q = scale[h] * ((t + kRoundBig) - kRoundBig);
            const D2 d0 = vd - __builtin_convertvector(__builtin_shufflevector(q, q, 0, 1), D2);
            const D2 d1 = vd - __builtin_convertvector(__builtin_shufflevector(q, q, 2, 3), D2);
            e[2 * h] += d0 * d0;
            e[2 * h + 1] += d1 * d1;
        }
    }
    for (int j = 0; j < count; ++j) err[j] = e[j / 2][j % 2];
}

// t clamped to [lo, hi] in two instructions where the target has them: a finite t as group_errors clamps it (a NaN
// t may come out otherwise, but then x is NaN and so is every estimate, which makes the search skip the pre-pass).
inline F4 clamp4(F4 t, F4 lo, F4 hi) {
#if defined(__SSE2__)
    return (F4)_mm_min_ps(_mm_max_ps((__m128)t, (__m128)lo), (__m128)hi);
#elif defined(__wasm_simd128__)
    return (F4)wasm_f32x4_pmin(wasm_f32x4_pmax((v128_t)t, (v128_t)lo), (v128_t)hi);
#else
    t = t < lo ? lo : t;
    return t > hi ? hi : t;
#endif
}

// Estimates of the same errors in float, for the pre-pass: the same t and q, d = x - q and d * d in float, summed
// in float lanes over blocks of kBlock values whose totals add up in double. Each estimate lies within
// error_bounds (below) of the exact double sum, so candidates far from the best need no exact sum.
constexpr int64_t kBlock = 256;

// The float sums of one group of candidates, carried from chunk to chunk of the values.
struct Estimate {
    D2 e[kGroup / 2] = {};
    double value(int j) const { return e[j / 2][j % 2]; }
};

template <bool kMultiplyInverse>
void group_estimates(const float* x, int64_t i0, int64_t i1, const Candidate* c, int count, CodeRange range, Estimate* est) {
    constexpr int kHalves = kGroup / 4;
    const GroupLanes<kHalves> g(c, count, range);
    const F4 *scale = g.scale, *inv = g.inv, *lo = g.lo, *hi = g.hi;
    for (int64_t b = i0; b < i1; b += kBlock) {
        F4 acc[kHalves] = {};
        for (int64_t i = b, end = std::min(i1, b + kBlock); i < end; ++i) {
            const F4 vv = F4{} + x[i];
            for (int h = 0; h < kHalves; ++h) {
                const F4 t = clamp4(kMultiplyInverse ? vv * inv[h] : vv / scale[h], lo[h], hi[h]);
                const F4 d = vv - scale[h] * ((t + kRoundBig) - kRoundBig);
                acc[h] += d * d;
            }
        }
        for (int h = 0; h < kHalves; ++h) {
            est->e[2 * h] += __builtin_convertvector(__builtin_shufflevector(acc[h], acc[h], 0, 1), D2);
            est->e[2 * h + 1] += __builtin_convertvector(__builtin_shufflevector(acc[h], acc[h], 2, 3), D2);
        }
    }
}

// How far an estimate f of group_estimates over n values can lie from group_errors' exact double sum: at most
// rel * T + abs, T the exact real sum of the squared errors. rel counts d's and d * d's float rounding (3u), the
// float lane sums of kBlock terms (kBlock u), the double sums on both sides (n + 4 terms of 2^-53 each) with room
// to spare; abs counts underflow (terms below float's normal range, 2^-149 each).
struct Bounds {
    double rel, abs;
};
Bounds error_bounds(int64_t n) {
    const double u = std::ldexp(1.0, -24), ud = std::ldexp(1.0, -53);
    return {2 * ((kBlock + 4) * u + double(n + 4) * ud), double(n) * std::ldexp(1.0, -147)};
}

// Where the exact error of a candidate with estimate f can lie: [low, high].
struct Interval {
    double low, high;
};
Interval exact_interval(double f, const Bounds& b) {
    const double t_max = (f + b.abs) / (1 - b.rel);  // the real sum T <= (f + abs) / (1 - rel)
    return {f - b.rel * t_max - b.abs, f + b.rel * t_max + b.abs};
}

constexpr int kGroups = (kSteps + kGroup - 1) / kGroup;
constexpr int64_t kChunk = 16 * kBlock;  // values per stretch of the pre-pass between two checks

// The pre-pass: which candidates could still be the best (alive), from float estimates of their errors. The group holding the least estimate over the first chunk of values is summed in full first; the
// lowest upper bound of its candidates is a ceiling for the best error. Every other group goes on chunk by chunk
// and stops once each of its candidates' partial sum (a lower bound of its error: the terms are squares) is
// above the ceiling. Then, among the groups summed in full, a candidate stays alive where its lowest possible
// error is at most the lowest highest possible one. False: an estimate is not finite (NaN input).
bool prepass(const float* x, int64_t n, const Candidate* c, CodeRange range, bool parallel, bool* alive) {
    const Bounds b = error_bounds(n);
    Estimate st[kGroups];
    const auto sum = [&](int g, int64_t i0, int64_t i1) {
        const int first = g * kGroup, len = std::min(kGroup, kSteps - first);
        (range.multiply_inverse ? group_estimates<true> : group_estimates<false>)(x, i0, i1, c + first, len, range, &st[g]);
    };
    const auto over_groups = [&](const std::function<void(int)>& fn) {
        const auto run = [&](int64_t g0, int64_t g1) {
            for (int64_t g = g0; g < g1; ++g) fn(int(g));
        };
        if (parallel)
            parallel_for(0, kGroups, run);
        else
            run(0, kGroups);
    };
    const int64_t first_end = std::min(n, kChunk);
    over_groups([&](int g) { sum(g, 0, first_end); });
    const auto est = [&](int k) { return st[k / kGroup].value(k % kGroup); };
    int lead = 0;
    for (int k = 1; k < kSteps; ++k)
        if (est(k) < est(lead)) lead = k;
    const int lead_group = lead / kGroup;
    sum(lead_group, first_end, n);
    double ceiling = std::numeric_limits<double>::infinity();
    for (int k = lead_group * kGroup; k < std::min(kSteps, (lead_group + 1) * kGroup); ++k)
        ceiling = std::min(ceiling, exact_interval(est(k), b).high);
    bool full[kGroups];
    over_groups([&](int g) {
        full[g] = true;
        if (g == lead_group) return;
        const int first = g * kGroup, last = std::min(kSteps, first + kGroup);
        for (int64_t i = first_end;; i += kChunk) {
            bool above = true;
            for (int k = first; k < last; ++k) above = above && exact_interval(est(k), b).low > ceiling;
            if (above) {
                full[g] = false;
                return;
            }
            if (i >= n) return;
            sum(g, i, std::min(n, i + kChunk));
        }
    });
    double best_high = std::numeric_limits<double>::infinity();
    for (int k = 0; k < kSteps; ++k) {
        if (!full[k / kGroup]) continue;
        if (!std::isfinite(est(k))) return false;
        best_high = std::min(best_high, exact_interval(est(k), b).high);
    }
    for (int k = 0; k < kSteps; ++k) alive[k] = full[k / kGroup] && exact_interval(est(k), b).low <= best_high;
    return true;
}

// The 100 candidates' exact errors are needed only where they could decide the search: a candidate whose lowest
// possible error exceeds some candidate's highest possible one cannot win (nor tie) the strict-less scan. The
// pre-pass (above) estimates them in float, dropping most candidates after a part of the values; the exact
// double sums run for the rest, typically one to three candidates. Values beyond 1e15 in magnitude (float
// overflow) or an estimate that is not finite (NaN input) skip the pre-pass.
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
    const bool parallel = threads && n * kSteps >= kMinParallelWork;
    bool exact[kSteps];
    const double mag = std::max(std::fabs(double(lo)), std::fabs(double(hi)));
    if (!(mag <= 1e15 && prepass(x, n, c, range, parallel, exact))) std::fill(exact, exact + kSteps, true);
    Candidate picked[kSteps];
    int index[kSteps], count = 0;
    for (int k = 0; k < kSteps; ++k)
        if (exact[k]) {
            picked[count] = c[k];
            index[count++] = k;
        }
    // The exact sums of the candidates left, groups over the pool when worth it.
    double picked_err[kSteps];
    const int64_t groups = (count + kGroup - 1) / kGroup;
    const auto run = [&](int64_t g0, int64_t g1) {
        for (int64_t g = g0; g < g1; ++g) {
            const int first = int(g) * kGroup, len = std::min(kGroup, count - first);
            if (len <= 4)  // one half: the exact sums of a few candidates at half the work
                (range.multiply_inverse ? group_errors<true, 1> : group_errors<false, 1>)(x, n, picked + first, len, range, picked_err + first);
            else
                (range.multiply_inverse ? group_errors<true, 2> : group_errors<false, 2>)(x, n, picked + first, len, range, picked_err + first);
        }
    };
    if (parallel && groups > 1)
        parallel_for(0, groups, run);
    else
        run(0, groups);
    RealRange best{lo, hi};
    double best_err = std::numeric_limits<double>::infinity();
    for (int j = 0; j < count; ++j)  // candidates in quantizer.cpp's order
        if (picked_err[j] < best_err) {  // strict: ties keep the wider range
            best_err = picked_err[j];
            best = c[index[j]].range;
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
