// evaluate.cpp: batched, resumable evaluation and its statistics.
#include "core/evaluate.hpp"

#include <algorithm>

namespace quantlab {

double EvalResult::class_accuracy(int c) const {
    const int64_t t = class_total.at(size_t(c));
    return t ? 100.0 * double(class_correct[size_t(c)]) / double(t) : 0.0;
}

uint64_t EvalResult::predictions_hash() const {
    uint64_t h = 1469598103934665603ull;
    for (uint8_t p : predictions) {
        h ^= p;
        h *= 1099511628211ull;
    }
    return h;
}

int argmax(const float* logits, int classes) {
    int best = 0;
    for (int k = 1; k < classes; ++k)
        if (logits[k] > logits[best]) best = k;
    return best;
}

Evaluation::Evaluation(const Model* model, const Cifar10* data, int64_t batch, Backend backend, int64_t first, int64_t count)
    : model_(model), data_(data), batch_(std::max<int64_t>(batch, 1)), backend_(backend) {
    begin_ = std::min(std::max<int64_t>(first, 0), data->count);
    end_ = count < 0 ? data->count : std::min(data->count, begin_ + count);
    next_ = begin_;
    const int k = model->desc().num_classes();
    result_.classes = k;
    result_.class_total.assign(size_t(k), 0);
    result_.class_correct.assign(size_t(k), 0);
    result_.confusion.assign(size_t(k) * size_t(k), 0);
}

Status Evaluation::step(int64_t max_images) {
    if (!model_ || !data_) return Status::error("evaluation: not started");
    const int k = model_->desc().num_classes();
    const int64_t per_image = numel(model_->desc().input);
    if (per_image != kCifar10ImageBytes) return Status::error("evaluation: the model expects " + shape_str(model_->desc().input) + " inputs, CIFAR-10 images are (3,32,32)");
    int64_t done_now = 0;
    while (!done() && done_now < std::max<int64_t>(max_images, 1)) {
        const int64_t nb = std::min(batch_, end_ - next_);
        x_.resize(size_t(nb * per_image));
        logits_.resize(size_t(nb * k));
        normalize_images(*data_, next_, nb, x_.data());
        if (Status s = model_->forward(x_.data(), nb, logits_.data(), backend_); !s) return s;
        for (int64_t i = 0; i < nb; ++i) {
            const int pred = argmax(logits_.data() + i * k, k);
            const int truth = data_->labels[size_t(next_ + i)];
            result_.predictions.push_back(uint8_t(pred));
            if (truth < k) {
                ++result_.class_total[size_t(truth)];
                ++result_.confusion[size_t(truth) * size_t(k) + size_t(pred)];
                if (pred == truth) {
                    ++result_.class_correct[size_t(truth)];
                    ++result_.correct;
                }
            }
        }
        result_.evaluated += nb;
        next_ += nb;
        done_now += nb;
    }
    return Status::success();
}

Result<EvalResult> evaluate(const Model& model, const Cifar10& data, int64_t batch, Backend backend,
                            const std::function<void(int64_t, int64_t)>& progress) {
    Evaluation e(&model, &data, batch, backend);
    while (!e.done()) {
        if (Status s = e.step(batch); !s) return s;
        if (progress) progress(e.result().evaluated, data.count);
    }
    return e.result();
}

Result<std::vector<EvalResult>> evaluate_configs(Model& model, const Cifar10& data, const std::vector<QuantConfig>& configs,
                                                 int64_t batch, Backend backend, const float* calib_x, int64_t calib_n,
                                                 const std::function<void(int64_t, int64_t)>& progress) {
    const QuantConfig original = model.config();
    std::vector<EvalResult> results;
    Status failure;
    for (const QuantConfig& c : configs) {
        QuantConfig config = c;
        if (config.act_mode == ActMode::kStatic) {
            Result<QuantConfig> cal = calibrated(model, config, calib_x, calib_n, batch);
            if (!cal.ok()) { failure = cal.status; break; }
            config = std::move(cal.value);
        }
        if (Status s = model.configure(config); !s) { failure = s; break; }
        Result<EvalResult> r = evaluate(model, data, batch, backend);
        if (!r.ok()) { failure = r.status; break; }
        results.push_back(std::move(r.value));
        if (progress) progress(int64_t(results.size()), int64_t(configs.size()));
    }
    if (Status s = model.configure(original); !s && !failure.failed) failure = s;
    if (failure.failed) return failure;
    return results;
}

}  // namespace quantlab
