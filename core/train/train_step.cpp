// train_step.cpp: a whole network's training step from the layer loops (train_step.hpp): the reference ones
// (layer_grads.hpp) or the fast ones (layer_grads_fast.hpp), chosen by TrainSettings::kernels, layer by layer in
// the same places. The forward keeps every layer's input (and for conv/linear the fake-quantized input and weight
// with their parameters) so that the backward can run the layers in reverse; memory is a few copies of the
// activations.
#include "core/train/train_step.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/inference.hpp"
#include "core/kernels.hpp"
#include "core/quant_params_fast.hpp"
#include "core/parallel.hpp"
#include "core/train/layer_grads_fast.hpp"
#include "core/train/loss.hpp"

namespace quantlab {

namespace {

// An allocator whose value-initialisation leaves floats uninitialised. Every activation and gradient buffer of
// a step is written in full before it is read, and zero-filling them (about 100 MB a step for the notebook's net
// at batch 128) was 7 % of the fast step.
template <class T>
struct NoInit : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = NoInit<U>;
    };
    NoInit() = default;
    template <class U>
    NoInit(const NoInit<U>&) {}
    template <class U>
    void construct(U* p) noexcept {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... A>
    void construct(U* p, A&&... a) {
        ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
    }
};
using Buf = std::vector<float, NoInit<float>>;

// What the backward needs of one layer.
struct Saved {
    Buf x;       // the layer's input as it came (before any fake-quant)
    Shape shape;  // x's per-image shape (C,H,W) or (F)
    Buf xq, wq;  // conv/linear: the input and weight the layer computed with; empty: stayed float
    QuantParams act, weight;    // their quantizers (scale empty: stayed float)
    std::string act_learned, weight_learned;  // lsq / pact: the learned parameter's name ("": the rule and the STE)
    CodeRange act_range, weight_range;        // the learned quantizers' code ranges
    BnCache<float> bn;
    std::vector<int64_t> argmax;       // max pool
    std::vector<uint8_t> window_arg;  // a max pool fused with a BatchNorm (bn_relu_max_pool_*)
    // Fast kernels run a ReLU and the max pool after it as one (layer_grads_fast.hpp's relu_max_pool_*), and a
    // BatchNorm, ReLU and max pool as one (bn_relu_max_pool_*): the pool's `fused` counts the layers it stands
    // for (its backward is theirs too); the others are marked `in_fused`, and their outputs were never written.
    int fused = 1;
    bool in_fused = false;
};

// Per-tensor fake quantization in SIMD (kernels.hpp; the same values as fake_quant), in blocks over threads.
void fake_quant_fast(const float* v, int64_t n, const QuantParams& p, float* out) {
    if (p.scale.size() != 1) return fake_quant(v, out, n, p);
    constexpr int64_t kBlock = int64_t(1) << 15;
    const auto run = [&](int64_t b0, int64_t b1) {
        const int64_t i0 = b0 * kBlock, i1 = std::min(n, b1 * kBlock);
        fake_quant_tensor(v + i0, i1 - i0, p.scale[0], p.zero_point[0], p.range.qmin, p.range.qmax, out + i0,
                          p.range.multiply_inverse);
    };
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    if (blocks > 1)
        parallel_for(0, blocks, run);
    else
        run(0, blocks);
}

// Fake-quant of v (n values, shape `shape`) by `spec` into out; a float spec leaves out empty (the layer then
// computes with v itself). p receives the parameters. fast: the activations' range in SIMD and the SIMD
// fake-quant (the same parameters and values as the quantizer's own code).
Status quantize_copy(const float* v, int64_t n, const Shape& shape, const QuantSpec& spec, const RealRange* fixed,
                     bool fast, QuantParams* p, Buf* out, const std::string& what) {
    out->clear();
    p->scale.clear();
    if (!quantized(spec)) return Status::success();
    if (fixed) {
        *p = params_for_range(*fixed, spec.bits, spec.symmetric);
    } else {
        Result<QuantParams> r = !fast ? compute_params(v, shape, spec)
                                 : shape.size() == 1 ? activation_params_fast(v, n, spec) : compute_params_fast(v, shape, spec);
        if (!r.ok()) return Status::error("train: " + what + ": " + r.message());
        *p = r.value;
    }
    out->resize(size_t(n));
    if (fast)
        fake_quant_fast(v, n, *p, out->data());
    else
        fake_quant(v, out->data(), n, *p);
    return Status::success();
}

// The STE's gradient with respect to the unquantized tensor: g in place (identity keeps it as it is).
template <class Vec>
void ste_in_place(const float* v, const QuantParams& p, SteRule rule, Vec* g) {
    if (p.scale.empty() || rule == SteRule::kIdentity) return;
    Vec out(g->size());
    ste_backward(v, g->data(), out.data(), int64_t(g->size()), p, rule);
    *g = std::move(out);
}

std::vector<float>& tensor_data(StateDict* sd, const std::string& name) { return sd->find(name)->data; }

// Fake-quant of v (n values) with the learned parameter `name` of `learned` (set from v first when still 0).
void learned_copy(const float* v, int64_t n, const QuantSpec& spec, QuantizerKind kind, const std::string& name, StateDict* learned,
                  CodeRange* range, Buf* out) {
    *range = code_range(spec.bits, spec.symmetric, spec.codes);
    float& param = tensor_data(learned, name)[0];
    if (param == 0) param = learned_init(kind, v, n, *range);
    out->resize(size_t(n));
    learned_fake_quant(v, out->data(), n, learned_step(kind, param, *range), *range);
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
    const bool fast = settings.kernels == TrainKernels::kFast;

    // ---- forward ----
    std::vector<Saved> saved(net.layers.size());
    Buf cur(x, x + n * numel(net.input));
    Shape shape = net.input;
    size_t q = 0;
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerDesc& l = net.layers[i];
        Saved& sv = saved[i];
        sv.shape = shape;
        const auto kind_at = [&](size_t j) { return j < net.layers.size() ? net.layers[j].kind : LayerKind::kFlatten; };
        const bool bn_relu_pool = l.kind == LayerKind::kBatchNorm2d && kind_at(i + 1) == LayerKind::kReLU &&
                                  kind_at(i + 2) == LayerKind::kMaxPool2d && net.layers[i + 2].kernel <= kMaxFusedPoolWindow;
        const bool relu_pool = l.kind == LayerKind::kReLU && kind_at(i + 1) == LayerKind::kMaxPool2d;
        if (fast && (bn_relu_pool || relu_pool)) {
            const size_t last = i + (bn_relu_pool ? 2 : 1);
            Saved& ps = saved[last];
            ps.fused = int(last - i + 1);
            for (size_t j = i; j < last; ++j) {
                saved[j].shape = shape;
                saved[j].in_fused = true;
            }
            ps.shape = shape;
            const Shape pooled = net.shape_after(int(last));
            const int64_t k = int64_t(net.layers[last].kernel);
            Buf y(size_t(n * numel(pooled)));
            if (relu_pool) {
                relu_max_pool_forward_fast(cur.data(), n * shape[0], shape[1], shape[2], k, y.data(), &ps.argmax);
            } else {
                float* rm = tensor_data(weights, l.name + ".running_mean").data();
                float* rv = tensor_data(weights, l.name + ".running_var").data();
                const float* gamma = weights->find(l.name + ".weight")->data.data();
                const float* beta = weights->find(l.name + ".bias")->data.data();
                if (Status s = bn_relu_max_pool_forward_fast(cur.data(), n, shape[0], shape[1], shape[2], k, gamma, beta,
                                                             settings.bn, rm, rv, y.data(), &sv.bn, &ps.window_arg);
                    !s)
                    return Status::error(s.message + " (layer " + l.name + ")");
                tensor_data(weights, l.name + ".num_batches_tracked")[0] += 1.0f;
            }
            sv.x = std::move(cur);  // the first layer's input: the ReLU's (where its gradient passes), the BatchNorm's
            cur = std::move(y);
            shape = pooled;
            i = last;
            continue;
        }
        const Shape out_shape = net.shape_after(int(i));
        Buf y(l.kind == LayerKind::kFlatten ? 0 : size_t(n * numel(out_shape)));
        switch (l.kind) {
            case LayerKind::kConv2d:
            case LayerKind::kLinear: {
                const LayerQuant& lq = cfg.layers[q];
                const Tensor& w = *weights->find(l.name + ".weight");
                const Tensor& b = *weights->find(l.name + ".bias");
                const RealRange* fixed = cfg.act_mode == ActMode::kStatic ? &cfg.act_ranges[q] : nullptr;
                if (learns_act(cfg, q, kind)) {
                    sv.act_learned = learned_param_name(l.name, false, kind);
                    learned_copy(cur.data(), int64_t(cur.size()), lq.act, kind, sv.act_learned, &learned_local, &sv.act_range, &sv.xq);
                } else if (Status s = quantize_copy(cur.data(), int64_t(cur.size()), Shape{int64_t(cur.size())}, lq.act, fixed,
                                                    fast, &sv.act, &sv.xq, l.name + " input");
                           !s) {
                    return s;
                }
                if (learns_weight(cfg, q, kind)) {
                    sv.weight_learned = learned_param_name(l.name, true, kind);
                    learned_copy(w.data.data(), w.numel(), lq.weight, kind, sv.weight_learned, &learned_local, &sv.weight_range, &sv.wq);
                } else if (Status s = quantize_copy(w.data.data(), w.numel(), w.shape, lq.weight, nullptr, fast, &sv.weight,
                                                    &sv.wq, l.name + ".weight");
                           !s) {
                    return s;
                }
                const float* xq = sv.xq.empty() ? cur.data() : sv.xq.data();
                const float* wq = sv.wq.empty() ? w.data.data() : sv.wq.data();
                if (l.kind == LayerKind::kConv2d) {
                    const ConvShape cs{int(n), int(shape[0]), int(shape[1]), int(shape[2]), l.out, l.kernel, l.padding};
                    (fast ? conv2d_fast : conv2d_forward<float>)(xq, wq, b.data.data(), cs, y.data());
                } else {
                    if (fast)
                        linear_fast(xq, wq, b.data.data(), int(n), l.in, l.out, y.data());
                    else
                        linear_forward(xq, wq, b.data.data(), int(n), l.in, l.out, y.data());
                }
                ++q;
                break;
            }
            case LayerKind::kBatchNorm2d: {
                float* rm = tensor_data(weights, l.name + ".running_mean").data();
                float* rv = tensor_data(weights, l.name + ".running_var").data();
                const float* gamma = weights->find(l.name + ".weight")->data.data();
                const float* beta = weights->find(l.name + ".bias")->data.data();
                if (Status s = (fast ? batchnorm_train_forward_fast : batchnorm_train_forward<float>)(
                        cur.data(), n, shape[0], shape[1] * shape[2], gamma, beta, settings.bn, rm, rv, y.data(), &sv.bn);
                    !s)
                    return Status::error(s.message + " (layer " + l.name + ")");
                tensor_data(weights, l.name + ".num_batches_tracked")[0] += 1.0f;
                break;
            }
            case LayerKind::kReLU:
                (fast ? relu_forward_fast : relu_forward<float>)(cur.data(), int64_t(cur.size()), y.data());
                break;
            case LayerKind::kMaxPool2d:
                (fast ? max_pool_forward_fast : max_pool_forward<float>)(cur.data(), n * shape[0], shape[1], shape[2],
                                                                        int64_t(l.kernel), y.data(), &sv.argmax);
                break;
            case LayerKind::kFlatten: y.swap(cur); break;  // a reshape: the backward needs nothing of it
        }
        sv.x = std::move(cur);
        cur = std::move(y);
        shape = out_shape;
    }

