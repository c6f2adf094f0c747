// quantizer.cpp: the reference implementation of quantizer.hpp (range rules, parameters, codes,
// fake-quant, error statistics, STE). Plain loops on purpose: faster paths are tested against these.
#include "quantizer.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "enum_names.hpp"

namespace quantlab {

namespace {

constexpr EnumName<RangeRule> kRuleNames[] = {
    {RangeRule::kMaxAbs, "maxabs"}, {RangeRule::kMeanStd, "meanstd"}, {RangeRule::kMinMax, "minmax"},
    {RangeRule::kPercentile, "percentile"}, {RangeRule::kMse, "mse"},
};
constexpr EnumName<SymmetricCodes> kCodesNames[] = {{SymmetricCodes::kNarrow, "narrow"}, {SymmetricCodes::kFull, "full"}};
constexpr EnumName<SteRule> kSteNames[] = {{SteRule::kIdentity, "identity"}, {SteRule::kClipped, "clipped"}};
constexpr EnumName<QuantizerKind> kQuantizerKindNames[] = {
    {QuantizerKind::kFixed, "fixed"}, {QuantizerKind::kLsq, "lsq"}, {QuantizerKind::kPact, "pact"}};

// Linear-interpolated quantile of sorted data, q in [0,1], as torch.quantile(interpolation='linear').
float sorted_quantile(const std::vector<float>& sorted, double q) {
    const double pos = q * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double frac = pos - double(lo);
    return float(double(sorted[lo]) + frac * (double(sorted[hi]) - double(sorted[lo])));
}

double slice_mse(const float* x, int64_t n, float scale, int32_t zp, CodeRange range) {
    double err = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double d = double(x[i]) - double(dequantize_value(quantize_value(x[i], scale, zp, range), scale, zp));
        err += d * d;
    }
    return err;
}

// Grid search over thresholds shrunk from the min-max range; 100 candidates is the usual choice
// (TensorRT / NNCF use similar grids) and keeps the cost at 100 passes.
RealRange mse_range(const float* x, int64_t n, const QuantSpec& spec) {
    float lo = *std::min_element(x, x + n), hi = *std::max_element(x, x + n);
    constexpr int kSteps = 100;
    RealRange best{lo, hi};
    double best_err = std::numeric_limits<double>::infinity();
    for (int i = kSteps; i >= 1; --i) {
        const float f = float(i) / kSteps;
        RealRange cand{lo * f, hi * f};
        if (spec.symmetric) {
            const float m = std::max(std::fabs(lo), std::fabs(hi)) * f;
            cand = {-m, m};
        }
        float scale;
        int32_t zp;
        params_from_range(cand, spec.bits, spec.symmetric, &scale, &zp, spec.codes);
        const double err = slice_mse(x, n, scale, zp, code_range(spec.bits, spec.symmetric, spec.codes));
        if (err < best_err) {  // strict: ties keep the wider range
            best_err = err;
            best = cand;
        }
    }
    return best;
}

}  // namespace

const char* range_rule_name(RangeRule rule) { return enum_name(kRuleNames, rule); }

Result<RangeRule> parse_range_rule(const std::string& name) {
    return enum_from_name(kRuleNames, name, "range rule: unknown '" + name + "', expected one of maxabs, meanstd, minmax, percentile, mse");
}

const char* symmetric_codes_name(SymmetricCodes codes) { return enum_name(kCodesNames, codes); }

Result<SymmetricCodes> parse_symmetric_codes(const std::string& name) {
    return enum_from_name(kCodesNames, name,
                          "codes: unknown '" + name + "', expected narrow (2^b-1 codes, the notebook's code) or full (2^b codes, its printed formula)");
}

const char* ste_rule_name(SteRule rule) { return enum_name(kSteNames, rule); }

Result<SteRule> parse_ste_rule(const std::string& name) {
    return enum_from_name(kSteNames, name, "STE rule: unknown '" + name + "', expected identity or clipped");
}

const char* quantizer_kind_name(QuantizerKind kind) { return enum_name(kQuantizerKindNames, kind); }

Result<QuantizerKind> parse_quantizer_kind(const std::string& name) {
    return enum_from_name(kQuantizerKindNames, name,
                          "quantizer: unknown '" + name + "', expected fixed (range rules), lsq (learned step size) or pact (learned clipping)");
}

Status validate(const QuantSpec& spec) {
    if (spec.bits < kMinBits || spec.bits > kMaxBits)
        return Status::error("quantizer: bits = " + std::to_string(spec.bits) + " is out of range, expected " +
                             std::to_string(kMinBits) + ".." + std::to_string(kMaxBits) + " (32 means float: do not quantize)");
    if (spec.rule == RangeRule::kMeanStd && !(std::isfinite(spec.k) && spec.k > 0))
        return Status::error("quantizer: meanstd needs k > 0 (a finite number of standard deviations), got " + std::to_string(spec.k));
    if (spec.rule == RangeRule::kPercentile && !(spec.percentile > 50 && spec.percentile <= 100))
        return Status::error("quantizer: percentile must be in (50, 100], got " + std::to_string(spec.percentile));
    return Status::success();
}

