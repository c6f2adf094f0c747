// gui_trainer.hpp: the desktop app's TrainerHooks (ui/trainer_hooks.hpp) over native/trainer's train().
// One worker thread trains the runs one at a time, in the order they were started (later starts queue);
// each run has its own checkpoint folder, so Stop (a checkpoint at the current step) and Resume (train()
// again with --resume) work mid-epoch. Every hook returns at once: the UI thread only copies a snapshot under
// a mutex. Exports of finished runs are written at once; other runs are exported from their checkpoint on a
// helper thread (calibration + test evaluation take seconds), and the run's message says when it is written.
// Torch-free header; the .cpp is compiled only with LibTorch (QUANTLAB_HAVE_TORCH).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "native/trainer/trainer.hpp"
#include "ui/trainer_hooks.hpp"

namespace quantlab::gui {

struct GuiTrainerOptions {
    std::string data_dir;          // CIFAR-10 binary folder (find_data_dir's answer)
    std::string data_source;       // how data_dir was chosen, for messages: "--data", "$QUANTLAB_DATA", ...
    std::string cifar100_dir;      // CIFAR-100 binary folder (cifar-100-binary: train.bin, test.bin) for dataset runs
    std::string runs_dir;          // run N checkpoints into runs_dir/run-N/
    std::string assets_dir;        // weights given by bare name are looked up here, too
    int threads = 1;               // CPU threads of the trainer (leave one core to the frame loop)
    trainer::Device device = trainer::Device::kAuto;
    int64_t limit_train = -1;      // tests and demos: the first N training images only
    int64_t limit_test = -1;       // ... and N test images in the final evaluation and exports
    int64_t calib_images = 1000;   // static-range calibration images of the exported files
    int64_t val_every = 100;       // validation points every N iterations (and at each epoch end)
};

// The default folder for run checkpoints: $XDG_DATA_HOME or ~/.local/share, + quantlab/runs/<time>-<pid>.
std::string default_runs_dir();

// Removes the session folders under `root` (named <time>-<pid> as default_runs_dir names them) in which nothing
// was written for more than max_age_days, and returns their paths. Each launch of the app starts a new one and
// none is ever reopened by the app, so without this a lab machine's disk fills over a semester (a run's
// checkpoint is ~3 MB). Anything else under `root`, and whatever cannot be read or removed, stays.
std::vector<std::string> prune_runs(const std::string& root, int max_age_days);

// The data folder of a run on `d`: options.data_dir (CIFAR-10) or options.cifar100_dir.
const std::string& dataset_dir(const GuiTrainerOptions& options, Dataset d);

// The panel's knobs on the notebook's recipe: the TrainOptions a run of `c` trains with. init_path: the resolved
// start weights ("" = from scratch: c.model sized for c.dataset's classes); checkpoint_dir: the run's folder.
// Fails naming what does not fit (a model choice, the quantizer on this network, an augmentation value).
Result<trainer::TrainOptions> run_options(const ui::TrainRunConfig& c, const GuiTrainerOptions& options, const std::string& init_path,
                                          const std::string& checkpoint_dir);

class GuiTrainer final : public ui::TrainerHooks {
public:
    explicit GuiTrainer(GuiTrainerOptions options);
    ~GuiTrainer() override;  // shutdown()
    GuiTrainer(const GuiTrainer&) = delete;
    GuiTrainer& operator=(const GuiTrainer&) = delete;

    // Stops the running run after its current step (it writes its checkpoint), drops the queue and joins
    // the worker and export threads. Call before the App that uses these hooks goes; idempotent.
    void shutdown();
    // A run queued or running, or an export in progress (the frame loop keeps the curves moving then).
    bool busy() const override;
    // {"runs": n, "active": bool (queued or running), "exports_running": n, "runs_list": [{"id", "state", "points", "epoch", "loss", "val", "images_per_s", "message"}]}
    std::string status_json() const;

    std::string device() const override;
    Result<int> start(const ui::TrainRunConfig& config) override;
    Status stop(int run_id) override;
    Status resume(int run_id) override;
    std::vector<ui::TrainRun> runs() const override;
    Status export_weights(int run_id, const std::string& path) override;
    std::string runs_dir() const override;
    bool trains_on(Dataset d) const override { return d == Dataset::kCifar10 || d == Dataset::kCifar100; }
    Status check_data(Dataset d) const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quantlab::gui
