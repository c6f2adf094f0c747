// train_epoch.cpp: one epoch of a run (train_run.hpp): its batch order and augmentation draws (functions of
// (seed, epoch), so a run resumed mid-epoch replays to the very next batch), the steps (the eager loop, or the
// static step that a CUDA graph captures), the host-sync points (NaN stop, progress, live points for the
// desktop app), mid-epoch validation, the stop request, and the end of the epoch (validation, metrics,
// checkpoint).
#include <cmath>
#include <cstdio>

#include "native/trainer/train_run.hpp"

namespace quantlab::trainer {

namespace {

constexpr int64_t kPrintEvery = 10;  // progress line
constexpr int64_t kLogEvery = 100;   // progress lines when stderr is not a terminal (logs)

void set_lr(torch::optim::Optimizer& opt, Optimizer kind, double lr) {
    for (auto& g : opt.param_groups()) {
        switch (kind) {
            case Optimizer::kSgd: static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr); break;
            case Optimizer::kAdam: static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr); break;
            case Optimizer::kAdamW: static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr); break;
        }
    }
}

// The batches of one epoch. The eager loop gathers by the order on the device and draws each batch's
// augmentation as it goes. The static step reads its batches from a plan of the whole epoch made here, on the
// host, with the same draws in the same order, and sent to the device once: per step (kPlanRows, batch) rows of
// image index and the draws (graph_step.hpp). A short last batch takes the first nb columns of its row.
struct EpochBatches {
    std::mt19937_64 aug_rng;
    torch::Tensor order_t, plan;
};

EpochBatches plan_epoch(const RunState& r, int epoch, int64_t first_it) {
    const TrainOptions& o = r.o;
    const AugSpec aug = augment_spec(o);
    const std::vector<int64_t> order = shuffled(r.train_idx, mix(o.seed, 0xe90c, uint64_t(epoch)));
    EpochBatches e{std::mt19937_64(mix(o.seed, 0xa09, uint64_t(epoch))), {}, {}};
    const auto idx_opt = torch::TensorOptions().dtype(torch::kLong);
    if (r.use_static) {
        std::vector<int64_t> p(size_t(r.steps_per_epoch * kPlanRows * o.batch), 0);
        for (int64_t it = 0; it < r.steps_per_epoch; ++it) {
            const int64_t b0 = it * o.batch, nb = std::min(o.batch, r.n_train - b0);
            const AugDraws d = draw_augment(nb, aug, e.aug_rng, kCifar10Side);
            int64_t* row = p.data() + it * kPlanRows * o.batch;
            for (int64_t i = 0; i < nb; ++i) {
                const size_t k = size_t(i);
                const int64_t cells[kPlanRows] = {order[size_t(b0 + i)], d.dy[k], d.dx[k], d.flip[k], d.cy[k], d.cx[k],
                                                  float_bits(d.brightness[k]), float_bits(d.contrast[k]), float_bits(d.saturation[k])};
                for (int64_t q = 0; q < kPlanRows; ++q) row[q * o.batch + i] = cells[q];
            }
        }
        e.plan = torch::from_blob(p.data(), {r.steps_per_epoch, kPlanRows, o.batch}, idx_opt).clone().to(r.device);
    } else {
        e.order_t = torch::from_blob(const_cast<int64_t*>(order.data()), {r.n_train}, idx_opt).clone().to(r.device);
        // Skipped full batches (a mid-epoch resume) still consume their augmentation draws.
        if (first_it > 0) draw_augment(first_it * o.batch, aug, e.aug_rng, kCifar10Side);
    }
    return e;
}

std::unique_ptr<StaticStep> make_step(RunState& r, int64_t batch) {
    return std::make_unique<StaticStep>(r.model, StaticStepData{r.data.x_u8, r.data.labels, r.run_loss, r.run_correct}, batch,
                                        augment_spec(r.o), r.o.momentum, r.o.weight_decay, r.momentum_buffers);
}

// One optimizer step on batch `it` (nb images) at learning rate lr; returns its loss (0-d, on the device) and
// adds into the running sums. *t_seg moves past a CUDA graph capture: set-up, not training.
torch::Tensor train_step(RunState& r, EpochBatches& e, int64_t it, int64_t nb, double lr, double* t_seg) {
    const TrainOptions& o = r.o;
    if (r.use_static) {
        const torch::Tensor block = e.plan[it];
        if (nb == o.batch) {
            if (!r.full_step) {
                r.full_step = make_step(r, o.batch);
                if (r.cuda) {
                    const double t0 = now_s();
                    if (Status s = r.full_step->capture(block, lr); !s) {
                        r.rep.step = "static (eager)";
                        if (o.progress) std::fprintf(stderr, "note       %s; the step runs eagerly\n", s.message.c_str());
                    } else if (o.progress) {
                        if (r.tty) std::fprintf(stderr, "\r\033[K");
                        std::fprintf(stderr, "step       one CUDA graph (captured in %.0f ms)\n", 1000.0 * (now_s() - t0));
                    }
                    *t_seg += now_s() - t0;  // set-up, not training: images/s counts steps only
                }
            }
            r.full_step->run(block, lr);
            return r.full_step->loss();
        }
        // the short last batch: once an epoch, eagerly
        if (!r.tail_step) r.tail_step = make_step(r, nb);
        r.tail_step->run(block.slice(1, 0, nb), lr);
        return r.tail_step->loss();
    }
    const int64_t b0 = it * o.batch;
    const torch::Tensor idx = e.order_t.slice(0, b0, b0 + nb);
    torch::Tensor x = normalize_u8(r.data.x_u8.index_select(0, idx));
    const torch::Tensor y = r.data.labels.index_select(0, idx);
    if (const AugSpec aug = augment_spec(o); aug.any()) x = augment(x, aug, e.aug_rng);
    const torch::Tensor out = r.model->forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(out, y);
    r.opt->zero_grad();
    loss.backward();
    r.opt->step();
    r.run_loss += loss.detach() * double(nb);
    r.run_correct += out.detach().argmax(1).eq(y).sum();
    return loss;
}

