// gui_trainer.cpp: see gui_trainer.hpp. Threads: the UI thread calls the hooks (short critical sections on
// `mu`); the worker runs train() with no lock held and takes the lock only to append a point or to change a
// run's state; export helpers lock only to set the run's message. Runs are never erased, so a Run* stays valid.
#include "native/gui/gui_trainer.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/archive/archive.hpp"
#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/train/augment.hpp"
#include "core/format.hpp"
#include "core/model_file.hpp"
#include "core/network.hpp"
#include "core/safetensors_io.hpp"
#include "native/trainer/thread_priority.hpp"
#include "native/trainer/trainer.hpp"
#include "ui/i18n.hpp"

namespace quantlab::gui {

namespace fs = std::filesystem;
using ui::TrainRun;
using ui::TrainRunConfig;
using ui::TrainState;

std::string default_runs_dir() {
    const char* xdg = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    fs::path base = xdg && *xdg ? fs::path(xdg) : home && *home ? fs::path(home) / ".local" / "share" : fs::temp_directory_path();
    char stamp[32];
    const std::time_t t = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&t));
    return (base / "quantlab" / "runs" / (std::string(stamp) + "-" + std::to_string(::getpid()))).string();
}

std::vector<std::string> prune_runs(const std::string& root, int max_age_days) {
    std::vector<std::string> removed;
    std::error_code ec;
    if (max_age_days <= 0 || !fs::is_directory(root, ec)) return removed;
    const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * max_age_days;
    // <8 digits>-<6 digits>-<pid>: default_runs_dir's names, nothing a user put there by hand.
    auto is_session = [](const std::string& n) {
        if (n.size() < 17 || n[8] != '-' || n[15] != '-') return false;
        for (size_t i = 0; i < n.size(); ++i)
            if (i != 8 && i != 15 && !std::isdigit(static_cast<unsigned char>(n[i]))) return false;
        return true;
    };
    for (const fs::directory_entry& session : fs::directory_iterator(root, ec)) {
        if (!session.is_directory(ec) || !is_session(session.path().filename().string())) continue;
        auto newest = session.last_write_time(ec);  // a run resumed later keeps its whole session
        for (auto it = fs::recursive_directory_iterator(session.path(), ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            newest = std::max(newest, it->last_write_time(ec));
        if (ec || newest >= cutoff) {  // unreadable: keep it
            ec.clear();
            continue;
        }
        fs::remove_all(session.path(), ec);
        if (!ec) removed.push_back(session.path().string());
        ec.clear();
    }
    return removed;
}

const std::string& dataset_dir(const GuiTrainerOptions& options, Dataset d) {
    return d == Dataset::kCifar100 ? options.cifar100_dir : options.data_dir;
}

Result<trainer::TrainOptions> run_options(const TrainRunConfig& c, const GuiTrainerOptions& opt, const std::string& init_path,
                                          const std::string& checkpoint_dir) {
    trainer::TrainOptions o;
    o.from_scratch = init_path.empty();
    o.init_weights = init_path;
    o.dataset = c.dataset;
    const int classes = dataset_info(c.dataset).classes;
    NetworkDesc net = notebook_net();
    if (o.from_scratch) {
        Result<NetworkDesc> n = network_choice(c.model, classes);
        if (!n.ok()) return Status::error("train: " + n.message());
        net = n.value;
        o.model_desc = net.to_text();
    } else {
        Result<WeightsFile> f = read_weights_file(init_path);
        if (!f.ok()) return Status::error("train: " + f.message());
        net = f.value.net;
    }
    // QAT: the run's quantizer (default the notebook's, symmetric max-abs per tensor) on every layer.
    o.quant = c.qat ? make_config(net, c.weight_bits, c.act_bits) : make_config(net, kFloatBits, kFloatBits);
    apply_rule(&o.quant, c.quant);
    if (Status s = validate(o.quant, net); !s) return Status::error("train: " + s.message);
    o.ste = c.ste;
    o.quantizer = c.qat ? c.quantizer : QuantizerKind::kFixed;
    if (Status s = check_learned(net, o.quant, o.quantizer); !s) return s;
    o.data_dir = dataset_dir(opt, c.dataset);
    o.limit_train = opt.limit_train;
    o.limit_test = opt.limit_test;
    o.calib_images = opt.calib_images;
    o.val_every = opt.val_every;
    o.optimizer = c.optimizer;
    o.lr = c.lr;
    o.momentum = c.momentum;
    o.schedule = c.schedule;
    o.augment_crop = o.augment_flip = c.augment;
    o.augment_cutout = c.cutout;
    o.augment_jitter = c.jitter;
    if (Status s = check_augment(AugSpec{c.augment, c.augment, c.cutout, float(c.jitter)}, kCifar10Side); !s)
        return Status::error("train: " + s.message);
    o.batch = c.batch;
    o.epochs = c.epochs;
    o.threads = opt.threads;
    o.device = opt.device;
    o.checkpoint_dir = checkpoint_dir;
    o.progress = false;  // the panel shows progress; stderr stays quiet
    return o;
}

// ---- state -------------------------------------------------------------------------------------------

struct RunSlot {
    TrainRun view;                    // what runs() hands out
    std::string init_path;            // resolved init_weights ("" = from scratch)
    std::string dir;                  // checkpoint folder
    std::string checkpoint;           // dir/last.safetensors once written
    std::atomic<bool> stop{false};    // the trainer's stop_flag (Stop, or the app closing)
    std::shared_ptr<const StateDict> final_weights;  // finished runs: finalized, with test accuracy
    double last_point_epoch = -1;
    ui::LossSmoother loss_curve;      // the plotted loss
    double seconds_before = 0;        // wall time of the run's earlier segments (before a stop)
    std::chrono::steady_clock::time_point segment_start;
};

struct GuiTrainer::Impl {
    GuiTrainerOptions opt;
    std::string device_text;
    mutable std::mutex mu;
    std::condition_variable cv;
    std::map<int, std::unique_ptr<RunSlot>> runs;
    std::deque<int> queue;
    int next_id = 1;
    int exports_running = 0;
    bool quit = false;
    std::thread worker;
    std::vector<std::thread> exporters;

    RunSlot* find(int id) {
        auto it = runs.find(id);
        return it == runs.end() ? nullptr : it->second.get();
    }

    Status check_data(Dataset d) const {
        const std::string& dir = dataset_dir(opt, d);
        Status s = verify_dataset_dir(dir, d);
        if (s) return s;
        // core's message names the folder, what is missing and the fix (`quantlab data fetch --dataset cifar100`,
        // or --data naming a copy: quantlab-gui's --data takes a cifar-100-binary folder too).
        if (d == Dataset::kCifar100) return Status::error("training on CIFAR-100 needs its data: " + s.message);
        return Status::error("training needs the CIFAR-10 binary data (data_batch_1..5.bin, test_batch.bin): " + s.message +
                             ". quantlab-gui looked in " + opt.data_dir + " (" + opt.data_source +
                             "). Fix: run `quantlab data fetch` (downloads it into the per-user cache), or start quantlab-gui with "
                             "--data DIR (or QUANTLAB_DATA=DIR) naming the cifar-10-batches-bin folder.");
    }

    // The weights a run starts from: a path (the panel passes where the loaded weights were read from), or a
    // bare name of a file in the assets (the bundled weights).
    Result<std::string> resolve_weights(const std::string& name) const {
        if (name.empty()) return std::string();
        std::error_code ec;
        if (fs::is_regular_file(name, ec)) return name;
        const fs::path in_assets = fs::path(opt.assets_dir) / name;
        if (fs::is_regular_file(in_assets, ec)) return in_assets.string();
        return Status::error("train: start weights '" + name + "' not found (neither a file there nor in " + opt.assets_dir +
                             "); open the file again, or untick \"start from the loaded weights\" to train from scratch");
    }

    void worker_loop() {
        trainer::lower_this_thread_priority();
        for (;;) {
            RunSlot* r = nullptr;
            {
                std::unique_lock<std::mutex> lock(mu);
                cv.wait(lock, [&] { return quit || !queue.empty(); });
                if (quit) return;
                r = find(queue.front());
                queue.pop_front();
                if (!r || r->view.state != TrainState::kQueued) continue;
                r->view.state = TrainState::kRunning;
                r->view.message.clear();
            }
            run_one(*r);
        }
    }

    void finish(RunSlot& r, TrainState state, std::string message) {
        std::lock_guard<std::mutex> lock(mu);
        r.view.state = state;
        r.view.message = std::move(message);
    }

    void run_one(RunSlot& r) {
        if (Status s = check_data(r.view.config.dataset); !s) return finish(r, TrainState::kFailed, s.message);
        Result<trainer::TrainOptions> o = run_options(r.view.config, opt, r.init_path, r.dir);
        if (!o.ok()) return finish(r, TrainState::kFailed, o.message());
        {
            std::lock_guard<std::mutex> lock(mu);
            if (!r.checkpoint.empty()) o.value.resume = r.checkpoint;
        }
        o.value.stop_flag = &r.stop;
        {
            std::lock_guard<std::mutex> lock(mu);
            r.segment_start = std::chrono::steady_clock::now();
        }
        o.value.on_progress = [this, &r](const trainer::TrainProgress& p) {
            std::lock_guard<std::mutex> lock(mu);
            const double loss = r.loss_curve.add(p.step_loss);
            const bool keep = p.val_accuracy >= 0 || p.epoch_end || r.last_point_epoch < 0 || p.epoch - r.last_point_epoch >= ui::kMinPointSpacing;
            if (!keep) return;
            const double seconds = r.seconds_before + std::chrono::duration<double>(std::chrono::steady_clock::now() - r.segment_start).count();
            ui::TrainPoint point;
            point.epoch = p.epoch;
            point.step = p.step;
            point.seconds = seconds;
            point.loss = loss;
            point.val_accuracy = p.val_accuracy;
            point.images_per_s = p.images_per_s;
            if (!p.learned_steps.empty()) {
                r.view.layers.clear();
                for (const LayerSteps& l : p.learned_steps) {
                    r.view.layers.push_back(l.layer);
                    point.weight_steps.push_back(l.weight);
                    point.act_steps.push_back(l.act);
                }
            }
            r.view.points.push_back(std::move(point));
            r.last_point_epoch = p.epoch;
        };
        trainer::TrainReport rep = trainer::train(o.value);
        std::lock_guard<std::mutex> lock(mu);
        r.seconds_before += std::chrono::duration<double>(std::chrono::steady_clock::now() - r.segment_start).count();
        if (!rep.checkpoint.empty()) r.checkpoint = rep.checkpoint;
        if (!rep.status.ok()) {
            r.view.state = TrainState::kFailed;
            r.view.message = rep.status.message;
        } else if (rep.stopped) {
            r.view.state = TrainState::kStopped;
            const double at = r.view.points.empty() ? 0.0 : r.view.points.back().epoch;
            r.view.message = r.checkpoint.empty() ? ui::tr_format("stopped at epoch %.2f", at)
                                                  : ui::tr_format("stopped at epoch %.2f; checkpoint %s", at, r.checkpoint.c_str());
        } else {
            r.view.state = TrainState::kFinished;
            r.final_weights = std::make_shared<const StateDict>(std::move(rep.final_weights));
            r.view.message = ui::tr_format("finished: test accuracy %.2f %% (static ranges, %lld test images), %.2f %% (dynamic)",
                                           rep.test_acc_static, (long long)rep.test_images, rep.test_acc_dynamic);
        }
    }

    // Calibrate + evaluate + write, from a run's checkpoint (on an export thread).
    Status export_checkpoint(const std::string& ckpt, const std::string& path, int id) const {
        Result<WeightsFile> f = read_weights_file(ckpt);
        if (!f.ok()) return f.status;
        const Result<QuantConfig>& qc = f.value.stored_config;
        if (!qc.ok()) return qc.status;
        if (qc.value.layers.empty()) return Status::error(ckpt + ": no quant_config in its metadata");
        Result<StateDict> clean = trainer::model_tensors(f.value.weights, f.value.net, ckpt);
        if (!clean.ok()) return clean.status;
        trainer::ExportOptions eo;
        eo.data_dir = opt.data_dir;
        eo.calib_images = opt.calib_images;
        eo.limit_test = opt.limit_test;
        const Metadata& meta = f.value.weights.metadata;
        copy_provenance(meta, &eo.metadata);
        auto ep = meta.find("checkpoint_step");
        eo.metadata["source"] = "quantlab-gui export of run #" + std::to_string(id) + " (checkpoint at step " +
                                (ep == meta.end() ? std::string("?") : ep->second) + ")";
        Result<trainer::ExportResult> r = trainer::finalize_weights(clean.value, f.value.net, qc.value, eo);
        if (!r.ok()) return r.status;
        return write_safetensors(path, r.value.weights);
    }
};

// ---- hooks ---------------------------------------------------------------------------------------------

GuiTrainer::GuiTrainer(GuiTrainerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->opt = std::move(options);
    impl_->device_text = trainer::describe_device(impl_->opt.device, impl_->opt.threads);
    impl_->worker = std::thread([this] { impl_->worker_loop(); });
}

GuiTrainer::~GuiTrainer() { shutdown(); }

void GuiTrainer::shutdown() {
    Impl& m = *impl_;
    std::vector<std::thread> exporters;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        m.quit = true;
        m.queue.clear();
        for (auto& [id, r] : m.runs) r->stop = true;  // the running one checkpoints after its step
        exporters.swap(m.exporters);
    }
    m.cv.notify_all();
    if (m.worker.joinable()) m.worker.join();
    for (std::thread& t : exporters)
        if (t.joinable()) t.join();
}

bool GuiTrainer::busy() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->exports_running > 0) return true;
    for (const auto& [id, r] : impl_->runs)
        if (train_active(r->view.state)) return true;
    return false;
}

