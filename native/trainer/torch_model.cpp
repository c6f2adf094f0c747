// torch_model.cpp: core's quantizer rules in torch ops, the STE autograd Function, and the QuantNet module.
// The parameter formulas mirror core/quantizer.cpp line for line (params_from_range); the parity test
// (tests/unit/torch/test_torch_parity.cpp) holds the two to the same numbers.
#include "native/trainer/torch_model.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <tuple>

#include "core/quant_params_fast.hpp"

namespace quantlab::trainer {

namespace {

// A scalar as a 0-d tensor on x's device and dtype. Dividing by a device tensor rather than a C++ scalar
// keeps torch from replacing the division by a multiplication with the reciprocal (which some kernels do
// for scalars) and so keeps the result identical to core's float division.
// Made once per (value, dtype, device) and kept: a fill kernel per use was a tenth of a fake-quant's kernels, and
// on CUDA a training step's time is its kernel count. Never written to (only read as an operand).
torch::Tensor constant(double v, torch::ScalarType type, torch::Device device) {
    struct Entry {
        double v;
        torch::ScalarType type;
        torch::Device device;
        torch::Tensor t;
    };
    static thread_local std::vector<Entry> cache;  // a few entries: a linear search
    for (const Entry& e : cache)
        if (e.v == v && e.type == type && e.device == device) return e.t;
    cache.push_back({v, type, device, torch::full({}, v, torch::TensorOptions().dtype(type).device(device))});
    return cache.back().t;
}
torch::Tensor scalar_like(double v, const torch::Tensor& like) { return constant(v, like.scalar_type(), like.device()); }

// An all-zero slice gets S = 1 (codes to 0 exactly); denormal scales are raised to FLT_MIN.
torch::Tensor usable_scale(const torch::Tensor& scale) {
    return torch::where(scale == 0, scalar_like(1.0, scale), scale).clamp_min(double(FLT_MIN)).contiguous();
}

// A TorchQParams with core's code range for these bits and the flags set; scale and zero_point to fill.
TorchQParams params_frame(int bits, bool symmetric, bool per_channel, SymmetricCodes codes) {
    const CodeRange cr = code_range(bits, symmetric, codes);
    TorchQParams p;
    p.qmin = cr.qmin;
    p.qmax = cr.qmax;
    p.multiply_inverse = cr.multiply_inverse;
    p.per_channel = per_channel;
    p.symmetric = symmetric;
    return p;
}

// core's params_from_range for a symmetric range [-m, m] (m = max(|alpha|, |beta|) >= 0), Z = 0: narrow codes
// S = m / qmax; full codes S = max(m / ((qmax - qmin) / 2), FLT_EPSILON), as MinMaxObserver.
// The max-abs rule comes here straight from max|x| (a handful of kernels fewer per fake-quant: on CUDA, where a
// training step is bound by kernel count, that matters).
TorchQParams params_from_maxabs(const torch::Tensor& m, int bits, bool per_channel, SymmetricCodes codes) {
    TorchQParams p = params_frame(bits, true, per_channel, codes);
    if (codes == SymmetricCodes::kFull)
        p.scale = (m / scalar_like(double(p.qmax - p.qmin) / 2.0, m)).clamp_min(double(FLT_EPSILON)).contiguous();
    else
        p.scale = usable_scale(m / scalar_like(double(std::max(p.qmax, int64_t(1))), m));
    p.zero_point = per_channel ? torch::zeros_like(p.scale, torch::kInt) : constant(0.0, torch::kInt, p.scale.device());
    return p;
}

// core's params_from_range on tensors: alpha, beta are 0-d (per-tensor) or (C) (per-channel).
TorchQParams params_from_range_tensors(const torch::Tensor& alpha, const torch::Tensor& beta, int bits, bool symmetric,
                                       bool per_channel, SymmetricCodes codes) {
    if (symmetric && codes == SymmetricCodes::kFull)  // core: max(-min(alpha, 0), max(beta, 0))
        return params_from_maxabs(torch::max(-alpha.clamp_max(0.0), beta.clamp_min(0.0)), bits, per_channel, codes);
    if (symmetric) return params_from_maxabs(torch::max(alpha.abs(), beta.abs()), bits, per_channel, codes);
    TorchQParams p = params_frame(bits, false, per_channel, codes);
    const torch::Tensor lo = alpha.clamp_max(0.0), hi = beta.clamp_min(0.0);
    const torch::Tensor scale = (hi - lo) / scalar_like(double(p.qmax - p.qmin), hi);
    torch::Tensor z = scalar_like(double(p.qmin), scale) - (lo / scale).clamp_min(-4194304.0).round();
    z = z.clamp(double(p.qmin), double(p.qmax));
    const torch::Tensor zf = torch::where(scale > 0, z, scalar_like(double(p.qmin), scale));
    p.scale = usable_scale(scale);
    p.zero_point = zf.to(torch::kInt).contiguous();
    return p;
}

TorchQParams params_from_core(const QuantParams& qp, bool per_channel, const torch::Device& device) {
    TorchQParams p;
    p.qmin = qp.range.qmin;
    p.qmax = qp.range.qmax;
    p.per_channel = per_channel;
    p.symmetric = qp.symmetric;
    p.multiply_inverse = qp.range.multiply_inverse;
    const auto n = int64_t(qp.scale.size());
    p.scale = torch::from_blob(const_cast<float*>(qp.scale.data()), {n}, torch::kFloat).clone().to(device);
    p.zero_point = torch::from_blob(const_cast<int32_t*>(qp.zero_point.data()), {n}, torch::kInt).clone().to(device);
    if (!per_channel) {
        p.scale = p.scale.reshape({});
        p.zero_point = p.zero_point.reshape({});
    }
    return p;
}

// Broadcast shape of per-channel parameters against x: (C, 1, 1, ...).
torch::Tensor channel_view(const torch::Tensor& v, const torch::Tensor& x) {
    std::vector<int64_t> shape(size_t(x.dim()), 1);
    shape[0] = v.numel();
    return v.view(shape);
}

}  // namespace

TorchQParams torch_qparams(const torch::Tensor& xin, const QuantSpec& spec) {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = xin.detach();
    const bool per_channel = spec.per_channel && x.dim() > 0;
    if (spec.rule == RangeRule::kPercentile || spec.rule == RangeRule::kMse) {
        // Sorting / grid-search rules: core's code on a CPU copy (a host round trip; fine for weights).
        const Tensor c = from_torch(x);
        QuantSpec s = spec;
        s.per_channel = per_channel;
        Result<QuantParams> r = compute_params_fast(c.data.data(), c.shape, s);
        if (!r.ok()) {  // NaN/Inf input: NaN scales make the loss NaN, which the trainer reports
            const torch::Tensor nan = torch::full({per_channel ? x.size(0) : 1}, NAN, x.options());
            return params_from_range_tensors(per_channel ? nan : nan.reshape({}), per_channel ? nan : nan.reshape({}), spec.bits,
                                             spec.symmetric, per_channel, spec.codes);
        }
        return params_from_core(r.value, per_channel, x.device());
    }
    // Per tensor, the reductions take x as it is: reshaping an NHWC (channels_last) tensor to 1-D would copy it.
    const torch::Tensor flat = per_channel ? x.reshape({x.size(0), -1}) : x;
    torch::Tensor alpha, beta;
    if (spec.rule == RangeRule::kMeanStd) {
        torch::Tensor mean, sd;
        if (per_channel) {
            // Two-pass unbiased std as core computes it (and as torch.std); written out so that no overload of
            // Tensor::std (whose signatures differ between LibTorch 1.13 and 2.x) is needed.
            mean = flat.mean(1);
            const int64_t m = flat.size(1);
            sd = m > 1 ? ((flat - mean.unsqueeze(1)).pow(2).sum(1) / double(m - 1)).sqrt() : torch::zeros_like(mean);
        } else {
            mean = flat.mean();
            const int64_t m = flat.numel();
            sd = m > 1 ? ((flat - mean).pow(2).sum() / double(m - 1)).sqrt() : torch::zeros_like(mean);
        }
        alpha = mean - sd * spec.k;
        beta = mean + sd * spec.k;
    } else if (spec.rule == RangeRule::kMaxAbs) {
        // max |x|, the notebook's rule: the infinity norm is that, exactly, in one kernel (abs then amax took two).
        const torch::Tensor m = per_channel ? torch::linalg_vector_norm(flat, INFINITY, torch::IntArrayRef{1}) : torch::linalg_vector_norm(flat, INFINITY);
        if (spec.symmetric) return params_from_maxabs(m, spec.bits, per_channel, spec.codes);
        alpha = -m;
        beta = m;
    } else {  // kMinMax
        if (per_channel)
            std::tie(alpha, beta) = torch::aminmax(flat, 1);
        else
            std::tie(alpha, beta) = torch::aminmax(flat);
    }
    return params_from_range_tensors(alpha, beta, spec.bits, spec.symmetric, per_channel, spec.codes);
}

TorchQParams torch_qparams_for_range(RealRange range, int bits, bool symmetric, const torch::Device& device, SymmetricCodes codes) {
    return params_from_core(params_for_range(range, bits, symmetric, codes), false, device);
}

torch::Tensor fake_quant_tensor(const torch::Tensor& xin, const TorchQParams& p, FqKernel kernel, torch::Tensor* keep_mask) {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = xin.detach();
    // torch's kernels need quant_min < quant_max: the single-level 1-bit code takes the exact path.
    if (kernel == FqKernel::kFused && p.qmin < p.qmax) {
        std::tuple<torch::Tensor, torch::Tensor> r;
        if (p.per_channel) {
            r = at::fake_quantize_per_channel_affine_cachemask(x, p.scale, p.zero_point, 0, p.qmin, p.qmax);
        } else {
            // The op's fake_quant_enabled flag: int64, which its CUDA kernel reads; a cached constant (no kernel).
            const torch::Tensor enabled = constant(1.0, torch::kLong, x.device()).reshape({1});
            r = at::_fake_quantize_per_tensor_affine_cachemask_tensor_qparams(x, p.scale.reshape({1}), p.zero_point.reshape({1}),
                                                                              enabled, p.qmin, p.qmax);
        }
        if (keep_mask) *keep_mask = std::get<1>(r);
        return std::get<0>(r);
    }
    const torch::Tensor scale = p.per_channel ? channel_view(p.scale, x) : p.scale;
    // Ties-to-even, as core's round_half_even; full codes multiply by the float 1/S as core does for them.
    torch::Tensor t = (p.multiply_inverse ? x * scale.reciprocal() : x / scale).round_();
    if (p.symmetric) {
        if (keep_mask) *keep_mask = t.ge(double(p.qmin)).logical_and_(t.le(double(p.qmax)));
        t.clamp_(double(p.qmin), double(p.qmax));
    } else {
        const torch::Tensor zf = (p.per_channel ? channel_view(p.zero_point, x) : p.zero_point).to(x.scalar_type());
        const torch::Tensor lo = double(p.qmin) - zf, hi = double(p.qmax) - zf;  // codes relative to Z
        if (keep_mask) *keep_mask = t.ge(lo).logical_and_(t.le(hi));
        t = torch::min(torch::max(t, lo), hi);
    }
    return t.mul_(scale);
}

namespace {

// forward: fake_quant_tensor; backward: grad (identity) or grad * mask (clipped). One gradient per input,
// undefined for the parameters and flags.
struct SteFunction : public torch::autograd::Function<SteFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor scale,
                                 torch::Tensor zero_point, int64_t qmin, int64_t qmax, bool per_channel, bool symmetric,
                                 bool multiply_inverse, bool clipped, bool fused) {
        TorchQParams p;
        p.scale = scale;
        p.zero_point = zero_point;
        p.qmin = qmin;
        p.qmax = qmax;
        p.per_channel = per_channel;
        p.symmetric = symmetric;
        p.multiply_inverse = multiply_inverse;
        torch::Tensor mask;
        torch::Tensor out = fake_quant_tensor(x, p, fused ? FqKernel::kFused : FqKernel::kExact, clipped ? &mask : nullptr);
        ctx->saved_data["clipped"] = clipped;
        if (clipped) ctx->saved_data["mask"] = mask;
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grad) {
        torch::Tensor g = grad[0];
        if (ctx->saved_data["clipped"].toBool()) g = g * ctx->saved_data["mask"].toTensor();
        return {g, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
                torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor fake_quant_ste(const torch::Tensor& x, const TorchQParams& p, SteRule rule, FqKernel kernel) {
    return SteFunction::apply(x, p.scale, p.zero_point, p.qmin, p.qmax, p.per_channel, p.symmetric, p.multiply_inverse,
                              rule == SteRule::kClipped, kernel == FqKernel::kFused);
}

namespace {

// forward: core's learned_fake_quant; backward: core's learned_backward (both in core/quantizer.hpp), in tensor ops.
struct LearnedFunction : public torch::autograd::Function<LearnedFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor param, int64_t qmin, int64_t qmax,
                                 bool multiply_inverse, bool pact, double grad_scale) {
        ctx->save_for_backward({x, param});
        ctx->saved_data["qmin"] = qmin;
        ctx->saved_data["qmax"] = qmax;
        ctx->saved_data["inv"] = multiply_inverse;
        ctx->saved_data["pact"] = pact;
        ctx->saved_data["g"] = grad_scale;
        torch::NoGradGuard no_grad;
        const torch::Tensor step = step_of(param.detach(), qmax, pact);
        const torch::Tensor t = codes(x.detach(), step, multiply_inverse);
        return t.clamp(double(qmin), double(qmax)).round_().mul_(step);  // clamp, then ties-to-even, as core
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor x = saved[0], param = saved[1], g = grad[0];
        const int64_t qmin = ctx->saved_data["qmin"].toInt(), qmax = ctx->saved_data["qmax"].toInt();
        const bool pact = ctx->saved_data["pact"].toBool();
        const double qp = double(std::max<int64_t>(qmax, 1));
        torch::NoGradGuard no_grad;
        const torch::Tensor step = step_of(param, qmax, pact);
        const torch::Tensor t = codes(x, step, ctx->saved_data["inv"].toBool());
        // PACT clips on r against alpha itself, edges included (r >= alpha); LSQ on t, edges inside (round(t) - t = 0 there).
        torch::Tensor below, above;
        if (pact) {
            below = x.le(param * float(double(qmin) / qp));
            above = x.ge(param);
        } else {
            below = t.lt(double(qmin));
            above = t.gt(double(qmax));
        }
        const torch::Tensor clipped = below.logical_or(above);
        const torch::Tensor gx = g.masked_fill(clipped, 0.0);
        torch::Tensor coeff;
        if (pact)
            coeff = torch::where(above, torch::ones_like(t), torch::where(below, torch::full_like(t, double(qmin) / qp), torch::zeros_like(t)));
        else
            coeff = torch::where(above, torch::full_like(t, double(qmax)),
                                 torch::where(below, torch::full_like(t, double(qmin)), t.round() - t));
        torch::Tensor gp = (g.to(torch::kDouble) * coeff.to(torch::kDouble)).sum();
        if (!pact) gp = gp * ctx->saved_data["g"].toDouble();
        // The step held at its floor gets no gradient (core: learned_backward's `held`).
        const torch::Tensor raw = pact ? param / torch::full({}, float(qp), param.options()) : param;
        gp = torch::where(raw.ge(double(kMinLearnedStep)), gp, torch::zeros_like(gp)).to(param.scalar_type()).reshape(param.sizes());
        return {gx, gp, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }

    // S from the parameter as core's learned_step: PACT alpha / Qp as a float division; held at >= kMinLearnedStep.
    static torch::Tensor step_of(const torch::Tensor& param, int64_t qmax, bool pact) {
        const torch::Tensor raw = pact ? param / torch::full({}, float(std::max<int64_t>(qmax, 1)), param.options()) : param;
        return raw.clamp_min(double(kMinLearnedStep));
    }
    static torch::Tensor codes(const torch::Tensor& x, const torch::Tensor& step, bool multiply_inverse) {
        return multiply_inverse ? x * step.reciprocal() : x / step;
    }
};

}  // namespace

torch::Tensor learned_fake_quant(const torch::Tensor& x, const torch::Tensor& param, QuantizerKind kind, CodeRange range, double grad_scale) {
    return LearnedFunction::apply(x, param, int64_t(range.qmin), int64_t(range.qmax), range.multiply_inverse, kind == QuantizerKind::kPact,
                                  grad_scale);
}

// ---- QuantNet ------------------------------------------------------------------------------------

QuantNetImpl::QuantNetImpl(const NetworkDesc& net)
    : net_(net), conv_(net.layers.size(), nullptr), linear_(net.layers.size(), nullptr), bn_(net.layers.size(), nullptr) {
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerDesc& l = net.layers[i];
        switch (l.kind) {
            case LayerKind::kConv2d:
                conv_[i] = register_module(l.name, torch::nn::Conv2d(torch::nn::Conv2dOptions(l.in, l.out, l.kernel).padding(l.padding)));
                break;
            case LayerKind::kLinear:
                linear_[i] = register_module(l.name, torch::nn::Linear(l.in, l.out));
                break;
            case LayerKind::kBatchNorm2d:
                bn_[i] = register_module(l.name, torch::nn::BatchNorm2d(l.in));  // eps 1e-5, momentum 0.1: nn.BatchNorm2d's
                break;
            default:
                break;
        }
    }
    quant_.config = make_config(net_, kFloatBits, kFloatBits);
}

Status QuantNetImpl::set_quant(const TorchQuant& quant, const torch::Device& device) {
    if (Status s = validate(quant.config, net_); !s) return s;
    static_act_.clear();
    if (quant.config.act_mode == ActMode::kStatic)
        for (size_t q = 0; q < quant.config.layers.size(); ++q) {
            const QuantSpec& a = quant.config.layers[q].act;
            static_act_.push_back(torch_qparams_for_range(quant.config.act_ranges[q], a.bits == kFloatBits ? 8 : a.bits, a.symmetric, device,
                                                          a.codes));
        }
    quant_ = quant;
    // The learned parameters, at 0 ("not set"): the first forward sets each from the tensor it quantizes.
    learned_w_.assign(quant.config.layers.size(), Learned{});
    learned_a_.assign(quant.config.layers.size(), Learned{});
    const std::vector<int> ql = net_.quant_layers();
    for (size_t q = 0; q < quant.config.layers.size(); ++q)
        for (bool weight : {true, false}) {
            if (!(weight ? learns_weight(quant.config, q, quant.quantizer) : learns_act(quant.config, q, quant.quantizer))) continue;
            const QuantSpec& spec = weight ? quant.config.layers[q].weight : quant.config.layers[q].act;
            Learned& l = (weight ? learned_w_ : learned_a_)[q];
            l.name = learned_param_name(net_.layers[size_t(ql[q])].name, weight, quant.quantizer);
            l.range = code_range(spec.bits, spec.symmetric, spec.codes);
            l.param = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat).device(device)).requires_grad_(true);
        }
    return Status::success();
}