// The run's status when the loss became NaN or infinite at iteration `it` of `epoch`.
Status diverged_status(const RunState& r, int epoch, int64_t it, double lr, bool nan) {
    std::string keep = r.rep.checkpoint.empty()
                           ? "No checkpoint had been written yet (the first is written at the end of epoch 1)."
                           : "The last good checkpoint is kept: " + r.rep.checkpoint + " (end of epoch " + std::to_string(r.rep.epochs_done) + ").";
    return Status::error(std::string("train: the loss became ") + (nan ? "NaN" : "infinite") + " at epoch " + std::to_string(epoch + 1) +
                         ", iteration " + std::to_string(it + 1) + " (step " + std::to_string(r.global_step) + ", lr " + printf_number("%g", lr) +
                         "); training stopped. " + keep + " Hint: lower the learning rate (e.g. --lr " + printf_number("%g", r.o.lr / 10) +
                         "), use a schedule with warm-up (--schedule onecycle), or resume from the checkpoint with --resume.");
}

void print_progress(const RunState& r, int epoch, int64_t it, double loss, double acc, double ips, bool validated) {
    const TrainOptions& o = r.o;
    const int64_t steps_left = r.total_steps - r.global_step;
    const double n_val_left = o.val_every > 0 ? double(steps_left) / double(o.val_every) : 0.0;
    const double val_each = r.n_vals > 0 ? r.val_seconds / double(r.n_vals) : 0.0;
    const double left = ips > 0 ? double(steps_left) * double(o.batch) / ips + n_val_left * val_each : -1;
    char line[256];
    std::snprintf(line, sizeof line, "epoch %d/%d  iter %lld/%lld  loss %.4f  acc %5.2f%%%s  %6.0f img/s  %s left", epoch + 1, o.epochs,
                  (long long)(it + 1), (long long)r.steps_per_epoch, loss, acc,
                  r.rep.last_val_acc >= 0 ? ("  val " + printf_number("%.2f%%", r.rep.last_val_acc)).c_str() : "", ips, fmt_time(left).c_str());
    if (r.tty)
        std::fprintf(stderr, "\r%s\033[K", line);
    else if (validated || (it + 1) % kLogEvery == 0)
        std::fprintf(stderr, "%s\n", line);
}

// Validation accuracy on the held-out images, timed apart from training.
double validate(RunState& r) {
    const double t0 = now_s();
    const double val = accuracy(r.model, r.data, r.val_index, r.o.batch);
    r.val_seconds += now_s() - t0;
    ++r.n_vals;
    r.rep.last_val_acc = val;
    return val;
}

// The end of a whole epoch: validation, progress, metrics, checkpoint, the epoch's last live point.
Status end_epoch(RunState& r, int epoch, double last_step_loss, double last_loss, double last_acc) {
    const TrainOptions& o = r.o;
    const double val = r.n_val > 0 ? validate(r) : -1;
    r.rep.epochs_done = epoch + 1;
    const double ips = r.train_seconds > 0 ? double(r.images_trained) / r.train_seconds : 0;
    if (o.progress) {
        if (r.tty) std::fprintf(stderr, "\r\033[K");
        std::fprintf(stderr, "epoch %d/%d  loss %.4f  train acc %.2f%%  val %s  %.0f img/s  %s elapsed\n", epoch + 1, o.epochs, last_loss, last_acc,
                     val >= 0 ? printf_number("%.2f%%", val).c_str() : "-", ips, fmt_time(now_s() - r.t_run).c_str());
    }
    r.metrics.row(epoch + 1, r.steps_per_epoch, r.global_step, lr_at(o.schedule, o.lr, r.global_step - 1, r.total_steps), last_loss, last_acc,
                  val, ips, now_s() - r.t_run);
    if (Status s = r.save_checkpoint(epoch + 1, 0, val); !s) return s;
    if (o.on_progress) {
        TrainProgress p = r.progress_at(last_step_loss, last_loss, last_acc, val, ips);
        p.epoch_end = true;
        o.on_progress(p);
    }
    return Status::success();
}

}  // namespace

