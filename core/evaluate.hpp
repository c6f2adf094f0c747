// evaluate.hpp: accuracy of a Model on CIFAR-10 images, all at once or a few batches at a time (the UI
// and the web page spread it over frames). Batches are taken in file order so that dynamic activation
// scales see the same batches as the notebook's DataLoader(shuffle=False).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/cifar10.hpp"
#include "core/inference.hpp"

namespace quantlab {

struct EvalResult {
    int classes = 10;
    int64_t evaluated = 0, correct = 0;
    std::vector<int64_t> class_total, class_correct;  // per true class
    std::vector<int64_t> confusion;                   // classes x classes, row = true, column = predicted
    std::vector<uint8_t> predictions;                 // one per evaluated image, in order

    double accuracy() const { return evaluated ? 100.0 * double(correct) / double(evaluated) : 0.0; }
    double class_accuracy(int c) const;
    uint64_t predictions_hash() const;  // FNV-1a 64 of `predictions`: compares runs across front ends
};

// Incremental evaluation. Holds pointers: the model and data must outlive it.
class Evaluation {
public:
    Evaluation() = default;
    // Evaluates images [first, first + count) (count < 0: to the end) in batches of `batch`.
    Evaluation(const Model* model, const Cifar10* data, int64_t batch, Backend backend, int64_t first = 0, int64_t count = -1);
    // Runs whole batches until at least `max_images` more are done or the range is finished.
    Status step(int64_t max_images);
    bool done() const { return next_ >= end_; }
    double progress() const { return end_ > begin_ ? double(next_ - begin_) / double(end_ - begin_) : 1.0; }
    const EvalResult& result() const { return result_; }

private:
    const Model* model_ = nullptr;
    const Cifar10* data_ = nullptr;
    int64_t batch_ = 128, begin_ = 0, next_ = 0, end_ = 0;
    Backend backend_ = Backend::kFast;
    EvalResult result_;
    std::vector<float> x_, logits_;
};

// The whole range at once; `progress(done, total)` is called after every batch when given.
Result<EvalResult> evaluate(const Model& model, const Cifar10& data, int64_t batch, Backend backend,
                            const std::function<void(int64_t, int64_t)>& progress = {});

// Each config in turn on model, over all of `data` (file order, as `quantlab eval`); a static config is first
// calibrated on calib_x (calib_n images, batch `batch`). model ends configured as it started.
// progress(done, total) counts configs. What sensitivity and the mixed-precision search both evaluate.
Result<std::vector<EvalResult>> evaluate_configs(Model& model, const Cifar10& data, const std::vector<QuantConfig>& configs,
                                                 int64_t batch, Backend backend, const float* calib_x, int64_t calib_n,
                                                 const std::function<void(int64_t, int64_t)>& progress = {});

// Index of the largest logit (the first on ties, as torch.max / argmax).
int argmax(const float* logits, int classes);

}  // namespace quantlab