torch::Tensor QuantNetImpl::learned_quant(const torch::Tensor& v, Learned& l, int64_t per_item) {
    if (!l.set) {  // the first batch (or the loaded weights): core's learned_init on a host copy, so both engines start alike
        const Tensor c = from_torch(v);
        torch::NoGradGuard no_grad;
        l.param.fill_(double(learned_init(quant_.quantizer, c.data.data(), c.numel(), l.range)));
        l.set = true;
    }
    return learned_fake_quant(v, l.param, quant_.quantizer, l.range, lsq_grad_scale(per_item, l.range));
}

std::vector<torch::Tensor> QuantNetImpl::learned_parameters() const {
    std::vector<torch::Tensor> out;
    for (size_t q = 0; q < learned_w_.size(); ++q)
        for (const Learned* l : {&learned_w_[q], &learned_a_[q]})
            if (l->param.defined()) out.push_back(l->param);
    return out;
}

StateDict QuantNetImpl::learned_state() const {
    StateDict sd;
    for (size_t q = 0; q < learned_w_.size(); ++q)
        for (const Learned* l : {&learned_w_[q], &learned_a_[q]})
            if (l->param.defined()) {
                Tensor t(Shape{1});
                t.data[0] = l->set ? l->param.detach().to(torch::kCPU).item<float>() : 0.0f;
                sd.set(l->name, t);
            }
    return sd;
}

