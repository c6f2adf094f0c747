// remote_trainer.hpp: TrainerHooks for the single-threaded page, whose runs train in a Web Worker of their own
// (ui/trainer_host.hpp, the same core trainer). Every hook returns at once from what the worker last reported: the
// runs' states, messages and curves, and their weights (sent at most a second apart while a run trains, and when
// it stops or ends), so Use and Download need no round trip. The worker starts with the first run (a page that
// never trains never loads it); the loaded model, the test images, the language and the tests' options follow it.
// The transport (postMessage) is the caller's; ImGui-free, unit-tested natively against a TrainerHost.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

struct RemoteTrainerOptions {
    std::string device;  // shown in the panel, in English (tr() translates it)
    // A message to the worker: JSON and its payload (may be empty). The first one starts the worker.
    std::function<void(const std::string& json, const uint8_t* bytes, size_t size)> send;
    // Where export_weights' bytes go (the page: a download named `path`).
    std::function<Status(const std::string& path, const std::vector<uint8_t>& bytes)> save_file;
};

class RemoteTrainer final : public TrainerHooks {
public:
    explicit RemoteTrainer(RemoteTrainerOptions options);
    ~RemoteTrainer() override;

    // A message from the worker (TrainerHost's Send).
    void receive(const std::string& json, const uint8_t* bytes, size_t size);
    // The worker could not start, died, or could not read a message (`message` says why): its queued and running
    // runs fail with it, and so do runs started afterwards (the page must be reloaded to train again).
    void worker_failed(const std::string& message);

    // As CoreTrainer's (ui/core_trainer.hpp): the page's glue and tests call these on either trainer.
    Status set_train_data(const std::string& name, const uint8_t* data, size_t size);
    void train_data_failed(const std::string& message);
    bool wants_train_data() const;
    int64_t train_images() const;
    void set_test_options(int64_t limit_train, int64_t max_steps, int64_t val_every, uint64_t seed);
    std::string status_json() const;

    std::string device() const override;
    Result<int> start(const TrainRunConfig& config) override;
    Status stop(int run_id) override;
    Status resume(int run_id) override;
    std::vector<TrainRun> runs() const override;
    Status export_weights(int run_id, const std::string& path) override;
    void set_loaded(std::shared_ptr<const Model> model, const std::string& name, std::shared_ptr<const Cifar10> test) override;
    void pump(double budget_ms) override;  // sends the language when the UI's changed
    bool busy() const override;
    Result<std::vector<uint8_t>> weights_file(int run_id) override;
    bool exports_as_download() const override { return true; }
    bool offers_weights_file() const override { return true; }
    std::string train_data_label() const override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace quantlab::ui