CodeRange code_range(int bits, bool symmetric, SymmetricCodes codes) {
    if (symmetric && codes == SymmetricCodes::kFull) {
        const int32_t h = int32_t(1) << (bits - 1);
        return {-h, h - 1, /*multiply_inverse=*/true};
    }
    if (symmetric) {
        const int32_t m = (int32_t(1) << (bits - 1)) - 1;
        return {-m, m};
    }
    return {0, (int32_t(1) << bits) - 1};
}

RealRange choose_range(const float* x, int64_t n, const QuantSpec& spec) {
    switch (spec.rule) {
        case RangeRule::kMaxAbs: {
            float m = 0;
            for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
            return {-m, m};
        }
        case RangeRule::kMinMax:
            return {*std::min_element(x, x + n), *std::max_element(x, x + n)};
        case RangeRule::kMeanStd: {
            double sum = 0;
            for (int64_t i = 0; i < n; ++i) sum += x[i];
            const double mean = sum / double(n);
            double ss = 0;
            for (int64_t i = 0; i < n; ++i) ss += (x[i] - mean) * (x[i] - mean);
            const double sd = n > 1 ? std::sqrt(ss / double(n - 1)) : 0.0;  // unbiased, as torch.std
            return {float(mean - spec.k * sd), float(mean + spec.k * sd)};
        }
        case RangeRule::kPercentile: {
            const double q = spec.percentile / 100.0;
            if (spec.symmetric) {
                std::vector<float> a(x, x + n);
                for (auto& v : a) v = std::fabs(v);
                std::sort(a.begin(), a.end());
                const float m = sorted_quantile(a, q);
                return {-m, m};
            }
            std::vector<float> s(x, x + n);
            std::sort(s.begin(), s.end());
            return {sorted_quantile(s, 1.0 - q), sorted_quantile(s, q)};
        }
        case RangeRule::kMse:
            return mse_range(x, n, spec);
    }
    return {};
}

void params_from_range(RealRange range, int bits, bool symmetric, float* scale, int32_t* zero_point, SymmetricCodes codes) {
    const CodeRange cr = code_range(bits, symmetric, codes);
    *zero_point = 0;
    if (symmetric && codes == SymmetricCodes::kFull) {
        // MinMaxObserver._calculate_qparams: max(-min(alpha, 0), max(beta, 0)) / ((qmax - qmin) / 2), at
        // least eps = FLT_EPSILON (so an all-zero slice gets S = eps, not 1). (qmax - qmin) / 2 = (2^b - 1) / 2
        // is exact in float.
        const float m = std::max(-std::min(range.alpha, 0.0f), std::max(range.beta, 0.0f));
        *scale = std::max(m / (float(cr.qmax - cr.qmin) / 2.0f), FLT_EPSILON);
        return;
    }
    if (symmetric) {
        const float m = std::max(std::fabs(range.alpha), std::fabs(range.beta));
        // 1 bit symmetric has the single level 0; S = m keeps the formula finite.
        *scale = m / float(std::max(cr.qmax, 1));
    } else {
        // The range must contain 0 so that zero (ReLU outputs, padding) is exact.
        const float lo = std::min(range.alpha, 0.0f), hi = std::max(range.beta, 0.0f);
        *scale = (hi - lo) / float(cr.qmax - cr.qmin);
        if (*scale > 0) {
            const float z = float(cr.qmin) - round_half_even(std::max(lo / *scale, -4194304.0f));
            *zero_point = int32_t(std::min(std::max(z, float(cr.qmin)), float(cr.qmax)));
        }
    }
    if (*scale == 0) {  // an all-zero slice: any S codes it to 0; 1 keeps r/S finite
        *scale = 1.0f;
        *zero_point = symmetric ? 0 : cr.qmin;
    } else if (*scale < FLT_MIN) {
        *scale = FLT_MIN;  // denormal scales make r/S overflow; values this small all code to 0 anyway
    }
}

QuantParams params_for_range(RealRange range, int bits, bool symmetric, SymmetricCodes codes) {
    QuantParams p;
    p.bits = bits;
    p.symmetric = symmetric;
    p.codes = codes;
    p.range = code_range(bits, symmetric, codes);
    p.scale.resize(1);
    p.zero_point.resize(1);
    p.alpha = {range.alpha};
    p.beta = {range.beta};
    params_from_range(range, bits, symmetric, &p.scale[0], &p.zero_point[0], codes);
    return p;
}

