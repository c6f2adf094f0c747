// train_step.cpp: a whole network's training step from the reference layer loops (train_step.hpp).
// The forward keeps every layer's input (and for conv/linear the fake-quantized input and weight with their
// parameters) so that the backward can run the layers in reverse; memory is a few copies of the activations.
#include "core/train/train_step.hpp"

#include <string>
#include <vector>

#include "core/train/loss.hpp"

namespace quantlab {

namespace {

// What the backward needs of one layer.
struct Saved {
    std::vector<float> x;       // the layer's input as it came (before any fake-quant)
    Shape shape;                // x's per-image shape (C,H,W) or (F)
    std::vector<float> xq, wq;  // conv/linear: the input and weight the layer computed with
    QuantParams act, weight;    // their quantizers (scale empty: stayed float)
    std::string act_learned, weight_learned;  // lsq / pact: the learned parameter's name ("": the rule and the STE)
    CodeRange act_range, weight_range;        // the learned quantizers' code ranges
    BnCache<float> bn;
    std::vector<int64_t> argmax;  // max pool
};

// Fake-quant of v (shape `shape`) by `spec`, or a copy when the spec is float; p receives the parameters.
Status quantize_copy(const std::vector<float>& v, const Shape& shape, const QuantSpec& spec, const RealRange* fixed,
                     QuantParams* p, std::vector<float>* out, const std::string& what) {
    *out = v;
    p->scale.clear();
    if (!quantized(spec)) return Status::success();
    if (fixed) {
        *p = params_for_range(*fixed, spec.bits, spec.symmetric);
    } else {
        Result<QuantParams> r = compute_params(v.data(), shape, spec);
        if (!r.ok()) return Status::error("train: " + what + ": " + r.message());
        *p = r.value;
    }
    fake_quant(v.data(), out->data(), int64_t(v.size()), *p);
    return Status::success();
}

// The STE's gradient with respect to the unquantized tensor: g in place (identity keeps it as it is).
void ste_in_place(const std::vector<float>& v, const QuantParams& p, SteRule rule, std::vector<float>* g) {
    if (p.scale.empty() || rule == SteRule::kIdentity) return;
    std::vector<float> out(g->size());
    ste_backward(v.data(), g->data(), out.data(), int64_t(v.size()), p, rule);
    *g = std::move(out);
}

std::vector<float>& tensor_data(StateDict* sd, const std::string& name) { return sd->find(name)->data; }

// Fake-quant of v with the learned parameter `name` of `learned` (set from v first when still 0).
void learned_copy(const std::vector<float>& v, const QuantSpec& spec, QuantizerKind kind, const std::string& name, StateDict* learned,
                  CodeRange* range, std::vector<float>* out) {
    *range = code_range(spec.bits, true, spec.codes);
    float& param = tensor_data(learned, name)[0];
    if (param == 0) param = learned_init(kind, v.data(), int64_t(v.size()), *range);
    out->resize(v.size());
    learned_fake_quant(v.data(), out->data(), int64_t(v.size()), learned_step(kind, param, *range), *range);
}

}  // namespace

Result<StepResult> compute_gradients(const NetworkDesc& net, StateDict* weights_io, const TrainSettings& settings,
                                     const float* x, const int32_t* labels, int64_t n, StateDict* grads, StateDict* learned,
                                     StateDict* learned_grads) {
    if (Status s = validate(net); !s) return s;
    if (Status s = check_weights(net, *weights_io, "the training weights"); !s) return s;
    if (Status s = validate(settings.config, net); !s) return s;
    if (n < 1) return Status::error("train: a step needs at least 1 image");
    const QuantizerKind kind = settings.quantizer;
    StateDict learned_local;
    if (kind != QuantizerKind::kFixed) {
        if (!learned) return Status::error("train: --quantizer " + std::string(quantizer_kind_name(kind)) + " needs its learned parameters (internal)");
        if (Status s = check_learned(net, settings.config, kind); !s) return Status::error("train: " + s.message);
        learned_local = learned->names.empty() ? make_learned_params(net, settings.config, kind) : *learned;
        for (const std::string& name : make_learned_params(net, settings.config, kind).names)
            if (!learned_local.find(name) || learned_local.find(name)->data.size() != 1)
                return Status::error("train: the learned quantizer parameter " + name + " is missing");
    }
    // The running statistics are updated on a copy, committed at the end: a failed step changes nothing.
    StateDict local = *weights_io;
    StateDict* weights = &local;
    const QuantConfig& cfg = settings.config;

    // ---- forward ----
    std::vector<Saved> saved(net.layers.size());
    std::vector<float> cur(x, x + n * numel(net.input));
    Shape shape = net.input;
    size_t q = 0;
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerDesc& l = net.layers[i];
        Saved& sv = saved[i];
        sv.shape = shape;
        const Shape out_shape = net.shape_after(int(i));
        std::vector<float> y(size_t(n * numel(out_shape)));
        switch (l.kind) {
            case LayerKind::kConv2d:
            case LayerKind::kLinear: {
                const LayerQuant& lq = cfg.layers[q];
                const Tensor& w = *weights->find(l.name + ".weight");
                const Tensor& b = *weights->find(l.name + ".bias");
                const RealRange* fixed = cfg.act_mode == ActMode::kStatic ? &cfg.act_ranges[q] : nullptr;
                if (learns_act(cfg, q, kind)) {
                    sv.act_learned = learned_param_name(l.name, false, kind);
                    learned_copy(cur, lq.act, kind, sv.act_learned, &learned_local, &sv.act_range, &sv.xq);
                } else if (Status s = quantize_copy(cur, Shape{int64_t(cur.size())}, lq.act, fixed, &sv.act, &sv.xq,
                                                    l.name + " input");
                           !s) {
                    return s;
                }
                if (learns_weight(cfg, q, kind)) {
                    sv.weight_learned = learned_param_name(l.name, true, kind);
                    learned_copy(w.data, lq.weight, kind, sv.weight_learned, &learned_local, &sv.weight_range, &sv.wq);
                } else if (Status s = quantize_copy(w.data, w.shape, lq.weight, nullptr, &sv.weight, &sv.wq, l.name + ".weight");
                           !s) {
                    return s;
                }
                if (l.kind == LayerKind::kConv2d) {
                    const ConvShape cs{int(n), int(shape[0]), int(shape[1]), int(shape[2]), l.out, l.kernel, l.padding};
                    conv2d_forward(sv.xq.data(), sv.wq.data(), b.data.data(), cs, y.data());
                } else {
                    linear_forward(sv.xq.data(), sv.wq.data(), b.data.data(), int(n), l.in, l.out, y.data());
                }
                ++q;
                break;
            }
            case LayerKind::kBatchNorm2d: {
                float* rm = tensor_data(weights, l.name + ".running_mean").data();
                float* rv = tensor_data(weights, l.name + ".running_var").data();
                const float* gamma = weights->find(l.name + ".weight")->data.data();
                const float* beta = weights->find(l.name + ".bias")->data.data();
                if (Status s = batchnorm_train_forward(cur.data(), n, shape[0], shape[1] * shape[2], gamma, beta,
                                                       settings.bn, rm, rv, y.data(), &sv.bn);
                    !s)
                    return Status::error(s.message + " (layer " + l.name + ")");
                tensor_data(weights, l.name + ".num_batches_tracked")[0] += 1.0f;
                break;
            }
            case LayerKind::kReLU: relu_forward(cur.data(), int64_t(cur.size()), y.data()); break;
            case LayerKind::kMaxPool2d:
                max_pool_forward(cur.data(), n * shape[0], shape[1], shape[2], int64_t(l.kernel), y.data(), &sv.argmax);
                break;
            case LayerKind::kFlatten: y = cur; break;
        }
        sv.x = std::move(cur);
        cur = std::move(y);
        shape = out_shape;
    }

