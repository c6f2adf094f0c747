// kernels_reference.cpp: the reference conv/linear kernels, float and integer. Direct loops, accumulation
// in float over (c, ky, kx) like PyTorch's definition; no blocking, no SIMD, no threads: slow and obvious.
#include "core/kernels.hpp"

namespace quantlab {

void conv2d_reference(const float* x, const float* weight, const float* bias, const ConvShape& s, float* y) {
    const int oh = s.oh(), ow = s.ow();
    for (int n = 0; n < s.n; ++n)
        for (int o = 0; o < s.o; ++o)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    float acc = 0;
                    for (int c = 0; c < s.c; ++c)
                        for (int ky = 0; ky < s.k; ++ky) {
                            const int yy = i + ky - s.pad;
                            if (yy < 0 || yy >= s.h) continue;
                            for (int kx = 0; kx < s.k; ++kx) {
                                const int xx = j + kx - s.pad;
                                if (xx < 0 || xx >= s.w) continue;
                                acc += x[((int64_t(n) * s.c + c) * s.h + yy) * s.w + xx] * weight[((int64_t(o) * s.c + c) * s.k + ky) * s.k + kx];
                            }
                        }
                    y[((int64_t(n) * s.o + o) * oh + i) * ow + j] = acc + (bias ? bias[o] : 0.0f);
                }
}

void linear_reference(const float* x, const float* weight, const float* bias, int n, int in, int out, float* y) {
    for (int b = 0; b < n; ++b)
        for (int o = 0; o < out; ++o) {
            float acc = 0;
            for (int i = 0; i < in; ++i) acc += x[int64_t(b) * in + i] * weight[int64_t(o) * in + i];
            y[int64_t(b) * out + o] = acc + (bias ? bias[o] : 0.0f);
        }
}

void conv2d_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          const ConvShape& s, float* y) {
    const int oh = s.oh(), ow = s.ow();
    for (int n = 0; n < s.n; ++n)
        for (int o = 0; o < s.o; ++o)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    int32_t acc = 0;
                    for (int c = 0; c < s.c; ++c)
                        for (int ky = 0; ky < s.k; ++ky) {
                            const int yy = i + ky - s.pad;
                            if (yy < 0 || yy >= s.h) continue;
                            for (int kx = 0; kx < s.k; ++kx) {
                                const int xx = j + kx - s.pad;
                                if (xx < 0 || xx >= s.w) continue;
                                acc += int32_t(x_codes[((int64_t(n) * s.c + c) * s.h + yy) * s.w + xx]) *
                                       int32_t(w_codes[((int64_t(o) * s.c + c) * s.k + ky) * s.k + kx]);
                            }
                        }
                    y[((int64_t(n) * s.o + o) * oh + i) * ow + j] = float(acc) * out_scale[o] + (bias ? bias[o] : 0.0f);
                }
}

void linear_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          int n, int in, int out, float* y) {
    for (int b = 0; b < n; ++b)
        for (int o = 0; o < out; ++o) {
            int32_t acc = 0;
            for (int i = 0; i < in; ++i) acc += int32_t(x_codes[int64_t(b) * in + i]) * int32_t(w_codes[int64_t(o) * in + i]);
            y[int64_t(b) * out + o] = float(acc) * out_scale[o] + (bias ? bias[o] : 0.0f);
        }
}

}  // namespace quantlab
