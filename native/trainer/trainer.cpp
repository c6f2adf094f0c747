// trainer.cpp: the training loop (LibTorch, CUDA or CPU): data resident on the device as uint8 and
// normalised/augmented there per batch, the notebook's recipe and the assignment's knobs, progress,
// metrics, atomic checkpoints with --resume (at an epoch end, or mid-epoch after a stop request: the batch
// order and the augmentation draws are functions of (seed, epoch), so a resumed run replays to the very next
// batch), live progress for the desktop app, the NaN stop, and the final export through core.
//
// [SECTION] options and small helpers
// [SECTION] data on the device (split, order, augmentation)
// [SECTION] optimizer and schedule
// [SECTION] checkpoints
// [SECTION] progress and metrics
// [SECTION] train()
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "core/cifar10.hpp"
#include "core/model_file.hpp"
#include "core/parallel.hpp"
#include "core/quant_config_io.hpp"
#include "core/safetensors_io.hpp"
#include "core/weights_io.hpp"
#include "native/trainer/graph_step.hpp"
#include "native/trainer/torch_model.hpp"
#include "native/trainer/trainer.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

// ---- [SECTION] options and small helpers -------------------------------------------------------------

namespace {

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

std::string recipe_text(const TrainOptions& o, const NetworkDesc& net) {
    std::string r = o.from_scratch ? "from scratch" : "fine-tuned from " + fs::path(o.init_weights).filename().string();
    r += "; " + describe_quant(o.quant, net) + " QAT (" + ste_rule_name(o.ste) + " STE)";
    if (describe_quant(o.quant, net) == "float") r = r.substr(0, r.find(';')) + "; float";
    r += "; " + o.optimizer + " lr " + fmt("%g", o.lr);
    if (o.optimizer == "sgd") r += " momentum " + fmt("%g", o.momentum);
    r += " wd " + fmt("%g", o.weight_decay) + "; schedule " + o.schedule + "; batch " + std::to_string(o.batch) + "; " +
         std::to_string(o.epochs) + " epochs";
    std::string aug = std::string(o.augment_crop ? "crop" : "") + (o.augment_crop && o.augment_flip ? "+" : "") + (o.augment_flip ? "flip" : "");
    r += "; augment " + (aug.empty() ? std::string("none") : aug);
    r += "; train split " + fmt("%.0f", 100.0 * (1.0 - o.val_fraction)) + "%; seed " + std::to_string(o.seed) + "; quantlab train";
    return r;
}

// Seeded Fisher-Yates with our own generator: the same order on every platform and device, and an epoch's
// order depends only on (seed, epoch), so a resumed run sees the batches the uninterrupted run would have.
std::vector<int64_t> shuffled(std::vector<int64_t> v, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (size_t i = v.size(); i > 1; --i) {
        const size_t j = size_t(rng() % i);
        std::swap(v[i - 1], v[j]);
    }
    return v;
}

uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + a * 0xBF58476D1CE4E5B9ull + b * 0x94D049BB133111EBull + 0x2545F4914F6CDD1Dull;
    x ^= x >> 31;
    x *= 0xD6E8FEB86659FD93ull;
    return x ^ (x >> 32);
}

// ---- [SECTION] data on the device --------------------------------------------------------------------

struct DeviceData {
    torch::Tensor x_u8;    // (N,3,32,32) uint8, as in the file
    torch::Tensor labels;  // (N) int64
    int64_t count = 0;
};

Result<DeviceData> to_device(const Cifar10& d, const torch::Device& device) {
    DeviceData out;
    out.count = d.count;
    out.x_u8 = torch::from_blob(const_cast<uint8_t*>(d.pixels.data()), {d.count, 3, kCifar10Side, kCifar10Side}, torch::kByte).clone().to(device);
    out.labels = torch::from_blob(const_cast<uint8_t*>(d.labels.data()), {d.count}, torch::kByte).to(torch::kLong).to(device);
    return out;
}

struct AugDraws {
    std::vector<int64_t> dy, dx, flip;
};

// Crop offsets and flips for b images, drawn per image from `rng` in a fixed order. A run resumed mid-epoch
// calls this for the batches it skips, so it continues with the draws the uninterrupted run would make.
AugDraws draw_augment(int64_t b, bool crop, bool flip, std::mt19937_64& rng) {
    AugDraws d{std::vector<int64_t>(size_t(b), kAugPad), std::vector<int64_t>(size_t(b), kAugPad), std::vector<int64_t>(size_t(b), 0)};
    for (int64_t i = 0; i < b; ++i) {
        if (crop) {
            d.dy[size_t(i)] = int64_t(rng() % uint64_t(2 * kAugPad + 1));
            d.dx[size_t(i)] = int64_t(rng() % uint64_t(2 * kAugPad + 1));
        }
        if (flip) d.flip[size_t(i)] = int64_t(rng() & 1);
    }
    return d;
}

