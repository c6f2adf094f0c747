// torch_model.hpp: the LibTorch side of QuantLab's trainer: core's NetworkDesc as a torch::nn::Module with
// PyTorch's parameter names (conv1.weight, bn1.running_mean, ...), fake-quantization of each conv/linear
// layer's input and weight with core's rules (quantizer.hpp), and the STE as a torch::autograd::Function.
// Includes <torch/torch.h>: only the trainer's own translation units and the torch tests include it;
// everything else talks to the trainer through trainer.hpp, which is torch-free.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/inference.hpp"
#include "core/network.hpp"
#include "core/quantizer.hpp"
#include "core/state_dict.hpp"
#include "core/train/augment.hpp"  // kAugPad and the draws, shared with core's engine
#include "core/train/learned_params.hpp"

namespace quantlab::trainer {

// How a fake-quant is computed in torch. Both follow core's contract (S, Z, code range, ties-to-even);
// kExact divides by S as core does and is bit-identical to core's fake_quant; kFused calls torch's
// fake_quantize_* kernels (one pass, tensor scales, no host sync: the fast path on CUDA), which multiply
// by 1/S and can differ from core by one code where r/S lies within an ulp of a .5 tie.
enum class FqKernel { kExact, kFused };

// Quantization parameters as tensors on the data's device: scale float32 and zero_point int32, 0-d for
// per-tensor, (C) for per-channel along axis 0. Codes in [qmin, qmax].
struct TorchQParams {
    torch::Tensor scale;
    torch::Tensor zero_point;
    int64_t qmin = 0, qmax = 0;
    bool per_channel = false;
    bool symmetric = true;  // Z = 0 everywhere: the clamp bounds are plain numbers
    bool multiply_inverse = false;  // full codes: r * (1/S), as torch.quantize_per_tensor (CodeRange::multiply_inverse)
};

// core's compute_params in torch ops for maxabs, minmax and meanstd (no host round trip); percentile and mse
// go through core's own code on a CPU copy. x is not modified; no autograd.
TorchQParams torch_qparams(const torch::Tensor& x, const QuantSpec& spec);
// core's params_for_range: a calibrated (static) activation range.
TorchQParams torch_qparams_for_range(RealRange range, int bits, bool symmetric, const torch::Device& device,
                                     SymmetricCodes codes = SymmetricCodes::kNarrow);

// r_hat = S * (clamp(round(r / S) + Z, qmin, qmax) - Z) (r * (1/S) with multiply_inverse), no autograd. When
// `keep_mask` is given it receives the clipped STE's mask: true where the rounded code fell inside [qmin, qmax]
// (core's is_clipped negated).
torch::Tensor fake_quant_tensor(const torch::Tensor& x, const TorchQParams& p, FqKernel kernel, torch::Tensor* keep_mask = nullptr);

// The straight-through estimator: forward = fake_quant_tensor, backward = identity (the notebook's) or the
// identity masked to the clipping range (core's ste_backward, SteRule::kClipped). S and Z get no gradient,
// as in the notebook, whose S is computed from x inside forward.
torch::Tensor fake_quant_ste(const torch::Tensor& x, const TorchQParams& p, SteRule rule, FqKernel kernel);

// The learned-step fake-quant (--quantizer lsq / pact) as an autograd Function: core's learned_fake_quant forward and
// learned_backward (core/quantizer.hpp) in tensor ops, gradients for x and for `param` (0-d: LSQ's step S, PACT's
// alpha). grad_scale is LSQ's g (PACT: unused). qmin/qmax and multiply_inverse as the spec's CodeRange.
torch::Tensor learned_fake_quant(const torch::Tensor& x, const torch::Tensor& param, QuantizerKind kind, CodeRange range,
                                 double grad_scale);

// How the model quantizes: core's QuantConfig (per-layer weight and activation specs; dynamic = range per
// batch as in the notebook, static = the calibrated act_ranges) plus the trainer's choices.
struct TorchQuant {
    QuantConfig config;
    SteRule ste = SteRule::kIdentity;
    FqKernel kernel = FqKernel::kExact;
    QuantizerKind quantizer = QuantizerKind::kFixed;  // lsq / pact: learned steps where core/train/learned_params.hpp says
};

// The network of a NetworkDesc. Modules are registered under the desc's layer names, so named_parameters()
// and named_buffers() carry exactly core's/PyTorch's state_dict names. Starts float (every layer 32 bits).
class QuantNetImpl : public torch::nn::Module {
public:
    explicit QuantNetImpl(const NetworkDesc& net);

