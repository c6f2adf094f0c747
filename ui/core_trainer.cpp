// core_trainer.cpp: see core_trainer.hpp. Threads: the UI thread calls the hooks (short critical sections on
// `mu`); whoever does the work (the worker thread, or pump() on the UI thread) takes steps with no lock held and
// locks only to publish a point, the latest weights or a state change. A run's TrainLoop is touched only by the
// one doing the work. Runs are never erased, so a Slot* stays valid.
#include "ui/core_trainer.hpp"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/evaluate.hpp"
#include "core/format.hpp"
#include "core/model_file.hpp"
#include "core/safetensors_io.hpp"
#include "core/train/init_weights.hpp"
#include "core/train/learned_params.hpp"
#include "core/train/run.hpp"
#include "ui/i18n.hpp"

namespace quantlab::ui {

namespace {

constexpr int64_t kTestBatch = 128;  // the evaluation panel's batch (kEvalBatch): the same dynamic ranges

double now_ms() { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); }


}  // namespace

struct CoreTrainer::Impl {
    // A test-set evaluation in progress, a batch per unit of work: without threads a whole test set (1,000 or
    // 10,000 images) in one frame would freeze the page for seconds.
    struct PendingTest {
        std::shared_ptr<const Cifar10> data;
        std::unique_ptr<Model> model;
        Evaluation eval;
        double epoch = 0;
        bool initial = false;      // the start model's accuracy (PTQ's, for a QAT run)
        bool finish_after = false; // the run's last step came before it: finished once it is done
    };
    struct Slot {
        TrainRun view;
        std::unique_ptr<PendingTest> pending;  // touched only by whoever does the work
        std::shared_ptr<const Model> start;  // the loaded model when the run was started
        std::string start_name;
        int64_t limit_train = -1;            // the first N training images only (tests)
        RunSettings settings;
        std::unique_ptr<TrainLoop> loop;     // made when the run first runs (it needs the training images)
        bool stop_requested = false;
        std::shared_ptr<const StateDict> weights;  // the latest weights (published after each step)
        std::shared_ptr<const QuantConfig> learned_config;  // lsq / pact: the learned steps as scales, with `weights`
        LossSmoother loss_curve;  // the plotted loss
        double last_point_epoch = -1, first_loss = -1, loss = -1, val = -1, test = -1, ptq_test = -1, ips = 0;
        double seconds = 0;  // the loop's training time so far (the curves' wall-time axis; a pause is not counted)
        int64_t steps = 0;
    };

    CoreTrainerOptions opt;
    mutable std::mutex mu;
    std::condition_variable cv;
    std::map<int, std::unique_ptr<Slot>> runs;
    std::deque<int> queue;
    int next_id = 1, active = 0;
    std::shared_ptr<const Cifar10> train_data;
    std::string data_name;
    bool wants_data = false, quit = false;
    std::shared_ptr<const Model> model;
    std::string model_name;
    std::shared_ptr<const Cifar10> test;
    std::thread worker;

    Slot* find(int id) {
        auto it = runs.find(id);
        return it == runs.end() ? nullptr : it->second.get();
    }

    // Under mu: is there a step to take? Notes that a queued run waits for training images.
    bool has_work() {
        if (active) return true;
        while (!queue.empty()) {
            Slot* r = find(queue.front());
            if (r && r->view.state == TrainState::kQueued) break;
            queue.pop_front();
        }
        if (queue.empty()) return false;
        if (!train_data) {
            wants_data = true;
            return false;
        }
        return true;
    }

    void finish(Slot& r, TrainState state, std::string message) {
        std::lock_guard<std::mutex> lock(mu);
        r.view.state = state;
        r.view.message = std::move(message);
        if (active == r.view.id) active = 0;
    }

    // A point of run r's curves at its current step and time.
    static TrainPoint make_point(const Slot& r, double epoch, double loss, double val, double test) {
        TrainPoint p;
        p.epoch = epoch;
        p.step = r.steps;
        p.seconds = r.seconds;
        p.loss = loss;
        p.val_accuracy = val;
        p.test_accuracy = test;
        p.images_per_s = r.ips;
        return p;
    }

