// core_trainer.hpp: TrainerHooks (ui/trainer_hooks.hpp) over core's training engine (core/train/run.hpp), so
// training works where LibTorch is absent: the web page (both builds) and any native front end. Runs fine-tune
// the app's loaded model (set_loaded), or start from scratch (TrainRunConfig::model, seeded init_weights), on
// training images handed over as CIFAR-10 binary bytes (set_train_data;
// the page fetches a bundled sample lazily, when the first run asks: wants_train_data). One run trains at a time,
// in the order started. Threaded: a worker std::thread takes the steps and every hook returns at once. Without
// threads: pump() takes steps until its time budget is spent (at least one); the single-threaded page pumps it in
// a Web Worker of its own (ui/trainer_host.hpp), the page's end being ui/remote_trainer.hpp.
// Stop keeps the run's loop (weights and optimizer state), so Resume continues with exactly the next batch.
// ImGui-free (unit-tested natively).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

struct CoreTrainerOptions {
    bool threaded = true;       // a worker thread; false: pump() does the work
    std::string device;         // shown in the panel, in English (tr() translates it): "browser, core engine, worker thread"
    int threads = 0;            // > 0: the panel adds ", N threads" to device
    uint64_t seed = 1;          // the split, the epoch orders, the augmentation draws (as `quantlab train --seed`)
    double val_fraction = 0.2;  // as `quantlab train --val-fraction`
    int64_t val_every = 50;     // validation points every N iterations (and at each epoch end)
    int64_t limit_train = -1;   // only the first N training images (tests, as --limit-train)
    int64_t max_steps = -1;     // a run is finished after N steps (tests, as --max-steps)
    // Where export_weights' bytes go (the page: a download named `path`). Null: written to the file `path`.
    std::function<Status(const std::string& path, const std::vector<uint8_t>& bytes)> save_file;
    // Threaded: called first on the worker thread (the desktop lowers its priority there, so the frame loop wins a
    // shared core). Null: nothing.
    std::function<void()> on_worker_start;
};

// The training panel's line on the images the runs use: `name` (`count` images), or where they will come from (0).
std::string train_data_label_for(const std::string& name, int64_t count);

class CoreTrainer final : public TrainerHooks {
public:
    explicit CoreTrainer(CoreTrainerOptions options);
    ~CoreTrainer() override;  // stops the worker after its current step
    CoreTrainer(const CoreTrainer&) = delete;
    CoreTrainer& operator=(const CoreTrainer&) = delete;

    // The training images, CIFAR-10 binary records (`name` for messages). Bad bytes (not a multiple of 3,073, a
    // label over 9) fail the runs waiting for data with the message, which is also returned.
    Status set_train_data(const std::string& name, const uint8_t* data, size_t size);
    Status set_train_data(const std::string& name, const std::vector<uint8_t>& bytes) { return set_train_data(name, bytes.data(), bytes.size()); }
    // The training images could not be had (a failed download): runs waiting for them fail with `message`.
    void train_data_failed(const std::string& message);
    // A run waits for training images and none were given: the front end should fetch them now.
    bool wants_train_data() const;
    int64_t train_images() const;  // given so far (0: none)
    // Tests' knobs (applied to runs started afterwards): limit_train, max_steps, val_every, seed.
    void set_test_options(int64_t limit_train, int64_t max_steps, int64_t val_every, uint64_t seed);
    // {"runs": [{"id", "state", "steps", "epoch", "loss", "first_loss", "val", "test", "ptq_test", "images_per_s",
    //  "message"}], "device", "train_images": n, "data", "wants_data": bool, "busy": bool}
    std::string status_json() const;

    std::string device() const override;
    Result<int> start(const TrainRunConfig& config) override;
    Status stop(int run_id) override;
    Status resume(int run_id) override;
    std::vector<TrainRun> runs() const override;
    Status export_weights(int run_id, const std::string& path) override;
    void set_loaded(std::shared_ptr<const Model> model, const std::string& name, std::shared_ptr<const Cifar10> test) override;
    void pump(double budget_ms) override;
    bool busy() const override;
    Result<std::vector<uint8_t>> weights_file(int run_id) override;
    bool exports_as_download() const override;
    bool offers_weights_file() const override { return true; }
    std::string train_data_label() const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quantlab::ui
