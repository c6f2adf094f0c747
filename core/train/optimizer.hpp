// optimizer.hpp: the trainer's optimizers on core's tensors, with LibTorch's update formulas (torch::optim SGD,
// Adam, AdamW) step for step, in float like torch's CPU kernels:
//   SGD    d = g + wd p;  b = d on the first step, else b = momentum b + d;  p -= lr b  (no dampening, not Nesterov)
//   Adam   g' = g + wd p;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//          p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   AdamW  p *= 1 - lr wd, then Adam's update with g' = g
// Weight decay applies to every parameter given (the trainer passes model->parameters(): weights, biases and the
// BatchNorm affine alike).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/state_dict.hpp"
#include "core/status.hpp"
#include "core/train_options.hpp"

namespace quantlab {

struct OptimizerSettings {
    Optimizer kind = Optimizer::kSgd;
    double lr = 1e-3, momentum = 0.9, weight_decay = 1e-5;  // the trainer's defaults (trainer.hpp)
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;          // torch::optim::AdamOptions' defaults
};

class ParamOptimizer {
  public:
    explicit ParamOptimizer(OptimizerSettings settings) : s_(settings) {}
    const OptimizerSettings& settings() const { return s_; }
    void set_lr(double lr) { s_.lr = lr; }  // a schedule's rate for the next step

    // One step: every tensor of `grads` updates the tensor of the same name in `params` (shapes must match).
    // The per-parameter state (momentum buffer, Adam's moments and step count) is created on first use.
    Status step(StateDict* params, const StateDict& grads);

    // The per-parameter state of every parameter stepped so far, into `out` under resume_state.hpp's names
    // (torch::optim's: momentum_buffer, exp_avg, exp_avg_sq, step), and back: load_state takes the entries of
    // the parameters in `params` (the others start fresh, as torch::load leaves them). SGD state without a step
    // count (a LibTorch SGD keeps none) counts as one step taken.
    void save_state(StateDict* out) const;
    Status load_state(const StateDict& in, const StateDict& params);

  private:
    struct State {
        std::vector<float> m, v;  // SGD: m is the momentum buffer; Adam: first and second moments
        int64_t t = 0;            // steps taken
    };
    OptimizerSettings s_;
    std::map<std::string, State> state_;
};

}  // namespace quantlab
