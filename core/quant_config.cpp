// quant_config.cpp: QuantConfig construction and checks (see quant_config.hpp).
#include "core/quant_config.hpp"

#include <cmath>

#include "core/enum_names.hpp"

namespace quantlab {

namespace {
constexpr EnumName<ActMode> kActModeNames[] = {{ActMode::kDynamic, "dynamic"}, {ActMode::kStatic, "static"}};
}  // namespace

const char* act_mode_name(ActMode mode) { return enum_name(kActModeNames, mode); }

Result<ActMode> parse_act_mode(const std::string& name) {
    return enum_from_name(kActModeNames, name,
                          "activation mode: unknown '" + name + "', expected dynamic (per batch) or static (calibrated)");
}

int uniform_bits(const QuantConfig& config, bool weight) {
    if (config.layers.empty()) return kFloatBits;
    const int b = weight ? config.layers.front().weight.bits : config.layers.front().act.bits;
    for (const LayerQuant& l : config.layers)
        if ((weight ? l.weight.bits : l.act.bits) != b) return 0;
    return b;
}

QuantConfig make_config(const NetworkDesc& net, int weight_bits, int act_bits, ActMode mode) {
    QuantConfig c;
    c.act_mode = mode;
    for (size_t i = 0; i < net.quant_layers().size(); ++i) {
        LayerQuant l;
        l.weight.bits = weight_bits;
        l.act.bits = act_bits;
        c.layers.push_back(l);
    }
    return c;
}

void apply_rule(QuantConfig* config, const QuantSpec& setting) {
    for (LayerQuant& l : config->layers) {
        for (QuantSpec* s : {&l.weight, &l.act}) {
            s->rule = setting.rule;
            s->symmetric = setting.symmetric;
            s->codes = setting.codes;
            s->k = setting.k;
            s->percentile = setting.percentile;
        }
        l.weight.per_channel = setting.per_channel;
    }
}

Status validate(const QuantConfig& config, const NetworkDesc& net) {
    const size_t nq = net.quant_layers().size();
    if (config.layers.size() != nq)
        return Status::error("quant config: " + std::to_string(config.layers.size()) + " layer settings for a network with " + std::to_string(nq) + " conv/linear layers");
    for (size_t i = 0; i < nq; ++i) {
        const LayerQuant& l = config.layers[i];
        const std::string who = "quant config: layer " + net.layers[size_t(net.quant_layers()[i])].name;
        for (const QuantSpec* s : {&l.weight, &l.act})
            if (quantized(*s))
                if (Status st = validate(*s); !st) return Status::error(who + (s == &l.weight ? " weight: " : " activation: ") + st.message);
        if (quantized(l.act) && l.act.per_channel) return Status::error(who + ": per-channel activations are not supported (per-tensor only)");
    }
    for (const std::vector<float>* v : {&config.weight_scales, &config.act_scales}) {
        const char* what = v == &config.weight_scales ? "weight_scales" : "act_scales";
        if (!v->empty() && v->size() != nq)
            return Status::error(std::string("quant config: ") + what + " needs one value per layer (" + std::to_string(nq) + "), got " +
                                 std::to_string(v->size()));
        for (size_t i = 0; i < v->size(); ++i) {
            const float s = (*v)[i];
            if (s == 0) continue;
            const QuantSpec& spec = v == &config.weight_scales ? config.layers[i].weight : config.layers[i].act;
            const std::string who = "quant config: layer " + net.layers[size_t(net.quant_layers()[i])].name + " " + what;
            if (!(s > 0) || !std::isfinite(s)) return Status::error(who + ": a learned scale must be a positive finite number, got " + std::to_string(s));
            // An input's learned step may use unsigned codes (Z = 0; core/train/learned_params.hpp: after a ReLU).
            const bool weight = v == &config.weight_scales;
            if (quantized(spec) && (spec.per_channel || (weight && !spec.symmetric)))
                return Status::error(who + (weight ? ": a learned scale needs a symmetric per-tensor quantizer" : ": a learned scale needs a per-tensor quantizer"));
        }
    }
    if (config.act_mode == ActMode::kStatic) {
        if (config.act_ranges.size() != nq)
            return Status::error("quant config: static activations need a calibrated range for each of the " + std::to_string(nq) +
                                 " layers, got " + std::to_string(config.act_ranges.size()) + " (calibrate first, or use dynamic)");
        for (const RealRange& r : config.act_ranges)
            if (!std::isfinite(r.alpha) || !std::isfinite(r.beta) || r.alpha > r.beta)
                return Status::error("quant config: a calibrated activation range is not a finite interval");
    }
    return Status::success();
}

namespace {
// A learned step S as QuantParams: Z = 0 with the spec's symmetric codes, or unsigned codes [0, 2^b - 1] where the
// spec is asymmetric (a learned input after a ReLU), so inference quantizes exactly as training did.
QuantParams learned_params(float scale, const QuantSpec& spec) {
    QuantParams p = params_for_scale(scale, spec.bits, spec.codes);
    if (!spec.symmetric) {
        p.symmetric = false;
        p.range = code_range(spec.bits, false);
        p.alpha = {0.0f};
        p.beta = {scale * float(p.range.qmax)};
    }
    return p;
}
}  // namespace

bool learned_weight_params(const QuantConfig& config, size_t i, QuantParams* p) {
    if (i >= config.weight_scales.size() || !(config.weight_scales[i] > 0) || !quantized(config.layers[i].weight)) return false;
    *p = learned_params(config.weight_scales[i], config.layers[i].weight);
    return true;
}

bool learned_act_params(const QuantConfig& config, size_t i, QuantParams* p) {
    if (config.act_mode != ActMode::kStatic || i >= config.act_scales.size() || !(config.act_scales[i] > 0) || !quantized(config.layers[i].act))
        return false;
    *p = learned_params(config.act_scales[i], config.layers[i].act);
    return true;
}

}  // namespace quantlab
