// sensitivity.hpp: which layer breaks? Accuracy when only layer L is quantized at b bits (the others float),
// and the reverse, every layer at b bits except L kept at 8: per weights, activations or both. The cases are
// plain QuantConfigs (so the UI can evaluate them incrementally on its own service) and one function runs
// them all with core's batched kernels (`quantlab sensitivity`).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/inference.hpp"
#include "core/quant_config.hpp"

namespace quantlab {

enum class SensitivityPart { kWeights, kActivations, kBoth };  // which of a layer's tensors a case quantizes
enum class SensitivityMode {
    kOnly,    // layer L alone quantized at b bits, every other layer float
    kAllBut,  // every layer at b bits except L, kept at keep_bits (8): what protecting L buys back
};
const char* sensitivity_part_name(SensitivityPart part);  // "weights", "activations", "both"
Result<SensitivityPart> parse_sensitivity_part(const std::string& name);
const char* sensitivity_mode_name(SensitivityMode mode);  // "only", "all-but"

struct SensitivityCase {
    SensitivityMode mode = SensitivityMode::kOnly;
    SensitivityPart part = SensitivityPart::kBoth;
    int bits = kFloatBits;
    int layer = -1;  // index among conv/linear layers; -1: a baseline (float, or every layer at `bits`)
    QuantConfig config;
};

// The cases for `bits` x `parts`: first the float baseline, then per (part, bits) the uniform baseline (every
// layer at b, layer -1, mode kAllBut), each layer alone (kOnly) and each layer kept at keep_bits (kAllBut).
// `base` gives the rule, symmetry, per-channel and activation mode of every case (its bits are ignored).
std::vector<SensitivityCase> sensitivity_cases(const NetworkDesc& net, const QuantConfig& base, const std::vector<int>& bits,
                                               const std::vector<SensitivityPart>& parts, int keep_bits = 8);

// The cases for a mixed setting (the network view's "Which layer breaks?"): per conv/linear layer q of
// `current`, first every q alone at its current weight and activation bits with every other layer float (kOnly),
// then every q with every other layer at its current bits and q kept at keep_bits (kAllBut), 2 x layers cases,
// no baselines (float and `current` itself are the references). Kept means at least keep_bits: a tensor of q
// already wider (or float) keeps its bits. Each case's `bits` is q's current weight bits, its part kBoth; rule,
// symmetry, per-channel and activation mode come from `current`, whose calibrated ranges are dropped.
std::vector<SensitivityCase> sensitivity_cases_for(const QuantConfig& current, int keep_bits = 8);

struct SensitivityRow {
    SensitivityCase c;
    EvalResult result;
};

// Evaluates every case on `data` in file order (as `quantlab eval`); static cases are calibrated on
// calib_x (calib_n images) first. model ends configured as it started. progress(done, total) counts cases.
Result<std::vector<SensitivityRow>> run_sensitivity(Model& model, const Cifar10& data, const std::vector<SensitivityCase>& cases,
                                                    int64_t batch, Backend backend, const float* calib_x, int64_t calib_n,
                                                    const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace quantlab