    // Under mu: a point for the curves (loss smoothed; thinned unless it carries an accuracy or forced).
    void add_point(Slot& r, double epoch, double step_loss, double val, double test_acc, bool force) {
        const double loss = step_loss >= 0 ? r.loss_curve.add(step_loss) : r.loss_curve.value();
        r.loss = loss;
        const bool keep = force || val >= 0 || test_acc >= 0 || r.last_point_epoch < 0 || epoch - r.last_point_epoch >= kMinPointSpacing;
        if (!keep) return;
        r.view.points.push_back(make_point(r, epoch, loss, val, test_acc));
        r.last_point_epoch = epoch;
    }

    // Starts a test evaluation of the loop's current weights (none without test images).
    void start_test(Slot& r, double epoch, bool initial, bool finish_after) {
        std::shared_ptr<const Cifar10> data;
        {
            std::lock_guard<std::mutex> lock(mu);
            data = test;
        }
        const TrainLoop& l = *r.loop;
        // lsq / pact: the learned steps as inference's scales (before the first step sets them, the start model's
        // accuracy under the run's range rule: PTQ's).
        const Result<QuantConfig> qc = initial ? Result<QuantConfig>(l.config()) : l.eval_config();
        Result<Model> m = data && data->count && qc.ok() ? Model::create(l.net(), l.weights(), "train") : Result<Model>(Status::error("no test images"));
        if (!m.ok() || !m.value.configure(qc.value).ok()) {
            if (finish_after) finish_run(r);
            return;
        }
        auto p = std::make_unique<PendingTest>();
        p->data = std::move(data);
        p->model = std::make_unique<Model>(std::move(m.value));
        p->eval = Evaluation(p->model.get(), p->data.get(), kTestBatch, Backend::kFast);
        p->epoch = epoch;
        p->initial = initial;
        p->finish_after = finish_after;
        r.pending = std::move(p);
    }

    // One batch of the pending test evaluation; publishes the accuracy when it is done.
    void step_test(Slot& r) {
        PendingTest& p = *r.pending;
        Status s = p.eval.step(kTestBatch);
        if (s && !p.eval.done()) return;
        const double acc = s ? p.eval.result().accuracy() : -1;
        const bool finish_after = p.finish_after;
        {
            std::lock_guard<std::mutex> lock(mu);
            if (acc >= 0) {
                r.test = acc;
                if (p.initial) r.ptq_test = acc;
                r.view.points.push_back(make_point(r, p.epoch, -1.0, -1.0, acc));
            }
        }
        r.pending.reset();
        if (finish_after) finish_run(r);
    }

    void finish_run(Slot& r) {
        std::lock_guard<std::mutex> lock(mu);
        r.view.state = TrainState::kFinished;
        r.view.message = tr_format("finished: test accuracy %.2f %% (%lld test images; before training %.2f %%), validation %.2f %%", r.test,
                                   (long long)(test ? test->count : 0), r.ptq_test, r.val);
        if (active == r.view.id) active = 0;
    }

    // The run's first time on the worker: its loop, and the curves' starting points (the start model's
    // validation and test accuracy at the run's quantizer: PTQ's accuracy for a QAT run).
    Status begin(Slot& r) {
        std::shared_ptr<const Cifar10> data;
        {
            std::lock_guard<std::mutex> lock(mu);
            data = train_data;
        }
        if (!r.start) return Status::error("train: no model is loaded to fine-tune");
        if (r.limit_train > 0 && data->count > r.limit_train) {  // as `quantlab train --limit-train`
            Cifar10 cut = *data;
            cut.count = r.limit_train;
            cut.labels.resize(size_t(cut.count));
            cut.pixels.resize(size_t(cut.count * kCifar10ImageBytes));
            data = std::make_shared<const Cifar10>(std::move(cut));
        }
        Result<std::unique_ptr<TrainLoop>> made = TrainLoop::create(r.start->desc(), r.start->weights(), data, r.settings);
        if (!made.ok()) return made.status;
        r.loop = std::move(made.value);
        const TrainLoop& l = *r.loop;
        const Result<double> v0 = l.val_images() ? accuracy_of(l.net(), l.weights(), l.config(), l.val_set(), l.settings().batch) : Result<double>(-1.0);
        {
            std::lock_guard<std::mutex> lock(mu);
            r.val = v0.ok() ? v0.value : -1;
            // No loss before the first step (-1: the loss curve starts with the first step).
            if (r.val >= 0) r.view.points.push_back(make_point(r, 0.0, -1.0, r.val, -1.0));
            r.view.message = tr_format("%lld training / %lld validation images (%s)", (long long)l.train_images(), (long long)l.val_images(),
                                       data_name.c_str());
        }
        start_test(r, 0.0, true, false);
        return Status::success();
    }

