// cmd_files.cpp: `quantlab info F` (tensors, shapes, dtypes, metadata, quantization settings of a weights
// file) and `quantlab convert IN OUT.safetensors` (a .pth or safetensors file to QuantLab's safetensors).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "core/model_file.hpp"
#include "core/network.hpp"
#include "core/safetensors_io.hpp"
#include "core/weights_io.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"

namespace quantlab::cli {

namespace {

int run_info(const std::string& path, bool json) {
    Result<StateDict> sd = read_weights(path);
    if (!sd.ok()) return fail("info", sd.message());
    Result<NetworkDesc> net = network_for(sd.value, path);
    const Status check = net.ok() ? check_weights(net.value, sd.value, path) : net.status;
    int64_t params = 0;
    for (const std::string& n : sd.value.names) params += sd.value.find(n)->numel();
    if (json) {
        nlohmann::json j = {{"file", path}, {"tensors", nlohmann::json::array()}, {"metadata", sd.value.metadata},
                            {"parameters", params}, {"model", net.ok() ? net.value.name : ""}, {"model_check", check.ok() ? "ok" : check.message}};
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