std::string GuiTrainer::device() const { return impl_->device_text; }

std::string GuiTrainer::runs_dir() const { return impl_->opt.runs_dir; }

Status GuiTrainer::check_data(Dataset d) const { return impl_->check_data(d); }

Result<int> GuiTrainer::start(const TrainRunConfig& config) {
    Impl& m = *impl_;
    if (config.epochs < 1 || config.batch < 1 || !(config.lr > 0))
        return Status::error("train: epochs, batch size and learning rate must be positive");
    if (config.qat && (config.weight_bits < kMinBits || config.weight_bits > kMaxBits || config.act_bits < kMinBits || config.act_bits > kMaxBits))
        return Status::error("train: QAT bits must be " + std::to_string(kMinBits) + ".." + std::to_string(kMaxBits));
    Result<std::string> init = m.resolve_weights(config.init_weights);
    if (!init.ok()) return init.status;
    if (init.value.empty())  // from scratch: a bad model choice is refused now, not when the run starts
        if (Result<NetworkDesc> n = network_choice(config.model, dataset_info(config.dataset).classes); !n.ok())
            return Status::error("train: " + n.message());
    if (Status s = check_augment(AugSpec{config.augment, config.augment, config.cutout, float(config.jitter)}, kCifar10Side); !s)
        return Status::error("train: " + s.message);
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.quit) return Status::error("train: the trainer is shutting down");
    auto r = std::make_unique<RunSlot>();
    const int id = m.next_id++;
    r->view.id = id;
    r->view.config = config;
    r->view.state = TrainState::kQueued;
    r->init_path = init.value;
    r->dir = (fs::path(m.opt.runs_dir) / ("run-" + std::to_string(id))).string();
    m.runs[id] = std::move(r);
    m.queue.push_back(id);
    m.cv.notify_all();
    return id;
}

