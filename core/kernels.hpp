// kernels.hpp: the compute kernels of inference, in three flavours with one signature each:
//   *_reference  plain loops in PyTorch's summation order, the definition every other kernel is tested against
//   *_fast       im2col + cache-blocked SIMD GEMM (AVX2+FMA picked at run time on x86-64, wasm SIMD128
//                in the browser), threads over the batch natively
//   *_int        integer codes: int16 centred codes (q - Z, |.| <= 255 for bits <= 8) multiplied in int32,
//                one rescale per output channel: y = acc * out_scale[o] + bias[o]
// Layouts: x (N,C,H,W) float; conv weight (O,C,K,K); linear weight (OUT,IN); y (N,O,H',W') or (N,OUT).
#pragma once
#include <cstdint>

namespace quantlab {

struct ConvShape {
    int n = 0, c = 0, h = 0, w = 0;  // input
    int o = 0, k = 0, pad = 0;       // output channels, square kernel, zero padding
    int oh() const { return h + 2 * pad - k + 1; }
    int ow() const { return w + 2 * pad - k + 1; }
};

void conv2d_reference(const float* x, const float* weight, const float* bias, const ConvShape& s, float* y);
void linear_reference(const float* x, const float* weight, const float* bias, int n, int in, int out, float* y);

void conv2d_fast(const float* x, const float* weight, const float* bias, const ConvShape& s, float* y);
void linear_fast(const float* x, const float* weight, const float* bias, int n, int in, int out, float* y);

// Integer kernels. x_codes/w_codes hold q - Z. Zero padding of a conv is code 0 (= real 0 after centring).
// out_scale[o] = S_in * S_w[o] (per-tensor weights: the same value for every o).
void conv2d_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          const ConvShape& s, float* y);
void linear_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          int n, int in, int out, float* y);
void conv2d_int(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                const ConvShape& s, float* y);
void linear_int(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                int n, int in, int out, float* y);

// Which SIMD flavour the fast kernels use on this machine ("avx2+fma", "sse2", "wasm-simd128", "scalar").
const char* kernel_isa();

}  // namespace quantlab
