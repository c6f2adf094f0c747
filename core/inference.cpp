// inference.cpp: Model: weight preparation per QuantConfig and the layer-by-layer forward pass.
#include "core/inference.hpp"

#include <algorithm>
#include <cmath>

#include "core/enum_names.hpp"
#include "core/kernels.hpp"
#include "core/quant_params_fast.hpp"
#include "core/scratch.hpp"

namespace quantlab {

namespace {
constexpr float kBnEps = 1e-5f;  // nn.BatchNorm2d's default
constexpr int kMaxIntBits = 8;   // int16 centred codes x int16 codes stay exact in int32 up to 8 bits

// The integer backend runs a conv/linear layer on codes when its weight and its input are both quantized to
// at most kMaxIntBits; other layers run the fast float kernels.
bool runs_on_codes(const LayerQuant& lq) {
    return quantized(lq.weight) && lq.weight.bits <= kMaxIntBits && quantized(lq.act) && lq.act.bits <= kMaxIntBits;
}

}  // namespace

// (inference.hpp) The two cheap rules in SIMD; the others, and a non-finite input (for its message), go to the
// quantizer's own code.
Result<QuantParams> activation_params_fast(const float* x, int64_t n, const QuantSpec& spec) {
    if (spec.rule == RangeRule::kMse) return compute_params_fast(x, Shape{n}, spec);
    const bool cheap = spec.rule == RangeRule::kMaxAbs || spec.rule == RangeRule::kMinMax;
    if (!cheap || spec.per_channel || n <= 0 || !validate(spec) || !all_finite(x, n)) return compute_params(x, Shape{n}, spec);
    RealRange r;
    min_max(x, n, &r.alpha, &r.beta);
    if (spec.rule == RangeRule::kMaxAbs) {  // max |x| = max(|min|, |max|), exactly
        const float m = std::max(std::fabs(r.alpha), std::fabs(r.beta));
        r = {-m, m};
    }
    return params_for_range(r, spec.bits, spec.symmetric, spec.codes);
}

namespace {
constexpr EnumName<Backend> kBackendNames[] = {
    {Backend::kReference, "reference"}, {Backend::kFast, "fast"}, {Backend::kInteger, "integer"}};
}  // namespace

const char* backend_name(Backend backend) { return enum_name(kBackendNames, backend); }

Result<Backend> parse_backend(const std::string& name) {
    return enum_from_name(kBackendNames, name, "backend: unknown '" + name + "', expected reference, fast or integer");
}

Result<Model> Model::create(const NetworkDesc& net, const StateDict& weights, const std::string& source) {
    if (Status s = validate(net); !s) return s;
    if (Status s = check_weights(net, weights, source); !s) return s;
    Model m;
    m.net_ = net;
    m.weights_ = weights;
    m.bn_.resize(net.layers.size());
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerDesc& l = net.layers[i];
        if (l.kind != LayerKind::kBatchNorm2d) continue;
        const Tensor& w = *m.weights_.find(l.name + ".weight");
        const Tensor& b = *m.weights_.find(l.name + ".bias");
        const Tensor& mean = *m.weights_.find(l.name + ".running_mean");
        const Tensor& var = *m.weights_.find(l.name + ".running_var");
        BnLayer& bn = m.bn_[i];
        for (int c = 0; c < l.in; ++c) {
            // ATen's CPU inference kernel computes the same alpha/beta and then x * alpha + beta.
            const float a = w.data[size_t(c)] / std::sqrt(var.data[size_t(c)] + kBnEps);
            bn.alpha.push_back(a);
            bn.beta.push_back(b.data[size_t(c)] - mean.data[size_t(c)] * a);
        }
    }
    if (Status s = m.configure(make_config(net, kFloatBits, kFloatBits)); !s) return s;
    return m;
}

Status Model::configure(const QuantConfig& config) {
    if (Status s = validate(config, net_); !s) return s;
    std::vector<QLayer> q;
    std::vector<bool> on_codes;
    for (int li : net_.quant_layers()) {
        const LayerDesc& l = net_.layers[size_t(li)];
        const LayerQuant& lq = config.layers[q.size()];
        QLayer ql;
        ql.layer = li;
        ql.bias = weights_.find(l.name + ".bias")->data;
        const Tensor& w = *weights_.find(l.name + ".weight");
        on_codes.push_back(runs_on_codes(lq));
        if (quantized(lq.weight)) {
            Result<QuantParams> p = QuantParams{};
            if (!learned_weight_params(config, q.size(), &p.value)) p = compute_params_fast(w.data.data(), w.shape, lq.weight);  // a learned S, else the rule
            if (!p.ok()) return Status::error("layer " + l.name + " weight: " + p.message());
            ql.weight_params = p.value;
            ql.weight_fq = Tensor(w.shape);
            fake_quant(w.data.data(), ql.weight_fq.data.data(), w.numel(), p.value);
            if (on_codes.back()) {
                const std::vector<int32_t> codes = quantize(w.data.data(), w.numel(), p.value);
                const int64_t channels = int64_t(p.value.scale.size()), cs = w.numel() / channels;
                std::vector<int16_t> centred(codes.size());
                for (size_t i = 0; i < codes.size(); ++i) centred[i] = int16_t(codes[i] - p.value.zero_point[i / size_t(cs)]);
                if (l.kind == LayerKind::kConv2d) {
                    const ConvShape shape{0, l.in, 0, 0, l.out, l.kernel, l.padding};  // all pack_conv_int reads
                    ql.weight_int = pack_conv_int(centred.data(), shape);
                } else {
                    ql.weight_int = pack_linear_int(centred.data(), l.in, l.out);
                }
            }
        } else {
            ql.weight_fq = w;
        }
        if (l.kind == LayerKind::kLinear) ql.weight_fast = pack_linear_fast(ql.weight_fq.data.data(), l.in, l.out);
        q.push_back(std::move(ql));
    }
    qlayers_ = std::move(q);
    plan_float_ = build_plan(net_, {});
    plan_int_ = build_plan(net_, on_codes);
    config_ = config;
    return Status::success();
}

