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
// Whether layer q's input is never negative: the nearest layer before it, past max pools and flattens, is a ReLU
// (in the notebook's net: the inputs of conv2, fc1, fc2 and fc3; conv1's is the normalised image).
bool input_nonnegative(const NetworkDesc& net, size_t q);
// `config` as a learned quantizer trains it: every learned input that is never negative gets unsigned codes
// [0, 2^b - 1] with Z = 0 (its spec's symmetric = false), as LSQ (Esser et al. 2019) and PACT quantize activations
// after a ReLU. Symmetric codes would give such an input only its non-negative half: at 2 bits the values 0 and S,
// where unsigned codes give 0, S, 2S and 3S. Weights and signed inputs keep symmetric codes. kFixed: unchanged.
// Both engines apply this when a run starts; every learned step then takes its codes from its spec
// (code_range(bits, spec.symmetric, codes)), and the exported config carries them to inference.
QuantConfig with_learned_codes(QuantConfig config, const NetworkDesc& net, QuantizerKind kind);
// Whether `config` can be trained with `kind`: a learned quantizer needs at least one quantized tensor (bits),
// symmetric codes (unsigned ones only on an input that is never negative) and per-tensor scales on what it learns.
// The message names the layer and the flag to change.
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