Status QuantNetImpl::load_learned(const StateDict& values) {
    torch::NoGradGuard no_grad;
    for (size_t q = 0; q < learned_w_.size(); ++q)
        for (Learned* l : {&learned_w_[q], &learned_a_[q]}) {
            if (!l->param.defined()) continue;
            const Tensor* t = values.find(l->name);
            if (!t || t->data.size() != 1) return Status::error("trainer: no learned quantizer parameter " + l->name);
            l->param.fill_(double(t->data[0]));
            l->set = t->data[0] != 0;
        }
    return Status::success();
}

torch::Tensor QuantNetImpl::quant_input(const torch::Tensor& x, size_t q) {
    const QuantSpec& spec = quant_.config.layers[q].act;
    if (spec.bits == kFloatBits) return x;
    if (q < learned_a_.size() && learned_a_[q].param.defined()) return learned_quant(x, learned_a_[q], x.numel() / std::max<int64_t>(x.size(0), 1));
    const TorchQParams p = quant_.config.act_mode == ActMode::kStatic ? static_act_[q] : torch_qparams(x, spec);
    return fake_quant_ste(x, p, quant_.ste, quant_.kernel);
}

torch::Tensor QuantNetImpl::quant_weight(const torch::Tensor& w, size_t q) {
    const QuantSpec& spec = quant_.config.layers[q].weight;
    if (spec.bits == kFloatBits) return w;
    if (q < learned_w_.size() && learned_w_[q].param.defined()) return learned_quant(w, learned_w_[q], w.numel());
    return fake_quant_ste(w, torch_qparams(w, spec), quant_.ste, quant_.kernel);
}