// Runs the plan's steps. The activations stay NCHW and float between steps.
Status Model::forward(const float* x, int64_t n, float* logits, Backend backend, ForwardTrace* trace) const {
    if (n <= 0) return Status::error("forward: empty batch");
    const bool reference = backend == Backend::kReference;
    // Activation buffers per thread, kept between calls and only ever grown: no allocation and no zero-fill
    // per batch (every step writes all of its output), and safe for the evaluation threads that share
    // one Model. The live activations are the n * numel(shape) values at cur.
    thread_local std::vector<float> buf_a, buf_b;
    thread_local std::vector<int16_t> codes_buf;
    std::vector<float>*cur_buf = &buf_a, *next_buf = &buf_b;
    float* cur = scratch(buf_a, n * numel(net_.input));
    std::copy(x, x + n * numel(net_.input), cur);  // a copy: fake-quant works in place
    if (trace) {
        trace->inputs.clear();
        trace->act_params.clear();
    }
    for (const PlanStep& st : plan(backend)) {
        const LayerDesc& l = net_.layers[size_t(st.layer)];
        const int64_t total = n * numel(st.in);
        switch (st.op) {
            case StepOp::kConv:
            case StepOp::kLinear:
            case StepOp::kConvInt:
            case StepOp::kLinearInt: {
                const QLayer& ql = qlayers_[size_t(st.q)];
                const LayerQuant& lq = config_.layers[size_t(st.q)];
                QuantParams ap;
                if (trace) {
                    Shape s{n};
                    s.insert(s.end(), st.in.begin(), st.in.end());
                    trace->inputs.push_back(Tensor(s, std::vector<float>(cur, cur + total)));
                }
                if (quantized(lq.act)) {
                    if (config_.act_mode == ActMode::kDynamic) {
                        Result<QuantParams> p = reference ? compute_params(cur, Shape{total}, lq.act) : activation_params_fast(cur, total, lq.act);
                        if (!p.ok()) return Status::error("forward: layer " + l.name + " input: " + p.message());
                        ap = p.value;
                    } else if (!learned_act_params(config_, size_t(st.q), &ap)) {  // a learned S, else the calibrated range
                        ap = params_for_range(config_.act_ranges[size_t(st.q)], lq.act.bits, lq.act.symmetric, lq.act.codes);
                    }
                }
                if (trace) trace->act_params.push_back(ap);
                const float* bias = ql.bias.data();
                float* next = scratch(*next_buf, n * numel(st.out));  // every kernel writes all of its output
                const auto conv_shape = [&] { return ConvShape{int(n), int(st.in[0]), int(st.in[1]), int(st.in[2]), l.out, l.kernel, l.padding}; };
                if (st.op == StepOp::kConvInt || st.op == StepOp::kLinearInt) {
                    int16_t* codes = scratch(codes_buf, total);
                    const float s_in = ap.scale[0];
                    quantize_centred(cur, total, s_in, ap.zero_point[0], ap.range.qmin, ap.range.qmax, codes, ap.range.multiply_inverse);
                    std::vector<float> out_scale(size_t(l.out));
                    for (int o = 0; o < l.out; ++o) out_scale[size_t(o)] = s_in * ql.weight_params.scale[ql.weight_params.per_channel() ? size_t(o) : 0];
                    if (st.op == StepOp::kConvInt) {
                        ConvPost post;  // the plan's fused layers; `next` fits the pooled output
                        if (st.bn) {
                            post.scale = bn_[size_t(st.layer) + 1].alpha.data();
                            post.shift = bn_[size_t(st.layer) + 1].beta.data();
                        }
                        post.relu = st.relu;
                        post.pool2 = st.pool2;
                        conv2d_int(codes, ql.weight_int, out_scale.data(), bias, conv_shape(), next, post);
                    } else {
                        linear_int(codes, ql.weight_int, out_scale.data(), bias, int(n), l.in, l.out, next);
                    }
                } else {
                    if (quantized(lq.act)) {
                        if (reference)
                            fake_quant(cur, cur, total, ap);
                        else  // the same values, in SIMD (activations are per-tensor)
                            fake_quant_tensor(cur, total, ap.scale[0], ap.zero_point[0], ap.range.qmin, ap.range.qmax, cur,
                                              ap.range.multiply_inverse);
                    }
                    const float* w = ql.weight_fq.data.data();
                    if (st.op == StepOp::kConv)
                        (reference ? conv2d_reference : conv2d_fast)(cur, w, bias, conv_shape(), next);
                    else if (reference)
                        linear_reference(cur, w, bias, int(n), l.in, l.out, next);
                    else
                        linear_fast(cur, ql.weight_fast, bias, int(n), l.in, l.out, next);
                }
                std::swap(cur_buf, next_buf);
                cur = next;
                break;
            }
            case StepOp::kBatchNorm: {
                const BnLayer& bn = bn_[size_t(st.layer)];
                affine_planes(cur, n, st.in[0], st.in[1] * st.in[2], bn.alpha.data(), bn.beta.data(), st.relu);
                break;
            }
            case StepOp::kReLU:
                for (int64_t i = 0; i < total; ++i) cur[i] = cur[i] > 0 ? cur[i] : 0.0f;  // NaN would become 0: inputs are checked finite upstream
                break;
            case StepOp::kMaxPool: {
                float* next = scratch(*next_buf, n * numel(st.out));
                max_pool(cur, n * st.in[0], st.in[1], st.in[2], l.kernel, next);
                std::swap(cur_buf, next_buf);
                cur = next;
                break;
            }
            case StepOp::kFlatten:
                break;  // NCHW is already flat per image in PyTorch's order
        }
    }
    const int64_t per_image_out = numel(net_.shape_after(int(net_.layers.size()) - 1));
    std::copy(cur, cur + n * per_image_out, logits);
    return Status::success();
}