    // ---- loss ----
    const int64_t classes = shape[0];
    Buf g(cur.size());
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
    // v has g->size() values (a weight, or a layer's input over the batch); g is a weight's or a layer's buffer.
    auto learned_grad = [&](const std::string& name, const float* v, CodeRange range, int64_t per_item, auto* g) {
        const float param = learned_local.find(name)->data[0];
        std::remove_pointer_t<decltype(g)> gin(g->size());
        const double d = learned_backward(kind, v, g->data(), gin.data(), int64_t(g->size()), param, range,
                                          lsq_grad_scale(per_item, range));
        tensor_data(&lgrads, name)[0] = float(d);
        *g = std::move(gin);
    };
    for (size_t i = net.layers.size(); i-- > 0;) {
        const LayerDesc& l = net.layers[i];
        Saved& sv = saved[i];
        // Nobody wants the images' gradient, but a learned input step of the first layer needs dL/dx_hat.
        const bool need_dx = i > 0 || !sv.act_learned.empty();
        if (l.kind == LayerKind::kFlatten) continue;  // the same values, (N,C,H,W) read as (N,F)
        if (sv.in_fused) {  // done with the pool's backward (a later layer)
            sv = Saved();
            continue;
        }
        if (sv.fused == 3) {  // BatchNorm, ReLU, max pool: the gradient of the BatchNorm's input
            const LayerDesc& bl = net.layers[i - 2];
            const Saved& bs = saved[i - 2];
            Buf dx(i - 2 > 0 ? size_t(n * numel(bs.shape)) : 0);
            bn_relu_max_pool_backward_fast(g.data(), sv.window_arg, bs.x.data(), n, bs.shape[0], bs.shape[1], bs.shape[2],
                                           int64_t(l.kernel), weights->find(bl.name + ".weight")->data.data(), bs.bn,
                                           dx.empty() ? nullptr : dx.data(),
                                           tensor_data(grads, bl.name + ".weight").data(), tensor_data(grads, bl.name + ".bias").data());
            g = std::move(dx);
            sv = Saved();
            continue;
        }
        Buf dx(need_dx ? size_t(n * numel(sv.shape)) : 0);
        float* dxp = need_dx ? dx.data() : nullptr;
        switch (l.kind) {
            case LayerKind::kConv2d:
            case LayerKind::kLinear: {
                const Tensor& w = *weights->find(l.name + ".weight");
                const float* xq = sv.xq.empty() ? sv.x.data() : sv.xq.data();
                const float* wq = sv.wq.empty() ? w.data.data() : sv.wq.data();
                std::vector<float>& dw = tensor_data(grads, l.name + ".weight");
                float* db = tensor_data(grads, l.name + ".bias").data();
                if (l.kind == LayerKind::kConv2d) {
                    const ConvShape cs{int(n), int(sv.shape[0]), int(sv.shape[1]), int(sv.shape[2]),
                                       l.out,  l.kernel,         l.padding};
                    (fast ? conv2d_backward_fast : conv2d_backward<float>)(xq, wq, g.data(), cs, dxp, dw.data(), db);
                } else {
                    (fast ? linear_backward_fast : linear_backward<float>)(xq, wq, g.data(), int(n), l.in, l.out, dxp,
                                                                          dw.data(), db);
                }
                if (!sv.weight_learned.empty())
                    learned_grad(sv.weight_learned, w.data.data(), sv.weight_range, w.numel(), &dw);
                else
                    ste_in_place(w.data.data(), sv.weight, settings.ste, &dw);
                if (!sv.act_learned.empty())  // LSQ's g counts an activation's features per image
                    learned_grad(sv.act_learned, sv.x.data(), sv.act_range, numel(sv.shape), &dx);
                else if (need_dx)
                    ste_in_place(sv.x.data(), sv.act, settings.ste, &dx);
                break;
            }
            case LayerKind::kBatchNorm2d: {
                const int64_t c = sv.shape[0], hw = sv.shape[1] * sv.shape[2];
                const float* gamma = weights->find(l.name + ".weight")->data.data();
                float* dgamma = tensor_data(grads, l.name + ".weight").data();
                float* dbeta = tensor_data(grads, l.name + ".bias").data();
                if (fast)
                    batchnorm_backward_fast(sv.x.data(), g.data(), n, c, hw, gamma, sv.bn, dxp, dgamma, dbeta);
                else
                    batchnorm_backward<float>(g.data(), n, c, hw, gamma, sv.bn, dxp, dgamma, dbeta);
                break;
            }
            case LayerKind::kReLU:
                if (need_dx) (fast ? relu_backward_fast : relu_backward<float>)(sv.x.data(), g.data(), int64_t(g.size()), dxp);
                break;
            case LayerKind::kMaxPool2d:
                if (sv.fused == 2)
                    relu_max_pool_backward_fast(g.data(), sv.argmax, saved[i - 1].x.data(), n * sv.shape[0], sv.shape[1], sv.shape[2],
                                                int64_t(l.kernel), dxp);
                else if (need_dx)
                    (fast ? max_pool_backward_fast : max_pool_backward<float>)(
                        g.data(), sv.argmax, n * sv.shape[0], sv.shape[1], sv.shape[2], int64_t(l.kernel), dxp);
                break;
            case LayerKind::kFlatten: break;
        }
        g = std::move(dx);
        sv = Saved();  // free as we go
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
