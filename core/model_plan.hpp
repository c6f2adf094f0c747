// model_plan.hpp: a configured Model's forward pass as a flat list of steps, decided once when the Model is
// configured (Model::configure builds it, Model::forward runs it): which layers run fused into one pass and
// which conv/linear layers run on integer codes. Structure only: the Model holds the packed weights.
#pragma once
#include <vector>

#include "core/network.hpp"

namespace quantlab {

enum class StepOp {
    kConv, kLinear,        // float kernels (reference or fast), the input fake-quantized if its activation is
    kConvInt, kLinearInt,  // integer kernels: weight and input activation both quantized to <= 8 bits
    kBatchNorm, kReLU, kMaxPool, kFlatten,
};

struct PlanStep {
    StepOp op = StepOp::kFlatten;
    int layer = 0;   // its first layer: an index into NetworkDesc::layers
    int layers = 1;  // how many layers it runs: its own and those fused after it
    int q = -1;      // conv/linear: index among the conv/linear layers (QuantConfig::layers, Model's layer q)
    // Layers fused into the step's own pass (the same values as their own passes): kConvInt: the BatchNorm
    // right after it, then a ReLU, then a 2x2 max pool, each only after the one before (conv2d_int's
    // ConvPost); kBatchNorm: a ReLU right after it (affine_planes).
    bool bn = false, relu = false, pool2 = false;
    Shape in, out;   // per-image shapes before and after the step
};

// integer[q]: whether conv/linear layer q runs on integer codes (all false for the float backends; missing
// entries are false). The float convs fuse nothing: conv2d_fast has no output pass.
std::vector<PlanStep> build_plan(const NetworkDesc& net, const std::vector<bool>& integer);

}  // namespace quantlab
