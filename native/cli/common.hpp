// common.hpp: what the `quantlab` subcommands share: loading weights and data with the embedded default
// as fallback, parsing bit lists, progress on a terminal, and the exit-with-message convention.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/inference.hpp"
#include "core/model_file.hpp"

namespace quantlab::cli {

// The bundled weights and test sample (assets/), overridable with $QUANTLAB_ASSETS.
std::string assets_dir();
std::string default_weights_path();

struct LoadedData {
    Cifar10 test;
    std::string description;  // "…/test_batch.bin (10000 images)" or the bundled sample
    std::string dir;          // the data folder ("" for the bundled sample)
    Dataset dataset = Dataset::kCifar10;
};
// The test set from --data / $QUANTLAB_DATA / the cache; with no explicit folder and none found, the
// bundled 1,000-image sample (with a note on stderr). An explicit folder that fails is an error.
// Another dataset (CIFAR-100) has no bundled sample: its test file must be in the folder.
Result<LoadedData> load_test_data(const std::string& data_dir, int64_t limit, Dataset dataset = Dataset::kCifar10);
// The first n validation images of CIFAR-10's training batches in the data folder (core/data_split.hpp's
// validation_images: the trainer's default split), in place of the test set: `eval --val` and `sweep --val`.
Result<LoadedData> load_validation_data(const std::string& data_dir, int64_t n);

// "32,8,4" -> {32, 8, 4}; every entry 1..16 or 32.
Result<std::vector<int>> parse_bits_list(const std::string& text);

// The range-rule options of every quantizing subcommand (eval, sweep, train, export), bound to the setting that
// core's apply_rule puts on every layer: --rule, --asymmetric, --per-channel, --k, --percentile (its bits are
// not used: bits are options of their own). An unknown rule name fails while parsing, naming the rule.
void add_rule_options(CLI::App* app, QuantSpec* setting);

// Quantizer options shared by eval and sweep.
struct QuantOptions {
    QuantSpec rule;  // add_rule_options
    std::string mode = "dynamic";
    int64_t calib = 1000;
    std::string backend = "fast";
    int64_t batch = 128;
    int threads = 0;
    std::string layer_bits;  // "conv1=8,fc3=8": per-layer exceptions to the bits of each row (eval, sweep)
};
void add_quant_options(CLI::App* app, QuantOptions* o);
// --layer-bits, for the subcommands whose rows take per-layer exceptions (eval, sweep).
void add_layer_bits_option(CLI::App* app, std::string* layer_bits);
// A config at (weight_bits, act_bits) with the options' rule; static mode calibrates on `calib_x`.
Result<QuantConfig> build_config(const Model& model, const QuantOptions& o, int weight_bits, int act_bits,
                                 const std::vector<float>& calib_x);
// Calibration images for static mode: the first N training images when the data folder has them,
// else the first N evaluation images (announced on stderr).
std::vector<float> calibration_images(const LoadedData& data, int64_t n);

// A one-line progress bar on stderr when it is a terminal (redrawn in place), silent otherwise.
class Progress {
public:
    explicit Progress(std::string label);
    void update(int64_t done, int64_t total);
    void finish();

private:
    std::string label_;
    bool tty_;
    double start_;
};

// Prints "quantlab <cmd>: message" to stderr and returns the exit code 1.
int fail(const std::string& cmd, const std::string& message);

}  // namespace quantlab::cli
