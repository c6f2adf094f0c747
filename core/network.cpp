// network.cpp: layer-list network descriptions, their text form, shape inference and weight checks.
#include "core/network.hpp"

#include <cstdlib>
#include <set>
#include <sstream>

namespace quantlab {

namespace {
constexpr int kMaxChannels = 4096;  // bounds what a (possibly hostile) model_desc can ask us to allocate
constexpr int kMaxLayers = 64;
}  // namespace

const char* layer_kind_name(LayerKind kind) {
    switch (kind) {
        case LayerKind::kConv2d: return "conv";
        case LayerKind::kBatchNorm2d: return "bn";
        case LayerKind::kReLU: return "relu";
        case LayerKind::kMaxPool2d: return "pool";
        case LayerKind::kFlatten: return "flatten";
        case LayerKind::kLinear: return "linear";
    }
    return "?";
}

std::vector<ParamDesc> NetworkDesc::params() const {
    std::vector<ParamDesc> out;
    for (const LayerDesc& l : layers) {
        switch (l.kind) {
            case LayerKind::kConv2d:
                out.push_back({l.name + ".weight", {l.out, l.in, l.kernel, l.kernel}});
                out.push_back({l.name + ".bias", {l.out}});
                break;
            case LayerKind::kLinear:
                out.push_back({l.name + ".weight", {l.out, l.in}});
                out.push_back({l.name + ".bias", {l.out}});
                break;
            case LayerKind::kBatchNorm2d:
                out.push_back({l.name + ".weight", {l.in}});
                out.push_back({l.name + ".bias", {l.in}});
                out.push_back({l.name + ".running_mean", {l.in}, false, false});
                out.push_back({l.name + ".running_var", {l.in}, false, false});
                out.push_back({l.name + ".num_batches_tracked", {}, true, false});
                break;
            default:
                break;
        }
    }
    return out;
}

std::vector<int> NetworkDesc::quant_layers() const {
    std::vector<int> out;
    for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i].kind == LayerKind::kConv2d || layers[i].kind == LayerKind::kLinear) out.push_back(int(i));
    return out;
}

int NetworkDesc::num_classes() const {
    for (auto it = layers.rbegin(); it != layers.rend(); ++it)
        if (it->kind == LayerKind::kLinear) return it->out;
    return 0;
}

Shape NetworkDesc::shape_after(int index) const {
    Shape s = input;
    for (int i = 0; i <= index && i < int(layers.size()); ++i) {
        const LayerDesc& l = layers[size_t(i)];
        switch (l.kind) {
            case LayerKind::kConv2d:
                s = {l.out, s[1] + 2 * l.padding - l.kernel + 1, s[2] + 2 * l.padding - l.kernel + 1};
                break;
            case LayerKind::kMaxPool2d:
                s = {s[0], s[1] / l.kernel, s[2] / l.kernel};
                break;
            case LayerKind::kFlatten:
                s = {numel(s)};
                break;
            case LayerKind::kLinear:
                s = {l.out};
                break;
            default:
                break;
        }
    }
    return s;
}

std::string NetworkDesc::to_text() const {
    std::ostringstream o;
    o << "input " << input[0] << " " << input[1] << " " << input[2];
    for (const LayerDesc& l : layers) {
        o << "; " << layer_kind_name(l.kind);
        switch (l.kind) {
            case LayerKind::kConv2d: o << " " << l.name << " " << l.in << " " << l.out << " " << l.kernel << " " << l.padding; break;
            case LayerKind::kLinear: o << " " << l.name << " " << l.in << " " << l.out; break;
            case LayerKind::kBatchNorm2d: o << " " << l.name << " " << l.in; break;
            case LayerKind::kMaxPool2d: o << " " << l.kernel; break;
            default: break;
        }
    }
    return o.str();
}

namespace {
// A tiny builder keeps the two stock nets readable.
struct Builder {
    NetworkDesc net;
    Builder& conv(const std::string& n, int in, int out, int k) { return add({LayerKind::kConv2d, n, in, out, k, 0}); }
    Builder& bn(const std::string& n, int c) { return add({LayerKind::kBatchNorm2d, n, c, c, 0, 0}); }
    Builder& relu() { return add({LayerKind::kReLU, "", 0, 0, 0, 0}); }
    Builder& pool(int k) { return add({LayerKind::kMaxPool2d, "", 0, 0, k, 0}); }
    Builder& flatten() { return add({LayerKind::kFlatten, "", 0, 0, 0, 0}); }
    Builder& linear(const std::string& n, int in, int out) { return add({LayerKind::kLinear, n, in, out, 0, 0}); }
    Builder& add(LayerDesc l) {
        net.layers.push_back(std::move(l));
        return *this;
    }
};
}  // namespace

