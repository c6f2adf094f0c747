// cmd_sensitivity.cpp: `quantlab sensitivity`: which layer breaks? For each bit width, the accuracy with only
// one layer quantized (the others float) and with every layer quantized but one kept at 8 bits: a table with
// bars on a terminal, or CSV / JSON. The cases and their evaluation are core's (core/sensitivity.hpp).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "core/parallel.hpp"
#include "core/sensitivity.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"

namespace quantlab::cli {

namespace {

struct SensitivityOptions {
    std::string weights, data;
    std::string bits = "8,4,3,2";
    std::string part = "both";
    int keep_bits = 8;
    std::string format = "table";
    bool json = false;
    int64_t limit = -1;
    QuantOptions q;
};

// A bar of up to `width` '#' for `points` of accuracy lost, scaled to the block's worst loss.
std::string bar(double points, double worst, int width) {
    const int n = points <= 0 || worst <= 0 ? 0 : std::min(width, int(width * points / worst + 0.5));
    return std::string(size_t(n), '#') + std::string(size_t(width - n), ' ');
}

int run_sensitivity_cmd(const SensitivityOptions& o) {
    set_num_threads(o.q.threads);
    Result<std::vector<int>> bits = parse_bits_list(o.bits);
    if (!bits.ok()) return fail("sensitivity", "--bits: " + bits.message());
    std::vector<SensitivityPart> parts;
    if (o.part == "all") {
        parts = {SensitivityPart::kWeights, SensitivityPart::kActivations, SensitivityPart::kBoth};
    } else {
        Result<SensitivityPart> p = parse_sensitivity_part(o.part);
        if (!p.ok()) return fail("sensitivity", "--part: " + p.message() + ", or all");
        parts = {p.value};
    }
    if (o.format != "table" && o.format != "csv" && o.format != "json")
        return fail("sensitivity", "--format must be table, csv or json, got '" + o.format + "'");
    const std::string format = o.json ? "json" : o.format;
    Result<Backend> backend = parse_backend(o.q.backend);
    if (!backend.ok()) return fail("sensitivity", backend.message());
    Result<ModelFile> lm = open_model(o.weights.empty() ? default_weights_path() : o.weights);
    if (!lm.ok()) return fail("sensitivity", lm.message());
    Result<LoadedData> data = load_test_data(o.data, o.limit);
    if (!data.ok()) return fail("sensitivity", data.message());
    Model& model = lm.value.model;
    // The rule and activation mode every case shares, from the same options as eval's.
    Result<ActMode> mode = parse_act_mode(o.q.mode);
    if (!mode.ok()) return fail("sensitivity", mode.message());
    QuantConfig base = make_config(model.desc(), kFloatBits, kFloatBits, mode.value);
    apply_rule(&base, o.q.rule);
    const std::vector<float> calib = mode.value == ActMode::kStatic ? calibration_images(data.value, o.q.calib) : std::vector<float>{};

    const std::vector<SensitivityCase> cases = sensitivity_cases(model.desc(), base, bits.value, parts, o.keep_bits);
    Progress progress("sensitivity");
    Result<std::vector<SensitivityRow>> rows =
        run_sensitivity(model, data.value.test, cases, o.q.batch, backend.value, calib.data(),
                        int64_t(calib.size()) / kCifar10ImageBytes, [&](int64_t d, int64_t t) { progress.update(d, t); });
    progress.finish();
    if (!rows.ok()) return fail("sensitivity", rows.message());

    const std::vector<int> ql = model.desc().quant_layers();
    auto layer_name = [&](int q) { return q < 0 ? std::string("-") : model.desc().layers[size_t(ql[size_t(q)])].name; };
    const double float_acc = rows.value.front().result.accuracy();
    if (format == "json") {
        nlohmann::json j = {{"weights", lm.value.name}, {"data", data.value.description}, {"rule", range_rule_name(o.q.rule.rule)},
                            {"mode", o.q.mode}, {"keep_bits", o.keep_bits}, {"float_accuracy", float_acc}, {"results", nlohmann::json::array()}};
        for (const SensitivityRow& r : rows.value)
            j["results"].push_back({{"mode", sensitivity_mode_name(r.c.mode)}, {"part", sensitivity_part_name(r.c.part)}, {"bits", r.c.bits},
                                    {"layer", layer_name(r.c.layer)}, {"accuracy", r.result.accuracy()}, {"correct", r.result.correct},
                                    {"total", r.result.evaluated}});
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    if (format == "csv") {
        std::printf("mode,part,bits,layer,accuracy,correct,total\n");
        for (const SensitivityRow& r : rows.value)
            std::printf("%s,%s,%d,%s,%.2f,%lld,%lld\n", sensitivity_mode_name(r.c.mode), sensitivity_part_name(r.c.part), r.c.bits,
                        layer_name(r.c.layer).c_str(), r.result.accuracy(), (long long)r.result.correct, (long long)r.result.evaluated);
        return 0;
    }
    std::printf("weights  %s\ndata     %s\nfloat    %.2f %%\n", lm.value.name.c_str(), data.value.description.c_str(), float_acc);
    size_t i = 1;
    while (i < rows.value.size()) {
        const SensitivityRow& uniform = rows.value[i];
        std::printf("\n%s at %d bits: every layer %.2f %% (%+.2f vs float)\n", sensitivity_part_name(uniform.c.part), uniform.c.bits,
                    uniform.result.accuracy(), uniform.result.accuracy() - float_acc);
        std::printf("  %-8s %-32s %s\n", "layer", "only this layer quantized", ("all but this layer (kept at " + std::to_string(o.keep_bits) + ")").c_str());
        const size_t n = ql.size();
        double worst = 0;
        for (size_t q = 0; q < n; ++q) worst = std::max(worst, float_acc - rows.value[i + 1 + q].result.accuracy());
        for (size_t q = 0; q < n; ++q) {
            const SensitivityRow& only = rows.value[i + 1 + q];
            const SensitivityRow& all_but = rows.value[i + 1 + n + q];
            const double lost = float_acc - only.result.accuracy(), won = all_but.result.accuracy() - uniform.result.accuracy();
            std::printf("  %-8s %6.2f %% %+6.2f %s %6.2f %% %+6.2f\n", layer_name(int(q)).c_str(), only.result.accuracy(), -lost,
                        bar(lost, worst, 14).c_str(), all_but.result.accuracy(), won);
        }
        i += 1 + 2 * n;
    }
    return 0;
}

}  // namespace

void add_sensitivity_command(CLI::App& root, Commands& cmds) {
    auto o = std::make_shared<SensitivityOptions>();
    CLI::App* cmd = root.add_subcommand("sensitivity", "Which layer breaks? Accuracy with one layer quantized, and with all but one");
    cmd->add_option("--weights,-w", o->weights, ".pth or .safetensors (default: the bundled notebook weights)");
    cmd->add_option("--data", o->data, "CIFAR-10 binary folder (default: $QUANTLAB_DATA, the cache, else the bundled sample)");
    cmd->add_option("--bits,-b", o->bits, "bit widths to test")->capture_default_str();
    cmd->add_option("--part", o->part, "what a case quantizes: weights, activations, both, or all three")->capture_default_str();
    cmd->add_option("--keep-bits", o->keep_bits, "bits of the protected layer in the all-but cases")->capture_default_str()->check(CLI::Range(1, 32));
    cmd->add_option("--format", o->format, "table, csv or json")->capture_default_str();
    cmd->add_flag("--json", o->json, "same as --format json");
    cmd->add_option("--limit", o->limit, "evaluate only the first N test images");
    add_quant_options(cmd, &o->q);
    cmds.emplace_back(cmd, [o] { return run_sensitivity_cmd(*o); });
}

}  // namespace quantlab::cli
