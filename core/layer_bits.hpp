// layer_bits.hpp: per-layer bit widths written as text ("conv1=8,fc3=8" or "conv1=8:4" for weights:activations),
// the form `quantlab train/eval/sweep --layer-bits` and the sensitivity and mixed-precision tools share.
#pragma once
#include <string>

#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "core/status.hpp"

namespace quantlab {

// A bit width QuantLab runs: kMinBits..kMaxBits, or kFloatBits (float).
bool valid_bits(int bits);

// Sets the named layers' weight and activation bits in *config; every other layer keeps its bits. Errors name
// `who` (e.g. "--layer-bits"), the item and, for an unknown layer, the layers there are. Empty text: no change.
Status apply_layer_bits(QuantConfig* config, const NetworkDesc& net, const std::string& text,
                        const std::string& who = "--layer-bits");

// The inverse for display and files: the layers whose bits differ from (weight_bits, act_bits), as
// "conv1=8,fc3=8:4"; "" when every layer has them.
std::string layer_bits_text(const QuantConfig& config, const NetworkDesc& net, int weight_bits, int act_bits);

}  // namespace quantlab
