// quant_config.hpp: how a whole network is quantized: one weight spec and one activation spec per conv/linear
// layer (LayerQuant), the activation mode (ranges per batch, or calibrated and frozen) and the calibrated
// ranges. Plain data plus its checks; the Model that runs it is inference.hpp, its JSON form quant_config_io.hpp.
#pragma once
#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/quantizer.hpp"
#include "core/status.hpp"

namespace quantlab {

constexpr int kFloatBits = 32;  // a bit width of 32 means "not quantized" everywhere in QuantLab

// Whether a spec quantizes at all (kFloatBits keeps the tensor float).
inline bool quantized(const QuantSpec& s) { return s.bits != kFloatBits; }

struct LayerQuant {
    QuantSpec weight;  // weight.bits == kFloatBits keeps the weight float
    QuantSpec act;     // the layer's input activation; act.per_channel is not supported
};

enum class ActMode {
    kDynamic,  // the notebook's: the activation range is recomputed over every batch
    kStatic,   // a calibrated range per layer, frozen: an image's result no longer depends on its batch
};
const char* act_mode_name(ActMode mode);
Result<ActMode> parse_act_mode(const std::string& name);

struct QuantConfig {
    std::vector<LayerQuant> layers;     // one per conv/linear layer, in network order
    ActMode act_mode = ActMode::kDynamic;
    std::vector<RealRange> act_ranges;  // kStatic: calibrated input range of each layer
    // Steps learned in QAT (--quantizer lsq/pact), exported so that inference uses them exactly: empty, or one per
    // layer with 0 = none. weight_scales[i] > 0 fixes layer i's weight S (per tensor, symmetric, Z = 0) instead of
    // its rule; act_scales[i] > 0 fixes its input's S in kStatic mode instead of params_for_range(act_ranges[i])
    // (act_ranges then holds [S qmin, S qmax] for display). Dynamic mode ignores act_scales.
    std::vector<float> weight_scales, act_scales;
};

// The same bits for every layer (32 = float), max-abs symmetric per-tensor: the notebook's quantizer.
QuantConfig make_config(const NetworkDesc& net, int weight_bits, int act_bits, ActMode mode = ActMode::kDynamic);
Status validate(const QuantConfig& config, const NetworkDesc& net);
// The weight (or activation) bits every layer shares; 0 when they differ by layer (mixed precision); kFloatBits
// for a config without layers.
int uniform_bits(const QuantConfig& config, bool weight);
// One quantizer for the whole network (the command line's, the network view's and the training panel's rule
// options): every layer's weight and activation get setting's range rule, symmetry, codes, k and percentile, and the
// weights its per_channel (activations stay per-tensor). Bits are left as they are (setting.bits is unused).
void apply_rule(QuantConfig* config, const QuantSpec& setting);
// The fixed weight parameters of layer i when the config carries a learned weight scale for it, else nullptr-like:
// returns true and fills *p. Activations: the same for static mode's learned act scale.
bool learned_weight_params(const QuantConfig& config, size_t i, QuantParams* p);
bool learned_act_params(const QuantConfig& config, size_t i, QuantParams* p);

}  // namespace quantlab
