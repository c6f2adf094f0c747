// quantizer.hpp: uniform quantization, the math contract of docs/DESIGN.md in plain C++.
//   q = clamp(round(r / S) + Z, qmin, qmax)   r_hat = S * (q - Z)   round = ties-to-even
// Range rules pick [alpha, beta]; symmetric mode then uses Z = 0 and |codes| <= 2^(b-1)-1 ("narrow", the
// notebook's code) or codes [-2^(b-1), 2^(b-1)-1] ("full", the notebook's printed formula and PyTorch's
// symmetric MinMaxObserver, which multiplies by 1/S); asymmetric mode uses codes [0, 2^b-1] and a zero
// point (PyTorch/ONNX sign; the notebook's Z is the negative).
// This file is the reference every other implementation (LibTorch, SIMD, integer) is tested against.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "status.hpp"
#include "tensor.hpp"

namespace quantlab {

constexpr int kMinBits = 1;
constexpr int kMaxBits = 16;

enum class RangeRule {
    kMaxAbs,      // notebook default: [min r, max r] (symmetric: +-max|r|)
    kMeanStd,     // notebook exercise: mean +- k*std (unbiased std, as torch.std)
    kMinMax,      // [min r, max r]; with symmetric=false this is the usual asymmetric min-max
    kPercentile,  // [P(100-p), P(p)] of r (symmetric: P(p) of |r|), linear interpolation as torch.quantile
    kMse,         // clipping threshold that minimises the fake-quant MSE (grid search)
};

const char* range_rule_name(RangeRule rule);                    // "maxabs", "meanstd", ...
Result<RangeRule> parse_range_rule(const std::string& name);   // inverse of range_rule_name

// The code range of a symmetric quantizer (asymmetric codes are always [0, 2^b-1]).
enum class SymmetricCodes {
    kNarrow,  // "narrow": [-(2^(b-1)-1), 2^(b-1)-1], 2^b - 1 codes, S = max|r| / (2^(b-1)-1), q = round(r / S):
              // what the notebook's code computes (QuantLab's default)
    kFull,    // "full": [-2^(b-1), 2^(b-1)-1], 2^b codes, S = max(2 max|r| / (2^b-1), FLT_EPSILON),
              // q = round(r * (1/S)): the notebook's printed S = (beta - alpha) / (2^b - 1) with alpha = -beta,
              // as torch.ao MinMaxObserver(qscheme=per_tensor_symmetric) + torch.quantize_per_tensor
};
const char* symmetric_codes_name(SymmetricCodes codes);                  // "narrow", "full"
Result<SymmetricCodes> parse_symmetric_codes(const std::string& name);   // inverse of symmetric_codes_name

struct QuantSpec {
    int bits = 8;
    RangeRule rule = RangeRule::kMaxAbs;
    bool symmetric = true;     // Z = 0 and codes +-(2^(b-1)-1); false: codes [0, 2^b-1] with a zero point
    SymmetricCodes codes = SymmetricCodes::kNarrow;  // symmetric only: narrow (default) or full codes
    bool per_channel = false;  // one (S, Z) per slice along axis 0 (output channels of a weight)
    double k = 3.0;            // kMeanStd: number of standard deviations
    double percentile = 99.99; // kPercentile: upper percentile in (50, 100]
};
inline bool operator==(const QuantSpec& a, const QuantSpec& b) {
    return a.bits == b.bits && a.rule == b.rule && a.symmetric == b.symmetric && a.codes == b.codes && a.per_channel == b.per_channel && a.k == b.k &&
           a.percentile == b.percentile;
}
inline bool operator!=(const QuantSpec& a, const QuantSpec& b) { return !(a == b); }

// Checks bits in [1,16], k > 0 and finite, percentile in (50,100]. Messages name the bad field.
Status validate(const QuantSpec& spec);

// Integer code range of a spec. Symmetric narrow: [-(2^(b-1)-1), 2^(b-1)-1] (1 bit: the single level 0);
// symmetric full: [-2^(b-1), 2^(b-1)-1]. Asymmetric: [0, 2^b-1].
struct CodeRange {
    int32_t qmin = 0;
    int32_t qmax = 0;
    // How r becomes r/S: false divides (the notebook's r / S), true multiplies by the float 1/S as
    // torch.quantize_per_tensor and fake_quantize_per_tensor_affine do (full codes). The two differ in the
    // last bit, which decides a code where r/S lands next to k + 0.5.
    bool multiply_inverse = false;
    int64_t levels() const { return int64_t(qmax) - qmin + 1; }
    float codes_of(float r, float scale) const { return multiply_inverse ? r * (1.0f / scale) : r / scale; }
};
CodeRange code_range(int bits, bool symmetric, SymmetricCodes codes = SymmetricCodes::kNarrow);

// Quantization parameters: one entry per channel (axis 0), or one entry for per-tensor.
struct QuantParams {
    int bits = 8;
    bool symmetric = true;
    SymmetricCodes codes = SymmetricCodes::kNarrow;
    CodeRange range;
    std::vector<float> scale;        // S > 0 always (an all-zero slice gets S = 1 so it codes to 0 exactly)
    std::vector<int32_t> zero_point; // Z, PyTorch/ONNX sign; 0 when symmetric
    std::vector<float> alpha, beta;  // the real range the rule chose (before symmetrisation)
    bool per_channel() const { return scale.size() > 1; }
};

// The real clipping range [alpha, beta] a rule picks for values x[0..n). n must be > 0 and values finite.
struct RealRange {
    float alpha = 0, beta = 0;
};
RealRange choose_range(const float* x, int64_t n, const QuantSpec& spec);

// S and Z for one slice with range [alpha, beta], as the contract defines them.
void params_from_range(RealRange range, int bits, bool symmetric, float* scale, int32_t* zero_point,
                       SymmetricCodes codes = SymmetricCodes::kNarrow);

// Computes parameters for a tensor (per-channel splits along axis 0). Fails on an invalid spec, an empty
// tensor, a NaN/Inf value (message gives its index), or per-channel on a 0-d tensor.
Result<QuantParams> compute_params(const Tensor& x, const QuantSpec& spec);
Result<QuantParams> compute_params(const float* x, const Shape& shape, const QuantSpec& spec);

// Parameters for an already known range (static / calibrated activations).
QuantParams params_for_range(RealRange range, int bits, bool symmetric, SymmetricCodes codes = SymmetricCodes::kNarrow);
// Parameters for spec's bits and codes from ranges chosen already, one per channel (or one per tensor): how
// compute_params (and compute_params_fast) turn their rule's ranges into parameters.
QuantParams params_for_ranges(const std::vector<RealRange>& ranges, const QuantSpec& spec);

// Elementwise ops for one slice. Pure functions of (r, S, Z, qmin, qmax): the same code runs in every front end.
inline int32_t quantize_value(float r, float scale, int32_t zero_point, CodeRange range);
inline float dequantize_value(int32_t q, float scale, int32_t zero_point) { return scale * float(q - zero_point); }

// Whole-tensor ops. `channel_size` = numel / channels; per-tensor params use channel_size = numel.
std::vector<int32_t> quantize(const float* x, int64_t n, const QuantParams& p);
std::vector<float> dequantize(const int32_t* q, int64_t n, const QuantParams& p);
void fake_quant(const float* x, float* out, int64_t n, const QuantParams& p);
Result<Tensor> fake_quant(const Tensor& x, const QuantSpec& spec);  // compute_params + fake_quant

// Error statistics of r_hat against r.
struct QuantError {
    double mse = 0;
    double sqnr_db = 0;         // 10 log10(sum r^2 / sum (r - r_hat)^2); +inf when exact
    double clipped_fraction = 0;  // share of values outside the representable range [S(qmin-Z), S(qmax-Z)]
    double max_abs_error = 0;
};
QuantError quant_error(const float* x, const float* x_hat, int64_t n, const QuantParams& p);

// STE backward rules: gradient of r_hat with respect to r.
enum class SteRule {
    kIdentity,  // the notebook's: dL/dr = dL/dr_hat everywhere
    kClipped,   // identity inside the representable range, 0 where r was clipped
};
const char* ste_rule_name(SteRule rule);
Result<SteRule> parse_ste_rule(const std::string& name);
// grad_in[i] = ste'(x[i]) * grad_out[i]
void ste_backward(const float* x, const float* grad_out, float* grad_in, int64_t n, const QuantParams& p, SteRule rule);

// ---- learned step sizes (QAT: `quantlab train --quantizer lsq|pact`) ----
// A per-tensor symmetric quantizer (Z = 0, the spec's code range [qmin, qmax] = [-Qn, Qp]) whose step S is trained:
//   r_hat = S * round(clamp(t, qmin, qmax)),  t = codes_of(r, S) (r / S; full codes r * (1/S), as fake_quant does,
//   so core's inference with the exported S gives the same values), round = ties-to-even.
// LSQ (Esser et al. 2019) trains S itself:
//   dL/dr = dL/dr_hat where qmin <= t <= qmax, else 0
//   dL/dS = g * sum dL/dr_hat * (round(t) - t inside; qmin below; qmax above),  g = 1 / sqrt(numel * Qp)
//   (numel: a weight's elements; an activation's features per image, as in the paper).
// PACT (Choi et al. 2018) trains a clipping level alpha, S = alpha / Qp (activations only; weights keep max-abs):
//   dL/dr = dL/dr_hat where alpha qmin / Qp < r < alpha, else 0
//   dL/dalpha = sum dL/dr_hat * (1 where r >= alpha; qmin / Qp where r <= alpha qmin / Qp; 0 inside)
//   (compared on r, not on t: the first batch's max|r| = alpha is clipped in every engine, whatever r / S rounds to).
//   PACT clips ReLU outputs to [0, alpha]; our activations are signed with symmetric codes, so this is the
//   sign-aware generalisation: r <= -alpha pulls alpha the other way (narrow codes: qmin / Qp = -1; full codes
//   clip at -Qn S = -alpha Qn / Qp, weight -Qn / Qp). Inside the range PACT's STE ignores the rounding.
// S is held at >= kMinLearnedStep (a step pushed to 0 or below by a large learning rate), with no gradient there.
enum class QuantizerKind {
    kFixed,  // the range rules above, S computed from the tensor (the notebook's, QuantLab's default)
    kLsq,    // learned step size for every quantized weight and input activation
    kPact,   // learned clipping level for every quantized input activation; weights keep the fixed rule
};
const char* quantizer_kind_name(QuantizerKind kind);              // "fixed", "lsq", "pact"
Result<QuantizerKind> parse_quantizer_kind(const std::string& name);

constexpr float kMinLearnedStep = 1e-8f;
// The step S of a learned parameter: LSQ the parameter, PACT alpha / Qp (float division); at least kMinLearnedStep.
float learned_step(QuantizerKind kind, float param, CodeRange range);
// The parameter's starting value from the tensor it quantizes (weights: the loaded weights; activations: the
// first training batch): LSQ S = 2 mean|x| / sqrt(Qp) (the paper's); PACT alpha = max|x|, so the first step
// quantizes exactly as the fixed max-abs rule would. A tensor of zeros gives 1. n must be > 0.
float learned_init(QuantizerKind kind, const float* x, int64_t n, CodeRange range);
// LSQ's gradient scale g = 1 / sqrt(numel * Qp).
double lsq_grad_scale(int64_t numel, CodeRange range);
// out[i] = r_hat(x[i]) for step S (out may be x).
void learned_fake_quant(const float* x, float* out, int64_t n, float step, CodeRange range);
// The backward for parameter value `param` (kLsq or kPact): grad_in[i] = dL/dx[i] (nullptr: not wanted);
// returns dL/dparam (LSQ: times grad_scale), summed in double in index order.
double learned_backward(QuantizerKind kind, const float* x, const float* grad_out, float* grad_in, int64_t n, float param,
                        CodeRange range, double grad_scale);
// QuantParams of a known per-tensor symmetric step (exported learned scales): Z = 0, the spec's code range.
QuantParams params_for_scale(float scale, int bits, SymmetricCodes codes = SymmetricCodes::kNarrow);

// ---- inline definitions ----
// Ties-to-even rounding for |t| < 2^22: adding 1.5*2^23 moves t into the range where the float ulp is 1,
// so the FPU's default round-to-nearest-even does the rounding. Same result as std::nearbyint (and
// torch.round) but inlined everywhere, including wasm and builds without SSE4.1.
inline float round_half_even(float t) {
    // IEEE arithmetic forbids folding (t + big) - big to t; never build core with -ffast-math.
    constexpr float kBig = 12582912.0f;
    return (t + kBig) - kBig;
}

inline int32_t quantize_value(float r, float scale, int32_t zero_point, CodeRange range) {
    // Narrow codes divide (the notebook's torch.round(r / S)); full codes multiply by 1/S as
    // torch.quantize_per_tensor does. The two differ in the last bit near .5 ties.
    float t = range.codes_of(r, scale);
    // Clamp before rounding: the bounds are integers, so this equals clamp(round(t) + Z) and keeps
    // t small enough for round_half_even. `!(t >= lo)` also sends a NaN to qmin instead of UB.
    const float lo = float(range.qmin - zero_point), hi = float(range.qmax - zero_point);
    if (!(t >= lo)) t = lo;
    if (t > hi) t = hi;
    return int32_t(round_half_even(t)) + zero_point;
}

}  // namespace quantlab