Result<QuantParams> compute_params(const float* x, const Shape& shape, const QuantSpec& spec) {
    if (Status s = validate(spec); !s) return s;
    const int64_t n = numel(shape);
    if (shape.empty() && spec.per_channel)
        return Status::error("quantizer: per-channel quantization needs at least 1 dimension, got a 0-d tensor");
    if (n <= 0) return Status::error("quantizer: empty tensor " + shape_str(shape) + ", nothing to quantize");
    for (int64_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i]))
            return Status::error("quantizer: value " + std::to_string(x[i]) + " at index " + std::to_string(i) +
                                 " is not finite; NaN/Inf cannot be quantized (check the weights or the input)");
    const int64_t channels = spec.per_channel ? shape[0] : 1;
    const int64_t cs = n / channels;
    std::vector<RealRange> ranges(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) ranges[size_t(c)] = choose_range(x + c * cs, cs, spec);
    return params_for_ranges(ranges, spec);
}

QuantParams params_for_ranges(const std::vector<RealRange>& ranges, const QuantSpec& spec) {
    const size_t channels = ranges.size();
    QuantParams p;
    p.bits = spec.bits;
    p.symmetric = spec.symmetric;
    p.codes = spec.codes;
    p.range = code_range(spec.bits, spec.symmetric, spec.codes);
    p.scale.resize(channels);
    p.zero_point.resize(channels);
    p.alpha.resize(channels);
    p.beta.resize(channels);
    for (size_t c = 0; c < channels; ++c) {
        p.alpha[c] = ranges[c].alpha;
        p.beta[c] = ranges[c].beta;
        params_from_range(ranges[c], spec.bits, spec.symmetric, &p.scale[c], &p.zero_point[c], spec.codes);
    }
    return p;
}

Result<QuantParams> compute_params(const Tensor& x, const QuantSpec& spec) {
    if (int64_t(x.data.size()) != numel(x.shape))
        return Status::error("quantizer: tensor data holds " + std::to_string(x.data.size()) + " values but shape " +
                             shape_str(x.shape) + " needs " + std::to_string(numel(x.shape)));
    return compute_params(x.data.data(), x.shape, spec);
}

std::vector<int32_t> quantize(const float* x, int64_t n, const QuantParams& p) {
    std::vector<int32_t> q(static_cast<size_t>(n));
    const int64_t channels = int64_t(p.scale.size()), cs = n / channels;
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = c * cs; i < (c + 1) * cs; ++i)
            q[size_t(i)] = quantize_value(x[i], p.scale[size_t(c)], p.zero_point[size_t(c)], p.range);
    return q;
}

std::vector<float> dequantize(const int32_t* q, int64_t n, const QuantParams& p) {
    std::vector<float> r(static_cast<size_t>(n));
    const int64_t channels = int64_t(p.scale.size()), cs = n / channels;
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = c * cs; i < (c + 1) * cs; ++i)
            r[size_t(i)] = dequantize_value(q[i], p.scale[size_t(c)], p.zero_point[size_t(c)]);
    return r;
}

void fake_quant(const float* x, float* out, int64_t n, const QuantParams& p) {
    const int64_t channels = int64_t(p.scale.size()), cs = n / channels;
    for (int64_t c = 0; c < channels; ++c) {
        const float s = p.scale[size_t(c)];
        const int32_t z = p.zero_point[size_t(c)];
        for (int64_t i = c * cs; i < (c + 1) * cs; ++i) out[i] = dequantize_value(quantize_value(x[i], s, z, p.range), s, z);
    }
}

Result<Tensor> fake_quant(const Tensor& x, const QuantSpec& spec) {
    Result<QuantParams> p = compute_params(x, spec);
    if (!p.ok()) return p.status;
    Tensor out(x.shape);
    fake_quant(x.data.data(), out.data.data(), x.numel(), p.value);
    return out;
}

namespace {
// Clipped means the rounded code fell outside [qmin, qmax] before the clamp: the mask of
// torch.fake_quantize_per_tensor_affine's backward, so the statistic and the clipped STE agree.
inline bool is_clipped(float r, float scale, int32_t zp, CodeRange range) {
    const float v = round_half_even(std::min(std::max(range.codes_of(r, scale), -4194304.0f), 4194304.0f)) + float(zp);
    return v < float(range.qmin) || v > float(range.qmax);
}
}  // namespace

