// layer_grads.hpp: the reference forward (training mode) and backward passes of every layer a NetworkDesc allows:
// conv, BatchNorm with batch statistics and running-statistic updates, ReLU, max pool, linear (flatten is a
// reshape and needs nothing). Plain loops in a fixed order, one thread: deterministic, slow and obvious, the
// definition a faster training engine will be tested against. Templates instantiated for float (the engine)
// and double (the finite-difference test); backward sums accumulate in double either way.
// Layouts as kernels.hpp: x (N,C,H,W), conv weight (O,C,K,K), linear weight (OUT,IN), y (N,O,H',W') or (N,OUT).
// Every backward overwrites its outputs (no accumulation into them); a null output is skipped.
#pragma once
#include <cstdint>
#include <vector>

#include "core/kernels.hpp"
#include "core/status.hpp"

namespace quantlab {

// y = conv(x, weight) + bias; the loop order and float accumulation of conv2d_reference (bit-identical to it
// for float). bias may be null.
template <class T>
void conv2d_forward(const T* x, const T* weight, const T* bias, const ConvShape& s, T* y);
// dy (N,O,OH,OW) -> dx (N,C,H,W), dweight (O,C,K,K), dbias (O).
template <class T>
void conv2d_backward(const T* x, const T* weight, const T* dy, const ConvShape& s, T* dx, T* dweight, T* dbias);

// y = x weight^T + bias (bias may be null): linear_reference's order.
template <class T>
void linear_forward(const T* x, const T* weight, const T* bias, int n, int in, int out, T* y);
// dy (N,OUT) -> dx (N,IN), dweight (OUT,IN), dbias (OUT).
template <class T>
void linear_backward(const T* x, const T* weight, const T* dy, int n, int in, int out, T* dx, T* dweight, T* dbias);

// BatchNorm2d in training mode, as torch.nn.BatchNorm2d (eps 1e-5, momentum 0.1 by default): normalises with
// the batch's mean and biased variance over (N,H,W), and moves the running statistics towards the batch's,
// running_var towards the unbiased variance (M / (M - 1), M = N*H*W). What backward needs is kept in `cache`.
struct BnSettings {
    double eps = 1e-5;
    double momentum = 0.1;
};
template <class T>
struct BnCache {
    std::vector<T> xhat;    // (x - mean) * invstd, x's layout (the reference's; the fast kernels recompute it from x)
    std::vector<T> mean;    // the batch mean per channel
    std::vector<T> invstd;  // 1 / sqrt(var + eps) per channel
};
// Fails when a channel has fewer than 2 values (torch: "Expected more than 1 value per channel when training").
// running_mean / running_var may be null (no update).
template <class T>
Status batchnorm_train_forward(const T* x, int64_t n, int64_t c, int64_t hw, const T* gamma, const T* beta,
                               const BnSettings& bn, T* running_mean, T* running_var, T* y, BnCache<T>* cache);
// dy -> dx, dgamma (C), dbeta (C), through the batch statistics (the mean and variance depend on x).
template <class T>
void batchnorm_backward(const T* dy, int64_t n, int64_t c, int64_t hw, const T* gamma, const BnCache<T>& cache, T* dx,
                        T* dgamma, T* dbeta);

// ReLU: y = x > 0 ? x : 0. Backward passes dy where x > 0 and 0 elsewhere (x = 0 included, as torch).
template <class T>
void relu_forward(const T* x, int64_t n, T* y);
template <class T>
void relu_backward(const T* x, const T* dy, int64_t n, T* dx);

// Max pooling, window k = stride, over `planes` h x w planes into (h/k) x (w/k) (last rows/columns dropped).
// argmax[out] = the index within its plane of the first maximum in row-major window order (torch's choice on
// ties); backward sends each dy to that one input and 0 to the rest.
template <class T>
void max_pool_forward(const T* x, int64_t planes, int64_t h, int64_t w, int64_t k, T* y, std::vector<int64_t>* argmax);
template <class T>
void max_pool_backward(const T* dy, const std::vector<int64_t>& argmax, int64_t planes, int64_t h, int64_t w, int64_t k,
                       T* dx);

}  // namespace quantlab
