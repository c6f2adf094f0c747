// train_step.hpp: one training step of a whole NetworkDesc in core, the reference QAT engine: forward in
// training mode (BatchNorm on batch statistics, running statistics updated), each conv/linear layer's input and
// weight fake-quantized by its QuantConfig spec with the STE (identity or clipped) as the LibTorch trainer defines
// it (native/trainer/torch_model.cpp), softmax cross-entropy, backward, and an optimizer update.
// Built from the layer loops of layer_grads.hpp (TrainKernels::kReference: single-threaded) or of
// layer_grads_fast.hpp (kFast, the default); deterministic either way.
#pragma once
#include <cstdint>

#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "core/quantizer.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"
#include "core/train/layer_grads.hpp"
#include "core/train/learned_params.hpp"
#include "core/train/optimizer.hpp"

namespace quantlab {

// Which layer loops a step runs. kReference: layer_grads.hpp, single-threaded, the definition. kFast:
// layer_grads_fast.hpp (SIMD GEMMs, threads through parallel.hpp's pool, SIMD fake-quant of the activations):
// the same step up to float rounding (sums in another order), and the same bits for any thread count.
enum class TrainKernels { kFast, kReference };

struct TrainSettings {
    QuantConfig config;                // per-layer specs (kFloatBits: float); dynamic or static activation ranges
    SteRule ste = SteRule::kIdentity;  // the fake-quants' backward
    BnSettings bn;                     // nn.BatchNorm2d's eps and momentum
    TrainKernels kernels = TrainKernels::kFast;
    // lsq / pact: the tensors learned_params.hpp names are fake-quantized with their learned step (quantizer.hpp's
    // learned_fake_quant / learned_backward) instead of the rule and the STE; the rest as above.
    QuantizerKind quantizer = QuantizerKind::kFixed;
};

struct StepResult {
    double loss = 0;      // mean cross-entropy of the batch, before the update
    int64_t correct = 0;  // images whose largest logit (the first, on ties) is their label
};

// The forward and backward pass on batch x (n, C,H,W) with labels (n): fills `grads` with dL/dp for every
// trainable parameter (net.params() names and order; weights get the STE's gradient with respect to the float
// weight) and updates each BatchNorm's running_mean, running_var and num_batches_tracked in `weights`, as
// torch's forward in training mode does. The parameters themselves are not changed.
// Fails with a clear message on weights that do not fit the network, an invalid config, a bad label, a
// non-finite activation that a quantizer would have to code, or a BatchNorm with one value per channel.
// With settings.quantizer lsq or pact, `learned` holds the learned parameters (learned_params.hpp; empty: created
// here), those still 0 are set from this batch's tensors (committed with the running statistics), and
// `learned_grads` receives dL/d(parameter) under the same names.
Result<StepResult> compute_gradients(const NetworkDesc& net, StateDict* weights, const TrainSettings& settings,
                                     const float* x, const int32_t* labels, int64_t n, StateDict* grads,
                                     StateDict* learned = nullptr, StateDict* learned_grads = nullptr);

// compute_gradients, then one optimizer step on the trainable parameters. grads (optional) receives the gradients.
// With lsq / pact, learned_optimizer (its own settings: the trainer gives it no weight decay) updates `learned`.
Result<StepResult> train_step(const NetworkDesc& net, StateDict* weights, const TrainSettings& settings, const float* x,
                              const int32_t* labels, int64_t n, ParamOptimizer* optimizer, StateDict* grads = nullptr,
                              StateDict* learned = nullptr, ParamOptimizer* learned_optimizer = nullptr);

}  // namespace quantlab