    // What a step publishes for the other threads: the weights and, for lsq / pact, the learned steps (as
    // inference's scales, and per layer for the curves).
    struct Snapshot {
        std::shared_ptr<const StateDict> weights;
        std::shared_ptr<const QuantConfig> learned_config;
        std::vector<LayerSteps> steps;
    };
    static Snapshot snapshot(const TrainLoop& loop) {
        Snapshot out;
        out.weights = std::make_shared<const StateDict>(loop.weights());
        const QuantizerKind kind = loop.settings().train.quantizer;
        if (kind == QuantizerKind::kFixed) return out;
        if (Result<QuantConfig> c = loop.eval_config(); c.ok()) out.learned_config = std::make_shared<const QuantConfig>(std::move(c.value));
        out.steps = learned_steps(loop.net(), loop.config(), kind, loop.learned());
        return out;
    }

    // One unit of work: the next step of the active run (starting it when needed). False: nothing to do.
    bool work_once() {
        Slot* r = nullptr;
        {
            std::lock_guard<std::mutex> lock(mu);
            if (!has_work()) return false;
            if (!active) {
                active = queue.front();
                queue.pop_front();
                find(active)->view.state = TrainState::kRunning;
            }
            r = find(active);
            if (r->stop_requested) {
                r->stop_requested = false;
                r->view.state = TrainState::kStopped;
                r->view.message = tr_format("stopped at epoch %.2f (step %lld); Resume continues with the next batch",
                                            r->loop ? r->loop->progress_epochs() : 0.0, (long long)r->steps);
                active = 0;
                return true;
            }
        }
        if (!r->loop) {
            if (Status s = begin(*r); !s) {
                finish(*r, TrainState::kFailed, s.message);
                return true;
            }
        }
        if (r->pending) {
            step_test(*r);
            return true;
        }
        TrainLoop& loop = *r->loop;
        Result<RunStep> st = loop.step();
        if (!st.ok()) {
            Snapshot kept = snapshot(loop);
            {
                std::lock_guard<std::mutex> lock(mu);
                r->weights = std::move(kept.weights);
                r->learned_config = std::move(kept.learned_config);
            }
            if (!loop.diverged()) return finish(*r, TrainState::kFailed, st.message()), true;
            const long long good = loop.good_steps();
            const std::string after = tr_format(good == 1 ? "after %lld step" : "after %lld steps", good);
            finish(*r, TrainState::kFailed,
                   st.message() + " " +
                       tr_format("The last good weights (%s) are kept: use or download them. Hint: lower the learning rate (e.g. %g).",
                                 after.c_str(), r->settings.lr / 10));
            return true;
        }
        const RunStep& s = st.value;
        const bool end = s.epoch_end || loop.done();
        Snapshot snap = snapshot(loop);
        {
            std::lock_guard<std::mutex> lock(mu);
            r->weights = std::move(snap.weights);
            r->learned_config = std::move(snap.learned_config);
            r->steps = s.steps_done;
            r->seconds = loop.train_seconds();
            if (r->first_loss < 0) r->first_loss = s.loss;
            if (s.val >= 0) r->val = s.val;
            r->ips = loop.train_seconds() > 0 ? double(loop.images_trained()) / loop.train_seconds() : 0;
            const size_t points = r->view.points.size();
            add_point(*r, loop.progress_epochs(), s.loss, s.val, -1, end);
            if (r->view.points.size() > points && !snap.steps.empty()) {  // the learned steps' curves
                TrainPoint& p = r->view.points.back();
                r->view.layers.clear();
                for (const LayerSteps& l : snap.steps) {
                    r->view.layers.push_back(l.layer);
                    p.weight_steps.push_back(l.weight);
                    p.act_steps.push_back(l.act);
                }
            }
        }
        // The test accuracy at each epoch end and at the end of the run (then the run is finished).
        if (end) start_test(*r, loop.progress_epochs(), false, loop.done());
        return true;
    }

