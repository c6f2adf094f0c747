// kernels_direct.hpp: the direct conv and linear loops, one definition for the reference kernels
// (kernels_reference.cpp: float and integer) and the training engine's reference forward (train/layer_grads.cpp:
// float and double). Accumulation over (c, ky, kx), or over the inputs, in PyTorch's order, in type Acc.
// Layouts as kernels.hpp. finish(acc, o) turns an accumulator into the output value (bias add, or rescale + bias).
#pragma once
#include <cstdint>

#include "core/kernels.hpp"

namespace quantlab {

template <class Acc, class In, class Out, class Finish>
void conv2d_direct(const In* x, const In* weight, const ConvShape& s, Out* y, Finish finish) {
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
                                acc += Acc(x[((int64_t(n) * s.c + c) * s.h + yy) * s.w + xx]) *
                                       Acc(weight[((int64_t(o) * s.c + c) * s.k + ky) * s.k + kx]);
                            }
                        }
                    y[((int64_t(n) * s.o + o) * oh + i) * ow + j] = finish(acc, o);
                }
}

template <class Acc, class In, class Out, class Finish>
void linear_direct(const In* x, const In* weight, int n, int in, int out, Out* y, Finish finish) {
    for (int b = 0; b < n; ++b)
        for (int o = 0; o < out; ++o) {
            Acc acc = 0;
            for (int i = 0; i < in; ++i) acc += Acc(x[int64_t(b) * in + i]) * Acc(weight[int64_t(o) * in + i]);
            y[int64_t(b) * out + o] = finish(acc, o);
        }
}

}  // namespace quantlab
