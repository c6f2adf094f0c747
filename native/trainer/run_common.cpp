// run_common.cpp: what both training engines share and that needs no LibTorch (run_common.hpp).
#include "native/trainer/run_common.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/dataset.hpp"
#include "core/enum_names.hpp"
#include "core/model_file.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

// ---- machine choices by name ------------------------------------------------------------------------------

namespace {

constexpr EnumName<Device> kDeviceNames[] = {{Device::kAuto, "auto"}, {Device::kCpu, "cpu"}, {Device::kCuda, "cuda"}};
constexpr EnumName<Toggle> kToggleNames[] = {{Toggle::kAuto, "auto"}, {Toggle::kOn, "on"}, {Toggle::kOff, "off"}};
constexpr EnumName<FqKernelChoice> kFqKernelNames[] = {
    {FqKernelChoice::kAuto, "auto"}, {FqKernelChoice::kExact, "exact"}, {FqKernelChoice::kFused, "fused"}};

constexpr EnumName<Engine> kEngineNames[] = {{Engine::kCore, "core"}, {Engine::kTorch, "torch"}};

}  // namespace

const char* engine_name(Engine engine) { return enum_name(kEngineNames, engine); }

Result<Engine> parse_engine(const std::string& name) {
    return enum_from_name(kEngineNames, name, "train: --engine must be core or torch, got '" + name + "'");
}

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

// ---- small helpers ----------------------------------------------------------------------------------------

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

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

// ---- metrics, checkpoint metadata, recipe -----------------------------------------------------------------

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
    const std::string v = val >= 0 ? printf_number("%.2f", val) : (jsonl_ ? "null" : "");
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

AugSpec augment_spec(const TrainOptions& o) {
    AugSpec s;
    s.crop = o.augment_crop;
    s.flip = o.augment_flip;
    s.cutout = o.augment_cutout;
    s.jitter = float(o.augment_jitter);
    return s;
}

std::string recipe_text(const TrainOptions& o, const NetworkDesc& net) {
    std::string r = o.from_scratch ? "from scratch" : "fine-tuned from " + fs::path(o.init_weights).filename().string();
    if (o.quantizer == QuantizerKind::kFixed)
        r += "; " + describe_quant(o.quant, net) + " QAT (" + ste_rule_name(o.ste) + " STE)";
    else
        r += "; " + describe_quant(o.quant, net, o.quantizer) + " QAT";
    if (describe_quant(o.quant, net) == "float") r = r.substr(0, r.find(';')) + "; float";
    r += "; " + std::string(optimizer_name(o.optimizer)) + " lr " + printf_number("%g", o.lr);
    if (o.optimizer == Optimizer::kSgd) r += " momentum " + printf_number("%g", o.momentum);
    r += " wd " + printf_number("%g", o.weight_decay) + "; schedule " + schedule_name(o.schedule) + "; batch " + std::to_string(o.batch) + "; " +
         std::to_string(o.epochs) + " epochs";
    std::string aug;
    auto add = [&aug](const std::string& a) { aug += (aug.empty() ? "" : "+") + a; };
    if (o.augment_crop) add("crop");
    if (o.augment_flip) add("flip");
    if (o.augment_jitter > 0) add("jitter " + printf_number("%g", o.augment_jitter));
    if (o.augment_cutout > 0) add("cutout " + std::to_string(o.augment_cutout));
    r += "; augment " + (aug.empty() ? std::string("none") : aug);
    if (o.dataset != Dataset::kCifar10) r += "; dataset " + std::string(dataset_name(o.dataset));
    r += "; train split " + printf_number("%.0f", 100.0 * (1.0 - o.val_fraction)) + "%; seed " + std::to_string(o.seed) + "; quantlab train";
    return r;
}

Metadata checkpoint_metadata(const RunPosition& p, const NetworkDesc& net, const QuantConfig& qc) {
    Metadata m = {{"trained_by", p.recipe},
                  {"checkpoint_epoch", std::to_string(p.epoch)},
                  {"checkpoint_iteration", std::to_string(p.iter)},
                  {"checkpoint_steps_per_epoch", std::to_string(p.steps_per_epoch)},
                  {"checkpoint_step", std::to_string(p.global_step)},
                  {"checkpoint_epochs_planned", std::to_string(p.epochs)},
                  {"seed", std::to_string(p.seed)},
                  {"val_accuracy", p.val >= 0 ? printf_number("%.2f", p.val) : ""}};
    stamp_metadata(&m, net, "quantlab train checkpoint", &qc);
    return m;
}

Result<Cifar10> load_train_set(const TrainOptions& o) {
    Result<Cifar10> train_set = read_dataset_train(o.data_dir, o.dataset);
    if (!train_set.ok())
        return Status::error("train: " + train_set.message() + " (hint: quantlab data fetch" +
                             (o.dataset == Dataset::kCifar10 ? std::string() : " --dataset " + std::string(dataset_name(o.dataset))) + ", or --data DIR)");
    Cifar10& tr = train_set.value;
    if (o.limit_train > 0 && o.limit_train < tr.count) {
        tr.count = o.limit_train;
        tr.labels.resize(size_t(tr.count));
        tr.pixels.resize(size_t(tr.count * kCifar10ImageBytes));
    }
    return train_set;
}

}  // namespace quantlab::trainer
