// learned_params.cpp: names, creation and export of the learned quantizer parameters (learned_params.hpp).
#include "core/train/learned_params.hpp"

namespace quantlab {

namespace {
const std::string& layer_name(const NetworkDesc& net, size_t q) { return net.layers[size_t(net.quant_layers()[q])].name; }
}  // namespace

bool learns_weight(const QuantConfig& config, size_t q, QuantizerKind kind) {
    return kind == QuantizerKind::kLsq && q < config.layers.size() && quantized(config.layers[q].weight);
}

bool learns_act(const QuantConfig& config, size_t q, QuantizerKind kind) {
    return kind != QuantizerKind::kFixed && q < config.layers.size() && quantized(config.layers[q].act);
}

std::string learned_param_name(const std::string& layer, bool weight, QuantizerKind kind) {
    if (weight) return layer + ".weight_scale";
    return layer + (kind == QuantizerKind::kPact ? ".act_alpha" : ".act_scale");
}

bool input_nonnegative(const NetworkDesc& net, size_t q) {
    const std::vector<int> ql = net.quant_layers();
    if (q >= ql.size()) return false;
    for (int i = ql[q] - 1; i >= 0; --i) {
        const LayerKind k = net.layers[size_t(i)].kind;
        if (k == LayerKind::kReLU) return true;
        if (k != LayerKind::kMaxPool2d && k != LayerKind::kFlatten) return false;  // max and reshape keep the sign
    }
    return false;  // the network's input
}

QuantConfig with_learned_codes(QuantConfig config, const NetworkDesc& net, QuantizerKind kind) {
    for (size_t q = 0; q < config.layers.size() && q < net.quant_layers().size(); ++q)
        if (learns_act(config, q, kind) && input_nonnegative(net, q)) config.layers[q].act.symmetric = false;
    return config;
}

Status check_learned(const NetworkDesc& net, const QuantConfig& config, QuantizerKind kind) {
    if (kind == QuantizerKind::kFixed) return Status::success();
    const std::string who = std::string("--quantizer ") + quantizer_kind_name(kind);
    bool any = false;
    for (size_t q = 0; q < config.layers.size() && q < net.quant_layers().size(); ++q)
        for (bool weight : {true, false}) {
            if (!(weight ? learns_weight(config, q, kind) : learns_act(config, q, kind))) continue;
            any = true;
            const QuantSpec& s = weight ? config.layers[q].weight : config.layers[q].act;
            const std::string what = layer_name(net, q) + (weight ? " weight" : " input");
            if (!s.symmetric && (weight || !input_nonnegative(net, q)))
                return Status::error(who + ": learns a symmetric step (unsigned only after a ReLU), but " + what + " is asymmetric (drop --asymmetric)");
            if (s.per_channel) return Status::error(who + ": learns one step per tensor, but " + what + " is per-channel (drop --per-channel)");
        }
    if (!any)
        return Status::error(who + ": nothing to learn: the " +
                             std::string(kind == QuantizerKind::kPact ? "activations are" : "weights and activations are") +
                             " float (give bits, e.g. --bits 4, or use --quantizer fixed)");
    return Status::success();
}

StateDict make_learned_params(const NetworkDesc& net, const QuantConfig& config, QuantizerKind kind) {
    StateDict sd;
    for (size_t q = 0; q < config.layers.size() && q < net.quant_layers().size(); ++q) {
        if (learns_weight(config, q, kind)) sd.set(learned_param_name(layer_name(net, q), true, kind), Tensor(Shape{1}));
        if (learns_act(config, q, kind)) sd.set(learned_param_name(layer_name(net, q), false, kind), Tensor(Shape{1}));
    }
    return sd;
}

std::vector<LayerSteps> learned_steps(const NetworkDesc& net, const QuantConfig& config, QuantizerKind kind, const StateDict& params) {
    std::vector<LayerSteps> out;
    for (size_t q = 0; q < config.layers.size() && q < net.quant_layers().size(); ++q) {
        LayerSteps l;
        l.layer = layer_name(net, q);
        for (bool weight : {true, false}) {
            if (!(weight ? learns_weight(config, q, kind) : learns_act(config, q, kind))) continue;
            const Tensor* t = params.find(learned_param_name(l.layer, weight, kind));
            if (!t || t->data.empty() || !(t->data[0] > 0)) continue;
            const QuantSpec& spec = weight ? config.layers[q].weight : config.layers[q].act;
            (weight ? l.weight : l.act) = learned_step(kind, t->data[0], code_range(spec.bits, spec.symmetric, spec.codes));
        }
        out.push_back(l);
    }
    return out;
}

Result<QuantConfig> with_learned_scales(QuantConfig config, const NetworkDesc& net, QuantizerKind kind, const StateDict& params) {
    if (kind == QuantizerKind::kFixed) return config;
    const size_t nq = config.layers.size();
    config.weight_scales.assign(nq, 0.0f);
    config.act_scales.assign(nq, 0.0f);
    for (size_t q = 0; q < nq && q < net.quant_layers().size(); ++q)
        for (bool weight : {true, false}) {
            if (!(weight ? learns_weight(config, q, kind) : learns_act(config, q, kind))) continue;
            const std::string name = learned_param_name(layer_name(net, q), weight, kind);
            const Tensor* t = params.find(name);
            if (!t || t->data.empty() || !(t->data[0] > 0))
                return Status::error("export: the learned quantizer parameter " + name + " is missing or was never set (train at least one step)");
            const QuantSpec& spec = weight ? config.layers[q].weight : config.layers[q].act;
            (weight ? config.weight_scales : config.act_scales)[q] = learned_step(kind, t->data[0], code_range(spec.bits, spec.symmetric, spec.codes));
        }
    config.act_ranges.resize(nq);
    config.act_mode = ActMode::kStatic;
    for (size_t q = 0; q < nq; ++q)
        if (config.act_scales[q] > 0) {
            const CodeRange r = code_range(config.layers[q].act.bits, config.layers[q].act.symmetric, config.layers[q].act.codes);
            config.act_ranges[q] = {config.act_scales[q] * float(r.qmin), config.act_scales[q] * float(r.qmax)};
        }
    bool any_weight = false;
    for (float s : config.weight_scales) any_weight = any_weight || s > 0;
    if (!any_weight) config.weight_scales.clear();  // PACT: weights keep their rule
    return config;
}

}  // namespace quantlab
