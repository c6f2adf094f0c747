// trainer.cpp: train() (trainer.hpp) over its three phases (train_run.hpp): setup (train_setup.cpp), one epoch
// at a time (train_epoch.cpp) and finish, the final evaluation and export through core (here); LibTorch's
// errors become the run's status. Also what a run writes as it goes (atomic checkpoints with the position to
// resume from, the metrics file, progress points), the trainer's machine choices by name, and the small
// helpers the phases share. The data on the device (split, order, augmentation) is in train_data.cpp.
//
// [SECTION] machine choices by name
// [SECTION] small helpers
// [SECTION] checkpoints, metrics, progress points
// [SECTION] finish and train()
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/enum_names.hpp"
#include "core/model_file.hpp"
#include "core/quant_config_io.hpp"
#include "core/safetensors_io.hpp"
#include "native/trainer/train_run.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

// ---- [SECTION] machine choices by name --------------------------------------------------------------------

namespace {

constexpr EnumName<Device> kDeviceNames[] = {{Device::kAuto, "auto"}, {Device::kCpu, "cpu"}, {Device::kCuda, "cuda"}};
constexpr EnumName<Toggle> kToggleNames[] = {{Toggle::kAuto, "auto"}, {Toggle::kOn, "on"}, {Toggle::kOff, "off"}};
constexpr EnumName<FqKernelChoice> kFqKernelNames[] = {
    {FqKernelChoice::kAuto, "auto"}, {FqKernelChoice::kExact, "exact"}, {FqKernelChoice::kFused, "fused"}};

}  // namespace

const char* device_name(Device device) { return enum_name(kDeviceNames, device); }

Result<Device> parse_device(const std::string& name) {
    return enum_from_name(kDeviceNames, name, "train: --device must be auto, cpu or cuda, got '" + name + "'");
}

const char* toggle_name(Toggle toggle) { return enum_name(kToggleNames, toggle); }

Result<Toggle> parse_toggle(const std::string& name, const std::string& option) {
    return enum_from_name(kToggleNames, name, "train: " + option + " must be auto, on or off, got '" + name + "'");
}

const char* fq_kernel_choice_name(FqKernelChoice kernel) { return enum_name(kFqKernelNames, kernel); }

Result<FqKernelChoice> parse_fq_kernel_choice(const std::string& name) {
    return enum_from_name(kFqKernelNames, name, "train: --fq-kernel must be auto, exact or fused, got '" + name + "'");
}

// ---- [SECTION] small helpers (train_run.hpp) --------------------------------------------------------------

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string fmt_time(double s) {
    if (!(s >= 0) || s > 1e7) return "--:--";
    const long t = long(s + 0.5);
    char b[32];
    if (t >= 3600)
        std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        std::snprintf(b, sizeof b, "%02ld:%02ld", t / 60, t % 60);
    return b;
}

int resolve_threads(int threads) { return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())); }

std::string cpu_text(int threads) { return "cpu (" + std::to_string(threads) + " thread" + (threads > 1 ? "s" : "") + ")"; }

std::string cuda_text() {
    const auto n = torch::cuda::device_count();
    return "cuda:0 (" + std::to_string(n) + " GPU" + (n > 1 ? "s" : "") + " visible)";
}

std::string describe_device(Device device, int threads) {
    try {
        if (device == Device::kCuda || (device == Device::kAuto && torch::cuda::is_available()))
            return torch::cuda::is_available() ? cuda_text() : "cuda (not available in this LibTorch)";
        return cpu_text(resolve_threads(threads));
    } catch (const std::exception&) {
        return cpu_text(resolve_threads(threads));
    }
}

// ---- [SECTION] checkpoints, metrics, progress points (train_run.hpp) --------------------------------------

std::string optim_path(const std::string& ckpt) {
    fs::path p(ckpt);
    return (p.parent_path() / (p.stem().string() + ".optim.pt")).string();
}

Status write_checkpoint(const std::string& path, const StateDict& sd, torch::optim::Optimizer& opt) {
    const std::string op = optim_path(path);
    try {
        torch::save(opt, op + ".tmp");
    } catch (const std::exception& e) {
        return Status::error("train: cannot write the optimizer state " + op + ".tmp: " + e.what());
    }
    std::error_code ec;
    fs::rename(op + ".tmp", op, ec);
    if (ec) return Status::error("train: cannot rename " + op + ".tmp: " + ec.message());
    return write_safetensors(path, sd);
}

Status Metrics::open(const std::string& path, bool append) {
    if (path.empty()) return Status::success();
    jsonl_ = fs::path(path).extension() == ".jsonl" || fs::path(path).extension() == ".json";
    const bool exists = fs::exists(path);
    f_.open(path, append ? std::ios::app : std::ios::trunc);
    if (!f_) return Status::error("train: cannot write metrics to " + path);
    if (!jsonl_ && !(append && exists)) f_ << "epoch,iteration,step,lr,train_loss,train_acc,val_acc,images_per_s,elapsed_s\n";
    return Status::success();
}

