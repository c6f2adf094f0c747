// kernels_reference.cpp: the reference conv/linear kernels, float and integer. Direct loops, accumulation
// over (c, ky, kx) like PyTorch's definition; no blocking, no SIMD, no threads: slow and obvious.
// One template serves both (kernels_direct.hpp): the float kernels accumulate in float, the integer ones in int32.
#include "core/kernels.hpp"
#include "core/kernels_direct.hpp"

namespace quantlab {

void conv2d_reference(const float* x, const float* weight, const float* bias, const ConvShape& s, float* y) {
    conv2d_direct<float>(x, weight, s, y, [bias](float acc, int o) { return acc + (bias ? bias[o] : 0.0f); });
}

void linear_reference(const float* x, const float* weight, const float* bias, int n, int in, int out, float* y) {
    linear_direct<float>(x, weight, n, in, out, y, [bias](float acc, int o) { return acc + (bias ? bias[o] : 0.0f); });
}

void conv2d_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          const ConvShape& s, float* y) {
    conv2d_direct<int32_t>(x_codes, w_codes, s, y, [=](int32_t acc, int o) { return float(acc) * out_scale[o] + (bias ? bias[o] : 0.0f); });
}

void linear_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          int n, int in, int out, float* y) {
    linear_direct<int32_t>(x_codes, w_codes, n, in, out, y, [=](int32_t acc, int o) { return float(acc) * out_scale[o] + (bias ? bias[o] : 0.0f); });
}

}  // namespace quantlab
