// train_setup.cpp: a run before its first step (train_run.hpp): the option checks, the device, the model and
// its start point (weights to fine-tune, a checkpoint to resume, or a seeded initialisation), the quantizer,
// the data on the device with its seeded split, the optimizer (with a resumed state), the metrics file and
// the checkpoint folder, and the header lines of the progress output.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/model_file.hpp"
#include "core/parallel.hpp"
#include "core/safetensors_io.hpp"
#include "core/train/resume_state.hpp"
#include "native/trainer/train_run.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

namespace {

// The model's parameters in one group; the learned quantizer steps (lsq / pact), when any, in a second group
// with the same options but no weight decay (decay would pull every step towards 0).
template <class Opt, class Options>
std::unique_ptr<torch::optim::Optimizer> grouped(const Options& options, std::vector<torch::Tensor> params, std::vector<torch::Tensor> learned) {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::move(params), std::make_unique<Options>(options));
    if (!learned.empty()) {
        Options no_decay = options;
        no_decay.weight_decay(0.0);
        groups.emplace_back(std::move(learned), std::make_unique<Options>(no_decay));
    }
    return std::make_unique<Opt>(std::move(groups), options);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o, std::vector<torch::Tensor> params,
                                                        std::vector<torch::Tensor> learned) {
    using namespace torch::optim;
    switch (o.optimizer) {
        case Optimizer::kAdam: return grouped<Adam>(AdamOptions(o.lr).weight_decay(o.weight_decay), params, learned);
        case Optimizer::kAdamW: return grouped<AdamW>(AdamWOptions(o.lr).weight_decay(o.weight_decay), params, learned);
        case Optimizer::kSgd: break;
    }
    return grouped<SGD>(SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay), params, learned);
}

// The machine: threads, the device, rep.device. CUDA asked for but absent is an error.
Status setup_machine(RunState& r) {
    const TrainOptions& o = r.o;
    const int threads = resolve_threads(o.threads);
    torch::set_num_threads(threads);
    quantlab::set_num_threads(threads);
    if (o.device == Device::kCuda || (o.device == Device::kAuto && torch::cuda::is_available())) {
        if (!torch::cuda::is_available())
            return Status::error("train: --device cuda, but this LibTorch has no CUDA or no GPU is visible (build against a CUDA LibTorch: "
                                 "cmake --preset native-cuda; or use --device cpu)");
        r.device = torch::Device(torch::kCUDA, 0);
        at::globalContext().setBenchmarkCuDNN(true);
        r.rep.device = cuda_text();
    } else {
        r.rep.device = cpu_text(threads);
    }
    r.cuda = r.device.is_cuda();
    return Status::success();
}

// The network and the weights it starts from: a checkpoint (--resume, with the position in it), weights to
// fine-tune (--init), or none (from scratch, optionally a model description).
Status setup_start(RunState& r, StateDict* start, int64_t* ckpt_steps_per_epoch) {
    const TrainOptions& o = r.o;
    const DatasetInfo& ds = dataset_info(o.dataset);
    r.net = with_classes(notebook_net(), ds.classes);  // the last layer sized from the data
    if (!o.resume.empty()) {
        Result<WeightsFile> f = read_weights_file(o.resume);
        if (!f.ok()) return Status::error("train: --resume: " + f.message());
        const Metadata& meta = f.value.weights.metadata;
        auto it = meta.find("checkpoint_epoch");
        if (it == meta.end())
            return Status::error("train: --resume " + o.resume + ": not a trainer checkpoint (no checkpoint_epoch in its metadata); "
                                 "to fine-tune from plain weights use --init");
        r.start_epoch = std::atoi(it->second.c_str());
        if (auto i = meta.find("checkpoint_iteration"); i != meta.end()) r.start_iter = std::atoll(i->second.c_str());
        if (auto i = meta.find("checkpoint_steps_per_epoch"); i != meta.end()) *ckpt_steps_per_epoch = std::atoll(i->second.c_str());
        r.net = f.value.net;
        *start = std::move(f.value.weights);
        r.start_name = o.resume;
    } else if (!o.from_scratch) {
        Result<WeightsFile> f = read_weights_file(o.init_weights);
        if (!f.ok()) return Status::error("train: --init: " + f.message());
        r.net = f.value.net;
        *start = std::move(f.value.weights);
        r.start_name = o.init_weights;
    } else if (!o.model_desc.empty()) {
        Result<NetworkDesc> n = parse_network(o.model_desc);
        if (!n.ok()) return Status::error("train: --model: " + n.message());
        r.net = n.value;
        if (r.net.name.empty()) r.net.name = "custom_net";
    }
    if (r.net.num_classes() != ds.classes) {
        const std::string what = !o.resume.empty() ? "--resume " + o.resume : !o.from_scratch ? "--init " + o.init_weights : "--model";
        return Status::error("train: " + what + ": the network has " + std::to_string(r.net.num_classes()) + " outputs but " + ds.title +
                             " has " + std::to_string(ds.classes) + " classes (a model for " + std::to_string(ds.classes) +
                             " classes is needed; --from-scratch sizes the last layer from the data)");
    }
    return Status::success();
}