QuantError quant_error(const float* x, const float* x_hat, int64_t n, const QuantParams& p) {
    QuantError e;
    if (n <= 0) return e;
    const int64_t channels = int64_t(p.scale.size()), cs = n / channels;
    double signal = 0, noise = 0;
    int64_t clipped = 0;
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = c * cs; i < (c + 1) * cs; ++i) {
            const double d = double(x[i]) - double(x_hat[i]);
            signal += double(x[i]) * double(x[i]);
            noise += d * d;
            e.max_abs_error = std::max(e.max_abs_error, std::fabs(d));
            clipped += is_clipped(x[i], p.scale[size_t(c)], p.zero_point[size_t(c)], p.range);
        }
    e.mse = noise / double(n);
    e.sqnr_db = noise > 0 ? 10.0 * std::log10(signal / noise) : std::numeric_limits<double>::infinity();
    e.clipped_fraction = double(clipped) / double(n);
    return e;
}

void ste_backward(const float* x, const float* grad_out, float* grad_in, int64_t n, const QuantParams& p, SteRule rule) {
    if (rule == SteRule::kIdentity) {
        std::copy(grad_out, grad_out + n, grad_in);
        return;
    }
    const int64_t channels = int64_t(p.scale.size()), cs = n / channels;
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = c * cs; i < (c + 1) * cs; ++i)
            grad_in[i] = is_clipped(x[i], p.scale[size_t(c)], p.zero_point[size_t(c)], p.range) ? 0.0f : grad_out[i];
}

// ---- learned step sizes ----

float learned_step(QuantizerKind kind, float param, CodeRange range) {
    const float s = kind == QuantizerKind::kPact ? param / float(std::max(range.qmax, int32_t(1))) : param;
    return s >= kMinLearnedStep ? s : kMinLearnedStep;  // also catches NaN
}

float learned_init(QuantizerKind kind, const float* x, int64_t n, CodeRange range) {
    double sum = 0;
    float m = 0;
    for (int64_t i = 0; i < n; ++i) {
        sum += std::fabs(double(x[i]));
        m = std::max(m, std::fabs(x[i]));
    }
    const double qp = double(std::max(range.qmax, int32_t(1)));
    const float v = kind == QuantizerKind::kPact ? m : float(2.0 * (sum / double(std::max<int64_t>(n, 1))) / std::sqrt(qp));
    return v > 0 && std::isfinite(v) ? v : 1.0f;
}

double lsq_grad_scale(int64_t numel, CodeRange range) {
    return 1.0 / std::sqrt(double(std::max<int64_t>(numel, 1)) * double(std::max(range.qmax, int32_t(1))));
}

void learned_fake_quant(const float* x, float* out, int64_t n, float step, CodeRange range) {
    const float lo = float(range.qmin), hi = float(range.qmax);
    for (int64_t i = 0; i < n; ++i) {
        float t = range.codes_of(x[i], step);
        if (!(t >= lo)) t = lo;
        if (t > hi) t = hi;
        out[i] = round_half_even(t) * step;
    }
}

double learned_backward(QuantizerKind kind, const float* x, const float* grad_out, float* grad_in, int64_t n, float param,
                        CodeRange range, double grad_scale) {
    const float step = learned_step(kind, param, range);
    const float raw = kind == QuantizerKind::kPact ? param / float(std::max(range.qmax, int32_t(1))) : param;
    const bool held = !(raw >= kMinLearnedStep);
    const float lo = float(range.qmin), hi = float(range.qmax);
    const double low_weight = kind == QuantizerKind::kPact ? double(range.qmin) / double(std::max(range.qmax, int32_t(1))) : double(range.qmin);
    const double high_weight = kind == QuantizerKind::kPact ? 1.0 : double(range.qmax);
    const float pact_lo = param * float(double(range.qmin) / double(std::max(range.qmax, int32_t(1))));  // -alpha (narrow)
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float t = range.codes_of(x[i], step);
        const double g = grad_out[i];
        bool below, above;
        if (kind == QuantizerKind::kPact) {  // on r against alpha itself: r = alpha (the first batch's max) is clipped
            below = x[i] <= pact_lo;          // in every engine, whatever r / S rounds to
            above = x[i] >= param;
        } else {
            below = t < lo;
            above = t > hi;
        }
        if (grad_in) grad_in[i] = below || above ? 0.0f : grad_out[i];
        if (below)
            sum += g * low_weight;
        else if (above)
            sum += g * high_weight;
        else if (kind == QuantizerKind::kLsq)
            sum += g * double(round_half_even(t) - t);
    }
    if (held) return 0.0;  // the step sits at its floor: no gradient moves the parameter (as torch's clamp_min)
    return kind == QuantizerKind::kLsq ? sum * grad_scale : sum;
}

QuantParams params_for_scale(float scale, int bits, SymmetricCodes codes) {
    QuantParams p;
    p.bits = bits;
    p.symmetric = true;
    p.codes = codes;
    p.range = code_range(bits, true, codes);
    p.scale = {scale};
    p.zero_point = {0};
    p.alpha = {scale * float(p.range.qmin)};
    p.beta = {scale * float(p.range.qmax)};
    return p;
}

}  // namespace quantlab
