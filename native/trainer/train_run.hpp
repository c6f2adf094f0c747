// train_run.hpp: the inside of train() (trainer.cpp), for the trainer's own translation units: one run's state
// (RunState) and the three phases over it: setup (checks, machine, model and start point, data on the device,
// optimizer, outputs), run_epoch (one epoch of steps, eager or static, with validation, progress, the NaN stop,
// the stop request and the end-of-epoch checkpoint) and finish (final evaluation and export). Also the helpers
// those phases share: data on the device (train_data.cpp), checkpoints and metrics (trainer.cpp).
// Includes LibTorch; everything outside native/trainer uses trainer.hpp.
#pragma once
#include <torch/torch.h>

#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/data_split.hpp"
#include "native/trainer/graph_step.hpp"
#include "native/trainer/run_common.hpp"  // helpers, metrics and checkpoint metadata shared with core's engine
#include "native/trainer/torch_model.hpp"
#include "native/trainer/trainer.hpp"

namespace quantlab::trainer {

std::string cuda_text();                   // "cuda:0 (1 GPU visible)"

// ---- data on the device (train_data.cpp) -------------------------------------------------------------

struct DeviceData {
    torch::Tensor x_u8;    // (N,3,32,32) uint8, as in the file
    torch::Tensor labels;  // (N) int64
    int64_t count = 0;
};

DeviceData to_device(const Cifar10& d, const torch::Device& device);

// The run's augmentation (crop, flip, colour jitter, cutout: core/train/augment.hpp's draw_augment, the draws
// core's engine makes too), applied on the device.
torch::Tensor augment(const torch::Tensor& x, const AugSpec& spec, std::mt19937_64& rng);

// Accuracy (%) of the model on the images `index` selects (undefined: all of `data`, in order), batches of
// `batch`, eval mode.
double accuracy(QuantNet& model, const DeviceData& data, const torch::Tensor& index, int64_t batch);

// ---- checkpoints and metrics (trainer.cpp) ----------------------------------------------------------------

// The optimizer state file of earlier versions (torch::save), beside a checkpoint: DIR/last.safetensors ->
// DIR/last.optim.pt. Still read by --resume when a checkpoint has no training state file.
std::string optim_path(const std::string& ckpt);

// Model file (core safetensors, evaluable with `quantlab eval`) + the training state file both engines share
// (core/train/resume_state.hpp), each written to a temporary file and renamed: a crash mid-write never leaves a
// broken checkpoint.
Status write_checkpoint(const std::string& path, const StateDict& sd, const StateDict& state);

// ---- the training state file (optim_state.cpp) -----------------------------------------------------------

// The optimizer state (torch::optim's per parameter, under core's parameter names) and the learned steps.
StateDict torch_resume_state(QuantNetImpl& model, torch::optim::Optimizer& opt, Optimizer kind,
                             QuantizerKind quantizer);
// Sets the model's learned steps and the optimizer's state from a training state file (either engine's);
// fails naming `path` and what does not fit.
Status load_torch_resume_state(const StateDict& in, QuantNetImpl& model, torch::optim::Optimizer& opt, Optimizer kind,
                               QuantizerKind quantizer, const std::string& path);

// ---- one run ---------------------------------------------------------------------------------------------

struct RunState {
    explicit RunState(const TrainOptions& options) : o(options) {}

    const TrainOptions& o;
    TrainReport rep;
    // machine
    torch::Device device{torch::kCPU};
    bool cuda = false;
    bool use_static = false;  // the static step (graph_step.hpp) rather than the eager loop
    bool tty = false;         // progress redrawn on a terminal line
    // model and start point
    NetworkDesc net;
    QuantConfig qc;           // the run's quantizer (dynamic ranges; export calibrates)
    QuantNet model{nullptr};
    std::string start_name;   // the weights the run starts from ("" from scratch)
    std::string recipe;       // "trained_by" metadata
    int start_epoch = 0;
    int64_t start_iter = 0;   // > 0: a checkpoint written mid-epoch (stop request)
    // data
    DeviceData data;
    std::vector<int64_t> train_idx;
    torch::Tensor val_index;  // the validation images' indices on the device (undefined without validation)
    int64_t n_train = 0, n_val = 0, steps_per_epoch = 0, total_steps = 0;
    // optimizer and outputs
    std::unique_ptr<torch::optim::Optimizer> opt;
    Metrics metrics;
    std::string ckpt_path;    // "" without a checkpoint dir
    // the loop, over all epochs
    int64_t global_step = 0;  // optimizer steps since the start of the run, earlier (resumed) ones included
    int64_t images_trained = 0, n_vals = 0;
    double train_seconds = 0, val_seconds = 0, t_run = 0;
    // Running sums of the steps since the last report, on the device (read at the host-sync points only).
    // One pair for the whole run: a captured step adds into these very tensors.
    torch::Tensor run_loss, run_correct;
    std::vector<torch::Tensor> momentum_buffers;       // the static step's SGD state (the optimizer's own)
    std::unique_ptr<StaticStep> full_step, tail_step;  // the static step at the full and the short last batch
    bool stop = false;        // no further epochs: a stop request, --max-steps or a NaN

    // A checkpoint of the state after `iter` steps of epoch `epoch` (0-based; iter 0 = the end of the
    // previous epoch); --resume continues from exactly there.
    Status save_checkpoint(int epoch, int64_t iter, double val);
    // Where the run is, for options.on_progress.
    TrainProgress progress_at(double step_loss, double loss, double acc, double val, double ips) const;
};

// Everything before the first step; fills rep.device and rep.step. A failure is the run's status.
Status setup(RunState& r);
// Epoch `epoch` (0-based) from its first step, or from start_iter when it is the resumed one. Sets r.stop when
// the run ends in it; a NaN fills rep.status and rep.diverged and returns success.
Status run_epoch(RunState& r, int epoch);
// After the last epoch: final weights, and with options.final_eval the test accuracies and the export.
Status finish(RunState& r);

}  // namespace quantlab::trainer