// The model on the device with its quantizer, and how steps run (eager or static, NCHW or NHWC).
Status setup_model(RunState& r, const StateDict& start, FqKernel kernel) {
    const TrainOptions& o = r.o;
    r.qc = o.quant;
    if (r.qc.layers.empty()) r.qc = make_config(r.net, kFloatBits, kFloatBits);
    r.qc.act_mode = ActMode::kDynamic;  // training uses ranges per batch (the notebook's); export calibrates
    r.qc.act_ranges.clear();
    if (Status s = validate(r.qc, r.net); !s) return Status::error("train: " + s.message);
    r.qc = with_learned_codes(r.qc, r.net, o.quantizer);  // unsigned learned codes after a ReLU, as core's engine
    if (Status s = check_learned(r.net, r.qc, o.quantizer); !s) return Status::error("train: " + s.message);

    r.model = QuantNet(r.net);
    if (!r.start_name.empty())
        if (Status s = r.model->load(start, r.start_name); !s) return Status::error("train: " + s.message);
    r.model->to(r.device);
    if (Status s = r.model->set_quant({r.qc, o.ste, kernel, o.quantizer}, r.device); !s) return Status::error("train: " + s.message);
    // The static step (a CUDA graph on CUDA) needs SGD, whose update it does itself, and ranges computed on
    // the device: percentile and mse go through core on the host.
    std::string no_static;
    if (o.quantizer != QuantizerKind::kFixed)
        no_static = std::string("--quantizer ") + quantizer_kind_name(o.quantizer) + " (the static step has no learned steps yet)";
    if (o.optimizer != Optimizer::kSgd) no_static = "--optimizer " + std::string(optimizer_name(o.optimizer)) + " (the static step does SGD only)";
    for (const LayerQuant& l : r.qc.layers)
        for (const QuantSpec* q : {&l.weight, &l.act})
            if (q->bits != kFloatBits && (q->rule == RangeRule::kPercentile || q->rule == RangeRule::kMse))
                no_static = std::string("the ") + range_rule_name(q->rule) + " range rule (computed on the host)";
    if (o.cuda_graph == Toggle::kOn && !no_static.empty()) return Status::error("train: --cuda-graph on cannot be used with " + no_static);
    r.use_static = o.cuda_graph == Toggle::kOn || (o.cuda_graph == Toggle::kAuto && r.cuda && no_static.empty());
    // NHWC: oneDNN's convolutions and pooling are faster in it on the CPU, and cuDNN's BatchNorm and pooling
    // kernels on CUDA (a captured W4A4 step at batch 128 on an H100: 143,000 against 132,000 images/s NCHW).
    // An eager CUDA step keeps NCHW, the layout it was measured in.
    r.model->set_channels_last(o.channels_last == Toggle::kOn || (o.channels_last == Toggle::kAuto && (!r.cuda || r.use_static)));
    r.rep.step = r.use_static ? (r.cuda ? "CUDA graph" : "static (eager)") : "eager";
    TrainOptions eff = o;
    eff.quant = r.qc;
    r.recipe = o.recipe.empty() ? recipe_text(eff, r.net) : o.recipe;
    return Status::success();
}

