// trainer.hpp: QuantLab's trainer as the command line and the tests see it: options in, a report out.
// Torch-free on purpose (LibTorch stays inside native/trainer's .cpp files and train_run.hpp), so including it
// costs nothing. train() runs the notebook's fine-tuning recipe and the final assignment's knobs (optimizer, LR
// schedule, augmentation, per-layer bits, STE rule) on CUDA or CPU; finalize_weights() is the export step
// (calibrate static activation ranges and measure test accuracy with core's inference, the same semantics
// `quantlab eval` uses) and needs no LibTorch. The desktop app (native/gui/gui_trainer) drives train() on a
// worker thread through on_progress and stop_flag; Ctrl-C in `quantlab train` uses the same stop path.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "core/inference.hpp"
#include "core/network.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"
#include "core/train/run.hpp"  // model_tensors
#include "core/train/learned_params.hpp"
#include "core/train_options.hpp"

namespace quantlab::trainer {

// The trainer's machine choices, parsed from their command-line names once by the front ends (parse_*
// below; core/train_options.hpp holds the optimizer and the schedule).
enum class Device { kAuto, kCpu, kCuda };          // auto: CUDA when LibTorch sees a GPU
enum class Toggle { kAuto, kOn, kOff };            // --channels-last, --cuda-graph
enum class FqKernelChoice { kAuto, kExact, kFused };  // auto: fused on CUDA, exact on the CPU

const char* device_name(Device device);            // "auto", "cpu", "cuda"
Result<Device> parse_device(const std::string& name);
const char* toggle_name(Toggle toggle);            // "auto", "on", "off"
// `option` names the flag in the message: "train: --cuda-graph must be auto, on or off, got 'x'".
Result<Toggle> parse_toggle(const std::string& name, const std::string& option);
const char* fq_kernel_choice_name(FqKernelChoice kernel);  // "auto", "exact", "fused"
Result<FqKernelChoice> parse_fq_kernel_choice(const std::string& name);

// What train() tells options.on_progress as it goes (the desktop app's live curves). Called on the training
// thread at the trainer's host-sync points: every step on the CPU, every 10th step on CUDA (where reading the
// loss back waits for the GPU), after each mid-epoch validation and at the end of every epoch.
struct TrainProgress {
    double epoch = 0;          // fractional: epochs done, counting the steps of the current one
    int64_t step = 0;          // optimizer steps since the start of the run (earlier, resumed ones included)
    int64_t total_steps = 0;   // of the whole run
    double step_loss = 0;      // this step's batch loss
    double loss = 0;           // running mean training loss since the epoch start or the last validation
    double train_acc = 0;      // percent, over the same images as `loss`
    double val_accuracy = -1;  // percent; measured at this point, else -1
    double images_per_s = 0;   // training steps only, this run
    bool epoch_end = false;    // the end-of-epoch point (validation done, checkpoint written)
    // --quantizer lsq / pact: each conv/linear layer's learned steps S now (0: not learned, or before the first step).
    std::vector<LayerSteps> learned_steps;
};

struct TrainOptions {
    // ---- start point
    std::string init_weights;  // .pth or .safetensors to fine-tune (core's readers); unused with from_scratch
    bool from_scratch = false;
    std::string model_desc;    // from_scratch: a NetworkDesc text form; empty: the notebook's net
    std::string resume;        // a checkpoint written by this trainer (checkpoint_dir/last.safetensors)
    // ---- data
    std::string data_dir;      // CIFAR-10 binary folder (CIFAR-100's with dataset kCifar100)
    Dataset dataset = Dataset::kCifar10;  // its class count must be the network's outputs (sized from it from scratch)
    int64_t limit_train = -1;  // only the first N of the 50,000 training images (tests, quick tries)
    int64_t limit_test = -1;   // only the first N test images in the final evaluation
    double val_fraction = 0.2; // the notebook's seeded 80/20 train/validation split; 0 trains on everything
    // ---- recipe (defaults: the notebook's)
    Optimizer optimizer = Optimizer::kSgd;
    double lr = 1e-3, momentum = 0.9, weight_decay = 1e-5;
    Schedule schedule = Schedule::kNone;  // per step, over the whole run (lr_at)
    bool augment_crop = false;      // random 32x32 crop of the image zero-padded by 4 pixels
    bool augment_flip = false;      // random horizontal flip
    int64_t augment_cutout = 0;     // cutout: one zeroed square of this side in pixels per image (0: none)
    double augment_jitter = 0;      // colour jitter: brightness, contrast, saturation factors in [1-a, 1+a] (0: none)
    int64_t batch = 128;
    int epochs = 5;
    uint64_t seed = 1;
    int64_t val_every = 100;        // validate every N iterations (0: only at the end of each epoch)
    // ---- quantization (activation scales per batch during training, as in the notebook)
    QuantConfig quant;              // per-layer specs; default float everywhere
    SteRule ste = SteRule::kIdentity;
    // fixed: the specs' range rules with the STE; lsq / pact: learned steps (core/quantizer.hpp), trained with their
    // own optimizer state and no weight decay, exported as fixed scales (the quant config's weight/act_scales).
    QuantizerKind quantizer = QuantizerKind::kFixed;
    FqKernelChoice fq_kernel = FqKernelChoice::kAuto;
    // ---- machine
    int threads = 0;                // CPU threads; 0 = all cores
    Device device = Device::kAuto;
    Toggle channels_last = Toggle::kAuto;  // auto: on for the CPU and for a CUDA graph step (faster in NHWC)
    // The step over static tensors (graph_step.hpp), captured as a CUDA graph on CUDA and run eagerly on the
    // CPU (where "on" is for tests). auto: on for CUDA when the optimizer is SGD and every range rule is
    // computed on the device (not percentile or mse).
    Toggle cuda_graph = Toggle::kAuto;
    // ---- outputs
    std::string checkpoint_dir;  // DIR/last.safetensors (+ last.state.safetensors) each epoch, atomically; empty: none
    std::string metrics_path;       // per-run metrics, .csv or .jsonl (by extension); empty: none
    std::string export_path;        // final weights with static ranges and test accuracy in the metadata
    int64_t calib_images = 1000;    // static ranges from the first N training images (as `quantlab eval --mode static`)
    std::string recipe;             // "trained_by" metadata; empty: described from these options
    bool progress = true;           // progress on stderr (redrawn line on a terminal, log lines otherwise)
    int64_t max_steps = -1;         // stop after this many optimizer steps in total (benchmarks)
    bool final_eval = true;         // test accuracy at the end (trainer forward and core, static and dynamic)
    // ---- live use (the desktop app, Ctrl-C in `quantlab train`)
    std::function<void(const TrainProgress&)> on_progress;  // see TrainProgress; must not throw
    // Checked before every step. Once true the run stops after the step in flight: it writes a checkpoint at
    // that exact step (checkpoint_dir, with the iteration within the epoch in its metadata, so --resume
    // continues with the next batch of the same epoch) and returns with report.stopped, without the final
    // evaluation. Owned by the caller; may be set from any thread or a signal handler.
    const std::atomic<bool>* stop_flag = nullptr;
    int64_t stop_after = -1;  // a stop request (as stop_flag) once this run has taken N steps: tests, scripted pauses
};

struct TrainReport {
    Status status;                  // failed: the message to print (a NaN stop included)
    bool diverged = false;          // stopped because the loss became NaN or Inf
    bool stopped = false;           // stopped on options.stop_flag (status ok; resume from `checkpoint`)
    std::string device;             // "cpu (2 threads)", "cuda:0"
    std::string step;               // how steps ran: "eager", "static (eager)" or "CUDA graph"
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
    StateDict final_weights;        // float weights + metadata (the exported file's content); a stopped run's
                                    // current weights, without test accuracy
};

// Runs training. Prints progress to stderr when options.progress. Never throws. LibTorch builds only.
TrainReport train(const TrainOptions& options);

// The training engines of `quantlab train --engine`: core (core/train, no LibTorch, in every build) and torch
// (train() above, LibTorch builds).
enum class Engine { kCore, kTorch };
const char* engine_name(Engine engine);  // "core", "torch"
Result<Engine> parse_engine(const std::string& name);

// The same run on core's engine (core_train.cpp): the seeded split and order, augmentation draws, optimizer and
// schedule of train(), core's train_step (its fast kernels, over options.threads threads), the same metrics file,
// checkpoints (model only) and export. CPU only. Not supported yet, and refused with a message: resume, from_scratch, device cuda.
// A NaN or infinite loss stops the run with report.diverged, keeping the last weights whose loss was finite.
// A batch larger than the training images is an error. options.channels_last, cuda_graph and fq_kernel do not apply.
TrainReport train_core(const TrainOptions& options);

// What train() would report as its device for these options ("cpu (3 threads)", "cuda:0 (1 GPU visible)"),
// without training: the desktop app shows it before the first run.
std::string describe_device(Device device, int threads);

// ---- export (core only) ----------------------------------------------------------------------------

struct ExportOptions {
    std::string data_dir;
    Dataset dataset = Dataset::kCifar10;  // which files data_dir holds; recorded as the "dataset" metadata
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

// Only the tensors `net` declares, in its order, with their dtypes (a checkpoint's extra entries dropped):
// what finalize_weights and the exported file hold (core/train/run.hpp, where the page's trainer finds it too).
using quantlab::model_tensors;

// A one-line description of a quant config: "float", "W4A4", "W4A4 (conv1 W8A8, fc3 W8A8)", + rule flags; with a
// learned quantizer (lsq, pact) what it learns and its codes instead of the range rule it does not use.
std::string describe_quant(const QuantConfig& config, const NetworkDesc& net, QuantizerKind kind = QuantizerKind::kFixed);

}  // namespace quantlab::trainer
