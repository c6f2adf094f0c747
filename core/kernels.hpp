// kernels.hpp: the compute kernels of inference, in three flavours with one signature each:
//   *_reference  plain loops in PyTorch's summation order, the definition every other kernel is tested against
//   *_fast       im2col + cache-blocked SIMD GEMM (AVX2+FMA picked at run time on x86-64, wasm SIMD128
//                in the browser), threads over the batch natively
//   *_int        integer codes: int16 centred codes (q - Z, |.| <= 255 for bits <= 8) multiplied in int32,
//                one rescale per output channel: y = acc * out_scale[o] + bias[o]
// Layouts: x (N,C,H,W) float; conv weight (O,C,K,K); linear weight (OUT,IN); y (N,O,H',W') or (N,OUT).
#pragma once
#include <cstdint>
#include <vector>

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
// linear_fast's weight transposed once (pack_linear_fast: IN x round_up(OUT, 8), zeros past OUT), for a caller
// that runs the same weight many times (a configured Model); the overload above transposes on every call.
struct PackedWeightF32 {
    std::vector<float> wt;
};
PackedWeightF32 pack_linear_fast(const float* weight, int in, int out);
void linear_fast(const float* x, const PackedWeightF32& weight, const float* bias, int n, int in, int out, float* y);

// The float GEMM under conv2d_fast and linear_fast, for other callers (the training engine's backward passes):
// c (m x n, ldc) += a (m x kdim, row stride lda) * b (kdim x n, ldb), serial. B must be readable up to column
// round_up(n, 8) (finite values there keep the SIMD fast; they reach no output); C is touched only inside m x n.
// Each c element is one chain of multiply-adds in k order, whatever m, n or the pointers' offsets, so cutting
// a product into blocks of rows or columns (over threads) gives the same bits.
// accumulate = false: c = a * b, c's old values never read; the chains start from +0, so the bits are those of
// a zero-filled c with accumulate (which saves the caller a pass over c: 40 MB a training step's conv backward).
void gemm_f32(int m, int n, int kdim, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
              int64_t ldc, bool accumulate = true);
// The same with A's rows anywhere (a_rows[i]: row i, readable for kdim values), the same chains and bits: a
// conv's weight gradient reads its input planes in place as A (no im2col copy).
void gemm_f32_rows(int m, int n, int kdim, const float* const* a_rows, const float* b, int64_t ldb, float* c,
                   int64_t ldc, bool accumulate = true);
// One im2col row of conv2d_fast: input channel plane x_plane, kernel offset (ky, kx), output rows [i0, i1):
// dst[(i - i0) * ow + j] = x_plane[(i + ky - pad) * w + (j + kx - pad)], 0 where that falls in the padding.
void im2col_rows_f32(const float* x_plane, const ConvShape& s, int ky, int kx, int i0, int i1, float* dst);

// Integer kernels. x_codes/w_codes hold q - Z. Zero padding of a conv is code 0 (= real 0 after centring).
// out_scale[o] = S_in * S_w[o] (per-tensor weights: the same value for every o).
void conv2d_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          const ConvShape& s, float* y);
void linear_int_reference(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                          int n, int in, int out, float* y);
// What conv2d_int does to each output after the rescale, in the same pass while the band is in cache: the
// per-channel affine of a BatchNorm that follows the conv (y = y * scale[o] + shift[o]), a ReLU, as
// affine_planes computes them, and then a 2x2 max pool (stride 2, odd last rows/columns dropped, as
// max_pool). The values equal running those layers afterwards. Default: nothing.
struct ConvPost {
    const float* scale = nullptr;  // with shift, or neither
    const float* shift = nullptr;
    bool relu = false;
    bool pool2 = false;  // y is then (N, O, OH / 2, OW / 2)
};
void conv2d_int(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                const ConvShape& s, float* y, const ConvPost& post = {});
void linear_int(const int16_t* x_codes, const int16_t* w_codes, const float* out_scale, const float* bias,
                int n, int in, int out, float* y);