    void worker_loop() {
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mu);
                cv.wait(lock, [&] { return quit || has_work(); });
                if (quit) return;
            }
            work_once();
        }
    }

    std::string recipe(const Slot& r) const {
        const TrainRunConfig& c = r.view.config;
        char b[256];
        std::snprintf(b, sizeof b, "core engine (QuantLab's training panel): fine-tuned %s, %s lr %g, batch %d, %d epochs, %s, seed %llu",
                      r.start_name.c_str(), optimizer_name(c.optimizer), c.lr, c.batch, c.epochs,
                      c.qat ? ("W" + std::to_string(c.weight_bits) + "A" + std::to_string(c.act_bits) + " QAT, " +
                               (c.quantizer == QuantizerKind::kFixed ? std::string(ste_rule_name(c.ste)) + " STE" : std::string(quantizer_kind_name(c.quantizer)) + " learned steps"))
                                  .c_str()
                            : "float",
                      (unsigned long long)r.settings.seed);
        return b;
    }
};

CoreTrainer::CoreTrainer(CoreTrainerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    if (impl_->opt.threaded)
        impl_->worker = std::thread([this] {
            if (impl_->opt.on_worker_start) impl_->opt.on_worker_start();
            impl_->worker_loop();
        });
}

CoreTrainer::~CoreTrainer() {
    {
        std::lock_guard<std::mutex> lock(impl_->mu);
        impl_->quit = true;
    }
    impl_->cv.notify_all();
    if (impl_->worker.joinable()) impl_->worker.join();
}

Status CoreTrainer::set_train_data(const std::string& name, const uint8_t* data, size_t size) {
    Impl& m = *impl_;
    Result<Cifar10> d = read_cifar10_bytes(data, size, name);
    if (!d.ok()) {
        train_data_failed("the training images could not be used: " + d.message());
        return d.status;
    }
    {
        std::lock_guard<std::mutex> lock(m.mu);
        m.train_data = std::make_shared<const Cifar10>(std::move(d.value));
        m.data_name = name;
        m.wants_data = false;
    }
    m.cv.notify_all();
    return Status::success();
}

std::string train_data_label_for(const std::string& name, int64_t count) {
    if (count <= 0) return tr("Training images: fetched when the first run starts (or drop CIFAR-10 data_batch_*.bin files here).");
    return tr_format("Training images: %s (%lld images).", name.c_str(), (long long)count);
}

std::string CoreTrainer::train_data_label() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return train_data_label_for(impl_->data_name, impl_->train_data ? impl_->train_data->count : 0);
}

void CoreTrainer::train_data_failed(const std::string& message) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    m.wants_data = false;
    for (int id : m.queue)
        if (Impl::Slot* r = m.find(id); r && r->view.state == TrainState::kQueued) {
            r->view.state = TrainState::kFailed;
            r->view.message = "train: " + message;
        }
    m.queue.clear();
}

bool CoreTrainer::wants_train_data() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->wants_data && !impl_->train_data;
}

int64_t CoreTrainer::train_images() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    return impl_->train_data ? impl_->train_data->count : 0;
}

void CoreTrainer::set_test_options(int64_t limit_train, int64_t max_steps, int64_t val_every, uint64_t seed) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->opt.limit_train = limit_train;
    impl_->opt.max_steps = max_steps;
    impl_->opt.val_every = val_every;
    impl_->opt.seed = seed;
}

std::string CoreTrainer::device() const {
    const CoreTrainerOptions& o = impl_->opt;
    return tr(o.device.c_str()) + (o.threads > 0 ? tr_format(o.threads == 1 ? ", %d thread" : ", %d threads", o.threads) : std::string());
}

