// trainer_hooks.hpp: what the training panel needs from a trainer, as an interface, so that ui/ stays free
// of LibTorch. The desktop app implements it over native/trainer (native/gui/gui_trainer.hpp: a worker thread;
// every call here returns at once); the web page over core's engine (ui/core_trainer.hpp); both hand it to
// App::set_trainer. Without one the panel says why training is unavailable.
// Thread safety: the UI calls these from its frame; implementations guard their state themselves.
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/inference.hpp"
#include "core/quantizer.hpp"
#include "core/status.hpp"
#include "core/train_options.hpp"

namespace quantlab::ui {

struct TrainRunConfig {
    std::string label;             // shown in the legend ("sgd lr 0.01", ...); empty: made from the settings
    std::string init_weights;      // "" = from scratch; else a weights file (fine-tuning / QAT start)
    std::string model = "notebook";  // from scratch: notebook, wide:N or a NetworkDesc text (core's network_choice)
    int epochs = 10;
    int batch = 128;
    double lr = 0.01;
    double momentum = 0.9;
    Optimizer optimizer = Optimizer::kSgd;  // the panel offers sgd and adam
    Schedule schedule = Schedule::kNone;    // the panel offers none, cosine and step
    bool augment = false;          // random crop + horizontal flip
    int cutout = 0;                // cutout: a zeroed N x N square per image (0: none; 16 in DeVries & Taylor)
    double jitter = 0;             // colour jitter strength a, factors in [1 - a, 1 + a] (0: none; e.g. 0.4)
    // The training images; CIFAR-100 needs a 100-output network (from scratch, or weights made for it).
    Dataset dataset = Dataset::kCifar10;
    bool qat = false;              // quantization-aware: fake-quant forward, STE backward
    int weight_bits = 8, act_bits = 8;
    // The quantizer of a QAT run, on every layer (core's apply_rule; its bits are unused: the two above). Default:
    // the notebook's symmetric max-abs, per tensor. At 2-4 bits asymmetric MSE-optimal ranges with per-channel
    // weights train far better (native/trainer/RESULTS.md).
    QuantSpec quant;
    SteRule ste = SteRule::kIdentity;
    // fixed: `quant`'s range rule with the STE; lsq / pact: learned steps (core/quantizer.hpp), plotted as they move.
    QuantizerKind quantizer = QuantizerKind::kFixed;
};

struct TrainPoint {
    double epoch = 0;          // fractional: progress through the run
    int64_t step = 0;          // optimizer steps since the run's start
    double seconds = 0;        // wall time since the run's start (a stopped run's pause not counted)
    double loss = 0;           // running training loss; < 0 on a point that carries only an accuracy
    double val_accuracy = -1;  // percent; < 0 where not measured
    double test_accuracy = -1; // percent on the app's test images (core's trainer); < 0 where not measured
    double images_per_s = 0;
    // lsq / pact: each conv/linear layer's learned steps S (TrainRun::layers order; 0 where not learned)
    std::vector<float> weight_steps, act_steps;
};

enum class TrainState { kQueued, kRunning, kStopped, kFinished, kFailed };

// "queued", "running", "stopped", "finished", "failed": the trainers' status JSON and the results CSV.
inline const char* train_state_name(TrainState s) {
    switch (s) {
        case TrainState::kQueued: return "queued";
        case TrainState::kRunning: return "running";
        case TrainState::kStopped: return "stopped";
        case TrainState::kFinished: return "finished";
        case TrainState::kFailed: return "failed";
    }
    return "?";
}

// A run that still wants the trainer's time (queued or running): busy(), and what a dead worker fails.
inline bool train_active(TrainState s) { return s == TrainState::kQueued || s == TrainState::kRunning; }

// How both trainers feed the panel's curves. Points closer than kMinPointSpacing (in epochs) are thinned out: a CPU
// epoch reports ~300 steps and every frame copies every run's points; points that carry an accuracy are kept.
constexpr double kMinPointSpacing = 1.0 / 200;

// The plotted loss: an exponential moving average of the step losses, bias-corrected (as Adam's moments) so the
// first points are not pulled towards 0. A trainer's own running mean restarts at every epoch and validation,
// which would draw a saw-tooth; this one carries on across them and across a resume.
class LossSmoother {
public:
    double add(double step_loss) {
        avg_ = (1 - kWeight) * avg_ + kWeight * step_loss;
        ++samples_;
        return value();
    }
    double value() const { return samples_ ? avg_ / (1 - std::pow(1 - kWeight, double(samples_))) : -1.0; }  // -1: none yet

private:
    static constexpr double kWeight = 0.1;
    double avg_ = 0;
    int64_t samples_ = 0;
};

struct TrainRun {
    int id = 0;
    TrainRunConfig config;
    TrainState state = TrainState::kQueued;
    std::vector<TrainPoint> points;
    std::vector<std::string> layers;  // the conv/linear layers that TrainPoint's steps belong to (lsq / pact runs)
    std::string message;       // failure reason, or where it was exported
};

class TrainerHooks {
public:
    virtual ~TrainerHooks() = default;
    virtual std::string device() const = 0;                      // "CPU, 2 threads" / "CUDA: NVIDIA H100"
    virtual Result<int> start(const TrainRunConfig& config) = 0; // a new run; returns its id
    virtual Status stop(int run_id) = 0;                         // pauses after the current step
    virtual Status resume(int run_id) = 0;
    virtual std::vector<TrainRun> runs() const = 0;              // a snapshot of every run, oldest first
    // Writes the run's current weights as QuantLab safetensors (temp file + rename).
    virtual Status export_weights(int run_id, const std::string& path) = 0;

    // ---- optional (defaults: nothing), for trainers that run in the app's process (ui/core_trainer.hpp)
    // What the app has loaded, handed over whenever it changes: runs start from this model ("fine-tune the
    // loaded model") and measure test accuracy on these images.
    virtual void set_loaded(std::shared_ptr<const Model> /*model*/, const std::string& /*name*/, std::shared_ptr<const Cifar10> /*test*/) {}
    // Without threads: App calls this every frame with the time the trainer may take.
    virtual void pump(double /*budget_ms*/) {}
    // A run is queued or running (the front end keeps drawing frames).
    virtual bool busy() const { return false; }
    // The run's current weights as a QuantLab .safetensors file (to load as the current model); empty: not offered.
    virtual Result<std::vector<uint8_t>> weights_file(int /*run_id*/) { return Status::error("train: not offered by this trainer"); }
    virtual bool offers_weights_file() const { return false; }
    // Where export_weights goes ("" = a path the user types; the page: a download, named by the trainer).
    virtual bool exports_as_download() const { return false; }
    // Whether runs can train on `d` (the panel offers only these). Default: CIFAR-10 only (the page's core trainer
    // has its bundled CIFAR-10 sample and nothing else).
    virtual bool trains_on(Dataset d) const { return d == Dataset::kCifar10; }
    // Whether d's training images are there now; else a message saying where the trainer looked and how to get
    // them (the panel shows it before Start). Default: fine (a trainer that fetches its data when a run asks).
    virtual Status check_data(Dataset /*d*/) const { return Status::success(); }
    // A line on the training images the runs use, in the UI's language ("" = none to show).
    virtual std::string train_data_label() const { return {}; }
    // Where this session's runs write their checkpoints (the panel saves curves next to them); "" if none.
    virtual std::string runs_dir() const { return std::string(); }
};

}  // namespace quantlab::ui
