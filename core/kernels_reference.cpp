// kernels_reference.cpp: the reference conv/linear kernels, float and integer. Direct loops, accumulation
// over (c, ky, kx) like PyTorch's definition; no blocking, no SIMD, no threads: slow and obvious.
// One template serves both: the float kernels accumulate in float, the integer ones in int32.
#include "core/kernels.hpp"

namespace quantlab {

namespace {

// finish(acc, o) turns an accumulator into the output value (bias add, or rescale + bias).
template <class Acc, class In, class Finish>
void conv2d_direct(const In* x, const In* weight, const ConvShape& s, float* y, Finish finish) {
    const int oh = s.oh(), ow = s.ow();
    for (int n = 0; n < s.n; ++n)
        for (int o = 0; o < s.o; ++o)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    Acc acc = 0;
                    for (int c = 0; c < s.c; ++c)
                        for (int ky = 0; ky < s.k; ++ky) {
                            const int yy = i + ky - s.pad;
                            if (yy < 0 || yy >= s.h) continue;
                            for (int kx = 0; kx < s.k; ++kx) {
                                const int xx = j + kx - s.pad;
                                if (xx < 0 || xx >= s.w) continue;
                                acc += Acc(x[((int64_t(n) * s.c + c) * s.h + yy) * s.w + xx]) * Acc(weight[((int64_t(o) * s.c + c) * s.k + ky) * s.k + kx]);
                            }
                        }
                    y[((int64_t(n) * s.o + o) * oh + i) * ow + j] = finish(acc, o);
                }
}

template <class Acc, class In, class Finish>
void linear_direct(const In* x, const In* weight, int n, int in, int out, float* y, Finish finish) {
    for (int b = 0; b < n; ++b)
        for (int o = 0; o < out; ++o) {
            Acc acc = 0;
            for (int i = 0; i < in; ++i) acc += Acc(x[int64_t(b) * in + i]) * Acc(weight[int64_t(o) * in + i]);
            y[int64_t(b) * out + o] = finish(acc, o);
        }
}

}  // namespace

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