Result<int> CoreTrainer::start(const TrainRunConfig& config) {
    Impl& m = *impl_;
    if (config.epochs < 1 || config.batch < 1 || !(config.lr > 0) || !std::isfinite(config.lr))
        return Status::error("train: epochs, batch size and learning rate must be positive");
    if (config.qat && (config.weight_bits < kMinBits || config.weight_bits > kMaxBits || config.act_bits < kMinBits || config.act_bits > kMaxBits))
        return Status::error("train: QAT bits must be " + std::to_string(kMinBits) + ".." + std::to_string(kMaxBits));
    // Only CIFAR-10 images are handed to this trainer (set_train_data: the page's bundled sample); the panel does
    // not offer another dataset here (trains_on), and a run asking for one is refused rather than trained on CIFAR-10.
    if (config.dataset != Dataset::kCifar10)
        return Status::error(std::string("train: this trainer has CIFAR-10 training images only; ") + dataset_info(config.dataset).title +
                             " needs the desktop app's LibTorch trainer (quantlab-gui) or `quantlab train --dataset " + dataset_name(config.dataset) + "`");
    const AugSpec aug{config.augment, config.augment, config.cutout, float(config.jitter)};
    if (Status a = check_augment(aug, kCifar10Side); !a) return Status::error("train: " + a.message);
    // From scratch: the chosen network (CIFAR-10's 10 classes) with PyTorch's default init, seeded (init_weights.hpp).
    std::shared_ptr<const Model> scratch;
    if (config.init_weights.empty()) {
        Result<NetworkDesc> net = network_choice(config.model, 10);
        if (!net.ok()) return Status::error("train: " + net.message());
        Result<Model> made = Model::create(net.value, init_weights(net.value, m.opt.seed), "from scratch");
        if (!made.ok()) return Status::error("train: " + made.message());
        scratch = std::make_shared<const Model>(std::move(made.value));
    }
    std::lock_guard<std::mutex> lock(m.mu);
    if (!scratch && !m.model) return Status::error("train: no model is loaded yet");
    auto r = std::make_unique<Impl::Slot>();
    const int id = m.next_id++;
    r->view.id = id;
    r->view.config = config;
    r->view.state = TrainState::kQueued;
    r->view.message = tr(m.train_data ? "queued" : "loading the training images...");
    r->start = scratch ? scratch : m.model;
    r->start_name = scratch ? "from scratch (" + config.model + ")" : m.model_name;
    r->limit_train = m.opt.limit_train;
    RunSettings& s = r->settings;
    const NetworkDesc& net = r->start->desc();  // the loaded model's, or the one made from scratch
    s.epochs = config.epochs;
    s.batch = config.batch;
    s.optimizer = config.optimizer;
    s.lr = config.lr;
    s.momentum = config.momentum;
    s.schedule = config.schedule;
    s.augment = aug;
    s.val_fraction = m.opt.val_fraction;
    s.seed = m.opt.seed;
    s.val_every = m.opt.val_every;
    s.max_steps = m.opt.max_steps;
    // QAT: the run's quantizer (default the notebook's, symmetric max-abs per tensor) on every layer, as the desktop's.
    s.train.config = config.qat ? make_config(net, config.weight_bits, config.act_bits) : make_config(net, kFloatBits, kFloatBits);
    apply_rule(&s.train.config, config.quant);
    s.train.ste = config.ste;
    // lsq / pact: the loop learns the steps (unsigned codes after a ReLU, core/train/learned_params.hpp).
    s.train.quantizer = config.qat ? config.quantizer : QuantizerKind::kFixed;
    if (Status v = validate(s.train.config, net); !v) return Status::error("train: " + v.message);
    if (Status v = check_learned(net, with_learned_codes(s.train.config, net, s.train.quantizer), s.train.quantizer); !v)
        return Status::error("train: " + v.message);
    m.runs[id] = std::move(r);
    m.queue.push_back(id);
    if (!m.train_data) m.wants_data = true;
    m.cv.notify_all();
    return id;
}

Status CoreTrainer::stop(int run_id) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    Impl::Slot* r = m.find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->view.state == TrainState::kQueued) {
        for (auto it = m.queue.begin(); it != m.queue.end(); ++it)
            if (*it == run_id) {
                m.queue.erase(it);
                break;
            }
        r->view.state = TrainState::kStopped;
        r->view.message = tr(r->loop ? "stopped" : "stopped before it started");
        return Status::success();
    }
    if (r->view.state != TrainState::kRunning) return Status::error("train: run #" + std::to_string(run_id) + " is not running");
    r->stop_requested = true;
    r->view.message = tr("stopping after the current step...");
    return Status::success();
}

