// cmd_train.cpp: `quantlab train` (quantization-aware fine-tuning with the STE; the notebook's recipe by default,
// the final assignment's knobs as options) on one of two engines: core (core/train, no LibTorch, every build) or
// torch (LibTorch on CUDA or CPU, builds with QUANTLAB_HAVE_TORCH); and `quantlab export` (calibrate static
// activation ranges, measure test accuracy with core, write QuantLab safetensors; no LibTorch needed).
// It includes no torch header itself: the trainer's trainer.hpp is torch-free.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/cifar10.hpp"
#include "core/layer_bits.hpp"
#include "core/parallel.hpp"
#include "core/model_file.hpp"
#include "core/safetensors_io.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"
#include "native/trainer/run_common.hpp"  // augment_spec
#include "native/trainer/trainer.hpp"

namespace quantlab::cli {

namespace {

namespace fs = std::filesystem;
using trainer::Device;
using trainer::FqKernelChoice;
using trainer::Toggle;
using trainer::TrainOptions;

// Bits and range-rule options shared by train and export.
struct BitsOptions {
    QuantSpec rule;          // add_rule_options
    int bits = 4;            // the notebook's quantization(r, b=4)
    int weight_bits = 0;     // 0: --bits
    int act_bits = 0;        // 0: --bits
    std::string layer_bits;  // "conv1=8,fc3=8" or "conv1=8:4" (weight:activation)
};

void add_bits_options(CLI::App* app, BitsOptions* b, const char* bits_help) {
    app->add_option("--bits,-b", b->bits, bits_help)->capture_default_str();
    app->add_option("--weight-bits", b->weight_bits, "weight bits of every layer (default: --bits)");
    app->add_option("--act-bits", b->act_bits, "activation bits of every layer (default: --bits)");
    app->add_option("--layer-bits", b->layer_bits, "per-layer bits: conv1=8,fc3=8 (weights and activations) or conv1=8:4 (weights:activations)");
    add_rule_options(app, &b->rule);
}


Result<QuantConfig> build_bits_config(const NetworkDesc& net, const BitsOptions& b) {
    const int wb = b.weight_bits ? b.weight_bits : b.bits, ab = b.act_bits ? b.act_bits : b.bits;
    for (int v : {wb, ab})
        if (!valid_bits(v)) return Status::error("bits: " + std::to_string(v) + " is not a bit width; use 1..16, or 32 for float");
    QuantConfig c = make_config(net, wb, ab);
    apply_rule(&c, b.rule);
    if (Status s = apply_layer_bits(&c, net, b.layer_bits); !s) return s;
    if (Status s = validate(c, net); !s) return s;
    return c;
}

// The network the run will train: the resume checkpoint's, the init weights', or --model's.
Result<NetworkDesc> network_of_run(const TrainOptions& o, const std::string& model) {
    if (!o.resume.empty() || !o.from_scratch) {
        const std::string path = o.resume.empty() ? o.init_weights : o.resume;
        Result<WeightsFile> f = read_weights_file(path);
        if (!f.ok()) return f.status;
        return f.value.net;
    }
    // The stock nets' last layer is sized from the data (10 or 100 classes).
    Result<NetworkDesc> net = network_choice(model, dataset_info(o.dataset).classes);
    if (!net.ok()) return Status::error("--model: " + net.message());
    return net;
}

// Ctrl-C during `quantlab train`: the first asks the trainer to stop after the step in flight and write a
// checkpoint to resume from; a second one ends the process at once (the default action).
std::atomic<bool> g_stop_training{false};
void on_sigint(int) {
    if (g_stop_training.load()) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
        return;
    }
    g_stop_training.store(true);
}

struct TrainCli {
    TrainOptions t;
    BitsOptions b;
    std::string model;
    // Names as typed, parsed into TrainOptions' enums by run_train.
    std::string optimizer = optimizer_name(Optimizer::kSgd);
    std::string schedule = schedule_name(Schedule::kNone);
    std::string fq_kernel = fq_kernel_choice_name(FqKernelChoice::kAuto);
    std::string device = device_name(Device::kAuto);
    std::string channels_last = toggle_name(Toggle::kAuto);
    std::string cuda_graph = toggle_name(Toggle::kAuto);
    std::string augment = "none";
    std::string ste = "identity";
    std::string quantizer = quantizer_kind_name(QuantizerKind::kFixed);
    std::string dataset = "cifar10";
#ifdef QUANTLAB_HAVE_TORCH
    std::string engine = "torch";
#else
    std::string engine = "core";
#endif
    bool quiet = false;
    bool no_final_eval = false;
};

int run_train(TrainCli& c) {
    TrainOptions& o = c.t;
    Result<Dataset> dataset = parse_dataset(c.dataset);
    if (!dataset.ok()) return fail("train", dataset.message());
    o.dataset = dataset.value;
    // The bundled weights are a 10-class model: another dataset starts from scratch unless --init or --resume names one.
    if (o.dataset != Dataset::kCifar10 && o.init_weights.empty() && o.resume.empty() && !o.from_scratch) {
        std::fprintf(stderr, "note: --dataset %s without --init: training from scratch (the bundled weights have 10 classes)\n", c.dataset.c_str());
        o.from_scratch = true;
    }
    if (o.init_weights.empty()) o.init_weights = default_weights_path();
    o.data_dir = find_dataset_dir(o.data_dir, o.dataset);
    o.progress = !c.quiet;
    o.final_eval = !c.no_final_eval;
    std::string bad;  // the first name that does not parse
    auto take = [&bad](auto parsed, auto* out) {
        if (parsed.ok()) *out = parsed.value;
        else if (bad.empty()) bad = parsed.message();
    };
    take(parse_optimizer(c.optimizer), &o.optimizer);
    take(parse_schedule(c.schedule), &o.schedule);
    take(trainer::parse_fq_kernel_choice(c.fq_kernel), &o.fq_kernel);
    take(trainer::parse_device(c.device), &o.device);
    take(trainer::parse_toggle(c.channels_last, "--channels-last"), &o.channels_last);
    take(trainer::parse_toggle(c.cuda_graph, "--cuda-graph"), &o.cuda_graph);
    trainer::Engine engine = trainer::Engine::kCore;
    take(trainer::parse_engine(c.engine), &engine);
    take(parse_quantizer_kind(c.quantizer), &o.quantizer);
    if (!bad.empty()) return fail("train", bad);
#ifndef QUANTLAB_HAVE_TORCH
    if (engine == trainer::Engine::kTorch)
        return fail("train", "--engine torch: this quantlab was built without LibTorch; use --engine core (the default here), or build "
                             "with LibTorch (scripts/setup.sh installs it)");
#endif
    for (const std::string& a : {c.augment}) {
        std::stringstream ss(a);
        std::string item;
        while (std::getline(ss, item, ',')) {
            if (item == "crop") o.augment_crop = true;
            else if (item == "flip") o.augment_flip = true;
            else if (item != "none" && !item.empty()) return fail("train", "--augment: unknown '" + item + "', expected crop, flip, crop,flip or none");
        }
    }
    if (Status s = check_augment(trainer::augment_spec(o), kCifar10Side); !s) return fail("train", s.message);
    Result<SteRule> ste = parse_ste_rule(c.ste);
    if (!ste.ok()) return fail("train", ste.message());
    o.ste = ste.value;
    Result<NetworkDesc> net = network_of_run(o, c.model);
    if (!net.ok()) return fail("train", net.message());
    if (o.from_scratch && o.resume.empty()) {
        o.model_desc = net.value.to_text();
    }
    Result<QuantConfig> qc = build_bits_config(net.value, c.b);
    if (!qc.ok()) return fail("train", qc.message());
    o.quant = qc.value;
    if (Status s = check_learned(net.value, o.quant, o.quantizer); !s) return fail("train", s.message);

    o.stop_flag = &g_stop_training;
    void (*previous)(int) = std::signal(SIGINT, on_sigint);
#ifdef QUANTLAB_HAVE_TORCH
    trainer::TrainReport r = engine == trainer::Engine::kTorch ? trainer::train(o) : trainer::train_core(o);
#else
    trainer::TrainReport r = trainer::train_core(o);
#endif
    std::signal(SIGINT, previous == SIG_ERR ? SIG_DFL : previous);
    if (!r.status.ok()) {  // the trainer's messages name their origin ("train: ..."), as the desktop app shows them
        const std::string& m = r.status.message;
        return fail("train", m.rfind("train: ", 0) == 0 ? m.substr(7) : m);
    }
    if (r.stopped) {
        const char* how = r.checkpoint.empty() ? "; no checkpoint (--checkpoint-dir is empty)" : "; continue with the same options and --resume ";
        const bool asked = !g_stop_training.load();  // --stop-after, not Ctrl-C
        std::fprintf(stderr, "quantlab train: %s after %lld steps (%d/%d epochs complete)%s%s\n", asked ? "stopped (--stop-after)" : "interrupted",
                     (long long)r.steps, r.epochs_done, o.epochs, how, r.checkpoint.c_str());
        return 130;  // the shell's code for a SIGINT, as before, but with the checkpoint written
    }
    std::printf("trained     %lld steps, %d/%d epochs, %.0f images/s (training steps only, %s)\n", (long long)r.steps, r.epochs_done, o.epochs,
                r.train_images_per_s, r.device.c_str());
    if (r.last_val_acc >= 0) std::printf("validation  %.2f %%\n", r.last_val_acc);
    if (r.test_images > 0) {
        std::printf("test        %.2f %%  core, static ranges (quantlab eval --mode static)   [%lld images, %s]\n", r.test_acc_static,
                    (long long)r.test_images, trainer::describe_quant(o.quant, net.value).c_str());
        std::printf("            %.2f %%  core, ranges per batch of 128 (quantlab eval --mode dynamic)\n", r.test_acc_dynamic);
        if (r.test_acc_trainer >= 0)
            std::printf("            %.2f %%  the trainer's own forward (LibTorch, %s)\n", r.test_acc_trainer,
                        o.quantizer == QuantizerKind::kFixed ? "ranges per batch" : "its learned steps");
    }
    if (!r.checkpoint.empty()) std::printf("checkpoint  %s\n", r.checkpoint.c_str());
    if (!o.export_path.empty()) std::printf("exported    %s\n", o.export_path.c_str());
    return 0;
}

struct ExportCli {
    std::string weights, out, data, trained_by;
    std::string dataset = "cifar10";
    BitsOptions b;
    bool bits_given = false;
    int64_t calib = 1000;
    int64_t limit = -1;
    int threads = 0;
    bool no_eval = false;
};

int run_export(ExportCli& e, CLI::App* app) {
    set_num_threads(e.threads);
    Result<WeightsFile> f = read_weights_file(e.weights);
    if (!f.ok()) return fail("export", f.message());
    const NetworkDesc& net = f.value.net;
    QuantConfig config;
    const bool any_bits = app->count("--bits") + app->count("--weight-bits") + app->count("--act-bits") + app->count("--layer-bits") +
                          app->count("--rule") + app->count("--asymmetric") + app->count("--per-channel") > 0;
    const Result<QuantConfig>& stored = f.value.stored_config;
    if (!any_bits && (!stored.ok() || !stored.value.layers.empty())) {
        if (!stored.ok()) return fail("export", stored.message());
        config = stored.value;
        std::fprintf(stderr, "quantization from %s's metadata: %s\n", e.weights.c_str(), trainer::describe_quant(config, net).c_str());
    } else {
        Result<QuantConfig> c = build_bits_config(net, e.b);
        if (!c.ok()) return fail("export", c.message());
        config = c.value;
    }
    trainer::ExportOptions eo;
    Result<Dataset> dataset = parse_dataset(e.dataset);
    if (!dataset.ok()) return fail("export", dataset.message());
    eo.dataset = dataset.value;
    eo.data_dir = find_dataset_dir(e.data, eo.dataset);
    eo.calib_images = e.calib;
    eo.limit_test = e.limit;
    eo.evaluate = !e.no_eval;
    // Keep what the source file said about its training.
    copy_provenance(f.value.weights.metadata, &eo.metadata);
    if (!e.trained_by.empty()) eo.metadata["trained_by"] = e.trained_by;
    eo.metadata["source"] = "quantlab export of " + fs::path(e.weights).filename().string();
    Result<StateDict> clean = trainer::model_tensors(f.value.weights, net, e.weights);  // a checkpoint's extras dropped
    if (!clean.ok()) return fail("export", clean.message());
    Result<trainer::ExportResult> r = trainer::finalize_weights(clean.value, net, config, eo);
    if (!r.ok()) return fail("export", r.message());
    if (Status s = write_safetensors(e.out, r.value.weights); !s) return fail("export", s.message);
    std::printf("exported    %s (%s, static ranges from %lld calibration images)\n", e.out.c_str(),
                trainer::describe_quant(r.value.config, net).c_str(), (long long)e.calib);
    if (!e.no_eval)
        std::printf("test        %.2f %% static, %.2f %% dynamic  [%lld images]\n", r.value.acc_static, r.value.acc_dynamic,
                    (long long)r.value.test_images);
    return 0;
}

}  // namespace