// Random crop of the 4-pixel zero-padded image and horizontal flip (draw_augment), applied on the device.
torch::Tensor augment(const torch::Tensor& x, bool crop, bool flip, std::mt19937_64& rng) {
    const AugDraws d = draw_augment(x.size(0), crop, flip, rng);
    return crop_flip(x, d.dy, d.dx, d.flip, kAugPad, -1.0);
}

// ---- [SECTION] optimizer and schedule ---------------------------------------------------------------

Result<std::unique_ptr<torch::optim::Optimizer>> make_optimizer(const TrainOptions& o, std::vector<torch::Tensor> params) {
    if (o.optimizer == "sgd")
        return std::unique_ptr<torch::optim::Optimizer>(
            new torch::optim::SGD(params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay)));
    if (o.optimizer == "adam")
        return std::unique_ptr<torch::optim::Optimizer>(new torch::optim::Adam(params, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay)));
    if (o.optimizer == "adamw")
        return std::unique_ptr<torch::optim::Optimizer>(new torch::optim::AdamW(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay)));
    return Status::error("train: unknown optimizer '" + o.optimizer + "', expected sgd, adam or adamw");
}

void set_lr(torch::optim::Optimizer& opt, const std::string& kind, double lr) {
    for (auto& g : opt.param_groups()) {
        if (kind == "sgd") static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
        else if (kind == "adam") static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
        else static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    }
}

Status check_schedule(const std::string& s) {
    if (s == "none" || s == "step" || s == "cosine" || s == "onecycle") return Status::success();
    return Status::error("train: unknown schedule '" + s + "', expected none, step, cosine or onecycle");
}

// Learning rate at `step` of `total` (per optimizer step, over the whole run).
//   step: x0.1 at 50 % and at 75 % of the run; cosine: lr/2 (1 + cos(pi t/T)) down to 0;
//   onecycle: PyTorch's OneCycleLR defaults (30 % warm-up from lr/25, cosine down to lr/25e4).
double lr_at(const TrainOptions& o, int64_t step, int64_t total) {
    const double t = total > 0 ? double(step) / double(total) : 0.0;
    constexpr double kPi = 3.14159265358979323846;
    if (o.schedule == "step") return o.lr * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1.0);
    if (o.schedule == "cosine") return o.lr * 0.5 * (1.0 + std::cos(kPi * t));
    if (o.schedule == "onecycle") {
        const double start = o.lr / 25.0, end = start / 1e4, warm = 0.3;
        auto anneal = [&](double a, double b, double f) { return b + (a - b) * 0.5 * (1.0 + std::cos(kPi * f)); };
        return t < warm ? anneal(start, o.lr, t / warm) : anneal(o.lr, end, (t - warm) / (1.0 - warm));
    }
    return o.lr;
}

// ---- [SECTION] checkpoints ----------------------------------------------------------------------------

std::string optim_path(const std::string& ckpt) {
    fs::path p(ckpt);
    return (p.parent_path() / (p.stem().string() + ".optim.pt")).string();
}

// Model file (core safetensors, evaluable with `quantlab eval`) + optimizer state (torch::save), each
// written to a temporary file and renamed: a crash mid-write never leaves a broken checkpoint.
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

// ---- [SECTION] progress and metrics -------------------------------------------------------------------

class Metrics {
public:
    Status open(const std::string& path, bool append) {
        if (path.empty()) return Status::success();
        jsonl_ = fs::path(path).extension() == ".jsonl" || fs::path(path).extension() == ".json";
        const bool exists = fs::exists(path);
        f_.open(path, append ? std::ios::app : std::ios::trunc);
        if (!f_) return Status::error("train: cannot write metrics to " + path);
        if (!jsonl_ && !(append && exists)) f_ << "epoch,iteration,step,lr,train_loss,train_acc,val_acc,images_per_s,elapsed_s\n";
        return Status::success();
    }
    void row(int epoch, int64_t iter, int64_t step, double lr, double loss, double acc, double val, double ips, double elapsed) {
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

private:
    std::ofstream f_;
    bool jsonl_ = false;
};

// Accuracy (%) of the model on images [0, n) of `data` in order, batches of `batch`, eval mode.
double accuracy(QuantNet& model, const DeviceData& data, const torch::Tensor& index, int64_t batch) {
    torch::NoGradGuard no_grad;
    model->eval();
    const int64_t n = index.defined() ? index.numel() : data.count;
    torch::Tensor correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kLong).device(data.labels.device()));
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
        const int64_t nb = std::min(batch, n - b0);
        torch::Tensor x, y;
        if (index.defined()) {
            const torch::Tensor idx = index.slice(0, b0, b0 + nb);
            x = data.x_u8.index_select(0, idx);
            y = data.labels.index_select(0, idx);
        } else {
            x = data.x_u8.slice(0, b0, b0 + nb);
            y = data.labels.slice(0, b0, b0 + nb);
        }
        correct += model->forward(normalize_u8(x)).argmax(1).eq(y).sum();
    }
    model->train();
    return n ? 100.0 * double(correct.item<int64_t>()) / double(n) : 0.0;
}

