// export.cpp: the trainer's export step in plain core (no LibTorch): calibrate static activation ranges,
// measure test accuracy with core's inference and write QuantLab's metadata. Because the number in the
// file's metadata is computed here, with the same calls `quantlab eval` makes (calibration on the first
// images of data_batch_1.bin, batches of 128, the fast backend), eval on the exported file reproduces it.
#include <cstdio>
#include <filesystem>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/model_file.hpp"
#include "native/trainer/trainer.hpp"

namespace quantlab::trainer {

namespace {
std::string bits_text(const LayerQuant& l) {
    auto b = [](int bits) { return bits == kFloatBits ? std::string("fp") : std::to_string(bits); };
    return "W" + b(l.weight.bits) + "A" + b(l.act.bits);
}
}  // namespace

std::string describe_quant(const QuantConfig& config, const NetworkDesc& net, QuantizerKind kind) {
    if (config.layers.empty()) return "float";
    // The most common setting is the headline; layers that differ are listed.
    std::map<std::string, int> count;
    for (const LayerQuant& l : config.layers) ++count[bits_text(l)];
    std::string head;
    int best = 0;
    for (const auto& [k, n] : count)
        if (n > best) best = n, head = k;
    std::string out = head == "WfpAfp" ? "float" : head;
    std::string extra;
    const std::vector<int> ql = net.quant_layers();
    for (size_t i = 0; i < config.layers.size() && i < ql.size(); ++i)
        if (bits_text(config.layers[i]) != head) extra += (extra.empty() ? "" : ", ") + net.layers[size_t(ql[i])].name + " " + bits_text(config.layers[i]);
    if (!extra.empty()) out += " (" + extra + ")";
    const LayerQuant& l0 = config.layers.front();
    if (out != "float" && kind == QuantizerKind::kLsq) {  // learned_params.hpp: with_learned_codes
        out += ", lsq learned steps (symmetric; unsigned inputs after a ReLU)";
    } else if (out != "float") {
        const QuantSpec* rs = &l0.act;
        if (kind == QuantizerKind::kPact) {  // PACT: only the weights have a rule
            out += ", pact learned steps (clipping of the inputs, unsigned after a ReLU); weights";
            rs = &l0.weight;
        }
        out += std::string(", ") + range_rule_name(rs->rule) + (rs->symmetric ? " symmetric" : " asymmetric");
        if (rs->symmetric && rs->codes == SymmetricCodes::kFull) out += " (full codes)";
        if (l0.weight.per_channel) out += ", per-channel weights";
    }
    return out;
}

Result<ExportResult> finalize_weights(const StateDict& weights, const NetworkDesc& net, const QuantConfig& config,
                                      const ExportOptions& o) {
    Result<Model> model = Model::create(net, weights, "export");
    if (!model.ok()) return model.status;
    ExportResult out;
    out.weights = weights;

    // Static ranges: core's calibration over the first N training images, exactly as `quantlab eval
    // --mode static --calib N` (native/cli/common.cpp: build_config + calibration_images).
    const DatasetInfo& ds = dataset_info(o.dataset);
    if (net.num_classes() != ds.classes)
        return Status::error("export: the network has " + std::to_string(net.num_classes()) + " outputs but " + ds.title + " has " +
                             std::to_string(ds.classes) + " classes");
    const std::string batch1 = (std::filesystem::path(o.data_dir) / ds.train_files.front()).string();
    Result<Cifar10> calib = read_dataset_file(batch1, o.dataset, o.calib_images);
    if (!calib.ok()) return Status::error("export: calibration images: " + calib.message());
    std::vector<float> x(size_t(calib.value.count * kCifar10ImageBytes));
    normalize_images(calib.value, 0, calib.value.count, x.data());
    Result<QuantConfig> stat = calibrated(model.value, config, x.data(), calib.value.count, o.batch);
    if (!stat.ok()) return Status::error("export: " + stat.message());
    out.config = stat.value;
    // Learned steps (--quantizer lsq/pact) replace the calibrated ranges of their inputs: inference uses S itself.
    for (size_t q = 0; q < config.act_scales.size() && q < out.config.act_ranges.size(); ++q)
        if (config.act_scales[q] > 0) {
            const CodeRange r = code_range(config.layers[q].act.bits, config.layers[q].act.symmetric, config.layers[q].act.codes);
            out.config.act_ranges[q] = {config.act_scales[q] * float(r.qmin), config.act_scales[q] * float(r.qmax)};
        }
    QuantConfig dyn = config;
    dyn.act_mode = ActMode::kDynamic;
    dyn.act_ranges.clear();

    if (o.evaluate) {
        Result<Cifar10> test = read_dataset_test(o.data_dir, o.dataset, o.limit_test);
        if (!test.ok()) return Status::error("export: test set: " + test.message());
        out.test_images = test.value.count;
        for (const QuantConfig* c : {&out.config, &dyn}) {
            if (Status s = model.value.configure(*c); !s) return Status::error("export: " + s.message);
            Result<EvalResult> r = evaluate(model.value, test.value, o.batch, Backend::kFast);
            if (!r.ok()) return Status::error("export: " + r.message());
            (c == &dyn ? out.acc_dynamic : out.acc_static) = r.value.accuracy();
        }
    }

    auto& m = out.weights.metadata;
    m = o.metadata;
    stamp_metadata(&m, net, "", &out.config);  // o.metadata names the source
    // Learned steps (with_learned_scales): LSQ exports weight and input steps, PACT input steps only.
    const QuantizerKind learned = !config.weight_scales.empty() ? QuantizerKind::kLsq
                                  : !config.act_scales.empty()  ? QuantizerKind::kPact
                                                                : QuantizerKind::kFixed;
    m["quantization"] = describe_quant(out.config, net, learned);
    if (learned != QuantizerKind::kFixed) m["quantization"] += ", exported as fixed scales";
    m["dataset"] = ds.name;
    if (o.evaluate) {
        char acc[32];
        std::snprintf(acc, sizeof acc, "%.2f", out.acc_static);
        m["test_accuracy"] = acc;
        std::snprintf(acc, sizeof acc, "%.2f", out.acc_dynamic);
        m["test_accuracy_dynamic"] = acc;
        m["test_images"] = std::to_string(out.test_images);
        m["test_accuracy_note"] =
            "test_accuracy: core fake-quant, static activation ranges calibrated on the first " + std::to_string(calib.value.count) +
            " images of " + ds.train_files.front() + ", batch " + std::to_string(o.batch) + "; test_accuracy_dynamic: activation ranges per batch";
    }
    return out;
}

}  // namespace quantlab::trainer
