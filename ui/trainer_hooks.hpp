// trainer_hooks.hpp: what the training panel needs from a trainer, as an interface, so that ui/ stays free
// of LibTorch. The desktop app implements it over native/trainer (a worker thread; every call here returns
// at once) and hands it to App::set_trainer; the web page has none and the panel says so.
// Thread safety: the UI calls these from its frame; implementations guard their state themselves.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

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
    bool qat = false;              // quantization-aware: fake-quant forward, STE backward
    int weight_bits = 8, act_bits = 8;
    // The quantizer of a QAT run, on every layer (core's apply_rule; its bits are unused: the two above). Default:
    // the notebook's symmetric max-abs, per tensor. At 2-4 bits asymmetric MSE-optimal ranges with per-channel
    // weights train far better (native/trainer/RESULTS.md).
    QuantSpec quant;
    SteRule ste = SteRule::kIdentity;
};

struct TrainPoint {
    double epoch = 0;          // fractional: progress through the run
    int64_t step = 0;          // optimizer steps since the run's start
    double seconds = 0;        // wall time since the run's start (a stopped run's pause not counted)
    double loss = 0;           // running training loss
    double val_accuracy = -1;  // percent; < 0 where not measured
    double images_per_s = 0;
};

enum class TrainState { kQueued, kRunning, kStopped, kFinished, kFailed };

struct TrainRun {
    int id = 0;
    TrainRunConfig config;
    TrainState state = TrainState::kQueued;
    std::vector<TrainPoint> points;
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
    // Where this session's runs write their checkpoints (the panel saves curves next to them); "" if none.
    virtual std::string runs_dir() const { return std::string(); }
};

}  // namespace quantlab::ui