Status GuiTrainer::stop(int run_id) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    RunSlot* r = m.find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->view.state == TrainState::kQueued) {  // never started: nothing to checkpoint
        for (auto it = m.queue.begin(); it != m.queue.end(); ++it)
            if (*it == run_id) {
                m.queue.erase(it);
                break;
            }
        r->view.state = TrainState::kStopped;
        r->view.message = ui::tr("stopped before it started");
        return Status::success();
    }
    if (r->view.state != TrainState::kRunning) return Status::error("train: run #" + std::to_string(run_id) + " is not running");
    r->stop = true;
    r->view.message = ui::tr("stopping after the current step...");
    return Status::success();
}

Status GuiTrainer::resume(int run_id) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mu);
    RunSlot* r = m.find(run_id);
    if (!r) return Status::error("train: no run #" + std::to_string(run_id));
    if (r->view.state != TrainState::kStopped) return Status::error("train: run #" + std::to_string(run_id) + " is not stopped");
    if (m.quit) return Status::error("train: the trainer is shutting down");
    r->stop = false;
    r->view.state = TrainState::kQueued;
    r->view.message = r->checkpoint.empty() ? ui::tr("queued (starts over: no checkpoint yet)") : ui::tr_format("queued to resume from %s", r->checkpoint.c_str());
    m.queue.push_back(run_id);
    m.cv.notify_all();
    return Status::success();
}

