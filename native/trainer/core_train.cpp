// core_train.cpp: `quantlab train --engine core`, the training loop on core alone (no LibTorch), so training works
// in every native build. The same options drive it as the LibTorch trainer and it makes the same choices from
// the same code: the seeded split and epoch order (core/data_split), the augmentation draws (core/train/augment),
// the learning-rate schedule (core/train_options), core's train_step with fake-quant and the STE, the same
// metrics file and the same export (finalize_weights). Validation and the final evaluation run core's inference.
// Single-threaded training steps (train_step is), deterministic: the same seed gives the same weights.
// Not (yet) here: --resume (no optimizer state file without LibTorch) and --from-scratch (no seeded initialiser in
// core); both are rejected with a message.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/data_split.hpp"
#include "core/evaluate.hpp"
#include "core/model_file.hpp"
#include "core/parallel.hpp"
#include "core/safetensors_io.hpp"
#include "core/train/augment.hpp"
#include "core/train/train_step.hpp"
#include "native/trainer/run_common.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kPrintEvery = 10;  // progress lines, as the LibTorch trainer

// Accuracy (%) of `weights` on `data` with core's inference in eval mode (BatchNorm on running statistics,
// activation ranges per batch): what the LibTorch trainer's validation measures.
Result<double> core_accuracy(const NetworkDesc& net, const StateDict& weights, const QuantConfig& qc, const Cifar10& data, int64_t batch) {
    Result<Model> m = Model::create(net, weights, "train");
    if (!m.ok()) return m.status;
    if (Status s = m.value.configure(qc); !s) return s;
    Result<EvalResult> r = evaluate(m.value, data, batch, Backend::kFast);
    if (!r.ok()) return r.status;
    return r.value.accuracy();
}

}  // namespace