void Metrics::row(int epoch, int64_t iter, int64_t step, double lr, double loss, double acc, double val, double ips, double elapsed) {
    if (!f_.is_open()) return;
    char b[512];
    const std::string v = val >= 0 ? fmt("%.2f", val) : (jsonl_ ? "null" : "");
    if (jsonl_)
        std::snprintf(b, sizeof b,
                      "{\"epoch\":%d,\"iteration\":%lld,\"step\":%lld,\"lr\":%.6g,\"train_loss\":%.5f,\"train_acc\":%.2f,"
                      "\"val_acc\":%s,\"images_per_s\":%.1f,\"elapsed_s\":%.2f}\n",
                      epoch, (long long)iter, (long long)step, lr, loss, acc, v.c_str(), ips, elapsed);
    else
        std::snprintf(b, sizeof b, "%d,%lld,%lld,%.6g,%.5f,%.2f,%s,%.1f,%.2f\n", epoch, (long long)iter, (long long)step, lr, loss, acc,
                      v.c_str(), ips, elapsed);
    f_ << b;
    f_.flush();
}

Status RunState::save_checkpoint(int epoch, int64_t iter, double val) {
    if (ckpt_path.empty()) return Status::success();
    StateDict sd = model->to_state_dict();
    sd.metadata = {{"trained_by", recipe},
                   {"checkpoint_epoch", std::to_string(epoch)},
                   {"checkpoint_iteration", std::to_string(iter)},
                   {"checkpoint_steps_per_epoch", std::to_string(steps_per_epoch)},
                   {"checkpoint_step", std::to_string(global_step)},
                   {"checkpoint_epochs_planned", std::to_string(o.epochs)},
                   {"seed", std::to_string(o.seed)},
                   {"val_accuracy", val >= 0 ? fmt("%.2f", val) : ""}};
    stamp_metadata(&sd.metadata, net, "quantlab train checkpoint", &qc);
    if (Status s = write_checkpoint(ckpt_path, sd, *opt); !s) return s;
    rep.checkpoint = ckpt_path;
    return Status::success();
}

TrainProgress RunState::progress_at(double step_loss, double loss, double acc, double val, double ips) const {
    // epoch (fractional), step, total_steps, step_loss, loss, train_acc, val_accuracy, images_per_s, epoch_end
    return TrainProgress{double(global_step) / double(steps_per_epoch), global_step, total_steps, step_loss, loss, acc, val, ips, false};
}

// ---- [SECTION] finish and train() -------------------------------------------------------------------------

Status finish(RunState& r) {
    const TrainOptions& o = r.o;
    StateDict final_sd = r.model->to_state_dict();
    if (!o.final_eval) {
        r.rep.final_weights = std::move(final_sd);
        return Status::success();
    }
    Result<Cifar10> test = read_dataset_test(o.data_dir, o.dataset, o.limit_test);
    if (!test.ok()) return Status::error("train: " + test.message());
    const DeviceData td = to_device(test.value, r.device);
    r.rep.test_acc_trainer = accuracy(r.model, td, torch::Tensor(), 128);
    ExportOptions eo;
    eo.data_dir = o.data_dir;
    eo.dataset = o.dataset;
    eo.calib_images = o.calib_images;
    eo.limit_test = o.limit_test;
    eo.metadata = {{"trained_by", r.recipe}, {"source", "quantlab train (LibTorch " + std::string(TORCH_VERSION) + ", " + r.rep.device + ")"}};
    if (r.rep.last_val_acc >= 0) eo.metadata["val_accuracy"] = fmt("%.2f", r.rep.last_val_acc);
    Result<ExportResult> ex = finalize_weights(final_sd, r.net, r.qc, eo);
    if (!ex.ok()) return Status::error("train: " + ex.message());
    r.rep.test_acc_static = ex.value.acc_static;
    r.rep.test_acc_dynamic = ex.value.acc_dynamic;
    r.rep.test_images = ex.value.test_images;
    r.rep.final_weights = std::move(ex.value.weights);
    if (!o.export_path.empty()) {
        std::error_code ec;
        if (fs::path(o.export_path).has_parent_path()) fs::create_directories(fs::path(o.export_path).parent_path(), ec);
        if (Status s = write_safetensors(o.export_path, r.rep.final_weights); !s) return Status::error("train: --export: " + s.message);
    }
    return Status::success();
}

TrainReport train(const TrainOptions& o) {
    RunState r(o);
    auto fail = [&](const std::string& m) {
        r.rep.status = Status::error(m);
        return r.rep;
    };
    try {
        if (Status s = setup(r); !s) return fail(s.message);
        for (int epoch = r.start_epoch; epoch < o.epochs && !r.stop; ++epoch)
            if (Status s = run_epoch(r, epoch); !s) return fail(s.message);
        if (r.tty) std::fprintf(stderr, "\r\033[K");
        r.rep.train_seconds = r.train_seconds;
        r.rep.train_images_per_s = r.train_seconds > 0 ? double(r.images_trained) / r.train_seconds : 0;
        if (r.rep.diverged) return r.rep;
        if (r.rep.stopped) {
            r.rep.final_weights = r.model->to_state_dict();
            return r.rep;
        }
        if (Status s = finish(r); !s) return fail(s.message);
        return r.rep;
    } catch (const c10::Error& e) {  // its what() carries a C++ backtrace; the message is what a user can act on
        std::string m = e.what_without_backtrace();
        if (m.size() > 600) m = m.substr(0, 600) + "...";
        return fail("train: LibTorch error: " + m);
    } catch (const std::exception& e) {
        std::string m = e.what();
        if (m.size() > 600) m = m.substr(0, 600) + "...";
        return fail("train: LibTorch error: " + m);
    }
}

}  // namespace quantlab::trainer
