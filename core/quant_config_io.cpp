// quant_config_io.cpp: JSON form of QuantConfig (nlohmann-json, no exceptions escape).
#include "core/quant_config_io.hpp"

#include <nlohmann/json.hpp>

namespace quantlab {

namespace {
using nlohmann::json;

json spec_json(const QuantSpec& s) {
    json j = {{"bits", s.bits}, {"rule", range_rule_name(s.rule)}, {"symmetric", s.symmetric}, {"per_channel", s.per_channel}};
    if (s.codes != SymmetricCodes::kNarrow) j["codes"] = symmetric_codes_name(s.codes);  // absent: narrow, as before
    if (s.rule == RangeRule::kMeanStd) j["k"] = s.k;
    if (s.rule == RangeRule::kPercentile) j["percentile"] = s.percentile;
    return j;
}

Status spec_from(const json& j, QuantSpec* s, const std::string& who) {
    if (!j.is_object()) return Status::error(who + ": expected an object");
    if (j.contains("bits")) {
        if (!j["bits"].is_number_integer()) return Status::error(who + ": bits must be an integer");
        s->bits = j["bits"].get<int>();
    }
    if (j.contains("rule")) {
        if (!j["rule"].is_string()) return Status::error(who + ": rule must be a string");
        Result<RangeRule> r = parse_range_rule(j["rule"].get<std::string>());
        if (!r.ok()) return Status::error(who + ": " + r.message());
        s->rule = r.value;
    }
    if (j.contains("codes")) {
        if (!j["codes"].is_string()) return Status::error(who + ": codes must be a string");
        Result<SymmetricCodes> c = parse_symmetric_codes(j["codes"].get<std::string>());
        if (!c.ok()) return Status::error(who + ": " + c.message());
        s->codes = c.value;
    }
    if (j.contains("symmetric")) s->symmetric = j["symmetric"].is_boolean() ? j["symmetric"].get<bool>() : true;
    if (j.contains("per_channel")) s->per_channel = j["per_channel"].is_boolean() && j["per_channel"].get<bool>();
    if (j.contains("k") && j["k"].is_number()) s->k = j["k"].get<double>();
    if (j.contains("percentile") && j["percentile"].is_number()) s->percentile = j["percentile"].get<double>();
    return Status::success();
}
}  // namespace

std::string quant_config_to_json(const QuantConfig& config, const NetworkDesc& net) {
    json layers = json::array();
    const std::vector<int> ql = net.quant_layers();
    for (size_t i = 0; i < config.layers.size() && i < ql.size(); ++i)
        layers.push_back({{"name", net.layers[size_t(ql[i])].name}, {"weight", spec_json(config.layers[i].weight)}, {"act", spec_json(config.layers[i].act)}});
    json j = {{"act_mode", act_mode_name(config.act_mode)}, {"layers", layers}};
    if (!config.act_ranges.empty()) {
        json r = json::array();
        for (const RealRange& a : config.act_ranges) r.push_back({a.alpha, a.beta});
        j["act_ranges"] = r;
    }
    if (!config.weight_scales.empty()) j["weight_scales"] = config.weight_scales;
    if (!config.act_scales.empty()) j["act_scales"] = config.act_scales;
    return j.dump();
}

Result<QuantConfig> quant_config_from_json(const std::string& text, const NetworkDesc& net, const std::string& source) {
    const std::string who = "quant config (" + source + ")";
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Status::error(who + ": not a JSON object");
    QuantConfig c = make_config(net, kFloatBits, kFloatBits);
    if (j.contains("act_mode")) {
        if (!j["act_mode"].is_string()) return Status::error(who + ": act_mode must be a string");
        Result<ActMode> m = parse_act_mode(j["act_mode"].get<std::string>());
        if (!m.ok()) return Status::error(who + ": " + m.message());
        c.act_mode = m.value;
    }
    if (j.contains("layers")) {
        const json& layers = j["layers"];
        if (!layers.is_array() || layers.size() != c.layers.size())
            return Status::error(who + ": expected " + std::to_string(c.layers.size()) + " layer entries");
        for (size_t i = 0; i < layers.size(); ++i) {
            const std::string lw = who + ": layer " + std::to_string(i);
            if (!layers[i].is_object()) return Status::error(lw + ": expected an object");
            if (layers[i].contains("weight"))
                if (Status s = spec_from(layers[i]["weight"], &c.layers[i].weight, lw + " weight"); !s) return s;
            if (layers[i].contains("act"))
                if (Status s = spec_from(layers[i]["act"], &c.layers[i].act, lw + " act"); !s) return s;
        }
    }
    if (j.contains("act_ranges")) {
        const json& r = j["act_ranges"];
        if (!r.is_array()) return Status::error(who + ": act_ranges must be a list of [alpha, beta]");
        for (const json& a : r) {
            if (!a.is_array() || a.size() != 2 || !a[0].is_number() || !a[1].is_number())
                return Status::error(who + ": act_ranges must be a list of [alpha, beta] numbers");
            c.act_ranges.push_back({a[0].get<float>(), a[1].get<float>()});
        }
    }
    for (const char* key : {"weight_scales", "act_scales"}) {
        if (!j.contains(key)) continue;
        const json& a = j[key];
        if (!a.is_array()) return Status::error(who + ": " + key + " must be a list of numbers");
        std::vector<float>& dst = std::string(key) == "weight_scales" ? c.weight_scales : c.act_scales;
        for (const json& v : a) {
            if (!v.is_number()) return Status::error(who + ": " + key + " must be a list of numbers");
            dst.push_back(v.get<float>());
        }
    }
    if (Status s = validate(c, net); !s) return Status::error(who + ": " + s.message);
    return c;
}

}  // namespace quantlab
