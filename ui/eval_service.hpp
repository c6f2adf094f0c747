// eval_service.hpp: evaluation that never blocks a frame. Jobs (a QuantConfig + backend each, identified by a
// key) run batch by batch - batches of 128 in file order, as `quantlab eval` - either on a worker thread
// (native) or inside pump() with a time budget (wasm without pthreads). Results, complete or partial, are
// published as immutable snapshots the UI reads with get(). Also records a float forward trace of the
// first batch for the network view and the quantizer lab. A frame may wait briefly (wait_for) for a new
// job's first snapshot, which the worker computes on every core (set_first_batch_threads).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/inference.hpp"

namespace quantlab::ui {

constexpr int64_t kEvalBatch = 128;        // the notebook's DataLoader batch; dynamic scales depend on it
constexpr int64_t kCalibrationImages = 1000;  // static mode: the first N evaluation images (as `quantlab eval`)

struct EvalJob {
    std::string key;      // config_key(config, backend)
    QuantConfig config;   // act_mode kStatic: act_ranges are calibrated by the service unless given (one per layer)
    Backend backend = Backend::kFast;
    // Another float model than the service's (set_source): a bundled model for the accuracy-vs-bits overlay
    // (ui/model_catalog.hpp). Its key must name it. Null: the service's model.
    std::shared_ptr<const Model> model;
};
// A stable text key for a config and backend ("W4,4,4,4,4|A4,4,4,4,4|maxabs|sym|pt|..."), "|file ranges"
// at the end for a static config that brings its ranges.
std::string config_key(const QuantConfig& config, Backend backend);
// The job for a config and backend, under its config_key.
inline EvalJob eval_job(const QuantConfig& config, Backend backend) { return {config_key(config, backend), config, backend, nullptr}; }

struct EvalSnapshot {
    EvalResult result;       // what has been evaluated so far
    int64_t total = 0;       // images in the data set
    bool done = false;
    std::string error;       // set (and done) when the job failed
    double seconds = 0;      // compute time spent on this job so far
    double fraction() const { return total ? double(result.evaluated) / double(total) : 1.0; }
};

class EvalService {
public:
    // threaded: run jobs on a worker thread (needs std::thread); otherwise pump() does the work.
    explicit EvalService(bool threaded);
    ~EvalService();
    EvalService(const EvalService&) = delete;
    EvalService& operator=(const EvalService&) = delete;

    // A new float model or data set: drops every result and the trace. Both must be set for work to start.
    void set_source(std::shared_ptr<const Model> float_model, std::shared_ptr<const Cifar10> data);
    // The jobs wanted now, most important first. Finished results stay cached; a job not in the list is paused.
    void set_jobs(std::vector<EvalJob> jobs);

    std::shared_ptr<const EvalSnapshot> get(const std::string& key) const;   // null before its first batch
    // True at once when key has a snapshot; else waits until the worker publishes one for it or max_ms has
    // passed, and says whether one exists then. Without a worker thread nothing can arrive: no wait.
    bool wait_for(const std::string& key, double max_ms) const;
    std::shared_ptr<const ForwardTrace> trace() const;                        // null until computed
    bool busy() const;        // a wanted job is not finished yet (or the trace is pending)
    bool threaded() const { return threaded_; }

    // Threads (core's parallel_for count) for a job's first batch, when more than the count set for the rest
    // (0, the default: no change). The count is raised for that batch only and put back right after.
    void set_first_batch_threads(int n);

    // Without a worker thread: runs batches until budget_ms has passed (at least one batch when work is left).
    void pump(double budget_ms);

private:
    struct Running;
    bool work_once();
    void worker_main();

    const bool threaded_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;                   // wakes the worker (new source, jobs, stop)
    mutable std::condition_variable published_cv_;  // wakes wait_for (a snapshot or the trace was published)
    bool stop_ = false;
    int first_batch_threads_ = 0;
    uint64_t generation_ = 0;
    std::shared_ptr<const Model> model_;
    std::shared_ptr<const Cifar10> data_;
    std::vector<EvalJob> jobs_;
    std::map<std::string, std::shared_ptr<const EvalSnapshot>> cache_;
    std::shared_ptr<const ForwardTrace> trace_;
    // Owned by whoever runs work_once (the worker, or pump's caller).
    uint64_t work_generation_ = 0;
    std::map<std::string, std::unique_ptr<Running>> running_;
    std::thread worker_;
};

}  // namespace quantlab::ui