void add_train_commands(CLI::App& root, Commands& cmds) {
    auto tc = std::make_shared<TrainCli>();
    TrainOptions& o = tc->t;
    CLI::App* train = root.add_subcommand(
        "train",
        "Quantization-aware fine-tuning with the straight-through estimator, on core's engine (CPU, every build) or\n"
        "LibTorch's (CUDA when present; builds with LibTorch).\n"
        "Defaults are the notebook's recipe: fine-tune the bundled notebook weights at 4 bits, SGD lr 1e-3 momentum 0.9\n"
        "weight decay 1e-5, batch 128, 5 epochs, seeded 80/20 train/validation split, validation every 100 iterations.");
    train->add_option("--engine", tc->engine,
#ifdef QUANTLAB_HAVE_TORCH
                      "training engine: core (core/train, CPU) or torch (LibTorch); default: torch in this build"
#else
                      "training engine: core (core/train, CPU) or torch (LibTorch: not in this build); default: core in this build"
#endif
                      )->capture_default_str();
    train->add_option("--init,-w", o.init_weights, "weights to fine-tune, .pth or .safetensors (default: the bundled notebook weights)");
    train->add_flag("--from-scratch", o.from_scratch, "start from random weights (seeded) instead of --init");
    train->add_option("--model", tc->model, "with --from-scratch: notebook (default), wide:N, or a model description text");
    train->add_option("--resume", o.resume, "continue from a checkpoint (DIR/last.safetensors, of either engine); pass the same recipe options");
    train->add_option("--data", o.data_dir, "CIFAR-10 binary folder (default: $QUANTLAB_DATA or the cache)");
    train->add_option("--dataset", tc->dataset, "cifar10, or cifar100 (the last layer gets 100 outputs; from scratch unless --init)")->capture_default_str();
    train->add_option("--optimizer", tc->optimizer, "sgd, adam or adamw")->capture_default_str();
    train->add_option("--lr", o.lr, "learning rate (peak rate for onecycle)")->capture_default_str();
    train->add_option("--momentum", o.momentum, "SGD momentum")->capture_default_str();
    train->add_option("--wd,--weight-decay", o.weight_decay, "weight decay")->capture_default_str();
    train->add_option("--schedule", tc->schedule, "LR schedule: none, step (x0.1 at 50% and 75%), cosine, onecycle")->capture_default_str();
    train->add_option("--augment", tc->augment, "augmentation: none, crop (4-pixel padding), flip, or crop,flip")->capture_default_str();
    train->add_option("--cutout", o.augment_cutout, "cutout: zero one N x N square per image, centre uniform, clipped at the borders (0: none; 16 in DeVries & Taylor)")->capture_default_str();
    train->add_option("--color-jitter", o.augment_jitter, "colour jitter A: brightness, contrast, saturation factors uniform in [1-A, 1+A] (0: none)")->capture_default_str();
    train->add_option("--batch", o.batch, "batch size")->capture_default_str()->check(CLI::Range(1, 65536));
    train->add_option("--epochs", o.epochs, "epochs")->capture_default_str()->check(CLI::Range(1, 100000));
    train->add_option("--seed", o.seed, "seed of the split, the batch order, augmentation and initialisation")->capture_default_str();
    train->add_option("--val-every", o.val_every, "validate every N iterations (0: at the end of each epoch only)")->capture_default_str();
    train->add_option("--val-fraction", o.val_fraction, "share of the training set held out for validation (0: train on all)")->capture_default_str();
    add_bits_options(train, &tc->b, "bits of weights and activations of every layer (32 = float training)");
    train->add_option("--ste", tc->ste, "STE backward: identity (notebook) or clipped (zero where the value was clipped)")->capture_default_str();
    train->add_option("--quantizer", tc->quantizer,
                      "fixed (the range rules, STE), lsq (learned step size of every weight and input) or pact (learned clipping "
                      "of every input); needs bits")
        ->capture_default_str();
    train->add_option("--fq-kernel", tc->fq_kernel, "fake-quant kernel: exact (core's division), fused (torch fake_quantize), auto (fused on CUDA)")->capture_default_str();
    train->add_option("--threads", o.threads, "CPU threads (0 = all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
    train->add_option("--device", tc->device, "auto, cpu or cuda")->capture_default_str();
    train->add_option("--channels-last", tc->channels_last, "NHWC layout: auto (on for the CPU and for a CUDA graph step), on, off")->capture_default_str();
    train->add_option("--cuda-graph", tc->cuda_graph,
                      "the training step as one CUDA graph: auto (on for CUDA with SGD and device-side range rules), on, off "
                      "(on the CPU, on runs the same step eagerly)")
        ->capture_default_str();
    o.checkpoint_dir = "checkpoints";
    train->add_option("--checkpoint-dir", o.checkpoint_dir, "a checkpoint each epoch: DIR/last.safetensors (+ last.state.safetensors, the optimizer state); '' for none")->capture_default_str();
    train->add_option("--metrics", o.metrics_path, "per-run metrics file: .csv or .jsonl");
    train->add_option("--export", o.export_path, "write the final weights with static activation ranges and test accuracy (.safetensors)");
    train->add_option("--calib", o.calib_images, "calibration images for the exported static ranges")->capture_default_str();
    train->add_option("--limit-train", o.limit_train, "use only the first N training images");
    train->add_option("--limit-test", o.limit_test, "evaluate only the first N test images at the end");
    train->add_option("--max-steps", o.max_steps, "stop after N optimizer steps in total, a resumed run's earlier steps included (benchmarks)");
    train->add_option("--stop-after", o.stop_after, "stop as Ctrl-C does once this run has taken N steps: a checkpoint to --resume from");
    train->add_option("--recipe", o.recipe, "text for the trained_by metadata (default: described from the options)");
    train->add_flag("--no-final-eval", tc->no_final_eval, "skip the test-set evaluation at the end (benchmarks)");
    train->add_flag("--quiet,-q", tc->quiet, "no progress output");
    cmds.emplace_back(train, [tc] { return run_train(*tc); });

    auto ec = std::make_shared<ExportCli>();
    CLI::App* exp = root.add_subcommand("export",
                                        "Write QuantLab safetensors with quantization settings, calibrated static activation ranges and\n"
                                        "the test accuracy (core) in the metadata. Without bit options a checkpoint's own settings are used.");
    exp->add_option("--weights,-w", ec->weights, "a checkpoint or any .pth/.safetensors")->required();
    exp->add_option("--out,-o", ec->out, "output .safetensors")->required();
    add_bits_options(exp, &ec->b, "bits of weights and activations (32 = float); default: the file's quant_config, else 4");
    exp->add_option("--data", ec->data, "CIFAR-10 binary folder");
    exp->add_option("--dataset", ec->dataset, "cifar10 or cifar100 (calibration and test images)")->capture_default_str();
    exp->add_option("--calib", ec->calib, "calibration images (first N of data_batch_1.bin)")->capture_default_str();
    exp->add_option("--limit", ec->limit, "evaluate only the first N test images");
    exp->add_option("--trained-by", ec->trained_by, "text for the trained_by metadata");
    exp->add_flag("--no-eval", ec->no_eval, "skip the test-set evaluation");
    exp->add_option("--threads", ec->threads, "CPU threads (0 = all cores)")->capture_default_str();
    cmds.emplace_back(exp, [ec, exp] { return run_export(*ec, exp); });
}

}  // namespace quantlab::cli
