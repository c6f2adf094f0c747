// run.hpp: one training run of core's engine as an object stepped one optimizer step at a time: the seeded
// train/validation split and epoch order (core/data_split), the augmentation draws (core/train/augment),
// the learning-rate schedule (lr_at), train_step, validation with core's inference at the run's points, and the
// stop on a non-finite loss that restores the last good weights. No files, no clocks the caller must own, no
// threads of its own: `quantlab train --engine core` (native/trainer/core_train.cpp) drives it in a loop and
// adds the files; the page and the desktop (ui/core_trainer.hpp) drive it from a worker thread or a per-frame
// pump. Stop and resume are the caller's: it stops calling step() and calls it again later (the optimizer state
// stays in the object), so a resumed run takes exactly the steps the uninterrupted one would.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/data_split.hpp"
#include "core/network.hpp"
#include "core/state_dict.hpp"
#include "core/train/augment.hpp"
#include "core/status.hpp"
#include "core/train/optimizer.hpp"
#include "core/train/train_step.hpp"
#include "core/train_options.hpp"

namespace quantlab {

// The recipe of a run (the defaults: the notebook's, as native/trainer's TrainOptions).
struct RunSettings {
    int epochs = 5;
    int64_t batch = 128;
    Optimizer optimizer = Optimizer::kSgd;
    double lr = 1e-3, momentum = 0.9, weight_decay = 1e-5;
    Schedule schedule = Schedule::kNone;  // per step, over the whole run (lr_at)
    AugSpec augment;            // crop, flip, cutout, colour jitter (core/train/augment.hpp)
    double val_fraction = 0.2;  // the seeded split of the training images; 0 trains on everything
    uint64_t seed = 1;
    int64_t val_every = 100;    // also validate every N iterations (0: only at the end of each epoch)
    int64_t max_steps = -1;     // the run is done after this many steps in total (benchmarks, tests)
    TrainSettings train;        // the quantizer (ranges per batch while training) and the STE
};

// What one step() did.
struct RunStep {
    int epoch = 0;             // 0-based epoch this step belongs to
    int64_t iter = 0;          // 1-based iteration within the epoch
    int64_t steps_done = 0;    // optimizer steps taken so far, this one included
    double lr = 0;             // the rate this step used
    double loss = 0;           // this batch's loss (before the update)
    int64_t images = 0;        // images in this batch
    double running_loss = 0;   // mean loss since the epoch began or the last mid-epoch validation
    double running_acc = 0;    // training accuracy (%) over the same images
    bool epoch_end = false;    // this was the epoch's last step
    double val = -1;           // validation accuracy (%) measured after this step; < 0: not measured now
    double step_seconds = 0;   // the train_step call alone
};

// The model's own tensors of `weights` in net.params() order (a checkpoint's extras dropped), typed as the
// network says; fails naming `source` and the first missing tensor.
Result<StateDict> model_tensors(const StateDict& weights, const NetworkDesc& net, const std::string& source);

// Accuracy (%) of `weights` on `data` with core's inference in eval mode (BatchNorm on running statistics,
// activation ranges per batch of `batch`, the fast backend): what a run's validation measures.
Result<double> accuracy_of(const NetworkDesc& net, const StateDict& weights, const QuantConfig& qc, const Cifar10& data, int64_t batch);

class TrainLoop {
public:
    // Checks the settings (messages name the value: "batch 200 is larger than the 160 training images ..."),
    // splits `train_set` (shared: the caller may keep it) and starts from `weights` (cleaned by model_tensors).
    // The quantizer's activation ranges become per batch (dynamic), as every trainer trains.
    static Result<std::unique_ptr<TrainLoop>> create(const NetworkDesc& net, const StateDict& weights, std::shared_ptr<const Cifar10> train_set,
                                                     RunSettings settings);

    // Continues a run from a checkpoint: the position (optimizer steps taken, which fixes the epoch, the
    // iteration, the data order and the augmentation draws, replayed for the skipped batches) and `state`, the
    // optimizer state and learned steps of resume_state.hpp (resume_state() of the run that wrote it, or the
    // LibTorch trainer's). The weights are those create() was given. Only before the first step; fails naming
    // what does not fit (another optimizer or quantizer, a position past the run's end, a missing tensor).
    Status resume(int64_t steps_done, const StateDict& state);
    // This run's optimizer state and learned steps, stamped with its optimizer and quantizer (resume_state.hpp).
    StateDict resume_state() const;

    // One optimizer step on the next batch (and validation when one is due). A non-finite loss (or a
    // quantizer asked to code a non-finite activation) fails with a message naming the step and the rate;
    // the weights are then those before the last step whose loss was finite (the run's start weights when even
    // those overflow in eval mode), and the run is diverged().
    // Also fails when the run is done() or diverged().
    Result<RunStep> step();

    bool done() const;          // every step of every epoch taken (or max_steps reached)
    bool diverged() const { return diverged_; }
    int64_t steps_done() const { return steps_done_; }
    int64_t good_steps() const { return good_steps_; }  // after a divergence: the steps behind the kept weights
    int64_t steps_per_epoch() const { return steps_per_epoch_; }
    int64_t total_steps() const;  // max_steps or epochs * steps_per_epoch
    int epochs_done() const { return epochs_done_; }
    double progress_epochs() const { return steps_per_epoch_ ? double(steps_done_) / double(steps_per_epoch_) : 0; }
    int64_t train_images() const { return int64_t(split_.train.size()); }
    int64_t val_images() const { return val_set_.count; }
    const Cifar10& val_set() const { return val_set_; }  // the held-out images (empty with val_fraction 0)
    double last_val() const { return last_val_; }  // < 0: none yet
    double train_seconds() const { return train_seconds_; }  // train_step calls only
    int64_t images_trained() const { return images_trained_; }

    const NetworkDesc& net() const { return net_; }
    const StateDict& weights() const { return weights_; }
    const RunSettings& settings() const { return settings_; }
    const QuantConfig& config() const { return settings_.train.config; }
    // lsq / pact: the learned steps (learned_params.hpp; 0 until the first step sets them); empty for fixed.
    const StateDict& learned() const { return learned_; }
    // The config inference runs for these weights: config() with the learned steps as fixed scales (lsq /
    // pact), else config() itself. What validation measures, and what checkpoints and exports store.
    Result<QuantConfig> eval_config() const;

private:
    TrainLoop() = default;
    void begin_epoch();
    Status set_position(int64_t steps_done);

    NetworkDesc net_;
    RunSettings settings_;
    std::shared_ptr<const Cifar10> data_;
    TrainValSplit split_;
    Cifar10 val_set_;
    std::unique_ptr<ParamOptimizer> opt_, learned_opt_;
    StateDict weights_, last_good_, learned_, last_good_learned_;
    StateDict start_;  // kept after a divergence when even the last good weights overflow in eval mode
    int64_t steps_per_epoch_ = 0, steps_done_ = 0, good_steps_ = 0, images_trained_ = 0;
    int epoch_ = 0, epochs_done_ = 0;
    int64_t iter_ = 0;  // steps taken in the current epoch
    std::vector<int64_t> order_;
    std::mt19937_64 aug_rng_;
    double run_loss_ = 0, last_val_ = -1, train_seconds_ = 0;
    int64_t run_correct_ = 0, run_images_ = 0;
    bool diverged_ = false;
    std::vector<float> x_, xa_;
    std::vector<int32_t> labels_;
};

}  // namespace quantlab