// The training set once onto the device, its seeded train/validation split, and the run's step counts.
Status setup_data(RunState& r, int64_t ckpt_steps_per_epoch) {
    const TrainOptions& o = r.o;
    Result<Cifar10> train_set = load_train_set(o);
    if (!train_set.ok()) return train_set.status;
    const Cifar10& tr = train_set.value;
    r.data = to_device(tr, r.device);
    TrainValSplit split = split_train_val(r.data.count, o.val_fraction, o.seed);
    r.n_val = int64_t(split.val.size());
    r.train_idx = std::move(split.train);
    const auto idx_opt = torch::TensorOptions().dtype(torch::kLong);
    if (r.n_val > 0) r.val_index = torch::from_blob(split.val.data(), {r.n_val}, idx_opt).clone().to(r.device);
    r.n_train = int64_t(r.train_idx.size());
    if (r.n_train < 1) return Status::error("train: no training images left after the validation split");
    r.steps_per_epoch = (r.n_train + o.batch - 1) / o.batch;  // the last batch may be short (DataLoader's default)
    r.total_steps = r.steps_per_epoch * o.epochs;
    if (r.start_iter > 0 && (r.start_iter >= r.steps_per_epoch || ckpt_steps_per_epoch != r.steps_per_epoch))
        return Status::error("train: --resume " + o.resume + ": the checkpoint stopped after iteration " + std::to_string(r.start_iter) +
                             " of an epoch of " + std::to_string(ckpt_steps_per_epoch) + " steps, but this run has " +
                             std::to_string(r.steps_per_epoch) +
                             " steps per epoch; resume with the checkpoint's --batch, --limit-train and --val-fraction");
    return Status::success();
}

// The optimizer (with the state saved beside a resumed checkpoint), the metrics file and the checkpoint path.
Status setup_outputs(RunState& r) {
    const TrainOptions& o = r.o;
    r.opt = make_optimizer(o, r.model->parameters(), r.model->learned_parameters());
    if (!o.resume.empty()) {
        // The training state file both engines write (core/train/resume_state.hpp); an earlier version's
        // torch::save file; else a fresh state (not with learned steps, which only the state file holds).
        const std::string sp = resume_state_path(o.resume), op = optim_path(o.resume);
        if (fs::exists(sp)) {
            Result<StateDict> st = read_safetensors(sp);
            if (!st.ok()) return Status::error("train: --resume: " + st.message());
            if (Status s = load_torch_resume_state(st.value, *r.model, *r.opt, o.optimizer, o.quantizer, sp); !s)
                return Status::error("train: --resume: " + s.message);
        } else if (o.quantizer != QuantizerKind::kFixed) {
            return Status::error("train: --resume: " + sp + " not found: it holds the learned steps that --quantizer " +
                                 quantizer_kind_name(o.quantizer) + " continues from");
        } else if (fs::exists(op)) {
            try {
                torch::load(*r.opt, op);
            } catch (const std::exception& e) {
                return Status::error("train: --resume: cannot read the optimizer state " + op + " (" + e.what() +
                                     "); was the checkpoint written with another --optimizer?");
            }
        } else if (o.progress) {
            std::fprintf(stderr, "note: %s not found; resuming with a fresh optimizer state\n", sp.c_str());
        }
    }
    if (Status s = r.metrics.open(o.metrics_path, !o.resume.empty()); !s) return s;
    if (!o.checkpoint_dir.empty()) {
        std::error_code ec;
        fs::create_directories(o.checkpoint_dir, ec);
        r.ckpt_path = (fs::path(o.checkpoint_dir) / "last.safetensors").string();
    }
    if (!o.resume.empty()) r.rep.checkpoint = o.resume;
    return Status::success();
}

