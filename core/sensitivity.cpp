// sensitivity.cpp: the per-layer sensitivity cases and their evaluation.
#include "core/sensitivity.hpp"

#include "core/enum_names.hpp"

namespace quantlab {

namespace {
constexpr EnumName<SensitivityPart> kPartNames[] = {
    {SensitivityPart::kWeights, "weights"}, {SensitivityPart::kActivations, "activations"}, {SensitivityPart::kBoth, "both"}};
constexpr EnumName<SensitivityMode> kModeNames[] = {{SensitivityMode::kOnly, "only"}, {SensitivityMode::kAllBut, "all-but"}};

// Sets layer q's tensors that `part` names to `bits`.
void set_bits(LayerQuant* l, SensitivityPart part, int bits) {
    if (part != SensitivityPart::kActivations) l->weight.bits = bits;
    if (part != SensitivityPart::kWeights) l->act.bits = bits;
}

QuantConfig with_bits(const QuantConfig& base, int bits) {
    QuantConfig c = base;
    for (LayerQuant& l : c.layers) l.weight.bits = l.act.bits = bits;
    c.act_ranges.clear();  // ranges of another setting do not apply: static cases are calibrated anew
    return c;
}
}  // namespace

const char* sensitivity_part_name(SensitivityPart part) { return enum_name(kPartNames, part); }
const char* sensitivity_mode_name(SensitivityMode mode) { return enum_name(kModeNames, mode); }
Result<SensitivityPart> parse_sensitivity_part(const std::string& name) {
    return enum_from_name(kPartNames, name, "unknown part '" + name + "' (use weights, activations or both)");
}

std::vector<SensitivityCase> sensitivity_cases(const NetworkDesc& net, const QuantConfig& base, const std::vector<int>& bits,
                                               const std::vector<SensitivityPart>& parts, int keep_bits) {
    const int layers = int(net.quant_layers().size());
    const QuantConfig float_config = with_bits(base, kFloatBits);
    std::vector<SensitivityCase> cases;
    cases.push_back({SensitivityMode::kOnly, SensitivityPart::kBoth, kFloatBits, -1, float_config});
    for (SensitivityPart part : parts)
        for (int b : bits) {
            QuantConfig uniform = float_config;
            for (LayerQuant& l : uniform.layers) set_bits(&l, part, b);
            cases.push_back({SensitivityMode::kAllBut, part, b, -1, uniform});
            for (int q = 0; q < layers; ++q) {
                QuantConfig only = float_config;
                set_bits(&only.layers[size_t(q)], part, b);
                cases.push_back({SensitivityMode::kOnly, part, b, q, only});
            }
            for (int q = 0; q < layers; ++q) {
                QuantConfig all_but = uniform;
                set_bits(&all_but.layers[size_t(q)], part, keep_bits);
                cases.push_back({SensitivityMode::kAllBut, part, b, q, all_but});
            }
        }
    return cases;
}

std::vector<SensitivityCase> sensitivity_cases_for(const QuantConfig& current, int keep_bits) {
    const int layers = int(current.layers.size());
    const QuantConfig float_config = with_bits(current, kFloatBits);
    QuantConfig all = current;
    all.act_ranges.clear();
    // Kept at keep_bits, unless the tensor is wider already (float counts as widest).
    auto kept = [&](int bits) { return bits == kFloatBits || bits > keep_bits ? bits : keep_bits; };
    std::vector<SensitivityCase> cases;
    for (int q = 0; q < layers; ++q) {
        QuantConfig only = float_config;
        only.layers[size_t(q)].weight.bits = current.layers[size_t(q)].weight.bits;
        only.layers[size_t(q)].act.bits = current.layers[size_t(q)].act.bits;
        cases.push_back({SensitivityMode::kOnly, SensitivityPart::kBoth, current.layers[size_t(q)].weight.bits, q, only});
    }
    for (int q = 0; q < layers; ++q) {
        QuantConfig all_but = all;
        LayerQuant& l = all_but.layers[size_t(q)];
        l.weight.bits = kept(l.weight.bits);
        l.act.bits = kept(l.act.bits);
        cases.push_back({SensitivityMode::kAllBut, SensitivityPart::kBoth, current.layers[size_t(q)].weight.bits, q, all_but});
    }
    return cases;
}

Result<std::vector<SensitivityRow>> run_sensitivity(Model& model, const Cifar10& data, const std::vector<SensitivityCase>& cases,
                                                    int64_t batch, Backend backend, const float* calib_x, int64_t calib_n,
                                                    const std::function<void(int64_t, int64_t)>& progress) {
    std::vector<QuantConfig> configs;
    for (const SensitivityCase& c : cases) configs.push_back(c.config);
    Result<std::vector<EvalResult>> r = evaluate_configs(model, data, configs, batch, backend, calib_x, calib_n, progress);
    if (!r.ok()) return r.status;
    std::vector<SensitivityRow> rows;
    for (size_t i = 0; i < cases.size(); ++i) rows.push_back({cases[i], std::move(r.value[i])});
    return rows;
}

}  // namespace quantlab
