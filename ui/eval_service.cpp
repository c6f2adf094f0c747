// eval_service.cpp: background evaluation (see eval_service.hpp).
#include "ui/eval_service.hpp"

#include <algorithm>
#include <chrono>

#include "core/parallel.hpp"

namespace quantlab::ui {

namespace {
double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
std::string spec_key(const QuantSpec& s) {
    std::string k = std::string(range_rule_name(s.rule)) + (s.symmetric ? ",sym" : ",asym") + (s.per_channel ? ",pc" : ",pt");
    if (s.symmetric && s.codes != SymmetricCodes::kNarrow) k += std::string(",") + symmetric_codes_name(s.codes);
    if (s.rule == RangeRule::kMeanStd) k += ",k" + std::to_string(s.k);
    if (s.rule == RangeRule::kPercentile) k += ",p" + std::to_string(s.percentile);
    return k;
}

// Raises core's thread count to n for its lifetime when n is more than the current count (else does nothing),
// and puts the previous count back however the scope is left.
class ThreadCountScope {
public:
    explicit ThreadCountScope(int n) : previous_(num_threads()), raised_(n > previous_) {
        if (raised_) set_num_threads(n);
    }
    ~ThreadCountScope() {
        if (raised_) set_num_threads(previous_);
    }
    ThreadCountScope(const ThreadCountScope&) = delete;
    ThreadCountScope& operator=(const ThreadCountScope&) = delete;

private:
    const int previous_;
    const bool raised_;
};
}  // namespace

std::string config_key(const QuantConfig& c, Backend backend) {
    std::string w = "W", a = "A", rules;
    for (size_t i = 0; i < c.layers.size(); ++i) {
        w += (i ? "," : "") + std::to_string(c.layers[i].weight.bits);
        a += (i ? "," : "") + std::to_string(c.layers[i].act.bits);
        rules += "|" + spec_key(c.layers[i].weight) + "/" + spec_key(c.layers[i].act);
    }
    // Given static ranges (a file's calibrated ones) are another job than ranges calibrated here.
    const bool given_ranges = c.act_mode == ActMode::kStatic && c.act_ranges.size() == c.layers.size() && !c.layers.empty();
    // Fixed scales (a file's learned steps) are another job again.
    const bool given_scales = !c.weight_scales.empty() || !c.act_scales.empty();
    return w + "|" + a + "|" + act_mode_name(c.act_mode) + "|" + backend_name(backend) + rules + (given_ranges ? "|file ranges" : "") +
           (given_scales ? "|file scales" : "");
}

struct EvalService::Running {
    std::shared_ptr<const Cifar10> data;  // keeps the images alive while `eval` points at them
    std::unique_ptr<Model> model;
    std::unique_ptr<Evaluation> eval;
    double seconds = 0;
    std::string error;
};

EvalService::EvalService(bool threaded) : threaded_(threaded) {
    if (threaded_) worker_ = std::thread([this] { worker_main(); });
}

EvalService::~EvalService() {
    if (threaded_) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_ = true;
        }
        cv_.notify_all();
        worker_.join();
    }
}

void EvalService::set_source(std::shared_ptr<const Model> float_model, std::shared_ptr<const Cifar10> data) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        model_ = std::move(float_model);
        data_ = std::move(data);
        ++generation_;
        cache_.clear();
        trace_.reset();
    }
    cv_.notify_all();
}

void EvalService::set_jobs(std::vector<EvalJob> jobs) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_ = std::move(jobs);
    }
    cv_.notify_all();
}

std::shared_ptr<const EvalSnapshot> EvalService::get(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(key);
    return it == cache_.end() ? nullptr : it->second;
}

bool EvalService::wait_for(const std::string& key, double max_ms) const {
    std::unique_lock<std::mutex> lock(mutex_);
    auto ready = [&] { return cache_.count(key) != 0; };
    if (!threaded_ || ready() || !(max_ms > 0)) return ready();
    return published_cv_.wait_for(lock, std::chrono::duration<double, std::milli>(max_ms), ready);
}

void EvalService::set_first_batch_threads(int n) {
    std::lock_guard<std::mutex> lock(mutex_);
    first_batch_threads_ = std::max(0, n);
}

std::shared_ptr<const ForwardTrace> EvalService::trace() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return trace_;
}

bool EvalService::busy() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!model_ || !data_) return false;
    if (!trace_) return true;
    for (const EvalJob& j : jobs_) {
        auto it = cache_.find(j.key);
        if (it == cache_.end() || !it->second->done) return true;
    }
    return false;
}

void EvalService::pump(double budget_ms) {
    if (threaded_) return;
    const double t0 = now_ms();
    while (work_once())
        if (now_ms() - t0 >= budget_ms) break;
}