    // x: (N,C,H,W) normalised images, float32, on the module's device; out: (N, classes) logits.
    torch::Tensor forward(torch::Tensor x);

    // Checks the config against the network (core's validate) and keeps it; static ranges become tensors on
    // `device`, where the module lives.
    Status set_quant(const TorchQuant& quant, const torch::Device& device);
    const TorchQuant& quant() const { return quant_; }

    // NHWC activations and conv weights (torch's channels_last): oneDNN's convolutions and max pooling are
    // faster on the CPU in this layout. Logical shapes, names and state_dict contents do not change.
    void set_channels_last(bool on);

    // The learned quantizer parameters (TorchQuant::quantizer lsq / pact; set_quant creates them at 0 = not set, the
    // first forward sets each from its tensor as core's train_step does): 0-d float tensors on the module's device
    // that require grad, not in parameters() (the trainer gives them an optimizer group without weight decay).
    std::vector<torch::Tensor> learned_parameters() const;
    // Their values under core's names (learned_params.hpp), and setting them (tests; a 0 value stays "not set").
    StateDict learned_state() const;
    Status load_learned(const StateDict& values);

    // Copies every state_dict entry of the desc from `sd` (core names; shapes checked by check_weights first).
    Status load(const StateDict& sd, const std::string& source);
    // The state_dict as core holds it (CPU float32, I64 recorded for num_batches_tracked), desc order.
    StateDict to_state_dict();
    const NetworkDesc& desc() const { return net_; }

private:
    torch::Tensor quant_input(const torch::Tensor& x, size_t q);
    torch::Tensor quant_weight(const torch::Tensor& w, size_t q);

    NetworkDesc net_;
    std::vector<torch::nn::Conv2d> conv_;        // per layer index; empty holders elsewhere
    std::vector<torch::nn::Linear> linear_;
    std::vector<torch::nn::BatchNorm2d> bn_;
    TorchQuant quant_;
    bool channels_last_ = false;
    std::vector<TorchQParams> static_act_;       // kStatic: one per conv/linear layer
    // lsq / pact, per conv/linear layer: the weight's and the input's parameter (undefined: not learned), and
    // whether it has been set (a host flag: no device read per forward).
    struct Learned {
        std::string name;
        torch::Tensor param;
        CodeRange range;
        bool set = false;
    };
    std::vector<Learned> learned_w_, learned_a_;
    torch::Tensor learned_quant(const torch::Tensor& v, Learned& l, int64_t per_item);
};
TORCH_MODULE(QuantNet);

// Augmentation as one gather on x's device: a crop of the image zero-padded by `pad` pixels (padding value
// `fill`: -1 is black after Normalize(0.5, 0.5), as torchvision pads before ToTensor) and a horizontal flip.
// x: (B,C,H,W); dy, dx: per-image offsets in [0, 2*pad] (pad = unshifted); flip: 0 or 1 per image.
torch::Tensor crop_flip(const torch::Tensor& x, const std::vector<int64_t>& dy, const std::vector<int64_t>& dx,
                        const std::vector<int64_t>& flip, int64_t pad = kAugPad, double fill = -1.0);
// The same with the draws as (B) int64 tensors on x's device (no host copy: usable inside a CUDA graph).
torch::Tensor crop_flip(const torch::Tensor& x, const torch::Tensor& dy, const torch::Tensor& dx, const torch::Tensor& flip,
                        int64_t pad = kAugPad, double fill = -1.0);

// Colour jitter, then cutout, on x's device: core's jitter_cutout_images (core/train/augment.hpp) step for step.
// x: (B,3,H,W) normalised; cy, cx: (B) int64; brightness, contrast, saturation: (B) float32; all on x's device.
torch::Tensor jitter_cutout(const torch::Tensor& x, const torch::Tensor& cy, const torch::Tensor& cx, const torch::Tensor& brightness,
                            const torch::Tensor& contrast, const torch::Tensor& saturation, const AugSpec& spec);
// The whole augmentation of `spec` (crop/flip, jitter, cutout) with host draws d: core's augment_images on the device.
torch::Tensor augment_on_device(const torch::Tensor& x, const AugDraws& d, const AugSpec& spec);

// uint8 images -> ToTensor + Normalize(0.5, 0.5) on their device: (p / 255 - 0.5) / 0.5 in float32.
torch::Tensor normalize_u8(const torch::Tensor& u8);

// Core's Tensor <-> torch (CPU float32 copies).
torch::Tensor to_torch(const Tensor& t);
Tensor from_torch(const torch::Tensor& t);

}  // namespace quantlab::trainer