void QuantNetImpl::set_channels_last(bool on) {
    torch::NoGradGuard no_grad;
    channels_last_ = on;
    const auto format = on ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    for (auto& c : conv_)
        if (c) c->weight.set_data(c->weight.data().contiguous(format));
}

torch::Tensor QuantNetImpl::forward(torch::Tensor x) {
    if (channels_last_) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    size_t q = 0;
    for (size_t i = 0; i < net_.layers.size(); ++i) {
        const LayerDesc& l = net_.layers[i];
        // ReLU then max pool equals max pool then ReLU (ReLU is monotonic), and the second does the ReLU and
        // its backward on a quarter of the values. Gradients agree too (ties aside, which ReLU zeroes anyway).
        if (l.kind == LayerKind::kReLU && i + 1 < net_.layers.size() && net_.layers[i + 1].kind == LayerKind::kMaxPool2d) {
            x = torch::max_pool2d(x, net_.layers[i + 1].kernel, net_.layers[i + 1].kernel);
            x.relu_();
            ++i;
            continue;
        }
        switch (l.kind) {
            case LayerKind::kConv2d: {
                const torch::Tensor xq = quant_input(x, q);
                x = torch::conv2d(xq, quant_weight(conv_[i]->weight, q), conv_[i]->bias, 1, l.padding);
                ++q;
                break;
            }
            case LayerKind::kLinear: {
                const torch::Tensor xq = quant_input(x, q);
                x = torch::linear(xq, quant_weight(linear_[i]->weight, q), linear_[i]->bias);
                ++q;
                break;
            }
            case LayerKind::kBatchNorm2d:
                x = bn_[i]->forward(x);
                break;
            case LayerKind::kReLU:
                x = torch::relu(x);
                break;
            case LayerKind::kMaxPool2d:
                x = torch::max_pool2d(x, l.kernel, l.kernel);
                break;
            case LayerKind::kFlatten:
                x = x.flatten(1);
                break;
        }
    }
    return x;
}