void print_header(const RunState& r, FqKernel kernel) {
    const TrainOptions& o = r.o;
    std::fprintf(stderr, "device     %s; step: %s\n", r.rep.device.c_str(), r.rep.step.c_str());
    std::fprintf(stderr, "model      %s, %s\n", r.net.name.c_str(), r.start_name.empty() ? "from scratch" : r.start_name.c_str());
    if (o.quantizer != QuantizerKind::kFixed)
        std::fprintf(stderr, "quantizer  %s (no weight decay on them)\n", describe_quant(r.qc, r.net, o.quantizer).c_str());
    else
        std::fprintf(stderr, "quantizer  %s, %s STE, fake-quant kernel %s\n", describe_quant(r.qc, r.net).c_str(), ste_rule_name(o.ste),
                     kernel == FqKernel::kFused ? "fused (torch fake_quantize)" : "exact (core's division)");
    std::fprintf(stderr, "data       %lld train / %lld validation images (seed %llu), on the %s\n", (long long)r.n_train, (long long)r.n_val,
                 (unsigned long long)o.seed, r.cuda ? "GPU" : "CPU");
    std::fprintf(stderr, "recipe     %s\n", r.recipe.c_str());
    if (r.start_iter > 0)
        std::fprintf(stderr, "resume     epoch %d of %d, after iteration %lld of %lld\n", r.start_epoch + 1, o.epochs, (long long)r.start_iter,
                     (long long)r.steps_per_epoch);
    else if (r.start_epoch > 0)
        std::fprintf(stderr, "resume     after epoch %d of %d\n", r.start_epoch, o.epochs);
}

}  // namespace

Status setup(RunState& r) {
    const TrainOptions& o = r.o;
    if (o.batch < 1) return Status::error("train: --batch must be at least 1");
    if (Status s = check_augment(augment_spec(o), kCifar10Side); !s) return Status::error("train: " + s.message);
    if (o.epochs < 1) return Status::error("train: --epochs must be at least 1");
    if (!(o.lr > 0) || !std::isfinite(o.lr)) return Status::error("train: --lr must be a positive number");
    if (!(o.val_fraction >= 0 && o.val_fraction < 1)) return Status::error("train: the validation fraction must be in [0, 1)");
    if (Status s = setup_machine(r); !s) return s;
    const FqKernel kernel = o.fq_kernel == FqKernelChoice::kFused || (o.fq_kernel == FqKernelChoice::kAuto && r.cuda) ? FqKernel::kFused : FqKernel::kExact;
    torch::manual_seed(o.seed);

    StateDict start;
    int64_t ckpt_steps_per_epoch = -1;
    if (Status s = setup_start(r, &start, &ckpt_steps_per_epoch); !s) return s;
    if (Status s = setup_model(r, start, kernel); !s) return s;
    if (Status s = setup_data(r, ckpt_steps_per_epoch); !s) return s;
    if (Status s = setup_outputs(r); !s) return s;
    if (o.progress) print_header(r, kernel);

    // The loop's state over all epochs.
    r.tty = o.progress && isatty(STDERR_FILENO) != 0;
    r.rep.epochs_done = r.start_epoch;
    r.t_run = now_s();
    r.global_step = int64_t(r.start_epoch) * r.steps_per_epoch + r.start_iter;
    const auto acc_opt = torch::TensorOptions().device(r.device);
    r.run_loss = torch::zeros({}, acc_opt.dtype(torch::kFloat));
    r.run_correct = torch::zeros({}, acc_opt.dtype(torch::kLong));
    if (r.use_static) r.momentum_buffers = sgd_momentum_buffers(dynamic_cast<torch::optim::SGD&>(*r.opt), r.model->parameters());
    r.model->train();
    return Status::success();
}

}  // namespace quantlab::trainer