bool stderr_is_tty() { return isatty(STDERR_FILENO) != 0; }

int resolve_threads(int threads) { return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency())); }

std::string cpu_text(int threads) { return "cpu (" + std::to_string(threads) + " thread" + (threads > 1 ? "s" : "") + ")"; }

std::string cuda_text() {
    const auto n = torch::cuda::device_count();
    return "cuda:0 (" + std::to_string(n) + " GPU" + (n > 1 ? "s" : "") + " visible)";
}

}  // namespace

std::string describe_device(const std::string& device, int threads) {
    try {
        if (device == "cuda" || (device == "auto" && torch::cuda::is_available()))
            return torch::cuda::is_available() ? cuda_text() : "cuda (not available in this LibTorch)";
        return cpu_text(resolve_threads(threads));
    } catch (const std::exception&) {
        return cpu_text(resolve_threads(threads));
    }
}

// ---- [SECTION] train() ------------------------------------------------------------------------------------

TrainReport train(const TrainOptions& o) {
    TrainReport rep;
    auto fail = [&](const std::string& m) {
        rep.status = Status::error(m);
        return rep;
    };
    try {
        // ---- checks and machine
        if (Status s = check_schedule(o.schedule); !s) return fail(s.message);
        if (o.optimizer != "sgd" && o.optimizer != "adam" && o.optimizer != "adamw")
            return fail("train: unknown optimizer '" + o.optimizer + "', expected sgd, adam or adamw");
        if (o.batch < 1) return fail("train: --batch must be at least 1");
        if (o.epochs < 1) return fail("train: --epochs must be at least 1");
        if (!(o.lr > 0) || !std::isfinite(o.lr)) return fail("train: --lr must be a positive number");
        if (!(o.val_fraction >= 0 && o.val_fraction < 1)) return fail("train: the validation fraction must be in [0, 1)");
        if (o.channels_last != "auto" && o.channels_last != "on" && o.channels_last != "off")
            return fail("train: channels_last must be auto, on or off, got '" + o.channels_last + "'");
        if (o.fq_kernel != "auto" && o.fq_kernel != "exact" && o.fq_kernel != "fused")
            return fail("train: --fq-kernel must be auto, exact or fused, got '" + o.fq_kernel + "'");
        if (o.cuda_graph != "auto" && o.cuda_graph != "on" && o.cuda_graph != "off")
            return fail("train: --cuda-graph must be auto, on or off, got '" + o.cuda_graph + "'");
        const int threads = resolve_threads(o.threads);
        torch::set_num_threads(threads);
        quantlab::set_num_threads(threads);
        torch::Device device(torch::kCPU);
        if (o.device == "cuda" || (o.device == "auto" && torch::cuda::is_available())) {
            if (!torch::cuda::is_available())
                return fail("train: --device cuda, but this LibTorch has no CUDA or no GPU is visible (build against a CUDA LibTorch: "
                            "cmake --preset native-cuda; or use --device cpu)");
            device = torch::Device(torch::kCUDA, 0);
            at::globalContext().setBenchmarkCuDNN(true);
            rep.device = cuda_text();
        } else if (o.device == "cpu" || o.device == "auto") {
            rep.device = cpu_text(threads);
        } else {
            return fail("train: --device must be auto, cpu or cuda, got '" + o.device + "'");
        }
        const bool cuda = device.is_cuda();
        const FqKernel kernel = o.fq_kernel == "fused" || (o.fq_kernel == "auto" && cuda) ? FqKernel::kFused : FqKernel::kExact;
        torch::manual_seed(o.seed);

        // ---- model and start point
        NetworkDesc net = notebook_net();
        StateDict start;
        std::string start_name;
        int start_epoch = 0;
        int64_t start_iter = 0, ckpt_steps_per_epoch = -1;  // a checkpoint written mid-epoch (stop request)
        if (!o.resume.empty()) {
            Result<StateDict> sd = read_weights(o.resume);
            if (!sd.ok()) return fail("train: --resume: " + sd.message());
            auto it = sd.value.metadata.find("checkpoint_epoch");
            if (it == sd.value.metadata.end())
                return fail("train: --resume " + o.resume + ": not a trainer checkpoint (no checkpoint_epoch in its metadata); "
                            "to fine-tune from plain weights use --init");
            start_epoch = std::atoi(it->second.c_str());
            if (auto i = sd.value.metadata.find("checkpoint_iteration"); i != sd.value.metadata.end()) start_iter = std::atoll(i->second.c_str());
            if (auto i = sd.value.metadata.find("checkpoint_steps_per_epoch"); i != sd.value.metadata.end())
                ckpt_steps_per_epoch = std::atoll(i->second.c_str());
            Result<NetworkDesc> n = network_for(sd.value, o.resume);
            if (!n.ok()) return fail("train: " + n.message());
            net = n.value;
            start = std::move(sd.value);
            start_name = o.resume;
        } else if (!o.from_scratch) {
            Result<StateDict> sd = read_weights(o.init_weights);
            if (!sd.ok()) return fail("train: --init: " + sd.message());
            Result<NetworkDesc> n = network_for(sd.value, o.init_weights);
            if (!n.ok()) return fail("train: " + n.message());
            net = n.value;
            start = std::move(sd.value);
            start_name = o.init_weights;
        } else if (!o.model_desc.empty()) {
            Result<NetworkDesc> n = parse_network(o.model_desc);
            if (!n.ok()) return fail("train: --model: " + n.message());
            net = n.value;
            if (net.name.empty()) net.name = "custom_net";
        }
        QuantConfig qc = o.quant;
        if (qc.layers.empty()) qc = make_config(net, kFloatBits, kFloatBits);
        qc.act_mode = ActMode::kDynamic;  // training uses ranges per batch (the notebook's); export calibrates
        qc.act_ranges.clear();
        if (Status s = validate(qc, net); !s) return fail("train: " + s.message);

        QuantNet model(net);
        if (!start_name.empty())
            if (Status s = model->load(start, start_name); !s) return fail("train: " + s.message);
        model->to(device);
        if (Status s = model->set_quant({qc, o.ste, kernel}, device); !s) return fail("train: " + s.message);
        // The static step (a CUDA graph on CUDA) needs SGD, whose update it does itself, and ranges computed on
        // the device: percentile and mse go through core on the host.
        std::string no_static;
        if (o.optimizer != "sgd") no_static = "--optimizer " + o.optimizer + " (the static step does SGD only)";
        for (const LayerQuant& l : qc.layers)
            for (const QuantSpec* q : {&l.weight, &l.act})
                if (q->bits != kFloatBits && (q->rule == RangeRule::kPercentile || q->rule == RangeRule::kMse))
                    no_static = std::string("the ") + range_rule_name(q->rule) + " range rule (computed on the host)";
        if (o.cuda_graph == "on" && !no_static.empty()) return fail("train: --cuda-graph on cannot be used with " + no_static);
        const bool use_static = o.cuda_graph == "on" || (o.cuda_graph == "auto" && cuda && no_static.empty());
        // NHWC: oneDNN's convolutions and pooling are faster in it on the CPU, and cuDNN's BatchNorm and pooling
        // kernels on CUDA (a captured W4A4 step at batch 128 on an H100: 143,000 against 132,000 images/s NCHW).
        // An eager CUDA step keeps NCHW, the layout it was measured in.
        model->set_channels_last(o.channels_last == "on" || (o.channels_last == "auto" && (!cuda || use_static)));
        rep.step = use_static ? (cuda ? "CUDA graph" : "static (eager)") : "eager";
        TrainOptions eff = o;
        eff.quant = qc;
        const std::string recipe = o.recipe.empty() ? recipe_text(eff, net) : o.recipe;

        // ---- data: once onto the device
        const std::string dir = o.data_dir;
        Result<Cifar10> train_set = read_cifar10_train(dir);
        if (!train_set.ok()) return fail("train: " + train_set.message() + " (hint: quantlab data fetch, or --data DIR)");
        Cifar10& tr = train_set.value;
        if (o.limit_train > 0 && o.limit_train < tr.count) {
            tr.count = o.limit_train;
            tr.labels.resize(size_t(tr.count));
            tr.pixels.resize(size_t(tr.count * kCifar10ImageBytes));
        }
        Result<DeviceData> dd = to_device(tr, device);
        if (!dd.ok()) return fail(dd.message());
        const DeviceData& data = dd.value;
        std::vector<int64_t> all(size_t(data.count));
        for (int64_t i = 0; i < data.count; ++i) all[size_t(i)] = i;
        const std::vector<int64_t> perm = shuffled(all, mix(o.seed, 0x5eed, 0));
        const int64_t n_val = int64_t(std::llround(double(data.count) * o.val_fraction));
        const std::vector<int64_t> train_idx(perm.begin(), perm.end() - n_val);
        const auto idx_opt = torch::TensorOptions().dtype(torch::kLong);
        torch::Tensor val_index;
        if (n_val > 0) val_index = torch::from_blob(const_cast<int64_t*>(perm.data()) + (perm.size() - size_t(n_val)), {n_val}, idx_opt).clone().to(device);
        const int64_t n_train = int64_t(train_idx.size());
        if (n_train < 1) return fail("train: no training images left after the validation split");
        const int64_t steps_per_epoch = (n_train + o.batch - 1) / o.batch;  // the last batch may be short (DataLoader's default)
        const int64_t total_steps = steps_per_epoch * o.epochs;
        if (start_iter > 0 && (start_iter >= steps_per_epoch || ckpt_steps_per_epoch != steps_per_epoch))
            return fail("train: --resume " + o.resume + ": the checkpoint stopped after iteration " + std::to_string(start_iter) + " of an epoch of " +
                        std::to_string(ckpt_steps_per_epoch) + " steps, but this run has " + std::to_string(steps_per_epoch) +
                        " steps per epoch; resume with the checkpoint's --batch, --limit-train and --val-fraction");

        auto opt_r = make_optimizer(o, model->parameters());
        if (!opt_r.ok()) return fail(opt_r.message());
        torch::optim::Optimizer& opt = *opt_r.value;
        if (!o.resume.empty()) {
            const std::string op = optim_path(o.resume);
            if (fs::exists(op)) {
                try {
                    torch::load(opt, op);
                } catch (const std::exception& e) {
                    return fail("train: --resume: cannot read the optimizer state " + op + " (" + e.what() +
                                "); was the checkpoint written with another --optimizer?");
                }
            } else if (o.progress) {
                std::fprintf(stderr, "note: %s not found; resuming with a fresh optimizer state\n", op.c_str());
            }
        }

        Metrics metrics;
        if (Status s = metrics.open(o.metrics_path, !o.resume.empty()); !s) return fail(s.message);
        std::string ckpt_path;
        if (!o.checkpoint_dir.empty()) {
            std::error_code ec;
            fs::create_directories(o.checkpoint_dir, ec);
            ckpt_path = (fs::path(o.checkpoint_dir) / "last.safetensors").string();
        }
        if (!o.resume.empty()) rep.checkpoint = o.resume;

        if (o.progress) {
            std::fprintf(stderr, "device     %s; step: %s\n", rep.device.c_str(), rep.step.c_str());
            std::fprintf(stderr, "model      %s, %s\n", net.name.c_str(), start_name.empty() ? "from scratch" : start_name.c_str());
            std::fprintf(stderr, "quantizer  %s, %s STE, fake-quant kernel %s\n", describe_quant(qc, net).c_str(), ste_rule_name(o.ste),
                         kernel == FqKernel::kFused ? "fused (torch fake_quantize)" : "exact (core's division)");
            std::fprintf(stderr, "data       %lld train / %lld validation images (seed %llu), on the %s\n", (long long)n_train, (long long)n_val,
                         (unsigned long long)o.seed, cuda ? "GPU" : "CPU");
            std::fprintf(stderr, "recipe     %s\n", recipe.c_str());
            if (start_iter > 0)
                std::fprintf(stderr, "resume     epoch %d of %d, after iteration %lld of %lld\n", start_epoch + 1, o.epochs, (long long)start_iter,
                             (long long)steps_per_epoch);
            else if (start_epoch > 0)
                std::fprintf(stderr, "resume     after epoch %d of %d\n", start_epoch, o.epochs);
        }

        // ---- the loop
        const bool tty = o.progress && stderr_is_tty();
        const int64_t check_every = cuda ? 10 : 1;  // host syncs for the NaN check and the progress line
        const int64_t print_every = 10;
        constexpr int64_t kLogEvery = 100;  // progress lines when stderr is not a terminal (logs)
        rep.epochs_done = start_epoch;
        double val_seconds = 0, train_seconds = 0;
        int64_t n_vals = 0;
        int64_t images_trained = 0;
        const double t_run = now_s();
        int64_t global_step = int64_t(start_epoch) * steps_per_epoch + start_iter;
        // A checkpoint of the state after `iter` steps of epoch `epoch` (0-based; iter 0 = the end of the
        // previous epoch); --resume continues from exactly there.
        auto save_checkpoint = [&](int epoch, int64_t iter, double val) -> Status {
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
            if (Status s = write_checkpoint(ckpt_path, sd, opt); !s) return s;
            rep.checkpoint = ckpt_path;
            return Status::success();
        };
        auto report = [&](const TrainProgress& p) {
            if (o.on_progress) o.on_progress(p);
        };
        auto progress_at = [&](double step_loss, double loss, double acc, double val, double ips) {
            TrainProgress p;
            p.epoch = double(global_step) / double(steps_per_epoch);
            p.step = global_step;
            p.total_steps = total_steps;
            p.step_loss = step_loss;
            p.loss = loss;
            p.train_acc = acc;
            p.val_accuracy = val;
            p.images_per_s = ips;
            return p;
        };
        const bool can_stop = o.stop_flag != nullptr;
        // Running sums of the steps since the last report, on the device (read at the host-sync points only).
        // One pair for the whole run: a captured step adds into these very tensors.
        const auto acc_opt = torch::TensorOptions().device(device);
        torch::Tensor run_loss = torch::zeros({}, acc_opt.dtype(torch::kFloat));
        torch::Tensor run_correct = torch::zeros({}, acc_opt.dtype(torch::kLong));
        std::unique_ptr<StaticStep> full_step, tail_step;
        std::vector<torch::Tensor> momentum_buffers;
        if (use_static) momentum_buffers = sgd_momentum_buffers(dynamic_cast<torch::optim::SGD&>(opt), model->parameters());
        auto make_step = [&](int64_t b) {
            return std::make_unique<StaticStep>(model, StaticStepData{data.x_u8, data.labels, run_loss, run_correct}, b, o.augment_crop,
                                                o.augment_flip, o.momentum, o.weight_decay, momentum_buffers);
        };
        model->train();
        bool stop = false;
        int64_t stop_iter = -1;  // the iteration a stop request ended the run before (-1: none)
        for (int epoch = start_epoch; epoch < o.epochs && !stop; ++epoch) {
            const std::vector<int64_t> order = shuffled(train_idx, mix(o.seed, 0xe90c, uint64_t(epoch)));
            std::mt19937_64 aug_rng(mix(o.seed, 0xa09, uint64_t(epoch)));
            const int64_t first_it = epoch == start_epoch ? start_iter : 0;
            run_loss.zero_();
            run_correct.zero_();
            int64_t run_images = 0;
            // The eager loop gathers by the order on the device and draws each batch's augmentation as it goes.
            // The static step reads its batches from a plan of the whole epoch made here, on the host, with the
            // same draws in the same order, and sent to the device once: per step (4, batch) rows of image index,
            // crop dy, crop dx and flip. A short last batch takes the first nb columns of its row.
            torch::Tensor order_t, plan;
            if (use_static) {
                std::vector<int64_t> p(size_t(steps_per_epoch * 4 * o.batch), 0);
                for (int64_t it = 0; it < steps_per_epoch; ++it) {
                    const int64_t b0 = it * o.batch, nb = std::min(o.batch, n_train - b0);
                    const AugDraws d = draw_augment(nb, o.augment_crop, o.augment_flip, aug_rng);
                    int64_t* row = p.data() + it * 4 * o.batch;
                    for (int64_t i = 0; i < nb; ++i) {
                        row[i] = order[size_t(b0 + i)];
                        row[o.batch + i] = d.dy[size_t(i)];
                        row[2 * o.batch + i] = d.dx[size_t(i)];
                        row[3 * o.batch + i] = d.flip[size_t(i)];
                    }
                }
                plan = torch::from_blob(p.data(), {steps_per_epoch, 4, o.batch}, idx_opt).clone().to(device);
            } else {
                order_t = torch::from_blob(const_cast<int64_t*>(order.data()), {n_train}, idx_opt).clone().to(device);
                // Skipped full batches (a mid-epoch resume) still consume their augmentation draws.
                if (first_it > 0) draw_augment(first_it * o.batch, o.augment_crop, o.augment_flip, aug_rng);
            }
            double t_seg = now_s();
            double last_loss = 0, last_acc = 0, last_step_loss = 0;
            for (int64_t it = first_it; it < steps_per_epoch; ++it) {
                if (o.max_steps >= 0 && rep.steps >= o.max_steps) {
                    stop = true;
                    break;
                }
                if (can_stop && o.stop_flag->load()) {  // the step before this one has finished: stop here
                    stop = true;
                    stop_iter = it;
                    break;
                }
                const int64_t b0 = it * o.batch, nb = std::min(o.batch, n_train - b0);
                const double lr = lr_at(o, global_step, total_steps);
                set_lr(opt, o.optimizer, lr);  // the static step takes lr itself; the optimizer's copy goes into checkpoints
                torch::Tensor loss;
                if (use_static) {
                    const torch::Tensor block = plan[it];
                    if (nb == o.batch) {
                        if (!full_step) {
                            full_step = make_step(o.batch);
                            if (cuda) {
                                const double t0 = now_s();
                                if (Status s = full_step->capture(block, lr); !s) {
                                    rep.step = "static (eager)";
                                    if (o.progress) std::fprintf(stderr, "note       %s; the step runs eagerly\n", s.message.c_str());
                                } else if (o.progress) {
                                    if (tty) std::fprintf(stderr, "\r\033[K");
                                    std::fprintf(stderr, "step       one CUDA graph (captured in %.0f ms)\n", 1000.0 * (now_s() - t0));
                                }
                                t_seg += now_s() - t0;  // set-up, not training: images/s counts steps only
                            }
                        }
                        full_step->run(block, lr);
                        loss = full_step->loss();
                    } else {  // the short last batch: once an epoch, eagerly
                        if (!tail_step) tail_step = make_step(nb);
                        tail_step->run(block.slice(1, 0, nb), lr);
                        loss = tail_step->loss();
                    }
                } else {
                    const torch::Tensor idx = order_t.slice(0, b0, b0 + nb);
                    torch::Tensor x = normalize_u8(data.x_u8.index_select(0, idx));
                    const torch::Tensor y = data.labels.index_select(0, idx);
                    if (o.augment_crop || o.augment_flip) x = augment(x, o.augment_crop, o.augment_flip, aug_rng);
                    const torch::Tensor out = model->forward(x);
                    loss = torch::nn::functional::cross_entropy(out, y);
                    opt.zero_grad();
                    loss.backward();
                    opt.step();
                    run_loss += loss.detach() * double(nb);
                    run_correct += out.detach().argmax(1).eq(y).sum();
                }
                ++rep.steps;
                ++global_step;
                images_trained += nb;
                run_images += nb;
                const bool last = it + 1 == steps_per_epoch;
                const bool validate_now = n_val > 0 && o.val_every > 0 && (it + 1) % o.val_every == 0 && !last;
                const bool checked = (it + 1) % check_every == 0 || last || validate_now || (it + 1) % print_every == 0;
                if (checked) {
                    const double lv = loss.item<double>();
                    last_step_loss = lv;
                    rep.losses.push_back(lv);  // every step on the CPU, every check_every-th on CUDA
                    const double seg_loss = run_loss.item<double>() / double(std::max<int64_t>(run_images, 1));
                    if (!std::isfinite(lv) || !std::isfinite(seg_loss)) {
                        rep.diverged = true;
                        train_seconds += now_s() - t_seg;
                        std::string keep = rep.checkpoint.empty()
                                               ? "No checkpoint had been written yet (the first is written at the end of epoch 1)."
                                               : "The last good checkpoint is kept: " + rep.checkpoint + " (end of epoch " +
                                                     std::to_string(rep.epochs_done) + ").";
                        if (tty) std::fprintf(stderr, "\n");
                        rep.status = Status::error(
                            std::string("train: the loss became ") + (std::isnan(lv) || std::isnan(seg_loss) ? "NaN" : "infinite") +
                            " at epoch " + std::to_string(epoch + 1) + ", iteration " + std::to_string(it + 1) + " (step " +
                            std::to_string(global_step) + ", lr " + fmt("%g", lr) + "); training stopped. " + keep +
                            " Hint: lower the learning rate (e.g. --lr " + fmt("%g", o.lr / 10) +
                            "), use a schedule with warm-up (--schedule onecycle), or resume from the checkpoint with --resume.");
                        stop = true;
                        break;
                    }
                    last_loss = seg_loss;
                    last_acc = 100.0 * double(run_correct.item<int64_t>()) / double(std::max<int64_t>(run_images, 1));
                }
                const bool print = o.progress && ((it + 1) % print_every == 0 || last);
                double val = -1;
                if (validate_now || print) {
                    const double now = now_s();
                    train_seconds += now - t_seg;
                    t_seg = now;
                }
                if (validate_now) {
                    const double t0 = now_s();
                    val = accuracy(model, data, val_index, o.batch);
                    val_seconds += now_s() - t0;
                    ++n_vals;
                    rep.last_val_acc = val;
                    t_seg = now_s();
                }
                const double ips = train_seconds > 0 ? double(images_trained) / train_seconds : 0;
                if (checked && !last && o.on_progress) {  // the epoch's last point comes after its validation, below
                    const double secs = train_seconds + now_s() - t_seg;
                    report(progress_at(last_step_loss, last_loss, last_acc, val, secs > 0 ? double(images_trained) / secs : 0));
                }
                if (o.progress && (print || validate_now)) {
                    const int64_t steps_left = total_steps - global_step;
                    const double n_val_left = o.val_every > 0 ? double(steps_left) / double(o.val_every) : 0.0;
                    const double val_each = n_vals > 0 ? val_seconds / double(n_vals) : 0.0;
                    const double left = ips > 0 ? double(steps_left) * double(o.batch) / ips + n_val_left * val_each : -1;
                    char line[256];
                    std::snprintf(line, sizeof line, "epoch %d/%d  iter %lld/%lld  loss %.4f  acc %5.2f%%%s  %6.0f img/s  %s left", epoch + 1, o.epochs,
                                  (long long)(it + 1), (long long)steps_per_epoch, last_loss, last_acc,
                                  rep.last_val_acc >= 0 ? ("  val " + fmt("%.2f%%", rep.last_val_acc)).c_str() : "", ips, fmt_time(left).c_str());
                    if (tty)
                        std::fprintf(stderr, "\r%s\033[K", line);
                    else if (validate_now || (it + 1) % kLogEvery == 0)
                        std::fprintf(stderr, "%s\n", line);
                }
                if (validate_now) {
                    metrics.row(epoch + 1, it + 1, global_step, lr, last_loss, last_acc, val, ips, now_s() - t_run);
                    run_loss.zero_();
                    run_correct.zero_();
                    run_images = 0;
                }
            }
            if (rep.diverged) break;
            train_seconds += now_s() - t_seg;
            if (stop_iter >= 0) {  // a stop request: a checkpoint at this very step, then out (no evaluation)
                if (Status s = save_checkpoint(epoch, stop_iter, -1); !s) return fail(s.message);
                rep.stopped = true;
                if (o.progress) {
                    if (tty) std::fprintf(stderr, "\r\033[K");
                    std::fprintf(stderr, "stopped    epoch %d/%d after iteration %lld of %lld (step %lld)%s%s\n", epoch + 1, o.epochs, (long long)stop_iter,
                                 (long long)steps_per_epoch, (long long)global_step, rep.checkpoint.empty() ? "" : "; resume with --resume ",
                                 rep.checkpoint.c_str());
                }
                break;
            }
            if (stop) break;  // --max-steps reached mid-epoch: no end-of-epoch work
            // ---- end of epoch: validation, checkpoint, metrics
            double val = -1;
            if (n_val > 0) {
                const double t0 = now_s();
                val = accuracy(model, data, val_index, o.batch);
                val_seconds += now_s() - t0;
                ++n_vals;
                rep.last_val_acc = val;
            }
            rep.epochs_done = epoch + 1;
            const double ips = train_seconds > 0 ? double(images_trained) / train_seconds : 0;
            if (o.progress) {
                if (tty) std::fprintf(stderr, "\r\033[K");
                std::fprintf(stderr, "epoch %d/%d  loss %.4f  train acc %.2f%%  val %s  %.0f img/s  %s elapsed\n", epoch + 1, o.epochs, last_loss, last_acc,
                             val >= 0 ? fmt("%.2f%%", val).c_str() : "-", ips, fmt_time(now_s() - t_run).c_str());
            }
            metrics.row(epoch + 1, steps_per_epoch, global_step, lr_at(o, global_step - 1, total_steps), last_loss, last_acc, val, ips, now_s() - t_run);
            if (Status s = save_checkpoint(epoch + 1, 0, val); !s) return fail(s.message);
            if (o.on_progress) {
                TrainProgress p = progress_at(last_step_loss, last_loss, last_acc, val, ips);
                p.epoch_end = true;
                report(p);
            }
        }
        if (tty) std::fprintf(stderr, "\r\033[K");
        rep.train_seconds = train_seconds;
        rep.train_images_per_s = train_seconds > 0 ? double(images_trained) / train_seconds : 0;
        if (rep.diverged) return rep;
        if (rep.stopped) {
            rep.final_weights = model->to_state_dict();
            return rep;
        }

        // ---- final evaluation and export
        StateDict final_sd = model->to_state_dict();
        if (o.final_eval) {
            Result<Cifar10> test = read_cifar10_test(dir, o.limit_test);
            if (!test.ok()) return fail("train: " + test.message());
            Result<DeviceData> td = to_device(test.value, device);
            rep.test_acc_trainer = accuracy(model, td.value, torch::Tensor(), 128);
            ExportOptions eo;
            eo.data_dir = dir;
            eo.calib_images = o.calib_images;
            eo.limit_test = o.limit_test;
            eo.metadata = {{"trained_by", recipe}, {"source", "quantlab train (LibTorch " + std::string(TORCH_VERSION) + ", " + rep.device + ")"}};
            if (rep.last_val_acc >= 0) eo.metadata["val_accuracy"] = fmt("%.2f", rep.last_val_acc);
            Result<ExportResult> ex = finalize_weights(final_sd, net, qc, eo);
            if (!ex.ok()) return fail("train: " + ex.message());
            rep.test_acc_static = ex.value.acc_static;
            rep.test_acc_dynamic = ex.value.acc_dynamic;
            rep.test_images = ex.value.test_images;
            rep.final_weights = std::move(ex.value.weights);
            if (!o.export_path.empty()) {
                std::error_code ec;
                if (fs::path(o.export_path).has_parent_path()) fs::create_directories(fs::path(o.export_path).parent_path(), ec);
                if (Status s = write_safetensors(o.export_path, rep.final_weights); !s) return fail("train: --export: " + s.message);
            }
        } else {
            rep.final_weights = std::move(final_sd);
        }
        return rep;
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