Status QuantNetImpl::load(const StateDict& sd, const std::string& source) {
    if (Status s = check_weights(net_, sd, source); !s) return s;
    torch::NoGradGuard no_grad;
    auto params = named_parameters(true);
    auto buffers = named_buffers(true);
    for (const ParamDesc& pd : net_.params()) {
        torch::Tensor* dst = params.find(pd.name);
        if (!dst) dst = buffers.find(pd.name);
        if (!dst) return Status::error("trainer: " + source + ": the model has no tensor '" + pd.name + "' (internal)");
        const torch::Tensor src = to_torch(*sd.find(pd.name)).reshape(dst->sizes());
        dst->copy_(src.to(dst->device(), dst->scalar_type()));
    }
    return Status::success();
}

StateDict QuantNetImpl::to_state_dict() {
    StateDict sd;
    auto params = named_parameters(true);
    auto buffers = named_buffers(true);
    for (const ParamDesc& pd : net_.params()) {
        const torch::Tensor* t = params.find(pd.name);
        if (!t) t = buffers.find(pd.name);
        Tensor c = from_torch(*t);
        c.shape = pd.shape;
        sd.set(pd.name, std::move(c), pd.int64 ? "I64" : "F32");
    }
    return sd;
}

torch::Tensor crop_flip(const torch::Tensor& x, const std::vector<int64_t>& dy, const std::vector<int64_t>& dx,
                        const std::vector<int64_t>& flip, int64_t pad, double fill) {
    const int64_t b = x.size(0);
    const auto opt = torch::TensorOptions().dtype(torch::kLong);
    auto dev = [&](const std::vector<int64_t>& v) { return torch::from_blob(const_cast<int64_t*>(v.data()), {b}, opt).to(x.device()); };
    return crop_flip(x, dev(dy), dev(dx), dev(flip), pad, fill);
}