Status run_epoch(RunState& r, int epoch) {
    const TrainOptions& o = r.o;
    const int64_t first_it = epoch == r.start_epoch ? r.start_iter : 0;
    const int64_t check_every = r.cuda ? 10 : 1;  // host syncs for the NaN check and the progress line
    int64_t stop_iter = -1;  // the iteration a stop request ended the run before (-1: none)
    r.run_loss.zero_();
    r.run_correct.zero_();
    int64_t run_images = 0;
    EpochBatches batches = plan_epoch(r, epoch, first_it);
    double t_seg = now_s();
    double last_loss = 0, last_acc = 0, last_step_loss = 0;
    for (int64_t it = first_it; it < r.steps_per_epoch; ++it) {
        if (o.max_steps >= 0 && r.global_step >= o.max_steps) {  // the run's steps in total, resumed ones too (as core's engine)
            r.stop = true;
            break;
        }
        if ((o.stop_flag && o.stop_flag->load()) ||
            (o.stop_after >= 0 && r.rep.steps >= o.stop_after)) {  // the step before this one has finished: stop here
            r.stop = true;
            stop_iter = it;
            break;
        }
        const int64_t b0 = it * o.batch, nb = std::min(o.batch, r.n_train - b0);
        const double lr = lr_at(o.schedule, o.lr, r.global_step, r.total_steps);
        set_lr(*r.opt, o.optimizer, lr);  // the static step takes lr itself; the optimizer's copy goes into checkpoints
        const torch::Tensor loss = train_step(r, batches, it, nb, lr, &t_seg);
        ++r.rep.steps;
        ++r.global_step;
        r.images_trained += nb;
        run_images += nb;
        const bool last = it + 1 == r.steps_per_epoch;
        const bool validate_now = r.n_val > 0 && o.val_every > 0 && (it + 1) % o.val_every == 0 && !last;
        const bool checked = (it + 1) % check_every == 0 || last || validate_now || (it + 1) % kPrintEvery == 0;
        if (checked) {
            const double lv = loss.item<double>();
            last_step_loss = lv;
            r.rep.losses.push_back(lv);  // every step on the CPU, every check_every-th on CUDA
            const double seg_loss = r.run_loss.item<double>() / double(std::max<int64_t>(run_images, 1));
            if (!std::isfinite(lv) || !std::isfinite(seg_loss)) {
                r.rep.diverged = true;
                r.train_seconds += now_s() - t_seg;
                if (r.tty) std::fprintf(stderr, "\n");
                r.rep.status = diverged_status(r, epoch, it, lr, std::isnan(lv) || std::isnan(seg_loss));
                r.stop = true;
                return Status::success();
            }
            last_loss = seg_loss;
            last_acc = 100.0 * double(r.run_correct.item<int64_t>()) / double(std::max<int64_t>(run_images, 1));
        }
        const bool print = o.progress && ((it + 1) % kPrintEvery == 0 || last);
        double val = -1;
        if (validate_now || print) {
            const double now = now_s();
            r.train_seconds += now - t_seg;
            t_seg = now;
        }
        if (validate_now) {
            val = validate(r);
            t_seg = now_s();
        }
        const double ips = r.train_seconds > 0 ? double(r.images_trained) / r.train_seconds : 0;
        if (checked && !last && o.on_progress) {  // the epoch's last point comes after its validation (end_epoch)
            const double secs = r.train_seconds + now_s() - t_seg;
            o.on_progress(r.progress_at(last_step_loss, last_loss, last_acc, val, secs > 0 ? double(r.images_trained) / secs : 0));
        }
        if (o.progress && (print || validate_now)) print_progress(r, epoch, it, last_loss, last_acc, ips, validate_now);
        if (validate_now) {
            r.metrics.row(epoch + 1, it + 1, r.global_step, lr, last_loss, last_acc, val, ips, now_s() - r.t_run);
            r.run_loss.zero_();
            r.run_correct.zero_();
            run_images = 0;
        }
    }
    r.train_seconds += now_s() - t_seg;
    if (stop_iter >= 0) {  // a stop request: a checkpoint at this very step, then out (no evaluation)
        if (Status s = r.save_checkpoint(epoch, stop_iter, -1); !s) return s;
        r.rep.stopped = true;
        if (o.progress) {
            if (r.tty) std::fprintf(stderr, "\r\033[K");
            std::fprintf(stderr, "stopped    epoch %d/%d after iteration %lld of %lld (step %lld)%s%s\n", epoch + 1, o.epochs, (long long)stop_iter,
                         (long long)r.steps_per_epoch, (long long)r.global_step, r.rep.checkpoint.empty() ? "" : "; resume with --resume ",
                         r.rep.checkpoint.c_str());
        }
        return Status::success();
    }
    if (r.stop) return Status::success();  // --max-steps reached mid-epoch: no end-of-epoch work
    return end_epoch(r, epoch, last_step_loss, last_loss, last_acc);
}

}  // namespace quantlab::trainer
