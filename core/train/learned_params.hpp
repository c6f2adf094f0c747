// learned_params.hpp: the trained quantizer parameters of `--quantizer lsq|pact` (the learned step sizes of
// core/quantizer.hpp) as a named set that both training engines keep beside the weights, one 1-element tensor each:
//   "<layer>.weight_scale"  LSQ: the weight's step S      "<layer>.act_scale"  LSQ: the input's step S
//   "<layer>.act_alpha"     PACT: the input's clipping level alpha (S = alpha / Qp; PACT weights keep max-abs)
// A value of 0 means "not set yet": the first training step sets it from the tensor it quantizes (init rule in
// quantizer.hpp, learned_init). Not part of the model's state_dict: the export turns them into the QuantConfig's
// weight_scales / act_scales (quant_config.hpp), which inference applies exactly.
#pragma once
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "core/quantizer.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab {

// Whether layer q's weight / input gets a learned parameter under `kind` (quantized, and the weight only for LSQ).
bool learns_weight(const QuantConfig& config, size_t q, QuantizerKind kind);
bool learns_act(const QuantConfig& config, size_t q, QuantizerKind kind);
std::string learned_param_name(const std::string& layer, bool weight, QuantizerKind kind);
// Whether `config` can be trained with `kind`: a learned quantizer needs at least one quantized tensor (bits),
// symmetric codes and per-tensor scales on what it learns. The message names the layer and the flag to change.
Status check_learned(const NetworkDesc& net, const QuantConfig& config, QuantizerKind kind);

// Every parameter `config` needs under `kind` (kFixed: none), all 0 (not set), in network order, weight first.
StateDict make_learned_params(const NetworkDesc& net, const QuantConfig& config, QuantizerKind kind);

// Each conv/linear layer's current steps S (0 where not learned or not set yet): what TrainProgress reports.
struct LayerSteps {
    std::string layer;
    float weight = 0, act = 0;
};
std::vector<LayerSteps> learned_steps(const NetworkDesc& net, const QuantConfig& config, QuantizerKind kind, const StateDict& params);

// `config` with weight_scales / act_scales set from the parameters, in static mode with act_ranges [S qmin, S qmax]
// for the learned inputs (others keep theirs, or [0, 0]): a config core's inference runs as the trainer computes.
// kFixed returns config unchanged. Fails naming the parameter when one is missing or not set yet.
Result<QuantConfig> with_learned_scales(QuantConfig config, const NetworkDesc& net, QuantizerKind kind, const StateDict& params);

}  // namespace quantlab