torch::Tensor crop_flip(const torch::Tensor& x, const torch::Tensor& dy, const torch::Tensor& dx, const torch::Tensor& flip, int64_t pad,
                        double fill) {
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), ph = h + 2 * pad, pw = w + 2 * pad;
    const auto opt = torch::TensorOptions().dtype(torch::kLong).device(x.device());
    const torch::Tensor ar_h = torch::arange(h, opt).unsqueeze(0), ar_w = torch::arange(w, opt).unsqueeze(0);
    const torch::Tensor rows = dy.view({b, 1}) + ar_h;                                                           // (B,H)
    const torch::Tensor cols = dx.view({b, 1}) + torch::where(flip.view({b, 1}).to(torch::kBool), (w - 1) - ar_w, ar_w);  // (B,W)
    const torch::Tensor lin = (rows.unsqueeze(2) * pw + cols.unsqueeze(1)).view({b, 1, h * w}).expand({b, c, h * w});
    const torch::Tensor padded = torch::constant_pad_nd(x, {pad, pad, pad, pad}, fill).reshape({b, c, ph * pw});
    return padded.gather(2, lin).view({b, c, h, w});
}

torch::Tensor jitter_cutout(const torch::Tensor& x, const torch::Tensor& cy, const torch::Tensor& cx, const torch::Tensor& brightness,
                            const torch::Tensor& contrast, const torch::Tensor& saturation, const AugSpec& spec) {
    const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
    torch::Tensor out = x;
    if (spec.jitter > 0) {
        // The same float operations in the same order as the host loop; only the image mean's sum order differs.
        auto per_image = [b](const torch::Tensor& f) { return f.view({b, 1, 1, 1}); };
        auto gray = [](const torch::Tensor& v) { return v.select(1, 0).mul(0.2989f) + v.select(1, 1).mul(0.587f) + v.select(1, 2).mul(0.114f); };
        torch::Tensor v = out.add(1.0f).mul(0.5f).mul(per_image(brightness)).clamp(0.0f, 1.0f);
        const torch::Tensor mean = gray(v).to(torch::kDouble).mean({1, 2}).to(torch::kFloat);  // (B)
        v = (v.mul(per_image(contrast)) + per_image((1.0f - contrast) * mean)).clamp(0.0f, 1.0f);
        const torch::Tensor g = gray(v).unsqueeze(1);  // (B,1,H,W)
        v = (v.mul(per_image(saturation)) + g.mul(per_image(1.0f - saturation))).clamp(0.0f, 1.0f);
        out = v.mul(2.0f).sub(1.0f);
    }
    if (spec.cutout > 0) {
        const auto opt = torch::TensorOptions().dtype(torch::kLong).device(x.device());
        const torch::Tensor top = cy.view({b, 1}) - spec.cutout / 2, left = cx.view({b, 1}) - spec.cutout / 2;
        const torch::Tensor ar_h = torch::arange(h, opt).unsqueeze(0), ar_w = torch::arange(w, opt).unsqueeze(0);
        const torch::Tensor in_y = ar_h.ge(top).logical_and(ar_h.lt(top + spec.cutout));   // (B,H)
        const torch::Tensor in_x = ar_w.ge(left).logical_and(ar_w.lt(left + spec.cutout));  // (B,W)
        out = out.masked_fill(in_y.unsqueeze(2).logical_and(in_x.unsqueeze(1)).unsqueeze(1), 0.0f);
    }
    return out;
}