Status CoreTrainer::resume(int run_id) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    Impl::Slot* r = m.find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->view.state != TrainState::kStopped) return Status::error("train: run #" + std::to_string(run_id) + " is not stopped");
    r->view.state = TrainState::kQueued;
    r->view.message = tr("queued to resume");
    m.queue.push_back(run_id);
    m.cv.notify_all();
    return Status::success();
}

std::vector<TrainRun> CoreTrainer::runs() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::vector<TrainRun> out;
    out.reserve(impl_->runs.size());
    for (const auto& [id, r] : impl_->runs) out.push_back(r->view);
    return out;
}

Result<std::vector<uint8_t>> CoreTrainer::weights_file(int run_id) {
    Impl& m = *impl_;
    std::shared_ptr<const StateDict> w;
    StateDict sd;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        Impl::Slot* r = m.find(run_id);
        if (!r) return Status::error("train: no run #" + std::to_string(run_id));
        if (!r->weights) return Status::error("train: run #" + std::to_string(run_id) + " has no trained weights yet (it has not taken a step)");
        sd = *r->weights;
        const NetworkDesc& net = r->start->desc();
        QuantConfig qc = r->settings.train.config;
        qc.act_mode = ActMode::kDynamic;
        qc.act_ranges.clear();
        if (r->learned_config) qc = *r->learned_config;  // lsq / pact: the learned steps, static, as core's inference runs them
        sd.metadata["trained_by"] = m.recipe(*r);
        if (r->val >= 0) sd.metadata["val_accuracy"] = printf_number("%.2f", r->val);
        stamp_metadata(&sd.metadata, net, "QuantLab training panel, run #" + std::to_string(run_id) + " after " + std::to_string(r->steps) + " steps",
                       &qc);
    }
    return write_safetensors_bytes(sd);
}

Status CoreTrainer::export_weights(int run_id, const std::string& path) {
    if (path.empty()) return Status::error("export: no file name given");
    Result<std::vector<uint8_t>> bytes = weights_file(run_id);
    if (!bytes.ok()) return bytes.status;
    Status s;
    if (impl_->opt.save_file) {
        s = impl_->opt.save_file(path, bytes.value);
    } else {  // write_safetensors: temp file + rename, a failed save keeps the old file
        Result<StateDict> sd = read_safetensors_bytes(bytes.value.data(), bytes.value.size(), path);
        s = sd.ok() ? write_safetensors(path, sd.value) : sd.status;
    }
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (s) impl_->find(run_id)->view.message = tr_format(impl_->opt.save_file ? "downloaded as %s" : "exported to %s", path.c_str());
    return s;
}

void CoreTrainer::set_loaded(std::shared_ptr<const Model> model, const std::string& name, std::shared_ptr<const Cifar10> test) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->model = std::move(model);
    impl_->model_name = name;
    impl_->test = std::move(test);
}

void CoreTrainer::pump(double budget_ms) {
    if (impl_->opt.threaded) return;
    const double t0 = now_ms();
    do {
        if (!impl_->work_once()) return;
    } while (now_ms() - t0 < budget_ms);
}

bool CoreTrainer::busy() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& [id, r] : impl_->runs)
        if (train_active(r->view.state)) return true;
    return false;
}

bool CoreTrainer::exports_as_download() const { return bool(impl_->opt.save_file); }

std::string CoreTrainer::status_json() const {
    const Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    nlohmann::json list = nlohmann::json::array();
    bool busy = false;
    for (const auto& [id, r] : m.runs) {
        const TrainRun& v = r->view;
        busy = busy || train_active(v.state);
        list.push_back({{"id", id}, {"state", train_state_name(v.state)}, {"steps", r->steps}, {"points", v.points.size()},
                        {"epoch", v.points.empty() ? 0.0 : v.points.back().epoch}, {"loss", r->loss},
                        {"first_loss", r->first_loss}, {"val", r->val}, {"test", r->test}, {"ptq_test", r->ptq_test},
                        {"images_per_s", r->ips}, {"message", v.message}});
    }
    nlohmann::json j{{"runs", list}, {"device", device()}, {"train_images", m.train_data ? m.train_data->count : 0}, {"data", m.data_name},
                     {"wants_data", m.wants_data && !m.train_data}, {"busy", busy}};
    return j.dump();
}

}  // namespace quantlab::ui