TrainReport train_core(const TrainOptions& o) {
    TrainReport rep;
    auto fail = [&rep](const std::string& m) {
        rep.status = Status::error(m);
        return rep;
    };
    // ---- checks: what this engine does not do yet is refused up front
    if (!o.resume.empty())
        return fail("train: --resume is not supported by --engine core yet (its checkpoints hold no optimizer state); "
                    "resume with --engine torch, or start again with --init CHECKPOINT");
    if (o.from_scratch) return fail("train: --from-scratch is not supported by --engine core yet (no seeded initialiser); use --engine torch");
    if (o.batch < 1) return fail("train: --batch must be at least 1");
    const AugSpec aug = augment_spec(o);
    if (Status s = check_augment(aug, kCifar10Side); !s) return fail("train: " + s.message);
    if (o.epochs < 1) return fail("train: --epochs must be at least 1");
    if (!(o.lr > 0) || !std::isfinite(o.lr)) return fail("train: --lr must be a positive number");
    if (!(o.val_fraction >= 0 && o.val_fraction < 1)) return fail("train: the validation fraction must be in [0, 1)");
    if (o.device == Device::kCuda) return fail("train: --device cuda needs --engine torch (--engine core runs on the CPU)");
    const int threads = resolve_threads(o.threads);
    quantlab::set_num_threads(threads);  // validation and evaluation; the training step itself is single-threaded
    rep.device = cpu_text(threads) + ", core engine";
    rep.step = "core train_step";

    // ---- model, start point, quantizer
    Result<WeightsFile> f = read_weights_file(o.init_weights);
    if (!f.ok()) return fail("train: --init: " + f.message());
    const NetworkDesc net = f.value.net;
    const DatasetInfo& ds = dataset_info(o.dataset);
    if (net.num_classes() != ds.classes)
        return fail("train: --init " + o.init_weights + ": the network has " + std::to_string(net.num_classes()) + " outputs but " + ds.title +
                    " has " + std::to_string(ds.classes) + " classes");
    Result<StateDict> clean = model_tensors(f.value.weights, net, o.init_weights);
    if (!clean.ok()) return fail("train: " + clean.message());
    StateDict weights = std::move(clean.value);
    TrainSettings settings;
    settings.config = o.quant;
    if (settings.config.layers.empty()) settings.config = make_config(net, kFloatBits, kFloatBits);
    settings.config.act_mode = ActMode::kDynamic;  // ranges per batch while training (the notebook's); export calibrates
    settings.config.act_ranges.clear();
    settings.ste = o.ste;
    if (Status s = validate(settings.config, net); !s) return fail("train: " + s.message);
    const QuantConfig& qc = settings.config;
    TrainOptions eff = o;
    eff.quant = qc;
    const std::string recipe = o.recipe.empty() ? recipe_text(eff, net) + " --engine core" : o.recipe;

    // ---- data: the seeded split of the (limited) training set
    Result<Cifar10> train_set = read_dataset_train(o.data_dir, o.dataset);
    if (!train_set.ok())
        return fail("train: " + train_set.message() + " (hint: quantlab data fetch" +
                    (o.dataset == Dataset::kCifar10 ? std::string() : " --dataset " + std::string(dataset_name(o.dataset))) + ", or --data DIR)");
    Cifar10& tr = train_set.value;
    if (o.limit_train > 0 && o.limit_train < tr.count) {
        tr.count = o.limit_train;
        tr.labels.resize(size_t(tr.count));
        tr.pixels.resize(size_t(tr.count * kCifar10ImageBytes));
    }
    const TrainValSplit split = split_train_val(tr.count, o.val_fraction, o.seed);
    const int64_t n_train = int64_t(split.train.size()), n_val = int64_t(split.val.size());
    if (n_train < 1) return fail("train: no training images left after the validation split");
    if (o.batch > n_train)
        return fail("train: --batch " + std::to_string(o.batch) + " is larger than the " + std::to_string(n_train) +
                    " training images (after the validation split); use --batch " + std::to_string(n_train) + " or less");
    const Cifar10 val_set = n_val > 0 ? select_images(tr, split.val) : Cifar10{};
    const int64_t steps_per_epoch = (n_train + o.batch - 1) / o.batch, total_steps = steps_per_epoch * o.epochs;

    // ---- outputs
    Metrics metrics;
    if (Status s = metrics.open(o.metrics_path, false); !s) return fail(s.message);
    std::string ckpt_path;
    if (!o.checkpoint_dir.empty()) {
        std::error_code ec;
        fs::create_directories(o.checkpoint_dir, ec);
        ckpt_path = (fs::path(o.checkpoint_dir) / "last.safetensors").string();
    }
    int64_t global_step = 0;
    // A model-only checkpoint (core safetensors with the trainer's checkpoint metadata): `quantlab eval` reads it,
    // and --engine torch --resume continues from it with a fresh optimizer state.
    // `done`: optimizer steps taken before these weights (the position the checkpoint records).
    auto save = [&](const StateDict& sd, int64_t done, double val) -> Status {
        if (ckpt_path.empty()) return Status::success();
        StateDict c = sd;
        const int epoch = int(done / steps_per_epoch);
        c.metadata = checkpoint_metadata({recipe, epoch, done % steps_per_epoch, steps_per_epoch, done, o.epochs, o.seed, val}, net, qc);
        if (Status s = write_safetensors(ckpt_path, c); !s) return s;
        rep.checkpoint = ckpt_path;
        return Status::success();
    };
    if (o.progress) {
        std::fprintf(stderr, "device     %s; step: %s\n", rep.device.c_str(), rep.step.c_str());
        std::fprintf(stderr, "model      %s, %s\n", net.name.c_str(), o.init_weights.c_str());
        std::fprintf(stderr, "quantizer  %s, %s STE, fake-quant core's\n", describe_quant(qc, net).c_str(), ste_rule_name(o.ste));
        std::fprintf(stderr, "data       %lld train / %lld validation images (seed %llu), on the CPU\n", (long long)n_train, (long long)n_val,
                     (unsigned long long)o.seed);
        std::fprintf(stderr, "recipe     %s\n", recipe.c_str());
    }

    OptimizerSettings os;
    os.kind = o.optimizer;
    os.lr = o.lr;
    os.momentum = o.momentum;
    os.weight_decay = o.weight_decay;
    ParamOptimizer opt(os);
    const double t_run = now_s();
    double train_seconds = 0;
    int64_t images_trained = 0;
    const int64_t img = 3 * kCifar10Side * kCifar10Side;
    std::vector<float> x(size_t(o.batch * img)), xa(size_t(o.batch * img));
    std::vector<int32_t> labels(size_t(o.batch));
    Cifar10 one_batch;
    StateDict last_good = weights;  // the weights before the last step whose loss was finite

    auto validate_now = [&]() -> Result<double> {
        if (n_val == 0) return -1.0;
        Result<double> a = core_accuracy(net, weights, qc, val_set, o.batch);
        if (a.ok()) rep.last_val_acc = a.value;
        return a;
    };

    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        // The LibTorch trainer's epoch: the same order and augmentation generator (train_epoch.cpp plan_epoch).
        const std::vector<int64_t> order = shuffled(split.train, mix(o.seed, 0xe90c, uint64_t(epoch)));
        std::mt19937_64 aug_rng(mix(o.seed, 0xa09, uint64_t(epoch)));
        double run_loss = 0;
        int64_t run_correct = 0, run_images = 0;
        double last_loss = 0, last_acc = 0;
        bool stop = false;
        for (int64_t it = 0; it < steps_per_epoch; ++it) {
            if (o.max_steps >= 0 && rep.steps >= o.max_steps) {
                stop = true;
                break;
            }
            if (o.stop_flag && o.stop_flag->load()) {  // Ctrl-C: a checkpoint at this very step, then out
                rep.stopped = true;
                rep.final_weights = weights;
                rep.train_seconds = train_seconds;
                if (Status s = save(weights, global_step, -1); !s) return fail(s.message);
                if (o.progress)
                    std::fprintf(stderr, "stopped    epoch %d/%d after iteration %lld of %lld (step %lld)\n", epoch + 1, o.epochs, (long long)it,
                                 (long long)steps_per_epoch, (long long)global_step);
                return rep;
            }
            const int64_t b0 = it * o.batch, nb = std::min(o.batch, n_train - b0);
            const std::vector<int64_t> idx(order.begin() + b0, order.begin() + b0 + nb);
            one_batch = select_images(tr, idx);
            normalize_images(one_batch, 0, nb, x.data());
            for (int64_t i = 0; i < nb; ++i) labels[size_t(i)] = int32_t(one_batch.labels[size_t(i)]);
            const float* xin = x.data();
            if (aug.any()) {
                const AugDraws d = draw_augment(nb, aug, aug_rng, kCifar10Side);
                augment_images(x.data(), nb, kCifar10Side, kCifar10Side, d, aug, xa.data());
                xin = xa.data();
            }
            const double lr = lr_at(o.schedule, o.lr, global_step, total_steps);
            opt.set_lr(lr);
            StateDict before = weights;
            const double t0 = now_s();
            Result<StepResult> step = train_step(net, &weights, settings, xin, labels.data(), nb, &opt);
            train_seconds += now_s() - t0;
            if (!step.ok() || !std::isfinite(step.value.loss)) {
                // A NaN or infinite loss (or a quantizer asked to code a non-finite activation): keep the weights
                // of the last step that had a finite loss.
                weights = last_good;
                rep.diverged = true;
                rep.final_weights = weights;
                // last_good is what step global_step (1-based; 0: the start) began from.
                const int64_t good_done = std::max<int64_t>(global_step - 1, 0);
                Status saved = save(weights, good_done, -1);
                const std::string what = step.ok() ? (std::isnan(step.value.loss) ? "NaN" : "infinite") : "non-finite (" + step.message() + ")";
                std::string keep = "The last good weights (after " + std::to_string(good_done) + (good_done == 1 ? " step" : " steps") +
                                   ": the last weights whose loss was finite) are ";
                if (!saved) keep += "not written: " + saved.message + ".";
                else if (ckpt_path.empty()) keep += "not written (--checkpoint-dir is empty).";
                else keep += "kept in " + ckpt_path + ".";
                rep.status = Status::error("train: the loss became " + what + " at epoch " + std::to_string(epoch + 1) + ", iteration " +
                                           std::to_string(it + 1) + " (step " + std::to_string(global_step + 1) + ", lr " + fmt("%g", lr) +
                                           "); training stopped. " + keep + " Hint: lower the learning rate (e.g. --lr " + fmt("%g", o.lr / 10) +
                                           ") or use a schedule with warm-up (--schedule onecycle).");
                rep.train_seconds = train_seconds;
                return rep;
            }
            last_good = std::move(before);
            ++rep.steps;
            ++global_step;
            images_trained += nb;
            rep.losses.push_back(step.value.loss);
            run_loss += step.value.loss * double(nb);
            run_correct += step.value.correct;
            run_images += nb;
            last_loss = run_loss / double(run_images);
            last_acc = 100.0 * double(run_correct) / double(run_images);
            const bool last = it + 1 == steps_per_epoch;
            const double ips = train_seconds > 0 ? double(images_trained) / train_seconds : 0;
            const bool mid_val = n_val > 0 && o.val_every > 0 && (it + 1) % o.val_every == 0 && !last;
            double val = -1;
            if (mid_val) {
                Result<double> a = validate_now();
                if (!a.ok()) return fail("train: validation: " + a.message());
                val = a.value;
                metrics.row(epoch + 1, it + 1, global_step, lr, last_loss, last_acc, val, ips, now_s() - t_run);
            }
            if (o.progress && ((it + 1) % kPrintEvery == 0 || mid_val || last)) {
                const double left = ips > 0 ? double(total_steps - global_step) * double(o.batch) / ips : -1;
                std::fprintf(stderr, "epoch %d/%d  iter %lld/%lld  loss %.4f  acc %5.2f%%%s  %6.0f img/s  %s left\n", epoch + 1, o.epochs,
                             (long long)(it + 1), (long long)steps_per_epoch, last_loss, last_acc,
                             rep.last_val_acc >= 0 ? ("  val " + fmt("%.2f%%", rep.last_val_acc)).c_str() : "", ips, fmt_time(left).c_str());
            }
            if (mid_val) run_loss = 0, run_correct = 0, run_images = 0;
        }
        if (stop) break;  // --max-steps reached mid-epoch: no end-of-epoch work
        // ---- the end of the epoch: validation, metrics, checkpoint
        Result<double> val = validate_now();
        if (!val.ok()) return fail("train: validation: " + val.message());
        rep.epochs_done = epoch + 1;
        const double ips = train_seconds > 0 ? double(images_trained) / train_seconds : 0;
        if (o.progress)
            std::fprintf(stderr, "epoch %d/%d  loss %.4f  train acc %.2f%%  val %s  %.0f img/s  %s elapsed\n", epoch + 1, o.epochs, last_loss, last_acc,
                         val.value >= 0 ? fmt("%.2f%%", val.value).c_str() : "-", ips, fmt_time(now_s() - t_run).c_str());
        metrics.row(epoch + 1, steps_per_epoch, global_step, lr_at(o.schedule, o.lr, global_step - 1, total_steps), last_loss, last_acc, val.value,
                    ips, now_s() - t_run);
        if (Status s = save(weights, global_step, val.value); !s) return fail(s.message);
    }
    rep.train_seconds = train_seconds;
    rep.train_images_per_s = train_seconds > 0 ? double(images_trained) / train_seconds : 0;

    // ---- the end: the export step (calibrated static ranges, core's test accuracy), as the LibTorch trainer
    if (!o.final_eval) {
        rep.final_weights = weights;
        return rep;
    }
    ExportOptions eo;
    eo.data_dir = o.data_dir;
    eo.dataset = o.dataset;
    eo.calib_images = o.calib_images;
    eo.limit_test = o.limit_test;
    eo.metadata = {{"trained_by", recipe}, {"source", "quantlab train (core engine, " + rep.device + ")"}};
    if (rep.last_val_acc >= 0) eo.metadata["val_accuracy"] = fmt("%.2f", rep.last_val_acc);
    Result<ExportResult> ex = finalize_weights(weights, net, settings.config, eo);
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
    return rep;
}

}  // namespace quantlab::trainer