namespace {

// The activation ranges calibration freezes: a forward pass over x in batches on a copy of `model` configured
// with `config`'s weights and rules and per-batch activation ranges (the quantized network, not the float one:
// calibrating on the float network misjudges every layer after the first at low bit widths, and QAT models
// trained with per-batch ranges then fall to chance under static ranges). Each layer's rule picks a range per
// batch and the ranges are averaged over the batches, as PyTorch's moving-average observers do: the frozen
// range is then the typical per-batch range the network was trained and evaluated with, not the single
// largest outlier of the calibration set.
Result<std::vector<RealRange>> observe_ranges(const Model& model, const QuantConfig& config, const float* x, int64_t n, int64_t batch) {
    if (n <= 0 || batch <= 0) return Status::error("calibrate: needs at least one image and a positive batch size");
    const NetworkDesc& net = model.desc();
    const int nq = int(config.layers.size());
    const int64_t per_image = numel(net.input);
    std::vector<float> logits;
    Model observer = model;
    QuantConfig dyn = config;
    dyn.act_mode = ActMode::kDynamic;
    dyn.act_ranges.clear();
    if (Status s = observer.configure(dyn); !s) return s;
    std::vector<double> alpha(size_t(nq), 0.0), beta(size_t(nq), 0.0);
    int64_t batches = 0;
    for (int64_t b0 = 0; b0 < n; b0 += batch, ++batches) {
        const int64_t nb = std::min(batch, n - b0);
        ForwardTrace trace;
        logits.resize(size_t(nb * net.num_classes()));
        if (Status s = observer.forward(x + b0 * per_image, nb, logits.data(), Backend::kFast, &trace); !s) return s;
        for (int q = 0; q < nq; ++q) {
            QuantSpec spec = config.layers[size_t(q)].act;
            if (!quantized(spec)) spec.bits = 8;  // a float layer still gets a range, used if its bits change later
            const Tensor& in = trace.inputs[size_t(q)];
            const RealRange r = choose_range(in.data.data(), in.numel(), spec);
            alpha[size_t(q)] += r.alpha;
            beta[size_t(q)] += r.beta;
        }
    }
    std::vector<RealRange> ranges;
    for (int q = 0; q < nq; ++q) ranges.push_back({float(alpha[size_t(q)] / double(batches)), float(beta[size_t(q)] / double(batches))});
    return ranges;
}

}  // namespace

Result<std::vector<RealRange>> Model::calibrate(const float* x, int64_t n, int64_t batch) const {
    return observe_ranges(*this, config_, x, n, batch);
}

Result<QuantConfig> calibrated(const Model& model, QuantConfig config, const float* x, int64_t n, int64_t batch) {
    Result<std::vector<RealRange>> ranges = observe_ranges(model, config, x, n, batch);
    if (!ranges.ok()) return ranges.status;
    config.act_mode = ActMode::kStatic;
    config.act_ranges = std::move(ranges.value);
    if (Status s = validate(config, model.desc()); !s) return s;
    return config;
}

}  // namespace quantlab
