// layer_grads_fast.hpp: the fast training-mode forward and backward passes of each layer (float only), what
// compute_gradients runs with TrainKernels::kFast; the loops of layer_grads.hpp are their definition and
// tests/unit/test_core_train_fast.cpp holds them to it. Same signatures and layouts as layer_grads.hpp.
//   conv backward   dW as a GEMM per image (im2col rows x dy^T; an unpadded conv's rows read in place from its
//                   input where that is cheaper, gemm_f32_rows), dx as W^T dy then col2im, both on the SIMD GEMM
//                   of kernels.hpp (gemm_f32); the forward is kernels.hpp's conv2d_fast
//   linear backward dx = dy W and dW = dy^T x on the same GEMM; the forward is linear_fast
//   BatchNorm, ReLU, max pool: the same formulas in float where the reference uses double for per-value
//                   arithmetic; per-channel sums in float within an image's plane, in double across images
//                   (a BatchNorm, ReLU and max pool in a row, or a ReLU and max pool, run as one pass each way)
// Threads: core's pool (parallel.hpp). Every output value is computed by one thread in an order fixed by the
// shapes alone (batch sums run inside one multiply-add chain, or in per-channel double sums, never as per-thread
// partial results), so the results are the same bits for any thread count, and from run to run.
// They differ from the reference in the last bits (float sums in another order, float instead of double).
#pragma once
#include <cstdint>
#include <vector>

#include "core/kernels.hpp"
#include "core/status.hpp"
#include "core/train/layer_grads.hpp"

namespace quantlab {

// Forward: conv2d_fast (kernels.hpp). dy (N,O,OH,OW) -> dx (N,C,H,W), dweight (O,C,K,K), dbias (O); null: skipped.
void conv2d_backward_fast(const float* x, const float* weight, const float* dy, const ConvShape& s, float* dx,
                          float* dweight, float* dbias);

// Forward: linear_fast (kernels.hpp). dy (N,OUT) -> dx (N,IN), dweight (OUT,IN), dbias (OUT); null: skipped.
void linear_backward_fast(const float* x, const float* weight, const float* dy, int n, int in, int out, float* dx,
                          float* dweight, float* dbias);

// As batchnorm_train_forward / batchnorm_backward (the same failure, the same running-statistic update). The
// cache keeps the mean and invstd only, no xhat: the backward recomputes xhat from the forward's input x with the
// forward's expression (the same bits), one pass over the activations cheaper than writing them and reading them back.
Status batchnorm_train_forward_fast(const float* x, int64_t n, int64_t c, int64_t hw, const float* gamma,
                                    const float* beta, const BnSettings& bn, float* running_mean, float* running_var,
                                    float* y, BnCache<float>* cache);
void batchnorm_backward_fast(const float* x, const float* dy, int64_t n, int64_t c, int64_t hw, const float* gamma,
                             const BnCache<float>& cache, float* dx, float* dgamma, float* dbeta);

// As relu_forward / relu_backward, bit for bit (no arithmetic), over threads.
void relu_forward_fast(const float* x, int64_t n, float* y);
void relu_backward_fast(const float* x, const float* dy, int64_t n, float* dx);

// As max_pool_forward / max_pool_backward, bit for bit (the same first-maximum rule), over threads.
void max_pool_forward_fast(const float* x, int64_t planes, int64_t h, int64_t w, int64_t k, float* y,
                           std::vector<int64_t>* argmax);
void max_pool_backward_fast(const float* dy, const std::vector<int64_t>& argmax, int64_t planes, int64_t h, int64_t w,
                            int64_t k, float* dx);

// A ReLU and the max pool after it in one pass each way, bit for bit the two layers' results: the forward equals
// max_pool_forward of relu_forward(x) (values and argmax), without writing the ReLU's output; the backward (x: the
// ReLU's input) equals relu_backward(x, max_pool_backward(dy)), without the pass over the ReLU's gradient. The
// pool's windows must not overlap (stride = window, as LayerKind::kMaxPool2d is).
void relu_max_pool_forward_fast(const float* x, int64_t planes, int64_t h, int64_t w, int64_t k, float* y,
                                std::vector<int64_t>* argmax);
void relu_max_pool_backward_fast(const float* dy, const std::vector<int64_t>& argmax, const float* x, int64_t planes, int64_t h,
                                 int64_t w, int64_t k, float* dx);
// A BatchNorm (training mode), the ReLU after it and the max pool after that, bit for bit the three layers' fast
// kernels in a row (values, running statistics, gradients): the forward normalises each value as the pool reads it
// (the BatchNorm's output, 4 values of the pooled 1, is never written); the backward (x: the BatchNorm's input)
// builds one channel's gradient of the BatchNorm's output at a time in a buffer that stays in cache. window_arg:
// per pooled value, where in its window the maximum was (dy k + dx; bit 0x80: the ReLU passed nothing on), a byte
// where max_pool_forward's argmax takes 8 and the ReLU's input: k <= 11.
Status bn_relu_max_pool_forward_fast(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                                     const float* gamma, const float* beta, const BnSettings& bn, float* running_mean,
                                     float* running_var, float* y, BnCache<float>* cache, std::vector<uint8_t>* window_arg);
void bn_relu_max_pool_backward_fast(const float* dy, const std::vector<uint8_t>& window_arg, const float* x, int64_t n,
                                    int64_t c, int64_t h, int64_t w, int64_t k, const float* gamma,
                                    const BnCache<float>& cache, float* dx, float* dgamma, float* dbeta);
constexpr int kMaxFusedPoolWindow = 11;  // bn_relu_max_pool_*'s largest k
}  // namespace quantlab
