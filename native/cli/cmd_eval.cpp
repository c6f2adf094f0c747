// cmd_eval.cpp: `quantlab eval` (the notebook's table: accuracy float vs quantized per bit width) and
// `quantlab sweep` (accuracy over a weight-bits x activation-bits grid, CSV or JSON).
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "core/evaluate.hpp"
#include "core/layer_bits.hpp"
#include "core/parallel.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"

namespace quantlab::cli {

namespace {

struct EvalOptions {
    bool file_config = true;  // also evaluate the quantization settings stored in the weights file
    std::string weights;
    std::string data;
    std::string bits = "32,8,4,3,2";
    int act_bits = 0;  // 0: same as the weight bits
    std::string dataset = "cifar10";
    bool per_class = false;
    bool json = false;
    int64_t limit = -1;
    int64_t val = 0;  // > 0: that many validation images instead of the test set
    QuantOptions q;
};

struct Row {
    int weight_bits, act_bits;
    EvalResult result;
    std::string label;   // overrides the bits label (the file's own settings)
    double seconds = 0;  // the evaluation alone (no loading), wall clock
    std::string layers;  // bits that differ by layer (the file's mixed precision): "conv1=8,conv2=4,..."
};

std::string bits_label(int w, int a) {
    if (w == kFloatBits && a == kFloatBits) return "float";
    if (w == a) return std::to_string(w);
    return "W" + (w == kFloatBits ? std::string("fp") : std::to_string(w)) + "A" + (a == kFloatBits ? std::string("fp") : std::to_string(a));
}

// One evaluation of the configured model with a progress line, timed into *seconds.
Result<EvalResult> timed_evaluate(const Model& model, const Cifar10& test, int64_t batch, Backend backend, const std::string& what,
                                  double* seconds) {
    Progress progress(what);
    const auto t0 = std::chrono::steady_clock::now();
    Result<EvalResult> r = evaluate(model, test, batch, backend, [&](int64_t d, int64_t t) { progress.update(d, t); });
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.finish();
    return r;
}

// Evaluates one (weight bits, activation bits) point; shared by eval and sweep.
Result<EvalResult> run_point(Model& model, const LoadedData& data, const QuantOptions& q, Backend backend, int wb, int ab,
                             const std::vector<float>& calib, double* seconds) {
    Result<QuantConfig> cfg = build_config(model, q, wb, ab, calib);
    if (!cfg.ok()) return cfg.status;
    if (Status s = model.configure(cfg.value); !s) return s;
    return timed_evaluate(model, data.test, q.batch, backend, "bits " + bits_label(wb, ab), seconds);
}

// What eval and sweep evaluate: the backend, the model (the bundled weights by default), the test images and,
// in static mode, the calibration images.
struct EvalInputs {
    Backend backend;
    ModelFile model;
    LoadedData data;
    std::vector<float> calib;
};
// With val > 0 the images are the first `val` validation images of the training batches under the trainer's
// default split (core/data_split.hpp) instead of the test set: what settings are chosen on.
Result<EvalInputs> load_inputs(const QuantOptions& q, const std::string& weights, const std::string& data_dir, int64_t limit,
                               const std::string& dataset = "cifar10", int64_t val = 0) {
    Result<Backend> backend = parse_backend(q.backend);
    if (!backend.ok()) return backend.status;
    Result<Dataset> ds = parse_dataset(dataset);
    if (!ds.ok()) return ds.status;
    Result<ModelFile> model = open_model(weights.empty() ? default_weights_path() : weights);
    if (!model.ok()) return model.status;
    QuantConfig probe = make_config(model.value.model.desc(), 8, 8);  // a bad --layer-bits fails before any work
    if (Status s = apply_layer_bits(&probe, model.value.model.desc(), q.layer_bits); !s) return s;
    // A model's outputs are its classes: a 10-class model on CIFAR-100 (or the reverse) is refused here.
    const DatasetInfo& info = dataset_info(ds.value);
    if (model.value.model.desc().num_classes() != info.classes)
        return Status::error(model.value.name + ": the model has " + std::to_string(model.value.model.desc().num_classes()) +
                             " outputs but " + info.title + " has " + std::to_string(info.classes) + " classes (--dataset " + info.name +
                             "); evaluate it on the dataset it was trained on");
    if (val < 0) return Status::error("--val must be a positive number of validation images, got " + std::to_string(val));
    if (val > 0 && limit >= 0) return Status::error("--val and --limit: give one (--val evaluates validation images, --limit test images)");
    if (val > 0 && ds.value != Dataset::kCifar10) return Status::error("--val: the validation split is CIFAR-10's (drop --dataset)");
    Result<LoadedData> data = val > 0 ? load_validation_data(data_dir, val) : load_test_data(data_dir, limit, ds.value);
    if (!data.ok()) return data.status;
    std::vector<float> calib = q.mode == "static" ? calibration_images(data.value, q.calib) : std::vector<float>{};
    return EvalInputs{backend.value, std::move(model.value), std::move(data.value), std::move(calib)};
}

nlohmann::json row_json(const Row& r, bool per_class) {
    nlohmann::json j = {{"weight_bits", r.weight_bits}, {"act_bits", r.act_bits}, {"accuracy", r.result.accuracy()}, {"settings", r.label.empty() ? "command line" : r.label},
                        {"correct", r.result.correct}, {"total", r.result.evaluated}, {"seconds", r.seconds}};
    char hash[32];
    std::snprintf(hash, sizeof hash, "%016llx", (unsigned long long)r.result.predictions_hash());
    j["predictions_fnv1a64"] = hash;
    if (!r.layers.empty()) j["layer_bits"] = r.layers;
    if (per_class) {
        j["per_class_accuracy"] = nlohmann::json::array();
        for (int c = 0; c < r.result.classes; ++c) j["per_class_accuracy"].push_back(r.result.class_accuracy(c));
        j["confusion"] = r.result.confusion;
    }
    return j;
}

int run_eval(const EvalOptions& o) {
    set_num_threads(o.q.threads);
    Result<std::vector<int>> bits = parse_bits_list(o.bits);
    if (!bits.ok()) return fail("eval", bits.message());
    if (o.act_bits != 0 && !((o.act_bits >= kMinBits && o.act_bits <= kMaxBits) || o.act_bits == kFloatBits))
        return fail("eval", "--act-bits " + std::to_string(o.act_bits) + " is not a bit width; use 1..16, or 32 for float");
    Result<EvalInputs> in = load_inputs(o.q, o.weights, o.data, o.limit, o.dataset, o.val);
    if (!in.ok()) return fail("eval", in.message());
    const Backend backend = in.value.backend;
    ModelFile& lm = in.value.model;
    const LoadedData& data = in.value.data;
    const std::vector<float>& calib = in.value.calib;

    std::vector<Row> rows;
    // A file exported by the trainer carries its quantization settings and calibrated ranges: evaluate
    // those first, as they are, so the trainer's reported accuracy is reproduced without any flags.
    const Result<QuantConfig>& stored = lm.stored_config;
    if (o.file_config && (!stored.ok() || !stored.value.layers.empty())) {
        if (!stored.ok()) return fail("eval", stored.message());
        if (Status s = lm.model.configure(stored.value); !s) return fail("eval", s.message);
        double seconds = 0;
        Result<EvalResult> r = timed_evaluate(lm.model, data.test, o.q.batch, backend, "file settings", &seconds);
        if (!r.ok()) return fail("eval", r.message());
        // Bits that differ by layer (mixed precision): 0, and the layers' bits in "layers".
        const int wb = uniform_bits(stored.value, true), ab = uniform_bits(stored.value, false);
        rows.push_back({wb, ab, r.value, std::string("file (") + act_mode_name(stored.value.act_mode) + ")", seconds,
                        wb && ab ? std::string() : layer_bits_text(stored.value, lm.net(), 0, 0)});
    }
    for (int b : bits.value) {
        const int ab = o.act_bits ? o.act_bits : b;
        double seconds = 0;
        Result<EvalResult> r = run_point(lm.model, data, o.q, backend, b, ab, calib, &seconds);
        if (!r.ok()) return fail("eval", r.message());
        rows.push_back({b, ab, r.value, "", seconds});
    }

    if (o.json) {
        nlohmann::json j = {{"weights", lm.name}, {"model", lm.model.desc().name}, {"data", data.description},
                            {"dataset", dataset_name(data.dataset)},
                            {"rule", range_rule_name(o.q.rule.rule)}, {"symmetric", o.q.rule.symmetric}, {"per_channel", o.q.rule.per_channel},
                            {"codes", symmetric_codes_name(o.q.rule.codes)},
                            {"mode", o.q.mode}, {"layer_bits", o.q.layer_bits}, {"batch", o.q.batch}, {"backend", o.q.backend}, {"results", nlohmann::json::array()}};
        for (const Row& r : rows) j["results"].push_back(row_json(r, o.per_class));
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("weights    %s (%s)\n", lm.name.c_str(), lm.model.desc().name.c_str());
    std::printf("data       %s\n", data.description.c_str());
    std::printf("quantizer  %s, %s, %s weights; activations %s%s; batch %lld; backend %s\n\n", range_rule_name(o.q.rule.rule),
                !o.q.rule.symmetric ? "asymmetric" : o.q.rule.codes == SymmetricCodes::kFull ? "symmetric (full codes)" : "symmetric",
                o.q.rule.per_channel ? "per-channel" : "per-tensor", o.q.mode.c_str(),
                o.q.mode == "dynamic" ? " (range per batch)" : " (calibrated, frozen)", (long long)o.q.batch, o.q.backend.c_str());
    if (!o.q.layer_bits.empty()) std::printf("layer bits %s (every row but float and the file's)\n", o.q.layer_bits.c_str());
    const Row* float_row = nullptr;
    for (const Row& r : rows)
        if (r.weight_bits == kFloatBits && r.act_bits == kFloatBits && r.label.empty()) float_row = &r;
    auto label_of = [](const Row& r) { return r.label.empty() ? bits_label(r.weight_bits, r.act_bits) : r.label; };
    std::printf("%-14s %9s %15s %10s\n", "bits", "accuracy", "correct", "vs float");
    for (const Row& r : rows) {
        std::printf("%-14s %7.2f %% %7lld / %-5lld", label_of(r).c_str(), r.result.accuracy(),
                    (long long)r.result.correct, (long long)r.result.evaluated);
        if (float_row && &r != float_row) std::printf(" %+9.2f", r.result.accuracy() - float_row->result.accuracy());
        std::printf("\n");
    }
    if (o.per_class) {
        std::printf("\nper-class accuracy (%%)\n%-14s", "class");
        for (const Row& r : rows) std::printf(" %7s", r.label.empty() ? bits_label(r.weight_bits, r.act_bits).c_str() : "file");
        std::printf("\n");
        for (int c = 0; c < rows.front().result.classes; ++c) {
            std::printf("%-14s", dataset_class_name(data.dataset, c).c_str());
            for (const Row& r : rows) std::printf(" %7.1f", r.result.class_accuracy(c));
            std::printf("\n");
        }
    }
    return 0;
}

struct SweepOptions {
    std::string weights, data, output;
    std::string weight_bits = "32,8,6,5,4,3,2", act_bits = "32,8,6,5,4,3,2";
    std::string format = "csv";
    std::string dataset = "cifar10";
    int64_t limit = -1;
    int64_t val = 0;  // > 0: that many validation images instead of the test set
    QuantOptions q;
};

int run_sweep(const SweepOptions& o) {
    set_num_threads(o.q.threads);
    Result<std::vector<int>> wbits = parse_bits_list(o.weight_bits), abits = parse_bits_list(o.act_bits);
    if (!wbits.ok()) return fail("sweep", "--weight-bits: " + wbits.message());
    if (!abits.ok()) return fail("sweep", "--act-bits: " + abits.message());
    if (o.format != "csv" && o.format != "json") return fail("sweep", "--format must be csv or json, got '" + o.format + "'");
    Result<EvalInputs> in = load_inputs(o.q, o.weights, o.data, o.limit, o.dataset, o.val);
    if (!in.ok()) return fail("sweep", in.message());
    const Backend backend = in.value.backend;
    ModelFile& lm = in.value.model;
    const LoadedData& data = in.value.data;
    const std::vector<float>& calib = in.value.calib;

    std::vector<Row> rows;
    for (int wb : wbits.value)
        for (int ab : abits.value) {
            double seconds = 0;
            Result<EvalResult> r = run_point(lm.model, data, o.q, backend, wb, ab, calib, &seconds);
            if (!r.ok()) return fail("sweep", r.message());
            rows.push_back({wb, ab, r.value, "", seconds});
            std::fprintf(stderr, "W%-2d A%-2d  %6.2f %%\n", wb, ab, r.value.accuracy());
        }
    std::string text;
    if (o.format == "json") {
        nlohmann::json j = {{"weights", lm.name}, {"data", data.description}, {"dataset", dataset_name(data.dataset)}, {"rule", range_rule_name(o.q.rule.rule)}, {"mode", o.q.mode},
                            {"layer_bits", o.q.layer_bits}, {"results", nlohmann::json::array()}};
        for (const Row& r : rows) j["results"].push_back(row_json(r, false));
        text = j.dump(2) + "\n";
    } else {
        text = "weight_bits,act_bits,accuracy,correct,total\n";
        char line[128];
        for (const Row& r : rows) {
            std::snprintf(line, sizeof line, "%d,%d,%.2f,%lld,%lld\n", r.weight_bits, r.act_bits, r.result.accuracy(),
                          (long long)r.result.correct, (long long)r.result.evaluated);
            text += line;
        }
    }
    if (o.output.empty() || o.output == "-") {
        std::fputs(text.c_str(), stdout);
    } else {
        std::ofstream f(o.output);
        if (!(f << text)) return fail("sweep", "cannot write " + o.output);
        std::fprintf(stderr, "wrote %s\n", o.output.c_str());
    }
    return 0;
}

}  // namespace

void add_eval_commands(CLI::App& root, Commands& cmds) {
    auto eo = std::make_shared<EvalOptions>();
    CLI::App* eval = root.add_subcommand("eval", "Test accuracy float vs quantized per bit width (the notebook's table)");
    eval->add_option("--weights,-w", eo->weights, ".pth or .safetensors (default: the bundled notebook weights)");
    eval->add_option("--data", eo->data, "CIFAR-10 binary folder (default: $QUANTLAB_DATA, the cache, else the bundled sample)");
    eval->add_option("--bits,-b", eo->bits, "bit widths, weights and activations alike; 32 = float")->capture_default_str();
    eval->add_option("--act-bits", eo->act_bits, "activation bits for every row (default: the row's bits)");
    eval->add_option("--dataset", eo->dataset, "cifar10, or cifar100 (a 100-class model on cifar-100-binary/test.bin)")->capture_default_str();
    eval->add_flag("--per-class", eo->per_class, "also print per-class accuracy (and the confusion matrix in --json)");
    eval->add_flag("--json", eo->json, "machine-readable output on stdout");
    eval->add_option("--limit", eo->limit, "evaluate only the first N test images");
    eval->add_option("--val", eo->val, "evaluate N validation images instead (held out of the training batches by the trainer's split: choose settings here, not on the test set)");
    eval->add_flag("!--no-file-config", eo->file_config, "skip the row for the quantization settings stored in the weights file");
    add_quant_options(eval, &eo->q);
    add_layer_bits_option(eval, &eo->q.layer_bits);
    cmds.emplace_back(eval, [eo] { return run_eval(*eo); });

    auto so = std::make_shared<SweepOptions>();
    CLI::App* sweep = root.add_subcommand("sweep", "Accuracy over a weight-bits x activation-bits grid (CSV or JSON)");
    sweep->add_option("--weights,-w", so->weights, ".pth or .safetensors (default: the bundled notebook weights)");
    sweep->add_option("--data", so->data, "CIFAR-10 binary folder (CIFAR-100's with --dataset cifar100)");
    sweep->add_option("--dataset", so->dataset, "cifar10, or cifar100 (a 100-class model on cifar-100-binary/test.bin)")->capture_default_str();
    sweep->add_option("--weight-bits", so->weight_bits, "weight bit widths (32 = float)")->capture_default_str();
    sweep->add_option("--act-bits", so->act_bits, "activation bit widths (32 = float)")->capture_default_str();
    sweep->add_option("--format", so->format, "csv or json")->capture_default_str();
    sweep->add_option("--output,-o", so->output, "file to write (default: stdout)");
    sweep->add_option("--limit", so->limit, "evaluate only the first N test images");
    sweep->add_option("--val", so->val, "evaluate N validation images instead (held out of the training batches by the trainer's split)");
    add_quant_options(sweep, &so->q);
    add_layer_bits_option(sweep, &so->q.layer_bits);
    cmds.emplace_back(sweep, [so] { return run_sweep(*so); });
}

}  // namespace quantlab::cli
