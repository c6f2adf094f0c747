// run.cpp: see run.hpp. The choices (split, epoch order, augmentation generator, schedule) are the LibTorch
// trainer's (native/trainer/train_epoch.cpp plan_epoch), so both engines see the same batches.
#include "core/train/run.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/evaluate.hpp"
#include "core/format.hpp"
#include "core/inference.hpp"
#include "core/train/augment.hpp"
#include "core/train/resume_state.hpp"

namespace quantlab {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Result<StateDict> model_tensors(const StateDict& weights, const NetworkDesc& net, const std::string& source) {
    StateDict clean;
    for (const ParamDesc& p : net.params()) {
        const Tensor* t = weights.find(p.name);
        if (!t) return Status::error(source + ": missing tensor " + p.name);
        clean.set(p.name, *t, p.int64 ? "I64" : "F32");
    }
    return clean;
}

Result<double> accuracy_of(const NetworkDesc& net, const StateDict& weights, const QuantConfig& qc, const Cifar10& data, int64_t batch) {
    Result<Model> m = Model::create(net, weights, "train");
    if (!m.ok()) return m.status;
    if (Status s = m.value.configure(qc); !s) return s;
    Result<EvalResult> r = evaluate(m.value, data, batch, Backend::kFast);
    if (!r.ok()) return r.status;
    return r.value.accuracy();
}

namespace {

// Whether `weights` give finite logits in eval mode (running statistics) on images x: weights whose training loss
// was finite can still overflow there after a huge step (an absurd learning rate), and kept weights must evaluate.
bool eval_finite(const NetworkDesc& net, const StateDict& weights, const QuantConfig& qc, const float* x, int64_t n) {
    Result<Model> m = Model::create(net, weights, "train");
    if (!m.ok() || !m.value.configure(qc)) return false;
    std::vector<float> logits(size_t(n * net.num_classes()));
    if (!m.value.forward(x, n, logits.data(), Backend::kFast)) return false;
    for (float v : logits)
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace

Result<std::unique_ptr<TrainLoop>> TrainLoop::create(const NetworkDesc& net, const StateDict& weights, std::shared_ptr<const Cifar10> train_set,
                                                     RunSettings s) {
    if (s.batch < 1) return Status::error("train: the batch size must be at least 1");
    if (s.epochs < 1) return Status::error("train: the number of epochs must be at least 1");
    if (!(s.lr > 0) || !std::isfinite(s.lr)) return Status::error("train: the learning rate must be a positive number (got " + printf_number("%g", s.lr) + ")");
    if (!(s.val_fraction >= 0 && s.val_fraction < 1)) return Status::error("train: the validation fraction must be in [0, 1)");
    if (!train_set || train_set->count < 1) return Status::error("train: no training images");
    Result<StateDict> clean = model_tensors(weights, net, "train: the start weights");
    if (!clean.ok()) return clean.status;
    if (s.train.config.layers.empty()) s.train.config = make_config(net, kFloatBits, kFloatBits);
    s.train.config.act_mode = ActMode::kDynamic;  // ranges per batch while training (the notebook's); an export calibrates
    s.train.config.act_ranges.clear();
    if (Status v = validate(s.train.config, net); !v) return Status::error("train: " + v.message);
    s.train.config = with_learned_codes(s.train.config, net, s.train.quantizer);  // unsigned learned codes after a ReLU
    if (Status v = check_learned(net, s.train.config, s.train.quantizer); !v) return Status::error("train: " + v.message);
    if (Status v = check_augment(s.augment, kCifar10Side); !v) return Status::error("train: " + v.message);

    std::unique_ptr<TrainLoop> r(new TrainLoop());
    r->net_ = net;
    r->data_ = std::move(train_set);
    r->split_ = split_train_val(r->data_->count, s.val_fraction, s.seed);
    const int64_t n_train = int64_t(r->split_.train.size());
    if (n_train < 1) return Status::error("train: no training images left after the validation split");
    if (s.batch > n_train)
        return Status::error("train: batch " + std::to_string(s.batch) + " is larger than the " + std::to_string(n_train) +
                             " training images (after the validation split); use a batch of " + std::to_string(n_train) + " or less");
    if (!r->split_.val.empty()) r->val_set_ = select_images(*r->data_, r->split_.val);
    r->steps_per_epoch_ = (n_train + s.batch - 1) / s.batch;  // the last batch may be short (DataLoader's default)
    OptimizerSettings os;
    os.kind = s.optimizer;
    os.lr = s.lr;
    os.momentum = s.momentum;
    os.weight_decay = s.weight_decay;
    r->opt_ = std::make_unique<ParamOptimizer>(os);
    OptimizerSettings los = os;
    los.weight_decay = 0;  // the learned steps (lsq / pact): no weight decay, which would pull every step towards 0
    r->learned_opt_ = std::make_unique<ParamOptimizer>(los);
    r->learned_ = make_learned_params(net, s.train.config, s.train.quantizer);  // set by the first step
    r->last_good_learned_ = r->learned_;
    r->weights_ = std::move(clean.value);
    r->last_good_ = r->weights_;
    r->start_ = r->weights_;
    r->settings_ = std::move(s);
    const int64_t img = 3 * kCifar10Side * kCifar10Side;
    r->x_.resize(size_t(r->settings_.batch * img));
    r->xa_.resize(r->x_.size());
    r->labels_.resize(size_t(r->settings_.batch));
    r->begin_epoch();
    return r;
}

int64_t TrainLoop::total_steps() const {
    const int64_t all = steps_per_epoch_ * settings_.epochs;
    return settings_.max_steps >= 0 ? std::min(all, settings_.max_steps) : all;
}

bool TrainLoop::done() const { return steps_done_ >= total_steps(); }

void TrainLoop::begin_epoch() {
    // The LibTorch trainer's epoch: the same order and augmentation generator (train_epoch.cpp plan_epoch).
    order_ = shuffled(split_.train, mix(settings_.seed, 0xe90c, uint64_t(epoch_)));
    aug_rng_.seed(mix(settings_.seed, 0xa09, uint64_t(epoch_)));
    iter_ = 0;
    run_loss_ = 0;
    run_correct_ = run_images_ = 0;
}

Status TrainLoop::resume(int64_t steps_done, const StateDict& state) {
    if (steps_done_ != 0) return Status::error("train: resume: the run has already taken steps");
    const std::string src = "train: resume state";
    if (Status s = check_resume_state(state, settings_.optimizer, settings_.train.quantizer, src); !s) return s;
    if (steps_done < 0 || steps_done > total_steps())
        return Status::error("train: resume: the checkpoint is after step " + std::to_string(steps_done) +
                             ", this run has " + std::to_string(total_steps()) +
                             " steps; resume with the checkpoint's --epochs, --batch and --limit-train");
    for (const std::string& name : learned_.names) {
        const Tensor* t = state.find(learned_state_name(name));
        if (!t || t->data.size() != learned_.find(name)->data.size())
            return Status::error(src + ": no learned step " + learned_state_name(name) +
                                 " (a checkpoint of another --bits or --quantizer?)");
        learned_.find(name)->data = t->data;
    }
    if (Status s = opt_->load_state(state, weights_); !s) return Status::error(src + ": " + s.message);
    if (Status s = learned_opt_->load_state(state, learned_); !s) return Status::error(src + ": " + s.message);
    return set_position(steps_done);
}

Status TrainLoop::set_position(int64_t steps_done) {
    steps_done_ = good_steps_ = steps_done;
    epoch_ = epochs_done_ = int(steps_done / steps_per_epoch_);
    last_good_ = start_ = weights_;
    last_good_learned_ = learned_;
    if (epoch_ >= settings_.epochs) return Status::success();
    begin_epoch();
    // The skipped batches of this epoch draw their augmentation as the uninterrupted run did, batch by batch.
    const int64_t n_train = int64_t(split_.train.size()), skip = steps_done % steps_per_epoch_;
    if (settings_.augment.any())
        for (int64_t it = 0; it < skip; ++it)
            draw_augment(std::min(settings_.batch, n_train - it * settings_.batch), settings_.augment, aug_rng_,
                         kCifar10Side);
    iter_ = skip;
    return Status::success();
}

StateDict TrainLoop::resume_state() const {
    StateDict out;
    stamp_resume_state(&out, settings_.optimizer, settings_.train.quantizer);
    for (const std::string& name : learned_.names) out.set(learned_state_name(name), *learned_.find(name));
    opt_->save_state(&out);
    learned_opt_->save_state(&out);
    return out;
}

Result<RunStep> TrainLoop::step() {
    if (diverged_) return Status::error("train: the run stopped after its loss became non-finite");
    if (done()) return Status::error("train: the run is finished");
    const RunSettings& s = settings_;
    const int64_t n_train = int64_t(split_.train.size());
    const int64_t b0 = iter_ * s.batch, nb = std::min(s.batch, n_train - b0);
    const std::vector<int64_t> idx(order_.begin() + b0, order_.begin() + b0 + nb);
    const Cifar10 batch = select_images(*data_, idx);
    normalize_images(batch, 0, nb, x_.data());
    for (int64_t i = 0; i < nb; ++i) labels_[size_t(i)] = int32_t(batch.labels[size_t(i)]);
    const float* xin = x_.data();
    if (s.augment.any()) {
        const AugDraws d = draw_augment(nb, s.augment, aug_rng_, kCifar10Side);
        augment_images(x_.data(), nb, kCifar10Side, kCifar10Side, d, s.augment, xa_.data());
        xin = xa_.data();
    }
    RunStep out;
    out.epoch = epoch_;
    out.iter = iter_ + 1;
    out.lr = lr_at(s.schedule, s.lr, steps_done_, steps_per_epoch_ * s.epochs);
    opt_->set_lr(out.lr);
    learned_opt_->set_lr(out.lr);
    StateDict before = weights_, learned_before = learned_;
    const auto t0 = std::chrono::steady_clock::now();
    Result<StepResult> r = train_step(net_, &weights_, s.train, xin, labels_.data(), nb, opt_.get(), nullptr, &learned_, learned_opt_.get());
    out.step_seconds = seconds_since(t0);
    train_seconds_ += out.step_seconds;
    if (!r.ok() || !std::isfinite(r.value.loss)) {
        // Keep the weights of the last step that had a finite loss: last_good_ is what this step's predecessor
        // began from (that step's loss, computed before its update, was finite; its update may not be).
        weights_ = last_good_;
        learned_ = last_good_learned_;
        diverged_ = true;
        good_steps_ = std::max<int64_t>(steps_done_ - 1, 0);
        Result<QuantConfig> qc = eval_config();
        if (good_steps_ > 0 && !(qc.ok() && eval_finite(net_, weights_, qc.value, x_.data(), nb))) {
            // Finite in training mode, overflowing with the running statistics: the run's start is what is kept.
            weights_ = start_;
            learned_ = make_learned_params(net_, settings_.train.config, settings_.train.quantizer);
            good_steps_ = 0;
        }
        const std::string what = r.ok() ? (std::isnan(r.value.loss) ? "NaN" : "infinite") : "non-finite (" + r.message() + ")";
        return Status::error("train: the loss became " + what + " at epoch " + std::to_string(epoch_ + 1) + ", iteration " +
                             std::to_string(iter_ + 1) + " (step " + std::to_string(steps_done_ + 1) + ", lr " + printf_number("%g", out.lr) +
                             "); training stopped.");
    }
    last_good_ = std::move(before);
    last_good_learned_ = std::move(learned_before);
    ++steps_done_;
    ++iter_;
    images_trained_ += nb;
    out.steps_done = steps_done_;
    out.loss = r.value.loss;
    out.images = nb;
    run_loss_ += r.value.loss * double(nb);
    run_correct_ += r.value.correct;
    run_images_ += nb;
    out.running_loss = run_loss_ / double(run_images_);
    out.running_acc = 100.0 * double(run_correct_) / double(run_images_);
    out.epoch_end = iter_ == steps_per_epoch_;
    const bool mid_val = val_set_.count > 0 && s.val_every > 0 && iter_ % s.val_every == 0 && !out.epoch_end;
    if (mid_val || (out.epoch_end && val_set_.count > 0)) {
        Result<QuantConfig> c = eval_config();
        if (!c.ok()) return Status::error("train: validation: " + c.message());
        Result<double> a = accuracy_of(net_, weights_, c.value, val_set_, s.batch);
        if (!a.ok()) return Status::error("train: validation: " + a.message());
        out.val = last_val_ = a.value;
    }
    if (mid_val) run_loss_ = 0, run_correct_ = run_images_ = 0;
    if (out.epoch_end) {
        epochs_done_ = epoch_ + 1;
        ++epoch_;
        if (epoch_ < s.epochs) begin_epoch();
    }
    return out;
}

Result<QuantConfig> TrainLoop::eval_config() const {
    return with_learned_scales(settings_.train.config, net_, settings_.train.quantizer, learned_);
}

}  // namespace quantlab
