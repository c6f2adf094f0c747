// model_size.cpp: a network's parameter bytes at given weight bits (see model_size.hpp for what counts).
#include "core/model_size.hpp"

#include <algorithm>
#include <cstdio>

#include "core/quant_config.hpp"

namespace quantlab {

int64_t packed_bytes(int64_t values, int bits) {
    if (bits <= 0 || bits >= kFloatBits) return values * 4;
    return (values * int64_t(bits) + 7) / 8;
}

ModelSize model_size(const NetworkDesc& net, const std::vector<int>& weight_bits) {
    ModelSize m;
    const std::vector<int> ql = net.quant_layers();
    for (size_t q = 0; q < ql.size(); ++q) {
        LayerSize l;
        l.name = net.layers[size_t(ql[q])].name;
        l.bits = weight_bits.empty() ? kFloatBits : weight_bits[std::min(q, weight_bits.size() - 1)];
        m.layers.push_back(l);
    }
    auto owner = [&](const std::string& param) -> LayerSize* {
        for (LayerSize& l : m.layers)
            if (param.compare(0, l.name.size() + 1, l.name + ".") == 0) return &l;
        return nullptr;
    };
    for (const ParamDesc& p : net.params()) {
        if (p.int64) continue;  // num_batches_tracked: a counter, not a weight
        int64_t n = 1;
        for (int64_t d : p.shape) n *= d;
        LayerSize* l = owner(p.name);
        const bool is_weight = p.name.size() > 7 && p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
        if (l && is_weight) l->weights += n;
        else if (l) l->bias += n;
        else m.other_values += n;
    }
    for (LayerSize& l : m.layers) {
        l.bytes = packed_bytes(l.weights, l.bits) + 4 * l.bias;
        l.float_bytes = 4 * (l.weights + l.bias);
        m.bytes += l.bytes;
        m.float_bytes += l.float_bytes;
    }
    m.bytes += 4 * m.other_values;
    m.float_bytes += 4 * m.other_values;
    return m;
}

std::string format_bytes(int64_t bytes) {
    char b[32];
    const double v = double(bytes);
    if (bytes < 1000) std::snprintf(b, sizeof b, "%lld B", (long long)bytes);
    else if (v < 1e6) std::snprintf(b, sizeof b, v < 9999.5 ? "%.3g KB" : "%.0f KB", v / 1e3);
    else std::snprintf(b, sizeof b, "%.3g MB", v / 1e6);
    return b;
}

}  // namespace quantlab
