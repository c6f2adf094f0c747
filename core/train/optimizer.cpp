// optimizer.cpp: SGD with momentum and weight decay, Adam and AdamW as LibTorch computes them (optimizer.hpp).
// Scalars are rounded to float where torch's CPU kernels take them as float (alpha of add_, the operands of
// mul_), and computed in double where torch computes them in C++ double (bias corrections, step size).
#include "core/train/optimizer.hpp"

#include <algorithm>
#include <cmath>

#include "core/train/resume_state.hpp"

namespace quantlab {

Status ParamOptimizer::step(StateDict* params, const StateDict& grads) {
    for (const std::string& name : grads.names) {
        Tensor* p = params->find(name);
        const Tensor* g = grads.find(name);
        if (!p) return Status::error("train: optimizer: no parameter '" + name + "' for its gradient");
        if (p->data.size() != g->data.size())
            return Status::error("train: optimizer: '" + name + "' has " + std::to_string(p->data.size()) +
                                 " values, its gradient " + std::to_string(g->data.size()));
        const size_t n = p->data.size();
        float* w = p->data.data();
        const float* gr = g->data.data();
        State& st = state_[name];
        const float lr = float(s_.lr), wd = float(s_.weight_decay);
        if (s_.kind == Optimizer::kSgd) {
            const float mom = float(s_.momentum);
            const bool first = st.t == 0;
            if (mom != 0 && first) st.m.assign(n, 0.0f);
            for (size_t i = 0; i < n; ++i) {
                float d = wd != 0 ? gr[i] + wd * w[i] : gr[i];
                if (mom != 0) {
                    st.m[i] = first ? d : st.m[i] * mom + d;
                    d = st.m[i];
                }
                w[i] = w[i] + (-lr) * d;
            }
            ++st.t;
            continue;
        }
        // Adam / AdamW
        if (st.t == 0) {
            st.m.assign(n, 0.0f);
            st.v.assign(n, 0.0f);
        }
        ++st.t;
        const double bc1 = 1.0 - std::pow(s_.beta1, double(st.t)), bc2 = 1.0 - std::pow(s_.beta2, double(st.t));
        const float b1 = float(s_.beta1), b2 = float(s_.beta2), one_b1 = float(1.0 - s_.beta1),
                    one_b2 = float(1.0 - s_.beta2);
        const float sqrt_bc2 = float(std::sqrt(bc2)), eps = float(s_.eps), neg_step = float(-(s_.lr / bc1));
        const bool decoupled = s_.kind == Optimizer::kAdamW;
        const float shrink = float(1.0 - s_.lr * s_.weight_decay);
        for (size_t i = 0; i < n; ++i) {
            float gi = gr[i];
            if (decoupled) {
                if (s_.weight_decay != 0) w[i] = w[i] * shrink;
            } else if (wd != 0) {
                gi = gi + wd * w[i];
            }
            st.m[i] = st.m[i] * b1 + one_b1 * gi;
            st.v[i] = st.v[i] * b2 + one_b2 * (gi * gi);
            const float denom = std::sqrt(st.v[i]) / sqrt_bc2 + eps;
            w[i] = w[i] + neg_step * (st.m[i] / denom);
        }
    }
    return Status::success();
}

void ParamOptimizer::save_state(StateDict* out) const {
    for (const auto& [name, st] : state_) {
        if (st.t == 0) continue;
        const Shape flat{int64_t(st.m.size())};
        if (s_.kind == Optimizer::kSgd) {
            if (!st.m.empty()) out->set(optim_state_name(name, "momentum_buffer"), Tensor(flat, st.m));
        } else {
            out->set(optim_state_name(name, "exp_avg"), Tensor(flat, st.m));
            out->set(optim_state_name(name, "exp_avg_sq"), Tensor(Shape{int64_t(st.v.size())}, st.v));
        }
        out->set(optim_state_name(name, "step"), Tensor(Shape{1}, float(st.t)), "I64");
    }
}

Status ParamOptimizer::load_state(const StateDict& in, const StateDict& params) {
    state_.clear();
    for (const std::string& name : params.names) {
        const size_t n = params.find(name)->data.size();
        auto take = [&](const char* what, std::vector<float>* to) -> Status {
            const Tensor* t = in.find(optim_state_name(name, what));
            if (!t) return Status::error("no " + optim_state_name(name, what));
            if (t->data.size() != n)
                return Status::error(optim_state_name(name, what) + " has " + std::to_string(t->data.size()) +
                                     " values, the parameter " + std::to_string(n));
            *to = t->data;
            return Status::success();
        };
        const Tensor* step = in.find(optim_state_name(name, "step"));
        const int64_t t = step && !step->data.empty() ? int64_t(step->data[0]) : 0;
        State st;
        if (s_.kind == Optimizer::kSgd) {
            if (in.find(optim_state_name(name, "momentum_buffer"))) {
                if (Status s = take("momentum_buffer", &st.m); !s) return s;
                st.t = std::max<int64_t>(t, 1);
            } else {
                st.t = s_.momentum != 0 ? 0 : t;  // momentum without a buffer: not stepped yet
            }
        } else if (t > 0) {
            if (Status s = take("exp_avg", &st.m); !s) return s;
            if (Status s = take("exp_avg_sq", &st.v); !s) return s;
            st.t = t;
        }
        if (st.t > 0) state_[name] = std::move(st);
    }
    return Status::success();
}

}  // namespace quantlab
