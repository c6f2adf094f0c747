// core_train.cpp: `quantlab train --engine core`, the training loop on core alone (no LibTorch), so training works
// in every native build. The loop itself is core's TrainLoop (core/train/run.hpp: the seeded split and epoch
// order, the augmentation draws, the schedule, train_step, validation, the NaN stop), the one the page runs too;
// this file adds what needs files: the start point (--init weights, a --resume checkpoint with its training state,
// or --from-scratch's seeded initialisation), the checkpoints, the metrics file, progress on stderr and the
// export (finalize_weights, as the LibTorch trainer). The steps run core's fast training kernels
// (TrainKernels::kFast: SIMD GEMMs over --threads threads), which give the same bits for any thread count: the
// same seed gives the same weights, and a run stopped and resumed gives the uninterrupted run's bits.
// Checkpoints are the LibTorch trainer's (the same metadata and the same training state file,
// core/train/resume_state.hpp), so either engine resumes the other's.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/model_file.hpp"
#include "core/parallel.hpp"
#include "core/safetensors_io.hpp"
#include "core/train/init_weights.hpp"
#include "core/train/resume_state.hpp"
#include "core/train/run.hpp"
#include "native/trainer/run_common.hpp"

namespace quantlab::trainer {

namespace fs = std::filesystem;

namespace {
constexpr int64_t kPrintEvery = 10;  // progress lines, as the LibTorch trainer
}  // namespace

TrainReport train_core(const TrainOptions& o) {
    TrainReport rep;
    auto fail = [&rep](const std::string& m) {
        rep.status = Status::error(m);
        return rep;
    };
    // ---- checks
    if (o.batch < 1) return fail("train: --batch must be at least 1");
    const AugSpec aug = augment_spec(o);
    if (Status s = check_augment(aug, kCifar10Side); !s) return fail("train: " + s.message);
    if (o.epochs < 1) return fail("train: --epochs must be at least 1");
    if (!(o.lr > 0) || !std::isfinite(o.lr)) return fail("train: --lr must be a positive number");
    if (!(o.val_fraction >= 0 && o.val_fraction < 1)) return fail("train: the validation fraction must be in [0, 1)");
    if (o.device == Device::kCuda) return fail("train: --device cuda needs --engine torch (--engine core runs on the CPU)");
    const int threads = resolve_threads(o.threads);
    quantlab::set_num_threads(threads);  // the training steps, validation and evaluation
#if defined(__GLIBC__)
    // A step allocates and frees about 150 MB of activation buffers (the notebook's net, batch 128). By default
    // glibc maps buffers of this size afresh and unmaps them when freed, so every step page-faulted them in again
    // (7 % of a step). Buffers under 32 MB (the largest threshold glibc takes) now come from the heap, which is
    // kept, and are reused by the next step.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    rep.device = cpu_text(threads) + ", core engine";
    rep.step = "core train_step, fast kernels";

    // ---- model and start point: a checkpoint to resume (with its position), weights to fine-tune, or a seeded
    // initialisation of --model's network (the notebook's when none)
    const DatasetInfo& ds = dataset_info(o.dataset);
    NetworkDesc net;
    StateDict start;
    std::string start_name;
    int64_t resume_step = -1, ckpt_epoch = -1, ckpt_iter = 0, ckpt_steps_per_epoch = -1;
    if (!o.resume.empty()) {
        Result<WeightsFile> f = read_weights_file(o.resume);
        if (!f.ok()) return fail("train: --resume: " + f.message());
        const Metadata& meta = f.value.weights.metadata;
        auto it = meta.find("checkpoint_epoch");
        if (it == meta.end())
            return fail("train: --resume " + o.resume +
                        ": not a trainer checkpoint (no checkpoint_epoch in its metadata); to fine-tune from plain "
                        "weights use --init");
        ckpt_epoch = std::atoll(it->second.c_str());
        if (auto i = meta.find("checkpoint_iteration"); i != meta.end()) ckpt_iter = std::atoll(i->second.c_str());
        if (auto i = meta.find("checkpoint_steps_per_epoch"); i != meta.end())
            ckpt_steps_per_epoch = std::atoll(i->second.c_str());
        net = f.value.net;
        start = std::move(f.value.weights);
        start_name = o.resume;
    } else if (!o.from_scratch) {
        Result<WeightsFile> f = read_weights_file(o.init_weights);
        if (!f.ok()) return fail("train: --init: " + f.message());
        net = f.value.net;
        start = std::move(f.value.weights);
        start_name = o.init_weights;
    } else {
        net = with_classes(notebook_net(), ds.classes);  // the last layer sized from the data
        if (!o.model_desc.empty()) {
            Result<NetworkDesc> n = parse_network(o.model_desc);
            if (!n.ok()) return fail("train: --model: " + n.message());
            net = n.value;
            if (net.name.empty()) net.name = "custom_net";
        }
        start = init_weights(net, o.seed);
    }
    if (net.num_classes() != ds.classes) {
        const std::string what = !o.resume.empty() ? "--resume " + o.resume
                                 : !o.from_scratch ? "--init " + o.init_weights
                                                   : "--model";
        return fail("train: " + what + ": the network has " + std::to_string(net.num_classes()) + " outputs but " +
                    ds.title + " has " + std::to_string(ds.classes) + " classes");
    }
    Result<StateDict> clean = model_tensors(start, net, start_name.empty() ? "--from-scratch" : start_name);
    if (!clean.ok()) return fail("train: " + clean.message());
    RunSettings rs;
    rs.epochs = o.epochs;
    rs.batch = o.batch;
    rs.optimizer = o.optimizer;
    rs.lr = o.lr;
    rs.momentum = o.momentum;
    rs.weight_decay = o.weight_decay;
    rs.schedule = o.schedule;
    rs.augment = aug;
    rs.val_fraction = o.val_fraction;
    rs.seed = o.seed;
    rs.val_every = o.val_every;
    rs.max_steps = o.max_steps;
    rs.train.config = o.quant;
    rs.train.ste = o.ste;
    rs.train.kernels = TrainKernels::kFast;
    rs.train.quantizer = o.quantizer;

    // ---- data: the (limited) training set; the loop splits it
    Result<Cifar10> train_set = load_train_set(o);
    if (!train_set.ok()) return fail(train_set.message());
    Result<std::unique_ptr<TrainLoop>> made =
        TrainLoop::create(net, clean.value, std::make_shared<const Cifar10>(std::move(train_set.value)), std::move(rs));
    if (!made.ok()) {  // the loop's message, in the command line's words
        std::string m = made.message();
        if (m.find("train: batch ") == 0) m = "train: --batch " + m.substr(13);
        return fail(m);
    }
    TrainLoop& loop = *made.value;
    if (ckpt_epoch >=
        0) {  // the position, the optimizer state and the learned steps; the data order replays from the seed
        if (ckpt_iter > 0 && (ckpt_iter >= loop.steps_per_epoch() || ckpt_steps_per_epoch != loop.steps_per_epoch()))
            return fail("train: --resume " + o.resume + ": the checkpoint stopped after iteration " +
                        std::to_string(ckpt_iter) + " of an epoch of " + std::to_string(ckpt_steps_per_epoch) +
                        " steps, but this run has " + std::to_string(loop.steps_per_epoch()) +
                        " steps per epoch; resume with the checkpoint's --batch, --limit-train and --val-fraction");
        resume_step = ckpt_epoch * loop.steps_per_epoch() + ckpt_iter;
        const std::string sp = resume_state_path(o.resume);
        StateDict state;
        if (fs::exists(sp)) {
            Result<StateDict> r = read_safetensors(sp);
            if (!r.ok()) return fail("train: --resume: " + r.message());
            state = std::move(r.value);
        } else {
            if (o.quantizer != QuantizerKind::kFixed)
                return fail("train: --resume: " + sp + " not found: it holds the learned steps that --quantizer " +
                            quantizer_kind_name(o.quantizer) + " continues from");
            if (o.progress)
                std::fprintf(stderr, "note: %s not found; resuming with a fresh optimizer state\n", sp.c_str());
            stamp_resume_state(&state, o.optimizer, o.quantizer);
        }
        if (Status s = loop.resume(resume_step, state); !s)
            return fail(s.message.find("train: ") == 0 ? s.message : "train: " + s.message);
    }
    const QuantConfig& qc = loop.config();
    // The config that inference runs for this model: the learned steps as fixed scales (lsq / pact), else qc itself.
    auto eval_config = [&]() { return loop.eval_config(); };
    TrainOptions eff = o;
    eff.quant = qc;
    const std::string recipe = o.recipe.empty() ? recipe_text(eff, net) + " --engine core" : o.recipe;
    const int64_t n_train = loop.train_images(), n_val = loop.val_images();
    const int64_t steps_per_epoch = loop.steps_per_epoch(), total_steps = steps_per_epoch * o.epochs;

    // ---- outputs
    Metrics metrics;
    if (Status s = metrics.open(o.metrics_path, !o.resume.empty()); !s) return fail(s.message);
    std::string ckpt_path;
    if (!o.checkpoint_dir.empty()) {
        std::error_code ec;
        fs::create_directories(o.checkpoint_dir, ec);
        ckpt_path = (fs::path(o.checkpoint_dir) / "last.safetensors").string();
    }
    // A checkpoint: the model (core safetensors with the trainer's checkpoint metadata, which `quantlab eval` reads)
    // and beside it the training state (resume_state.hpp) that --resume on either engine continues from, written
    // first so a model file never stands beside an older state. `done`: optimizer steps taken before these weights
    // (the position the checkpoint records). After a divergence the kept weights are older than the optimizer
    // state: no state file then, and a resume starts a fresh optimizer state.
    auto save = [&](const StateDict& sd, int64_t done, double val) -> Status {
        if (ckpt_path.empty()) return Status::success();
        const std::string sp = resume_state_path(ckpt_path);
        if (!loop.diverged()) {
            if (Status s = write_resume_state(sp, loop.resume_state()); !s) return s;
        } else {
            std::error_code ec;
            fs::remove(sp, ec);
        }
        StateDict c = sd;
        const int epoch = int(done / steps_per_epoch);
        Result<QuantConfig> lc = eval_config();  // lsq / pact: the learned steps in the stored config
        c.metadata = checkpoint_metadata({recipe, epoch, done % steps_per_epoch, steps_per_epoch, done, o.epochs, o.seed, val}, net,
                                         lc.ok() ? lc.value : qc);
        if (Status s = write_safetensors(ckpt_path, c); !s) return s;
        rep.checkpoint = ckpt_path;
        return Status::success();
    };
    if (o.progress) {
        std::fprintf(stderr, "device     %s; step: %s\n", rep.device.c_str(), rep.step.c_str());
        std::fprintf(
            stderr, "model      %s, %s\n", net.name.c_str(),
            start_name.empty() ? ("from scratch (seed " + std::to_string(o.seed) + ")").c_str() : start_name.c_str());
        std::fprintf(stderr, "quantizer  %s%s, fake-quant core's\n", describe_quant(qc, net, o.quantizer).c_str(),
                     o.quantizer == QuantizerKind::kFixed ? (", " + std::string(ste_rule_name(o.ste)) + " STE").c_str() : "");
        std::fprintf(stderr, "data       %lld train / %lld validation images (seed %llu), on the CPU\n", (long long)n_train, (long long)n_val,
                     (unsigned long long)o.seed);
        std::fprintf(stderr, "recipe     %s\n", recipe.c_str());
        if (resume_step > 0)
            std::fprintf(stderr, "resume     epoch %d of %d, after iteration %lld of %lld (step %lld)\n",
                         int(resume_step / steps_per_epoch) + 1, o.epochs, (long long)(resume_step % steps_per_epoch),
                         (long long)steps_per_epoch, (long long)resume_step);
    }

    rep.epochs_done = loop.epochs_done();
    const double t_run = now_s();
    while (!loop.done()) {
        if ((o.stop_flag && o.stop_flag->load()) ||
            (o.stop_after >= 0 && rep.steps >= o.stop_after)) {  // Ctrl-C: a checkpoint at this very step, then out
            rep.stopped = true;
            rep.final_weights = loop.weights();
            rep.train_seconds = loop.train_seconds();
            if (Status s = save(loop.weights(), loop.steps_done(), -1); !s) return fail(s.message);
            if (o.progress)
                std::fprintf(stderr, "stopped    epoch %d/%d after iteration %lld of %lld (step %lld)\n", int(loop.steps_done() / steps_per_epoch) + 1,
                             o.epochs, (long long)(loop.steps_done() % steps_per_epoch), (long long)steps_per_epoch, (long long)loop.steps_done());
            return rep;
        }
        Result<RunStep> step = loop.step();
        if (!step.ok()) {
            rep.train_seconds = loop.train_seconds();
            if (!loop.diverged()) return fail(step.message());
            // A NaN or infinite loss: the loop kept the weights of the last step whose loss was finite.
            rep.diverged = true;
            rep.final_weights = loop.weights();
            const int64_t good_done = loop.good_steps();
            Status saved = save(loop.weights(), good_done, -1);
            std::string keep = " The last good weights (after " + std::to_string(good_done) + (good_done == 1 ? " step" : " steps") +
                               ": the last weights whose loss was finite) are ";
            if (!saved) keep += "not written: " + saved.message + ".";
            else if (ckpt_path.empty()) keep += "not written (--checkpoint-dir is empty).";
            else keep += "kept in " + ckpt_path + ".";
            rep.status = Status::error(step.message() + keep + " Hint: lower the learning rate (e.g. --lr " + printf_number("%g", o.lr / 10) +
                                       ") or use a schedule with warm-up (--schedule onecycle).");
            return rep;
        }
        const RunStep& st = step.value;
        ++rep.steps;
        rep.losses.push_back(st.loss);
        if (st.val >= 0) rep.last_val_acc = st.val;
        const double ips = loop.train_seconds() > 0 ? double(loop.images_trained()) / loop.train_seconds() : 0;
        if (!st.epoch_end) {
            if (st.val >= 0) metrics.row(st.epoch + 1, st.iter, st.steps_done, st.lr, st.running_loss, st.running_acc, st.val, ips, now_s() - t_run);
            if (o.progress && (st.iter % kPrintEvery == 0 || st.val >= 0)) {
                const double left = ips > 0 ? double(total_steps - st.steps_done) * double(o.batch) / ips : -1;
                std::fprintf(stderr, "epoch %d/%d  iter %lld/%lld  loss %.4f  acc %5.2f%%%s  %6.0f img/s  %s left\n", st.epoch + 1, o.epochs,
                             (long long)st.iter, (long long)steps_per_epoch, st.running_loss, st.running_acc,
                             rep.last_val_acc >= 0 ? ("  val " + printf_number("%.2f%%", rep.last_val_acc)).c_str() : "", ips, fmt_time(left).c_str());
            }
            continue;
        }
        // ---- the end of the epoch: validation (done by the loop), metrics, checkpoint
        rep.epochs_done = st.epoch + 1;
        if (o.progress) {
            const double left = ips > 0 ? double(total_steps - st.steps_done) * double(o.batch) / ips : -1;
            std::fprintf(stderr, "epoch %d/%d  iter %lld/%lld  loss %.4f  acc %5.2f%%%s  %6.0f img/s  %s left\n", st.epoch + 1, o.epochs,
                         (long long)st.iter, (long long)steps_per_epoch, st.running_loss, st.running_acc,
                         rep.last_val_acc >= 0 ? ("  val " + printf_number("%.2f%%", rep.last_val_acc)).c_str() : "", ips, fmt_time(left).c_str());
            std::fprintf(stderr, "epoch %d/%d  loss %.4f  train acc %.2f%%  val %s  %.0f img/s  %s elapsed\n", st.epoch + 1, o.epochs, st.running_loss,
                         st.running_acc, st.val >= 0 ? printf_number("%.2f%%", st.val).c_str() : "-", ips, fmt_time(now_s() - t_run).c_str());
        }
        metrics.row(st.epoch + 1, steps_per_epoch, st.steps_done, st.lr, st.running_loss, st.running_acc, st.val, ips, now_s() - t_run);
        if (Status s = save(loop.weights(), st.steps_done, st.val); !s) return fail(s.message);
    }
    const double train_seconds = loop.train_seconds();
    const StateDict& weights = loop.weights();
    rep.train_seconds = train_seconds;
    rep.train_images_per_s = train_seconds > 0 ? double(loop.images_trained()) / train_seconds : 0;

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
    if (rep.last_val_acc >= 0) eo.metadata["val_accuracy"] = printf_number("%.2f", rep.last_val_acc);
    Result<QuantConfig> ec = eval_config();
    if (!ec.ok()) return fail("train: " + ec.message());
    QuantConfig export_config = ec.value;
    export_config.act_mode = ActMode::kDynamic;  // finalize_weights calibrates the layers without a learned step
    Result<ExportResult> ex = finalize_weights(weights, net, export_config, eo);
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
