// tensor_source.hpp: tensors the quantizer lab can show that do not come from a loaded network: the
// notebook's plot input. Plain C++ (no ImGui); the network's weights and recorded activations come from
// core's Model / ForwardTrace in app.cpp.
#pragma once
#include <cstdint>
#include <vector>

namespace quantlab::ui {

// torch.manual_seed(seed); torch.randn(n).sort()[0], reproduced bit for bit up to float rounding of
// log/cos/sin: torch's CPU normal_fill (mt19937 -> 24-bit uniforms -> Box-Muller over blocks of 16, the last
// 16 values redrawn when n % 16 != 0). n >= 16.
std::vector<float> notebook_randn_sorted(int n = 1000, uint32_t seed = 100);

}  // namespace quantlab::ui
