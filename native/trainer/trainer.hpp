// trainer.hpp: QuantLab's trainer as the command line and the tests see it: options in, a report out.
// Torch-free on purpose (LibTorch stays inside trainer.cpp and torch_model.cpp), so including it costs
// nothing. train() runs the notebook's fine-tuning recipe and the final assignment's knobs (optimizer, LR
// schedule, augmentation, per-layer bits, STE rule) on CUDA or CPU; finalize_weights() is the export step
// (calibrate static activation ranges and measure test accuracy with core's inference, the same semantics
// `quantlab eval` uses) and needs no LibTorch.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/inference.hpp"
#include "core/network.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab::trainer {

struct TrainOptions {
    // ---- start point
    std::string init_weights;  // .pth or .safetensors to fine-tune (core's readers); unused with from_scratch
    bool from_scratch = false;
    std::string model_desc;    // from_scratch: a NetworkDesc text form; empty: the notebook's net
    std::string resume;        // a checkpoint written by this trainer (checkpoint_dir/last.safetensors)
    // ---- data
    std::string data_dir;      // CIFAR-10 binary folder
    int64_t limit_train = -1;  // only the first N of the 50,000 training images (tests, quick tries)
    int64_t limit_test = -1;   // only the first N test images in the final evaluation
    double val_fraction = 0.2; // the notebook's seeded 80/20 train/validation split; 0 trains on everything
    // ---- recipe (defaults: the notebook's)
    std::string optimizer = "sgd";  // sgd | adam | adamw
    double lr = 1e-3, momentum = 0.9, weight_decay = 1e-5;
    std::string schedule = "none";  // none | step | cosine | onecycle (per step, over the whole run)
    bool augment_crop = false;      // random 32x32 crop of the image zero-padded by 4 pixels
    bool augment_flip = false;      // random horizontal flip
    int64_t batch = 128;
    int epochs = 5;
    uint64_t seed = 1;
    int64_t val_every = 100;        // validate every N iterations (0: only at the end of each epoch)
    // ---- quantization (activation scales per batch during training, as in the notebook)
    QuantConfig quant;              // per-layer specs; default float everywhere
    SteRule ste = SteRule::kIdentity;
    std::string fq_kernel = "auto"; // exact | fused | auto (fused on CUDA, exact on CPU)
    // ---- machine
    int threads = 0;                // CPU threads; 0 = all cores
    std::string device = "auto";    // auto | cpu | cuda
    std::string channels_last = "auto";  // on | off | auto (on for the CPU, where oneDNN is faster with NHWC)
    // ---- outputs
    std::string checkpoint_dir;     // DIR/last.safetensors (+ last.optim.pt) each epoch, atomically; empty: none
    std::string metrics_path;       // per-run metrics, .csv or .jsonl (by extension); empty: none
    std::string export_path;        // final weights with static ranges and test accuracy in the metadata
    int64_t calib_images = 1000;    // static ranges from the first N training images (as `quantlab eval --mode static`)
    std::string recipe;             // "trained_by" metadata; empty: described from these options
    bool progress = true;           // progress on stderr (redrawn line on a terminal, log lines otherwise)
    int64_t max_steps = -1;         // stop after this many optimizer steps in total (benchmarks)
    bool final_eval = true;         // test accuracy at the end (trainer forward and core, static and dynamic)
};

struct TrainReport {
    Status status;                  // failed: the message to print (a NaN stop included)
    bool diverged = false;          // stopped because the loss became NaN or Inf
    std::string device;             // "cpu (2 threads)", "cuda:0"
    int epochs_done = 0;            // completed epochs (including those before a resume)
    int64_t steps = 0;              // optimizer steps in this run
    std::vector<double> losses;     // per step, this run
    double last_val_acc = -1;
    double train_seconds = 0;       // training steps only (no validation or evaluation)
    double train_images_per_s = 0;
    std::string checkpoint;         // last checkpoint written ("" when none)
    double test_acc_trainer = -1;   // the trainer's own forward on the test set (activation ranges per batch)
    double test_acc_static = -1;    // core, calibrated static ranges: what `quantlab eval --mode static` gives
    double test_acc_dynamic = -1;   // core, ranges per batch of 128: `quantlab eval --mode dynamic`
    int64_t test_images = 0;
    StateDict final_weights;        // float weights + metadata (the exported file's content)
};

// Runs training. Prints progress to stderr when options.progress. Never throws.
TrainReport train(const TrainOptions& options);

// ---- export (core only) ----------------------------------------------------------------------------

struct ExportOptions {
    std::string data_dir;
    int64_t calib_images = 1000;    // first N images of data_batch_1.bin (the same images `quantlab eval` uses)
    int64_t batch = 128;            // calibration and evaluation batch (dynamic ranges are per batch)
    int64_t limit_test = -1;
    bool evaluate = true;
    std::map<std::string, std::string> metadata;  // extra keys (trained_by, source, ...)
};

struct ExportResult {
    StateDict weights;              // the input tensors + QuantLab metadata
    QuantConfig config;             // act_mode static with the calibrated ranges
    double acc_static = -1, acc_dynamic = -1;
    int64_t test_images = 0;
};

// Calibrates static activation ranges for `config` (its specs; its act_mode is ignored) with core's
// Model::calibrate, evaluates the test set with core (static and dynamic) and fills the metadata:
// format, quantlab_format_version, model, model_desc, quant_config (static, with act_ranges),
// test_accuracy ("xx.xx", static), test_accuracy_dynamic, test_images, plus options.metadata.
Result<ExportResult> finalize_weights(const StateDict& weights, const NetworkDesc& net, const QuantConfig& config,
                                      const ExportOptions& options);

// A one-line description of a quant config: "float", "W4A4", "W4A4 (conv1 W8A8, fc3 W8A8)", + rule flags.
std::string describe_quant(const QuantConfig& config, const NetworkDesc& net);

}  // namespace quantlab::trainer
