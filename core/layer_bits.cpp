// layer_bits.cpp: parsing and writing per-layer bit widths ("conv1=8,fc3=8:4").
#include "core/layer_bits.hpp"

#include <cstdlib>
#include <sstream>

namespace quantlab {

bool valid_bits(int bits) { return (bits >= kMinBits && bits <= kMaxBits) || bits == kFloatBits; }

namespace {
// One bit width of an item: digits only, a width QuantLab runs.
bool parse_width(const std::string& text, int* bits) {
    if (text.empty() || text.size() > 3) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    *bits = std::atoi(text.c_str());
    return valid_bits(*bits);
}
}  // namespace

Status apply_layer_bits(QuantConfig* config, const NetworkDesc& net, const std::string& text, const std::string& who) {
    const std::vector<int> ql = net.quant_layers();
    if (config->layers.size() != ql.size()) return Status::error(who + ": the configuration does not fit the network");
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) continue;
        const std::string what = who + " '" + item + "'";
        const size_t eq = item.find('=');
        if (eq == std::string::npos) return Status::error(what + ": expected NAME=BITS or NAME=WBITS:ABITS (e.g. conv1=8,fc3=8)");
        const std::string name = item.substr(0, eq), val = item.substr(eq + 1);
        size_t q = 0;
        while (q < ql.size() && net.layers[size_t(ql[q])].name != name) ++q;
        if (q == ql.size()) {
            std::string names;
            for (int i : ql) names += (names.empty() ? "" : ", ") + net.layers[size_t(i)].name;
            return Status::error(what + ": no conv/linear layer named '" + name + "' (layers: " + names + ")");
        }
        const size_t colon = val.find(':');
        int w = 0, a = 0;
        const bool ok = colon == std::string::npos ? parse_width(val, &w) && parse_width(val, &a)
                                                   : parse_width(val.substr(0, colon), &w) && parse_width(val.substr(colon + 1), &a);
        if (!ok) return Status::error(what + ": bits must be " + std::to_string(kMinBits) + ".." + std::to_string(kMaxBits) + " or 32 (float)");
        config->layers[q].weight.bits = w;
        config->layers[q].act.bits = a;
    }
    return Status::success();
}

std::string layer_bits_text(const QuantConfig& config, const NetworkDesc& net, int weight_bits, int act_bits) {
    const std::vector<int> ql = net.quant_layers();
    std::string out;
    for (size_t q = 0; q < ql.size() && q < config.layers.size(); ++q) {
        const LayerQuant& l = config.layers[q];
        if (l.weight.bits == weight_bits && l.act.bits == act_bits) continue;
        out += (out.empty() ? "" : ",") + net.layers[size_t(ql[q])].name + "=" + std::to_string(l.weight.bits);
        if (l.act.bits != l.weight.bits) out += ":" + std::to_string(l.act.bits);
    }
    return out;
}

}  // namespace quantlab
