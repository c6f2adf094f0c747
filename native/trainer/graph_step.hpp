// graph_step.hpp: the training step as a CUDA graph. One SGD step (gather the batch from the data resident on
// the device, normalise, augment, forward, loss, backward, the SGD update, running loss/correct sums) over
// static tensors: the batch is chosen by a (kPlanRows, B) int64 block [image index; crop dy; crop dx; flip;
// cutout cy; cutout cx; brightness, contrast, saturation factors as float32 bit patterns] copied in before each step, and the learning rate is a device tensor. Nothing in the step reads back to the host, so on
// CUDA it is captured once and replayed: at batch 128 this network's step is some 200 small kernels, and
// launching them one by one from the CPU, not the GPU's arithmetic, is what bounds an eager loop.
// On the CPU the same step runs eagerly (the tests compare it with the trainer's ordinary loop there).
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/status.hpp"
#include "native/trainer/torch_model.hpp"

namespace quantlab::trainer {

// The momentum buffers of `opt`'s SGD state for `params`, created (zeros) where missing. A zero buffer gives the
// first step torch::optim::SGD's own first step (buf = d_p), and because the state object holds these very
// tensors, checkpoints (torch::save of the optimizer) and --resume see what the static step updates in place.
// Rows of a step's block (see above).
constexpr int64_t kPlanRows = 9;
// A float draw in a block row: its float32 bit pattern as a (sign-extended) int64, read back on the device with
// to(kInt).view(kFloat), so the factors reach the step bit for bit.
int64_t float_bits(float f);

// The optimizer state's key for a parameter: LibTorch 1.x keys it by the TensorImpl address printed as a string,
// 2.x by the address itself.
using OptimStateKey = typename std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>::key_type;
OptimStateKey optim_state_key(const torch::Tensor& p);

std::vector<torch::Tensor> sgd_momentum_buffers(torch::optim::SGD& opt, const std::vector<torch::Tensor>& params);

// Whether this LibTorch can capture CUDA graphs (built against a CUDA LibTorch).
bool cuda_graphs_compiled();

struct StaticStepData {
    torch::Tensor x_u8;         // (N,3,32,32) uint8 on the device
    torch::Tensor labels;       // (N) int64
    torch::Tensor run_loss;     // 0-d float: += loss * batch each step
    torch::Tensor run_correct;  // 0-d int64: += correct predictions each step
};

class StaticStep {
public:
    // `batch`: the images of every step of this object (a short last batch needs its own StaticStep).
    StaticStep(QuantNet model, StaticStepData data, int64_t batch, const AugSpec& aug, double momentum, double weight_decay,
               std::vector<torch::Tensor> momentum_buffers);

    // Copies `block` ((kPlanRows, batch) int64 on the device) into the static block, sets the learning rate when it
    // changed, and runs the step (or replays its graph).
    void run(const torch::Tensor& block, double lr);
    // The loss of the last step (0-d float on the device).
    const torch::Tensor& loss() const { return loss_; }

    // Captures the step as a CUDA graph, with `block` and `lr` for the warm-up runs that come first (cuDNN's
    // algorithm search and lazy allocations cannot happen inside a capture). The warm-up runs' effects on the
    // parameters, BatchNorm statistics, momentum buffers and running sums are undone, so training goes on as if
    // they had not happened. An error leaves the step running eagerly.
    Status capture(const torch::Tensor& block, double lr, int warmup_runs = 3);
    bool captured() const { return graph_ != nullptr; }

private:
    void body();

    QuantNet model_;
    StaticStepData data_;
    int64_t batch_;
    AugSpec aug_;
    double momentum_, weight_decay_;
    std::vector<torch::Tensor> params_, buffers_;
    torch::Tensor block_, lr_, loss_;
    double lr_value_ = -1;
    struct Graph;
    std::shared_ptr<Graph> graph_;
};

}  // namespace quantlab::trainer