std::vector<TrainRun> GuiTrainer::runs() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    std::vector<TrainRun> out;
    out.reserve(impl_->runs.size());
    for (const auto& [id, r] : impl_->runs) out.push_back(r->view);
    return out;
}

Status GuiTrainer::export_weights(int run_id, const std::string& path) {
    Impl& m = *impl_;
    if (path.empty()) return Status::error("export: no file name given");
    std::shared_ptr<const StateDict> final_weights;
    std::string ckpt;
    {
        std::lock_guard<std::mutex> lock(m.mu);
        RunSlot* r = m.find(run_id);
        if (!r) return Status::error("export: no run #" + std::to_string(run_id));
        final_weights = r->final_weights;
        const fs::path last = fs::path(r->dir) / "last.safetensors";
        std::error_code ec;
        if (!final_weights && fs::exists(last, ec)) ckpt = last.string();
        if (!final_weights && ckpt.empty())
            return Status::error("export: run #" + std::to_string(run_id) +
                                 " has no weights to export yet: its first checkpoint is written at the end of epoch 1 (or when it is stopped)");
    }
    if (final_weights) {  // finished: already calibrated and evaluated, so writing is quick
        Status s = write_safetensors(path, *final_weights);
        std::lock_guard<std::mutex> lock(m.mu);
        RunSlot* r = m.find(run_id);
        auto acc = final_weights->metadata.find("test_accuracy");
        if (s)
            r->view.message = acc == final_weights->metadata.end() ? ui::tr_format("exported to %s", path.c_str())
                                                                     : ui::tr_format("exported to %s (test accuracy %s %%)", path.c_str(), acc->second.c_str());
        return s;
    }
    // Not finished: calibrate and evaluate the checkpoint on a helper thread (seconds), never in the frame.
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.quit) return Status::error("export: the trainer is shutting down");
    m.find(run_id)->view.message = ui::tr_format("exporting the checkpoint to %s...", path.c_str());
    ++m.exports_running;
    m.exporters.emplace_back([this, ckpt, path, run_id] {
        trainer::lower_this_thread_priority();
        Impl& m = *impl_;
        Status s = m.export_checkpoint(ckpt, path, run_id);
        std::lock_guard<std::mutex> lock(m.mu);
        --m.exports_running;
        m.find(run_id)->view.message = s ? ui::tr_format("exported the checkpoint to %s", path.c_str()) : ui::tr_format("export failed: %s", s.message.c_str());
    });
    return Status::success();
}

std::string GuiTrainer::status_json() const {
    std::lock_guard<std::mutex> lock(impl_->mu);
    nlohmann::json j;
    nlohmann::json list = nlohmann::json::array();
    bool active = false;
    for (const auto& [id, r] : impl_->runs) {
        const TrainRun& v = r->view;
        active = active || train_active(v.state);
        nlohmann::json e{{"id", id}, {"state", train_state_name(v.state)}, {"points", v.points.size()}, {"message", v.message}};
        double val = -1;
        for (const ui::TrainPoint& p : v.points)
            if (p.val_accuracy >= 0) val = p.val_accuracy;
        if (!v.points.empty()) {
            e["epoch"] = v.points.back().epoch;
            e["loss"] = v.points.back().loss;
            e["images_per_s"] = v.points.back().images_per_s;
        }
        e["val"] = val;
        list.push_back(e);
    }
    j["runs"] = list.size();
    j["active"] = active;
    j["exports_running"] = impl_->exports_running;
    j["runs_list"] = list;
    return j.dump();
}

}  // namespace quantlab::gui