torch::Tensor augment_on_device(const torch::Tensor& x, const AugDraws& d, const AugSpec& spec) {
    torch::Tensor out = x;
    if (spec.crop || spec.flip) out = crop_flip(x, d.dy, d.dx, d.flip, kAugPad, -1.0);
    if (spec.jitter > 0 || spec.cutout > 0) {
        const int64_t b = x.size(0);
        auto dev_l = [&](const std::vector<int64_t>& v) {
            return torch::from_blob(const_cast<int64_t*>(v.data()), {b}, torch::kLong).to(x.device());
        };
        auto dev_f = [&](const std::vector<float>& v) {
            return torch::from_blob(const_cast<float*>(v.data()), {b}, torch::kFloat).to(x.device());
        };
        out = jitter_cutout(out, dev_l(d.cy), dev_l(d.cx), dev_f(d.brightness), dev_f(d.contrast), dev_f(d.saturation), spec);
    }
    return out;
}

torch::Tensor normalize_u8(const torch::Tensor& u8) { return u8.to(torch::kFloat).div_(255.0).sub_(0.5).div_(0.5); }

torch::Tensor to_torch(const Tensor& t) {
    return torch::from_blob(const_cast<float*>(t.data.data()), t.shape, torch::kFloat).clone();
}

Tensor from_torch(const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU).to(torch::kFloat).contiguous();
    Tensor out(Shape(c.sizes().begin(), c.sizes().end()));
    std::memcpy(out.data.data(), c.data_ptr<float>(), size_t(c.numel()) * sizeof(float));
    return out;
}

}  // namespace quantlab::trainer
