// trainer.cpp: train() (trainer.hpp) over its three phases (train_run.hpp): setup (train_setup.cpp), one epoch
// at a time (train_epoch.cpp) and finish, the final evaluation and export through core (here); LibTorch's
// errors become the run's status. Also what a run writes as it goes (atomic checkpoints with the position to
// resume from, progress points). The helpers shared with core's engine are in run_common.cpp; the data on the
// device (split, order, augmentation) is in train_data.cpp.
//
// [SECTION] CUDA text
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
#include "core/train/resume_state.hpp"
#include "native/trainer/train_run.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

// ---- [SECTION] CUDA text ----------------------------------------------------------------------------------

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

Status write_checkpoint(const std::string& path, const StateDict& sd, const StateDict& state) {
    if (Status s = write_resume_state(resume_state_path(path), state); !s) return s;
    std::error_code ec;
    fs::remove(optim_path(path), ec);  // an earlier version's state beside it would be older than this one
    return write_safetensors(path, sd);  // a temporary file renamed over path: a crash leaves the previous checkpoint whole
}

Status RunState::save_checkpoint(int epoch, int64_t iter, double val) {
    if (ckpt_path.empty()) return Status::success();
    StateDict sd = model->to_state_dict();
    // lsq / pact: the learned steps go into the stored config, so `quantlab eval` and an export from the checkpoint use them.
    Result<QuantConfig> learned = with_learned_scales(qc, net, o.quantizer, model->learned_state());
    sd.metadata = checkpoint_metadata({recipe, epoch, iter, steps_per_epoch, global_step, o.epochs, o.seed, val}, net,
                                      learned.ok() ? learned.value : qc);
    if (Status s = write_checkpoint(ckpt_path, sd, torch_resume_state(*model, *opt, o.optimizer, o.quantizer)); !s)
        return s;
    rep.checkpoint = ckpt_path;
    return Status::success();
}

TrainProgress RunState::progress_at(double step_loss, double loss, double acc, double val, double ips) const {
    // epoch (fractional), step, total_steps, step_loss, loss, train_acc, val_accuracy, images_per_s, epoch_end
    TrainProgress p{double(global_step) / double(steps_per_epoch), global_step, total_steps, step_loss, loss, acc, val, ips, false, {}};
    if (o.quantizer != QuantizerKind::kFixed) p.learned_steps = learned_steps(net, qc, o.quantizer, model->learned_state());
    return p;
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
    if (r.rep.last_val_acc >= 0) eo.metadata["val_accuracy"] = printf_number("%.2f", r.rep.last_val_acc);
    // lsq / pact: the learned steps become the config's fixed scales, which core's inference applies exactly.
    Result<QuantConfig> learned = with_learned_scales(r.qc, r.net, o.quantizer, r.model->learned_state());
    if (!learned.ok()) return Status::error("train: " + learned.message());
    QuantConfig export_config = learned.value;
    export_config.act_mode = ActMode::kDynamic;  // finalize_weights calibrates the layers without a learned step
    export_config.act_ranges.clear();
    Result<ExportResult> ex = finalize_weights(final_sd, r.net, export_config, eo);
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