NetworkDesc notebook_net() { return wide_net(1); }

NetworkDesc wide_net(int w) {
    // Same order as the notebook's forward(): pool(relu(bn(conv))) twice, then three linears.
    Builder b;
    b.net.name = w == 1 ? "notebook_net" : "wide_net_x" + std::to_string(w);
    b.conv("conv1", 3, 32 * w, 5).bn("bn1", 32 * w).relu().pool(2);
    b.conv("conv2", 32 * w, 64 * w, 5).bn("bn2", 64 * w).relu().pool(2);
    b.flatten().linear("fc1", 64 * w * 25, 120 * w).relu().linear("fc2", 120 * w, 84 * w).relu().linear("fc3", 84 * w, 10);
    return b.net;
}

NetworkDesc with_classes(NetworkDesc net, int classes) {
    for (auto it = net.layers.rbegin(); it != net.layers.rend(); ++it)
        if (it->kind == LayerKind::kLinear) {
            it->out = classes;
            break;
        }
    return net;
}

Status validate(const NetworkDesc& net) {
    auto fail = [](const std::string& m) { return Status::error("model description: " + m); };
    if (net.input.size() != 3 || net.input[0] < 1 || net.input[1] < 1 || net.input[2] < 1 || net.input[0] > 64 || net.input[1] > 1024 || net.input[2] > 1024)
        return fail("input must be C H W with 1 <= C <= 64 and 1 <= H, W <= 1024, got " + shape_str(net.input));
    if (net.layers.empty() || net.layers.size() > size_t(kMaxLayers)) return fail("needs 1.." + std::to_string(kMaxLayers) + " layers");
    std::set<std::string> names;
    Shape s = net.input;
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerDesc& l = net.layers[i];
        const std::string where = "layer " + std::to_string(i) + " (" + layer_kind_name(l.kind) + (l.name.empty() ? "" : " " + l.name) + ")";
        const bool named = l.kind == LayerKind::kConv2d || l.kind == LayerKind::kLinear || l.kind == LayerKind::kBatchNorm2d;
        if (named && (l.name.empty() || !names.insert(l.name).second)) return fail(where + ": needs a unique name");
        switch (l.kind) {
            case LayerKind::kConv2d:
                if (s.size() != 3) return fail(where + ": expects a C,H,W input, got " + shape_str(s));
                if (l.in != s[0]) return fail(where + ": in channels " + std::to_string(l.in) + " but the input has " + std::to_string(s[0]));
                if (l.out < 1 || l.out > kMaxChannels || l.kernel < 1 || l.kernel > 15 || l.padding < 0 || l.padding >= l.kernel)
                    return fail(where + ": out channels 1.." + std::to_string(kMaxChannels) + ", kernel 1..15, padding < kernel");
                if (s[1] + 2 * l.padding < l.kernel || s[2] + 2 * l.padding < l.kernel) return fail(where + ": kernel larger than input " + shape_str(s));
                break;
            case LayerKind::kBatchNorm2d:
                if (s.size() != 3 || l.in != s[0]) return fail(where + ": channels " + std::to_string(l.in) + " do not match input " + shape_str(s));
                break;
            case LayerKind::kMaxPool2d:
                if (s.size() != 3 || l.kernel < 1 || s[1] < l.kernel || s[2] < l.kernel) return fail(where + ": window " + std::to_string(l.kernel) + " does not fit " + shape_str(s));
                break;
            case LayerKind::kFlatten:
                break;
            case LayerKind::kLinear:
                if (s.size() != 1) return fail(where + ": expects a flat input (add flatten), got " + shape_str(s));
                if (l.in != s[0]) return fail(where + ": in features " + std::to_string(l.in) + " but the input has " + std::to_string(s[0]));
                if (l.out < 1 || l.out > 65536) return fail(where + ": out features must be 1..65536");
                break;
            case LayerKind::kReLU:
                break;
        }
        s = net.shape_after(int(i));
    }
    if (net.layers.back().kind != LayerKind::kLinear) return fail("the last layer must be linear (the logits)");
    return Status::success();
}

