// common.cpp: shared loading, option parsing and progress output of the `quantlab` subcommands.
#include "native/cli/common.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/data_split.hpp"
#include "core/layer_bits.hpp"
#include "core/network.hpp"

namespace quantlab::cli {

namespace fs = std::filesystem;

std::string assets_dir() {
    if (const char* env = std::getenv("QUANTLAB_ASSETS"); env && *env) return env;
    return QUANTLAB_ASSETS_DIR;
}

std::string default_weights_path() { return assets_dir() + "/notebook_pretrain.safetensors"; }

Result<LoadedData> load_test_data(const std::string& data_dir, int64_t limit, Dataset dataset) {
    if (dataset != Dataset::kCifar10) {
        const std::string dir = find_dataset_dir(data_dir, dataset);
        Result<Cifar10> t = read_dataset_test(dir, dataset, limit);
        if (!t.ok()) return t.status;
        LoadedData out{std::move(t.value), "", dir, dataset};
        out.description = dir + "/" + dataset_info(dataset).test_file + " (" + std::to_string(out.test.count) + " images)";
        return out;
    }
    const TestSetChoice choice = choose_test_set(data_dir);
    const std::string& dir = choice.dir;
    LoadedData out;
    if (choice.use_dir) {
        Result<Cifar10> t = read_cifar10_test(dir, limit);
        if (!t.ok()) return t.status;
        out.test = std::move(t.value);
        out.dir = dir;
        out.description = dir + "/test_batch.bin (" + std::to_string(out.test.count) + " images)";
        return out;
    }
    const std::string sample = assets_dir() + "/cifar10_test_1000.bin";
    Result<Cifar10> t = read_cifar10_batch(sample, limit);
    if (!t.ok()) return t.status;
    std::fprintf(stderr, "note: no CIFAR-10 folder at %s; using the bundled sample of the first 1,000 test images.\n"
                         "      For the full test set: quantlab data fetch, or --data DIR, or QUANTLAB_DATA=DIR.\n", dir.c_str());
    out.test = std::move(t.value);
    out.description = sample + " (bundled sample, " + std::to_string(out.test.count) + " images)";
    return out;
}

Result<std::vector<int>> parse_bits_list(const std::string& text) {
    std::vector<int> bits;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        const long b = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || !((b >= kMinBits && b <= kMaxBits) || b == kFloatBits))
            return Status::error("bits: '" + item + "' is not a bit width; use 1..16, or 32 for float (e.g. --bits 32,8,4,3,2)");
        bits.push_back(int(b));
    }
    if (bits.empty()) return Status::error("bits: empty list; e.g. --bits 32,8,4,3,2");
    return bits;
}

void add_rule_options(CLI::App* app, QuantSpec* setting) {
    app->add_option_function<std::string>(
           "--rule",
           [setting](const std::string& name) {
               Result<RangeRule> rule = parse_range_rule(name);
               if (!rule.ok()) throw CLI::ValidationError(rule.message());
               setting->rule = rule.value;
           },
           "range rule: maxabs (notebook), meanstd, minmax, percentile, mse")
        ->default_str(range_rule_name(setting->rule));
    app->add_flag_callback("--asymmetric", [setting] { setting->symmetric = false; },
                           "asymmetric codes [0, 2^b-1] with a zero point (default: symmetric, Z = 0)");
    app->add_option_function<std::string>(
           "--codes",
           [setting](const std::string& name) {
               Result<SymmetricCodes> codes = parse_symmetric_codes(name);
               if (!codes.ok()) throw CLI::ValidationError(codes.message());
               setting->codes = codes.value;
           },
           "symmetric codes: narrow (2^b-1 codes, S = max|r|/(2^(b-1)-1), the notebook's code) or full (2^b codes, "
           "S = 2 max|r|/(2^b-1), its printed formula and PyTorch's symmetric observer)")
        ->default_str(symmetric_codes_name(setting->codes));
    app->add_flag("--per-channel", setting->per_channel, "one weight scale per output channel");
    app->add_option("--k", setting->k, "meanstd: number of standard deviations")->capture_default_str();
    app->add_option("--percentile", setting->percentile, "percentile rule: upper percentile")->capture_default_str();
}

