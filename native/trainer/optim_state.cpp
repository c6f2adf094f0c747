// optim_state.cpp: the LibTorch trainer's optimizer state and learned steps as the training state file both
// engines share (core/train/resume_state.hpp: torch::optim's names per parameter under core's parameter names),
// so its checkpoints resume on core's engine, and core's here. The tensors go flat (row-major, logical order,
// whatever the parameter's memory format) and come back shaped and laid out like their parameter.
#include <type_traits>

#include "core/train/resume_state.hpp"
#include "native/trainer/train_run.hpp"

namespace quantlab::trainer {

namespace {

// Core's names of the trainer's parameters: the model's (its module names are core's) and the learned steps
// (learned_parameters() is in learned_state()'s order).
std::vector<std::pair<std::string, torch::Tensor>> named_params(QuantNetImpl& model) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& kv : model.named_parameters()) out.emplace_back(kv.key(), kv.value());
    const std::vector<torch::Tensor> learned = model.learned_parameters();
    const StateDict ls = model.learned_state();
    for (size_t i = 0; i < learned.size() && i < ls.names.size(); ++i) out.emplace_back(ls.names[i], learned[i]);
    return out;
}

Tensor host(const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    return Tensor(Shape{c.numel()}, std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()));
}

// `t` (flat, as written) as a tensor like `p`: its shape, device and memory format.
Result<torch::Tensor> like(const Tensor* t, const torch::Tensor& p, const std::string& name) {
    if (!t) return Status::error("no " + name);
    if (int64_t(t->data.size()) != p.numel())
        return Status::error(name + " has " + std::to_string(t->data.size()) + " values, the parameter " +
                             std::to_string(p.numel()));
    torch::Tensor v = torch::from_blob(const_cast<float*>(t->data.data()), p.sizes(), torch::kFloat);
    return torch::empty_like(p).copy_(v);
}

template <class State>
void save_adam(const torch::optim::OptimizerParamState& base, const std::string& name, StateDict* out) {
    const auto& s = static_cast<const State&>(base);
    if (!s.exp_avg().defined()) return;
    out->set(optim_state_name(name, "exp_avg"), host(s.exp_avg()));
    out->set(optim_state_name(name, "exp_avg_sq"), host(s.exp_avg_sq()));
    out->set(optim_state_name(name, "step"), Tensor(Shape{1}, float(s.step())), "I64");
}

template <class State>
Status load_adam(const StateDict& in, const std::string& name, const torch::Tensor& p, torch::optim::Optimizer& opt) {
    const Tensor* step = in.find(optim_state_name(name, "step"));
    if (!step || step->data.empty() || step->data[0] <= 0)
        return Status::success();  // not stepped yet: torch creates it
    Result<torch::Tensor> m = like(in.find(optim_state_name(name, "exp_avg")), p, optim_state_name(name, "exp_avg"));
    if (!m.ok()) return m.status;
    Result<torch::Tensor> v =
        like(in.find(optim_state_name(name, "exp_avg_sq")), p, optim_state_name(name, "exp_avg_sq"));
    if (!v.ok()) return v.status;
    auto s = std::make_unique<State>();
    s->step(int64_t(step->data[0]));
    s->exp_avg(m.value);
    s->exp_avg_sq(v.value);
    opt.state()[optim_state_key(p)] = std::move(s);
    return Status::success();
}

}  // namespace

StateDict torch_resume_state(QuantNetImpl& model, torch::optim::Optimizer& opt, Optimizer kind,
                             QuantizerKind quantizer) {
    StateDict out;
    stamp_resume_state(&out, kind, quantizer);
    const StateDict ls = model.learned_state();
    for (const std::string& n : ls.names) out.set(learned_state_name(n), *ls.find(n));
    auto& state = opt.state();
    for (const auto& [name, p] : named_params(model)) {
        auto it = state.find(optim_state_key(p));
        if (it == state.end()) continue;
        switch (kind) {
            case Optimizer::kSgd: {
                const auto& s = static_cast<const torch::optim::SGDParamState&>(*it->second);
                if (s.momentum_buffer().defined())
                    out.set(optim_state_name(name, "momentum_buffer"), host(s.momentum_buffer()));
                break;
            }
            case Optimizer::kAdam: save_adam<torch::optim::AdamParamState>(*it->second, name, &out); break;
            case Optimizer::kAdamW: save_adam<torch::optim::AdamWParamState>(*it->second, name, &out); break;
        }
    }
    return out;
}

Status load_torch_resume_state(const StateDict& in, QuantNetImpl& model, torch::optim::Optimizer& opt, Optimizer kind,
                               QuantizerKind quantizer, const std::string& path) {
    if (Status s = check_resume_state(in, kind, quantizer, path); !s) return s;
    StateDict learned = model.learned_state();
    for (const std::string& n : learned.names) {
        const Tensor* t = in.find(learned_state_name(n));
        if (!t)
            return Status::error(path + ": no learned step " + learned_state_name(n) +
                                 " (a checkpoint of another --bits or --quantizer?)");
        learned.set(n, *t);
    }
    if (Status s = model.load_learned(learned); !s) return s;
    torch::NoGradGuard no_grad;
    opt.state().clear();
    for (const auto& [name, p] : named_params(model)) {
        Status s = Status::success();
        switch (kind) {
            case Optimizer::kSgd:
                if (const Tensor* b = in.find(optim_state_name(name, "momentum_buffer"))) {
                    Result<torch::Tensor> t = like(b, p, optim_state_name(name, "momentum_buffer"));
                    if (!t.ok()) return Status::error(path + ": " + t.message());
                    auto st = std::make_unique<torch::optim::SGDParamState>();
                    st->momentum_buffer(t.value);
                    opt.state()[optim_state_key(p)] = std::move(st);
                }
                break;
            case Optimizer::kAdam: s = load_adam<torch::optim::AdamParamState>(in, name, p, opt); break;
            case Optimizer::kAdamW: s = load_adam<torch::optim::AdamWParamState>(in, name, p, opt); break;
        }
        if (!s) return Status::error(path + ": " + s.message);
    }
    return Status::success();
}

}  // namespace quantlab::trainer