// The integer kernels' weight packed once (B of their GEMM: pairs of k in column panels as wide as this
// machine's microkernel tile), for a caller that runs the same weight many times (a configured Model); the
// overloads above pack on every call. A packing belongs to the process that made it (the panel width follows
// the instruction set picked at run time). pack_conv_int reads s.c, s.k and s.o only.
struct PackedWeightI16 {
    std::vector<int16_t> panels;
};
PackedWeightI16 pack_conv_int(const int16_t* w_codes, const ConvShape& s);
PackedWeightI16 pack_linear_int(const int16_t* w_codes, int in, int out);
// As above, with the weight packed for the same layer shape.
void conv2d_int(const int16_t* x_codes, const PackedWeightI16& weight, const float* out_scale, const float* bias,
                const ConvShape& s, float* y, const ConvPost& post = {});
void linear_int(const int16_t* x_codes, const PackedWeightI16& weight, const float* out_scale, const float* bias,
                int n, int in, int out, float* y);

// Per-value passes (kernels_elementwise.cpp), SIMD with results bit-identical to their scalar definitions.
// Centred activation codes: codes[i] = quantize_value(x[i], scale, zero_point, {qmin, qmax}) - zero_point
// (quantizer.hpp); qmax - qmin < 2^15. multiply_inverse: CodeRange::multiply_inverse (full codes).
void quantize_centred(const float* x, int64_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                      int16_t* codes, bool multiply_inverse = false);
// Per-tensor fake quantization: out[i] = dequantize_value(quantize_value(x[i], ...), scale, zero_point), as
// fake_quant of quantizer.hpp (out may be x).
void fake_quant_tensor(const float* x, int64_t n, float scale, int32_t zero_point, int32_t qmin, int32_t qmax, float* out,
                       bool multiply_inverse = false);
// True when no value is NaN or infinite.
bool all_finite(const float* x, int64_t n);
// *lo = the smallest, *hi = the largest of n >= 1 finite values (std::min/std::max over them in order).
void min_max(const float* x, int64_t n, float* lo, float* hi);
// BatchNorm in inference over n images of c planes of hw values, x = x * a[ch] + b[ch], optionally with
// the ReLU after it fused in (x > 0 ? x : 0): the two layers' expressions, one pass.
void affine_planes(float* x, int64_t n, int64_t c, int64_t hw, const float* a, const float* b, bool relu);
// Max pooling with stride = window k over `planes` (h x w) planes into (h / k) x (w / k) planes.
void max_pool(const float* src, int64_t planes, int64_t h, int64_t w, int64_t k, float* dst);

// conv2d_int's output pass, over a band of output pixels held pixel-major (row p: the pixel's channels, ld
// values apart; ld a multiple of 4, the per-channel vectors zero-padded to ld):
//   out[p][o] = float(acc[p][o]) * scale[o] + bias[o], then with a and b: * a[o] + b[o] and, with relu, the
//   ReLU: the reference's rescale and affine_planes' expressions, value for value.
void rescale_pixels(const int32_t* acc, int64_t pixels, int64_t ld, const float* scale, const float* bias,
                    const float* a, const float* b, bool relu, float* out);
// 2x2 max pooling of an (h x w)-pixel band held pixel-major into (h / 2) x (w / 2) pixel rows of ld values,
// each max(max(top-left, top-right), max(bottom-left, bottom-right)) as max_pool's scalar definition.
void max_pool2_pixels(const float* x, int64_t h, int64_t w, int64_t ld, float* out);
// The first `channels` values of each pixel row into channel planes: y[o * plane + p] = x[p * ld + o].
void store_planes(const float* x, int64_t pixels, int64_t ld, int64_t channels, float* y, int64_t plane);
// The inverse: channel planes into the first `channels` values of each pixel row, x[p * ld + o] = y[o * plane + p].
void load_planes(const float* y, int64_t plane, int64_t channels, int64_t pixels, float* x, int64_t ld);
// Which SIMD flavour the fast kernels use on this machine ("avx2+fma", "sse2", "wasm-simd128", "scalar").
const char* kernel_isa();

}  // namespace quantlab
