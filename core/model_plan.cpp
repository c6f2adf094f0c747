// model_plan.cpp: build_plan, the fusion rules of the forward pass in one place.
#include "core/model_plan.hpp"

namespace quantlab {

std::vector<PlanStep> build_plan(const NetworkDesc& net, const std::vector<bool>& integer) {
    const auto is = [&](size_t i, LayerKind kind) { return i < net.layers.size() && net.layers[i].kind == kind; };
    std::vector<PlanStep> plan;
    size_t q = 0;
    for (size_t li = 0; li < net.layers.size();) {
        const LayerDesc& l = net.layers[li];
        PlanStep st;
        st.layer = int(li);
        st.in = net.shape_after(int(li) - 1);
        switch (l.kind) {
            case LayerKind::kConv2d:
            case LayerKind::kLinear: {
                const bool on_codes = q < integer.size() && integer[q];
                st.q = int(q++);
                if (l.kind == LayerKind::kLinear) {
                    st.op = on_codes ? StepOp::kLinearInt : StepOp::kLinear;
                } else if (!on_codes) {
                    st.op = StepOp::kConv;
                } else {
                    // The integer conv's output pass takes the BatchNorm, ReLU and 2x2 pool that follow it (two
                    // trips through memory fewer); the pooled output is smaller than the conv's.
                    st.op = StepOp::kConvInt;
                    if (is(li + 1, LayerKind::kBatchNorm2d)) {
                        st.bn = true;
                        if (is(li + 2, LayerKind::kReLU)) {
                            st.relu = true;
                            if (is(li + 3, LayerKind::kMaxPool2d) && net.layers[li + 3].kernel == 2) st.pool2 = true;
                        }
                    }
                    st.layers = 1 + int(st.bn) + int(st.relu) + int(st.pool2);
                }
                break;
            }
            case LayerKind::kBatchNorm2d:
                st.op = StepOp::kBatchNorm;
                st.relu = is(li + 1, LayerKind::kReLU);
                st.layers = 1 + int(st.relu);
                break;
            case LayerKind::kReLU: st.op = StepOp::kReLU; break;
            case LayerKind::kMaxPool2d: st.op = StepOp::kMaxPool; break;
            case LayerKind::kFlatten: st.op = StepOp::kFlatten; break;  // NCHW is already flat per image
        }
        li += size_t(st.layers);
        st.out = net.shape_after(int(li) - 1);
        plan.push_back(st);
    }
    return plan;
}

}  // namespace quantlab