    // ---- loss ----
    const int64_t classes = shape[0];
    std::vector<float> g(cur.size());
    Result<double> loss = softmax_cross_entropy(cur.data(), labels, n, classes, g.data());
    if (!loss.ok()) return loss.status;
    StepResult res;
    res.loss = loss.value;
    for (int64_t b = 0; b < n; ++b) {
        int64_t best = 0;
        for (int64_t k = 1; k < classes; ++k)
            if (cur[size_t(b * classes + k)] > cur[size_t(b * classes + best)]) best = k;
        res.correct += best == labels[b];
    }

    // ---- backward ----
    *grads = StateDict();
    for (const ParamDesc& p : net.params())
        if (p.trainable) grads->set(p.name, Tensor(p.shape));
    StateDict lgrads;
    for (const std::string& name : learned_local.names) lgrads.set(name, Tensor(Shape{1}));
    // dL/d(learned parameter) of tensor v given dL/dv_hat in g; g becomes dL/dv (clipped values get none).
    auto learned_grad = [&](const std::string& name, const std::vector<float>& v, CodeRange range, int64_t per_item,
                            std::vector<float>* g) {
        const float param = learned_local.find(name)->data[0];
        std::vector<float> gin(g->size());
        const double d = learned_backward(kind, v.data(), g->data(), gin.data(), int64_t(v.size()), param, range,
                                          lsq_grad_scale(per_item, range));
        tensor_data(&lgrads, name)[0] = float(d);
        *g = std::move(gin);
    };
    for (size_t i = net.layers.size(); i-- > 0;) {
        const LayerDesc& l = net.layers[i];
        Saved& sv = saved[i];
        // Nobody wants the images' gradient, but a learned input step of the first layer needs dL/dx_hat.
        const bool need_dx = i > 0 || !sv.act_learned.empty();
        std::vector<float> dx(need_dx ? sv.x.size() : 0);
        float* dxp = need_dx ? dx.data() : nullptr;
        switch (l.kind) {
            case LayerKind::kConv2d:
            case LayerKind::kLinear: {
                std::vector<float>& dw = tensor_data(grads, l.name + ".weight");
                float* db = tensor_data(grads, l.name + ".bias").data();
                if (l.kind == LayerKind::kConv2d) {
                    const ConvShape cs{int(n), int(sv.shape[0]), int(sv.shape[1]), int(sv.shape[2]),
                                       l.out,  l.kernel,         l.padding};
                    conv2d_backward(sv.xq.data(), sv.wq.data(), g.data(), cs, dxp, dw.data(), db);
                } else {
                    linear_backward(sv.xq.data(), sv.wq.data(), g.data(), int(n), l.in, l.out, dxp, dw.data(), db);
                }
                const std::vector<float>& w = weights->find(l.name + ".weight")->data;
                if (!sv.weight_learned.empty())
                    learned_grad(sv.weight_learned, w, sv.weight_range, int64_t(w.size()), &dw);
                else
                    ste_in_place(w, sv.weight, settings.ste, &dw);
                if (!sv.act_learned.empty())  // LSQ's g counts an activation's features per image
                    learned_grad(sv.act_learned, sv.x, sv.act_range, numel(sv.shape), &dx);
                else if (need_dx)
                    ste_in_place(sv.x, sv.act, settings.ste, &dx);
                break;
            }
            case LayerKind::kBatchNorm2d:
                batchnorm_backward(g.data(), n, sv.shape[0], sv.shape[1] * sv.shape[2],
                                   weights->find(l.name + ".weight")->data.data(), sv.bn, dxp,
                                   tensor_data(grads, l.name + ".weight").data(),
                                   tensor_data(grads, l.name + ".bias").data());
                break;
            case LayerKind::kReLU:
                if (need_dx) relu_backward(sv.x.data(), g.data(), int64_t(g.size()), dxp);
                break;
            case LayerKind::kMaxPool2d:
                if (need_dx)
                    max_pool_backward(g.data(), sv.argmax, n * sv.shape[0], sv.shape[1], sv.shape[2], int64_t(l.kernel),
                                      dxp);
                break;
            case LayerKind::kFlatten:
                if (need_dx) dx = g;
                break;
        }
        g = std::move(dx);
        std::vector<float>().swap(sv.x);  // free as we go
    }
    *weights_io = std::move(local);
    if (kind != QuantizerKind::kFixed) {
        *learned = std::move(learned_local);
        if (learned_grads) *learned_grads = std::move(lgrads);
    }
    return res;
}

Result<StepResult> train_step(const NetworkDesc& net, StateDict* weights, const TrainSettings& settings, const float* x,
                              const int32_t* labels, int64_t n, ParamOptimizer* optimizer, StateDict* grads, StateDict* learned,
                              ParamOptimizer* learned_optimizer) {
    StateDict local, lgrads;
    StateDict* gr = grads ? grads : &local;
    Result<StepResult> r = compute_gradients(net, weights, settings, x, labels, n, gr, learned, &lgrads);
    if (!r.ok()) return r;
    if (Status s = optimizer->step(weights, *gr); !s) return s;
    if (settings.quantizer != QuantizerKind::kFixed) {
        if (!learned_optimizer) return Status::error("train: the learned quantizer parameters need an optimizer (internal)");
        if (Status s = learned_optimizer->step(learned, lgrads); !s) return s;
    }
    return r;
}

}  // namespace quantlab