void EvalService::worker_main() {
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stop_) return;
        }
        if (work_once()) continue;
        std::unique_lock<std::mutex> lock(mutex_);
        // Woken by set_source / set_jobs / the destructor; the timeout guards against a missed wake-up.
        cv_.wait_for(lock, std::chrono::milliseconds(200));
        if (stop_) return;
    }
}

bool EvalService::work_once() {
    std::shared_ptr<const Model> model;
    std::shared_ptr<const Cifar10> data;
    uint64_t gen;
    EvalJob job;
    bool do_trace = false;
    int first_batch_threads = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_ || !model_ || !data_ || data_->count == 0) return false;
        model = model_;
        data = data_;
        gen = generation_;
        first_batch_threads = first_batch_threads_;
        if (!trace_) {
            do_trace = true;
        } else {
            const EvalJob* found = nullptr;
            for (const EvalJob& j : jobs_) {
                auto it = cache_.find(j.key);
                if (it == cache_.end() || !it->second->done) {
                    found = &j;
                    break;
                }
            }
            if (!found) return false;
            job = *found;
        }
        // Forget paused evaluations that no job asks for any more (they hold a model copy each).
        if (running_.size() > 6)
            for (auto it = running_.begin(); it != running_.end();) {
                const bool wanted = std::any_of(jobs_.begin(), jobs_.end(), [&](const EvalJob& j) { return j.key == it->first; });
                it = wanted ? std::next(it) : running_.erase(it);
            }
    }
    if (gen != work_generation_) {
        running_.clear();
        work_generation_ = gen;
    }

    if (do_trace) {
        // The float inputs of every conv/linear layer over the first batch.
        const int64_t n = std::min<int64_t>(kEvalBatch, data->count);
        std::vector<float> x(size_t(n * kCifar10ImageBytes));
        normalize_images(*data, 0, n, x.data());
        std::vector<float> logits(size_t(n * model->desc().num_classes()));
        auto trace = std::make_shared<ForwardTrace>();
        Status s = model->forward(x.data(), n, logits.data(), Backend::kFast, trace.get());
        if (!s) trace->inputs.clear();  // an empty trace: the views say nothing was recorded
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (generation_ == gen) trace_ = trace;
        }
        published_cv_.notify_all();
        return true;
    }

    if (job.model) model = job.model;  // a job with its own model (the overlay's bundled models)
    std::unique_ptr<Running>& slot = running_[job.key];
    if (!slot) {
        slot = std::make_unique<Running>();
        Running& r = *slot;
        const double t0 = now_ms();
        r.data = data;
        r.model = std::make_unique<Model>(*model);
        QuantConfig config = job.config;
        Status s;
        if (config.act_mode == ActMode::kStatic && config.act_ranges.size() != config.layers.size()) {
            // As `quantlab eval --mode static` on a folder without training images: calibrate on the first
            // evaluation images, then freeze the ranges. (A job that brings its ranges, a weights file's
            // calibrated ones, is evaluated with those.)
            const int64_t n = std::min(kCalibrationImages, data->count);
            std::vector<float> x(size_t(n * kCifar10ImageBytes));
            normalize_images(*data, 0, n, x.data());
            Result<QuantConfig> c = calibrated(*model, config, x.data(), n, kEvalBatch);
            if (c.ok()) config = std::move(c.value);
            else s = c.status;
        }
        if (s) s = r.model->configure(config);
        if (!s) r.error = s.message;
        else r.eval = std::make_unique<Evaluation>(r.model.get(), data.get(), kEvalBatch, job.backend);
        r.seconds += (now_ms() - t0) / 1000.0;
    }
    Running& r = *slot;
    auto snap = std::make_shared<EvalSnapshot>();
    snap->total = data->count;
    if (r.eval) {
        // The first batch is the one the UI waits for (the first estimate after a change: App::frame's wait,
        // the page's held frames; ui/frame_policy.hpp), so it may use every core; later batches run with the
        // usual count, which leaves a core to the page's main thread and the compositor. Only the page sets
        // first_batch_threads, and there this worker is the only thread whose loops run in parallel (the main
        // thread's run serially), so no other thread changes the count meanwhile.
        ThreadCountScope threads(r.eval->result().evaluated == 0 ? first_batch_threads : 0);
        const double t0 = now_ms();
        Status s = r.eval->step(kEvalBatch);
        r.seconds += (now_ms() - t0) / 1000.0;
        if (!s) r.error = s.message;
        snap->result = r.eval->result();
        snap->done = r.eval->done() || !r.error.empty();
    } else {
        snap->done = true;
    }
    snap->error = r.error;
    snap->seconds = r.seconds;
    if (snap->done) running_.erase(job.key);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (generation_ == gen) cache_[job.key] = snap;
    }
    published_cv_.notify_all();
    return true;
}

}  // namespace quantlab::ui