void add_quant_options(CLI::App* app, QuantOptions* o) {
    add_rule_options(app, &o->rule);
    app->add_option("--mode", o->mode, "activation scales: dynamic (per batch, notebook) or static (calibrated, frozen)")->capture_default_str();
    app->add_option("--calib", o->calib, "static mode: number of calibration images")->capture_default_str();
    app->add_option("--backend", o->backend, "reference (slow, the definition), fast, or integer (int8 x int8 -> int32 where bits <= 8)")->capture_default_str();
    app->add_option("--batch", o->batch, "batch size (dynamic scales are per batch: the notebook uses 128)")->capture_default_str()->check(CLI::Range(1, 100000));
    app->add_option("--threads", o->threads, "CPU threads (0 = all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
}

void add_layer_bits_option(CLI::App* app, std::string* layer_bits) {
    app->add_option("--layer-bits", *layer_bits,
                    "per-layer exceptions to every row's bits: conv1=8,fc3=8 (weights and activations) or conv1=8:4 (weights:activations)");
}

Result<LoadedData> load_validation_data(const std::string& data_dir, int64_t n) {
    const std::string dir = find_data_dir(data_dir);
    Result<Cifar10> val = validation_images(dir, n);
    if (!val.ok()) return val.status;
    LoadedData out{std::move(val.value), "", dir, Dataset::kCifar10};
    out.description = dir + ": " + std::to_string(out.test.count) + " validation images (the trainer's split of the training batches, seed 1)";
    return out;
}

std::vector<float> calibration_images(const LoadedData& data, int64_t n) {
    std::vector<float> x;
    const std::string first_train = dataset_info(data.dataset).train_files.front();
    if (!data.dir.empty() && fs::exists(fs::path(data.dir) / first_train)) {
        Result<Cifar10> train = read_dataset_file((fs::path(data.dir) / first_train).string(), data.dataset, n);
        if (train.ok()) {
            x.resize(size_t(train.value.count * kCifar10ImageBytes));
            normalize_images(train.value, 0, train.value.count, x.data());
            return x;
        }
    }
    const int64_t m = std::min(n, data.test.count);
    std::fprintf(stderr, "note: no training images found; calibrating static ranges on the first %lld evaluation images.\n", (long long)m);
    x.resize(size_t(m * kCifar10ImageBytes));
    normalize_images(data.test, 0, m, x.data());
    return x;
}

Result<QuantConfig> build_config(const Model& model, const QuantOptions& o, int weight_bits, int act_bits,
                                 const std::vector<float>& calib_x) {
    Result<ActMode> mode = parse_act_mode(o.mode);
    if (!mode.ok()) return mode.status;
    QuantConfig c = make_config(model.desc(), weight_bits, act_bits, mode.value);
    apply_rule(&c, o.rule);
    // The float row stays the float reference: per-layer exceptions apply to the quantized rows only.
    if (weight_bits != kFloatBits || act_bits != kFloatBits)
        if (Status s = apply_layer_bits(&c, model.desc(), o.layer_bits); !s) return s;
    if (c.act_mode == ActMode::kStatic) return calibrated(model, c, calib_x.data(), int64_t(calib_x.size()) / kCifar10ImageBytes, o.batch);
    if (Status s = validate(c, model.desc()); !s) return s;
    return c;
}

namespace {
double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(std::string label) : label_(std::move(label)), tty_(isatty(STDERR_FILENO)), start_(now_seconds()) {}

void Progress::update(int64_t done, int64_t total) {
    if (!tty_ || total <= 0) return;
    const double t = now_seconds() - start_;
    const double rate = t > 0 ? double(done) / t : 0;
    const int width = 30, filled = int(width * done / total);
    std::fprintf(stderr, "\r%-14s [%s%s] %6lld/%lld  %7.0f img/s  %4.0fs left ", label_.c_str(), std::string(size_t(filled), '#').c_str(),
                 std::string(size_t(width - filled), '.').c_str(), (long long)done, (long long)total, rate,
                 rate > 0 ? double(total - done) / rate : 0.0);
    std::fflush(stderr);
}

void Progress::finish() {
    if (tty_) std::fprintf(stderr, "\r\033[K");
}

int fail(const std::string& cmd, const std::string& message) {
    std::fprintf(stderr, "quantlab %s: %s\n", cmd.c_str(), message.c_str());
    return 1;
}

}  // namespace quantlab::cli