Result<NetworkDesc> network_choice(const std::string& model, int classes) {
    if (model.empty() || model == "notebook") return with_classes(notebook_net(), classes);
    if (model.rfind("wide:", 0) == 0) {
        const std::string n = model.substr(5);
        char* end = nullptr;
        const long w = std::strtol(n.c_str(), &end, 10);
        if (n.empty() || *end || w < 1 || w > 8) return Status::error("model 'wide:" + n + "': wide:N needs N in 1..8");
        return with_classes(wide_net(int(w)), classes);
    }
    Result<NetworkDesc> net = parse_network(model);
    if (!net.ok()) return net.status;
    if (net.value.num_classes() != classes)
        return Status::error("model description: its last layer has " + std::to_string(net.value.num_classes()) + " outputs but the data has " +
                             std::to_string(classes) + " classes; make the last linear layer's outputs " + std::to_string(classes));
    return net;
}

Result<NetworkDesc> parse_network(const std::string& text) {
    NetworkDesc net;
    net.name = "custom";
    std::istringstream all(text);
    std::string item;
    while (std::getline(all, item, ';')) {
        std::istringstream in(item);
        std::string kind;
        if (!(in >> kind)) continue;
        LayerDesc l{LayerKind::kReLU, "", 0, 0, 0, 0};
        bool ok = true;
        if (kind == "input") {
            net.input.assign(3, 0);
            ok = bool(in >> net.input[0] >> net.input[1] >> net.input[2]);
            if (!ok) return Status::error("model description: 'input' needs C H W, in '" + item + "'");
            continue;
        } else if (kind == "conv") {
            l.kind = LayerKind::kConv2d;
            ok = bool(in >> l.name >> l.in >> l.out >> l.kernel);
            if (ok && !(in >> l.padding)) l.padding = 0;
        } else if (kind == "bn") {
            l.kind = LayerKind::kBatchNorm2d;
            ok = bool(in >> l.name >> l.in);
            l.out = l.in;
        } else if (kind == "relu") {
        } else if (kind == "pool") {
            l.kind = LayerKind::kMaxPool2d;
            ok = bool(in >> l.kernel);
        } else if (kind == "flatten") {
            l.kind = LayerKind::kFlatten;
        } else if (kind == "linear") {
            l.kind = LayerKind::kLinear;
            ok = bool(in >> l.name >> l.in >> l.out);
        } else {
            return Status::error("model description: unknown layer '" + kind + "' (expected conv, bn, relu, pool, flatten, linear)");
        }
        if (!ok) return Status::error("model description: bad fields in '" + item + "'");
        if (net.layers.size() >= size_t(kMaxLayers)) return Status::error("model description: more than " + std::to_string(kMaxLayers) + " layers");
        net.layers.push_back(l);
    }
    if (Status s = validate(net); !s) return s;
    return net;
}

Status check_weights(const NetworkDesc& net, const StateDict& weights, const std::string& source) {
    std::set<std::string> expected;
    for (const ParamDesc& p : net.params()) {
        expected.insert(p.name);
        const Tensor* t = weights.find(p.name);
        if (!t)
            return Status::error("weights: " + source + ": missing tensor '" + p.name + "' " + shape_str(p.shape) + " of " + net.name +
                                 " (is this a state_dict of the notebook's Net?)");
        // PyTorch stores num_batches_tracked as a 0-d tensor; some exporters write shape (1).
        const bool shape_ok = t->shape == p.shape || (p.shape.empty() && numel(t->shape) == 1);
        if (!shape_ok) return Status::error("weights: " + source + ": '" + p.name + "' has shape " + shape_str(t->shape) + ", expected " + shape_str(p.shape));
        if (int64_t(t->data.size()) != numel(t->shape)) return Status::error("weights: " + source + ": '" + p.name + "' data size does not match its shape");
        if (int64_t i = first_non_finite(*t); i >= 0)
            return Status::error("weights: " + source + ": '" + p.name + "' holds a non-finite value at index " + std::to_string(i));
        const std::string var = ".running_var";
        if (p.name.size() > var.size() && p.name.compare(p.name.size() - var.size(), var.size(), var) == 0)
            for (float v : t->data)
                if (v < 0) return Status::error("weights: " + source + ": '" + p.name + "' holds a negative variance " + std::to_string(v));
    }
    for (const std::string& n : weights.names)
        if (!expected.count(n))
            return Status::error("weights: " + source + ": unexpected tensor '" + n + "' for " + net.name + " (a different model?)");
    return Status::success();
}

Result<NetworkDesc> network_for(const StateDict& weights, const std::string& source) {
    auto it = weights.metadata.find("model_desc");
    if (it == weights.metadata.end()) return notebook_net();
    Result<NetworkDesc> net = parse_network(it->second);
    if (!net.ok()) return Status::error("weights: " + source + ": metadata model_desc: " + net.message());
    auto name = weights.metadata.find("model");
    if (name != weights.metadata.end()) net.value.name = name->second;
    return net;
}

}  // namespace quantlab
