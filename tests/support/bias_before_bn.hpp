// bias_before_bn.hpp: whether a parameter is the bias of a conv/linear layer right before a BatchNorm. In
// training mode its gradient is 0 in exact arithmetic (BatchNorm subtracts the batch mean), so both libraries
// give float noise there, and Adam turns that noise into +-lr steps of its sign: the tests that compare engines
// treat these parameters apart.
#pragma once
#include <cstddef>
#include <string>

#include "core/network.hpp"

namespace quantlab::test {

inline bool bias_before_bn(const NetworkDesc& net, const std::string& param) {
    for (size_t i = 0; i + 1 < net.layers.size(); ++i)
        if (param == net.layers[i].name + ".bias" && net.layers[i + 1].kind == LayerKind::kBatchNorm2d) return true;
    return false;
}

}  // namespace quantlab::test
