// inference.hpp: batched inference of a NetworkDesc in plain C++: float, fake-quant (per-layer weight and
// activation specs, activation scales per batch or calibrated and frozen) and integer (int32 accumulation
// of centred codes, one rescale). BN in eval mode. No training here: that is LibTorch's job (native/).
#pragma once
#include <string>
#include <vector>

#include "core/kernels.hpp"
#include "core/model_plan.hpp"
#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "core/quantizer.hpp"
#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab {

enum class Backend {
    kReference,  // reference kernels (slow, the definition)
    kFast,       // SIMD/threaded float kernels
    kInteger,    // integer kernels where weight and activation are both <= 8 bits, fast float elsewhere
};
const char* backend_name(Backend backend);                 // "reference", "fast", "integer"
Result<Backend> parse_backend(const std::string& name);   // inverse of backend_name

// What a forward pass saw, for the UI and for calibration: the float input of every conv/linear layer
// (before its activation quantizer) and the activation parameters used.
struct ForwardTrace {
    std::vector<Tensor> inputs;
    std::vector<QuantParams> act_params;  // empty entries where the activation stayed float
};

class Model {
public:
    // Checks the weights against the description (names, shapes, finite values).
    static Result<Model> create(const NetworkDesc& net, const StateDict& weights, const std::string& source);

    const NetworkDesc& desc() const { return net_; }
    const StateDict& weights() const { return weights_; }
    const QuantConfig& config() const { return config_; }

    // Quantizes the weights for `config` once (fake-quant copies, integer codes) and builds the plan: the
    // forward pass's steps with their fusions, and the weights packed for the kernels. Starts as float.
    Status configure(const QuantConfig& config);

    // x: (n, C,H,W) normalised images, logits: (n, classes). Dynamic activation ranges are per call,
    // so the batch the caller passes is the notebook's batch.
    Status forward(const float* x, int64_t n, float* logits, Backend backend, ForwardTrace* trace = nullptr) const;

    // Calibrates static activation ranges: a forward pass over x in batches with the configured weights and
    // per-batch activation ranges; each layer's activation rule (config's) picks a range per batch and the
    // ranges are averaged over the batches. Returns one range per conv/linear layer.
    Result<std::vector<RealRange>> calibrate(const float* x, int64_t n, int64_t batch) const;

    // The weight tensor a layer computes with under the current config (float or fake-quantized),
    // and its parameters (empty scale when float). q: index among conv/linear layers.
    const Tensor& layer_weight(int q) const { return qlayers_[size_t(q)].weight_fq; }
    const QuantParams& layer_weight_params(int q) const { return qlayers_[size_t(q)].weight_params; }
    int num_quant_layers() const { return int(qlayers_.size()); }

    // The steps forward runs for a backend under the current config (the float backends share one plan).
    const std::vector<PlanStep>& plan(Backend backend) const { return backend == Backend::kInteger ? plan_int_ : plan_float_; }

private:
    struct QLayer {
        int layer = 0;                  // index into net_.layers
        Tensor weight_fq;               // float or fake-quantized weight
        QuantParams weight_params;      // scale empty when float
        PackedWeightI16 weight_int;     // the codes q - Z packed for the integer kernels (if the layer runs on codes)
        PackedWeightF32 weight_fast;    // weight_fq packed for linear_fast (linear layers)
        std::vector<float> bias;        // a copy, so that Model stays safely copyable
    };
    struct BnLayer {
        std::vector<float> alpha, beta;  // y = x * alpha + beta (eval-mode BN folded per channel)
    };
    NetworkDesc net_;
    StateDict weights_;
    QuantConfig config_;
    std::vector<QLayer> qlayers_;
    std::vector<BnLayer> bn_;        // one per layer index (empty for non-BN layers)
    std::vector<PlanStep> plan_float_, plan_int_;  // Backend::kReference/kFast, Backend::kInteger
};

// Static calibration, the one every front end uses (`quantlab eval --mode static`, the app's static mode, the
// trainer's export): `config` with its activations made static, their ranges calibrated by Model::calibrate on
// x (n images, batches of `batch`) with config's weights and rules and per-batch activation ranges. model's
// own configuration does not matter (it may be the float model). x: (n,C,H,W) normalised images.
Result<QuantConfig> calibrated(const Model& model, QuantConfig config, const float* x, int64_t n, int64_t batch);

// compute_params of a per-tensor activation (n values), with the two cheap rules (max-abs, min-max: one pass
// each) in SIMD: the same range, so the same parameters. Model::forward and the fast training step use it.
Result<QuantParams> activation_params_fast(const float* x, int64_t n, const QuantSpec& spec);

}  // namespace quantlab
