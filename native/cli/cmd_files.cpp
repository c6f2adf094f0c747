// cmd_files.cpp: `quantlab info F` (tensors, shapes, dtypes, metadata, quantization settings of a weights file,
// and its size in bytes at float32 and 8/4/2 bits: core/model_size.hpp) and `quantlab convert IN OUT.safetensors`
// (a .pth or safetensors file to QuantLab's safetensors).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "core/layer_bits.hpp"
#include "core/model_file.hpp"
#include "core/model_size.hpp"
#include "core/network.hpp"
#include "core/safetensors_io.hpp"
#include "core/weights_io.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"

namespace quantlab::cli {

namespace {

// The quantization settings a file stores (a QAT export's); no layers when it has none.
QuantConfig stored_settings(const std::string& path) {
    Result<WeightsFile> f = read_weights_file(path);
    return f.ok() && f.value.stored_config.ok() ? f.value.stored_config.value : QuantConfig{};
}

// The bit widths the size table shows: float, 8, 4, 2, and the file's own weight bits (a QAT export's) when
// they are another uniform width.
std::vector<int> size_bits(const QuantConfig& stored) {
    std::vector<int> bits{kFloatBits, 8, 4, 2};
    const int b = stored.layers.empty() ? kFloatBits : uniform_bits(stored, true);
    if (b != 0 && std::find(bits.begin(), bits.end(), b) == bits.end()) bits.push_back(b);
    return bits;
}

// A file whose weight bits differ by layer (a mixed-precision export): those bits, per conv/linear layer.
std::vector<int> mixed_weight_bits(const QuantConfig& stored) {
    std::vector<int> bits;
    if (stored.layers.empty() || uniform_bits(stored, true) != 0) return bits;
    for (const LayerQuant& l : stored.layers) bits.push_back(l.weight.bits);
    return bits;
}

std::string bits_name(int b) { return b == kFloatBits ? "float32" : std::to_string(b) + "-bit"; }

// Bytes of the parameters with every conv/linear weight at each of `bits` (core/model_size.hpp says what counts).
nlohmann::json size_json(const NetworkDesc& net, const std::vector<int>& bits) {
    nlohmann::json j = {{"counts", "conv/linear weights packed at the bits; biases and batch norm float32; num_batches_tracked not counted"},
                        {"float_bytes", model_size(net, {}).float_bytes}, {"bytes", nlohmann::json::object()}, {"layers", nlohmann::json::array()}};
    for (int b : bits) j["bytes"][std::to_string(b)] = model_size(net, {b}).bytes;
    const ModelSize f = model_size(net, {});
    for (size_t q = 0; q < f.layers.size(); ++q) {
        nlohmann::json l = {{"name", f.layers[q].name}, {"weights", f.layers[q].weights}, {"bias", f.layers[q].bias}, {"bytes", nlohmann::json::object()}};
        for (int b : bits) l["bytes"][std::to_string(b)] = model_size(net, {b}).layers[q].bytes;
        j["layers"].push_back(l);
    }
    j["other_values"] = f.other_values;
    return j;
}

void print_size(const NetworkDesc& net, const std::vector<int>& bits) {
    std::printf("\nsize in bytes (conv/linear weights packed at b bits; biases and batch norm float32):\n");
    std::printf("%-12s %9s", "layer", "values");
    for (int b : bits) std::printf(" %10s", bits_name(b).c_str());
    std::printf("\n");
    std::vector<ModelSize> sizes;
    for (int b : bits) sizes.push_back(model_size(net, {b}));
    for (size_t q = 0; q < sizes[0].layers.size(); ++q) {
        const LayerSize& l = sizes[0].layers[q];
        std::printf("%-12s %9lld", l.name.c_str(), (long long)(l.weights + l.bias));
        for (const ModelSize& m : sizes) std::printf(" %10lld", (long long)m.layers[q].bytes);
        std::printf("\n");
    }
    std::printf("%-12s %9lld", "batch norm", (long long)sizes[0].other_values);
    for (size_t i = 0; i < sizes.size(); ++i) std::printf(" %10lld", (long long)(4 * sizes[0].other_values));
    std::printf("\n%-12s %9s", "total", "");
    for (const ModelSize& m : sizes) std::printf(" %10lld", (long long)m.bytes);
    std::printf("\n");
    for (size_t i = 1; i < bits.size(); ++i)
        std::printf("%s: %s = %.1fx smaller than float (%s)\n", bits_name(bits[i]).c_str(), format_bytes(sizes[i].bytes).c_str(),
                    sizes[i].ratio(), format_bytes(sizes[i].float_bytes).c_str());
}

int run_info(const std::string& path, bool json) {
    Result<StateDict> sd = read_weights(path);
    if (!sd.ok()) return fail("info", sd.message());
    Result<NetworkDesc> net = network_for(sd.value, path);
    const Status check = net.ok() ? check_weights(net.value, sd.value, path) : net.status;
    int64_t params = 0;
    for (const std::string& n : sd.value.names) params += sd.value.find(n)->numel();
    const QuantConfig stored = stored_settings(path);
    const std::vector<int> mixed = mixed_weight_bits(stored);
    if (json) {
        nlohmann::json j = {{"file", path}, {"tensors", nlohmann::json::array()}, {"metadata", sd.value.metadata},
                            {"parameters", params}, {"model", net.ok() ? net.value.name : ""}, {"model_check", check.ok() ? "ok" : check.message}};
        if (net.ok()) {
            j["size"] = size_json(net.value, size_bits(stored));
            if (!mixed.empty()) {
                j["size"]["file_layer_bits"] = layer_bits_text(stored, net.value, 0, 0);
                j["size"]["file_bytes"] = model_size(net.value, mixed).bytes;
            }
        }
        for (const std::string& n : sd.value.names)
            j["tensors"].push_back({{"name", n}, {"shape", sd.value.find(n)->shape}, {"dtype", sd.value.dtype(n)}});
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("%s: %zu tensors, %lld values\n\n", path.c_str(), sd.value.size(), (long long)params);
    std::printf("%-28s %-6s %s\n", "tensor", "dtype", "shape");
    for (const std::string& n : sd.value.names) std::printf("%-28s %-6s %s\n", n.c_str(), sd.value.dtype(n).c_str(), shape_str(sd.value.find(n)->shape).c_str());
    if (!sd.value.metadata.empty()) {
        std::printf("\nmetadata\n");
        for (const auto& [k, v] : sd.value.metadata) std::printf("  %-26s %s\n", k.c_str(), v.c_str());
    }
    std::printf("\nmodel: %s (%s)\n", net.ok() ? net.value.name.c_str() : "?", check.ok() ? "all parameters present, shapes and values ok" : check.message.c_str());
    if (net.ok()) {
        print_size(net.value, size_bits(stored));
        if (!mixed.empty()) {
            const ModelSize m = model_size(net.value, mixed);
            std::printf("this file's bits (%s): %s = %.1fx smaller than float (%s)\n", layer_bits_text(stored, net.value, 0, 0).c_str(),
                        format_bytes(m.bytes).c_str(), m.ratio(), format_bytes(m.float_bytes).c_str());
        }
    }
    return 0;
}

int run_convert(const std::string& in, const std::string& out) {
    Result<WeightsFile> f = read_weights_file(in);
    if (!f.ok()) return fail("convert", f.message());
    if (Status s = check_weights(f.value.net, f.value.weights, in); !s) return fail("convert", s.message);
    stamp_metadata(&f.value.weights.metadata, f.value.net, in);
    if (Status s = write_safetensors(out, f.value.weights); !s) return fail("convert", s.message);
    std::printf("wrote %s (%zu tensors, %s)\n", out.c_str(), f.value.weights.size(), f.value.net.name.c_str());
    return 0;
}

}  // namespace

void add_file_commands(CLI::App& root, Commands& cmds) {
    auto info_path = std::make_shared<std::string>();
    auto info_json = std::make_shared<bool>(false);
    CLI::App* info = root.add_subcommand("info", "List a weights file's tensors, shapes, dtypes and metadata");
    info->add_option("file", *info_path, ".pth or .safetensors")->required();
    info->add_flag("--json", *info_json, "machine-readable output");
    cmds.emplace_back(info, [info_path, info_json] { return run_info(*info_path, *info_json); });

    auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    CLI::App* convert = root.add_subcommand("convert", "Convert a .pth (or safetensors) state_dict to QuantLab safetensors");
    convert->add_option("input", *in, "input .pth or .safetensors")->required();
    convert->add_option("output", *out, "output .safetensors (written atomically)")->required();
    cmds.emplace_back(convert, [in, out] { return run_convert(*in, *out); });
}

}  // namespace quantlab::cli
