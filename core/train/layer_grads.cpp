// layer_grads.cpp: reference forward (training mode) and backward loops of each layer (layer_grads.hpp).
// Backward sums run in double and in a fixed order, so a result depends on the inputs only.
#include "core/train/layer_grads.hpp"

#include <cmath>
#include <string>

#include "core/kernels_direct.hpp"

namespace quantlab {

template <class T>
void conv2d_forward(const T* x, const T* weight, const T* bias, const ConvShape& s, T* y) {
    conv2d_direct<T>(x, weight, s, y, [bias](T acc, int o) { return acc + (bias ? bias[o] : T(0)); });
}

template <class T>
void conv2d_backward(const T* x, const T* weight, const T* dy, const ConvShape& s, T* dx, T* dweight, T* dbias) {
    const int oh = s.oh(), ow = s.ow();
    auto dy_at = [&](int n, int o, int i, int j) { return double(dy[((int64_t(n) * s.o + o) * oh + i) * ow + j]); };
    if (dx)  // dx[n,c,yy,xx] = sum over (o, ky, kx) of dy[n,o,yy+pad-ky,xx+pad-kx] * w[o,c,ky,kx]
        for (int n = 0; n < s.n; ++n)
            for (int c = 0; c < s.c; ++c)
                for (int yy = 0; yy < s.h; ++yy)
                    for (int xx = 0; xx < s.w; ++xx) {
                        double acc = 0;
                        for (int o = 0; o < s.o; ++o)
                            for (int ky = 0; ky < s.k; ++ky) {
                                const int i = yy + s.pad - ky;
                                if (i < 0 || i >= oh) continue;
                                for (int kx = 0; kx < s.k; ++kx) {
                                    const int j = xx + s.pad - kx;
                                    if (j < 0 || j >= ow) continue;
                                    acc += dy_at(n, o, i, j) *
                                           double(weight[((int64_t(o) * s.c + c) * s.k + ky) * s.k + kx]);
                                }
                            }
                        dx[((int64_t(n) * s.c + c) * s.h + yy) * s.w + xx] = T(acc);
                    }
    if (dweight)  // dw[o,c,ky,kx] = sum over (n, i, j) of dy[n,o,i,j] * x[n,c,i+ky-pad,j+kx-pad]
        for (int o = 0; o < s.o; ++o)
            for (int c = 0; c < s.c; ++c)
                for (int ky = 0; ky < s.k; ++ky)
                    for (int kx = 0; kx < s.k; ++kx) {
                        double acc = 0;
                        for (int n = 0; n < s.n; ++n)
                            for (int i = 0; i < oh; ++i) {
                                const int yy = i + ky - s.pad;
                                if (yy < 0 || yy >= s.h) continue;
                                for (int j = 0; j < ow; ++j) {
                                    const int xx = j + kx - s.pad;
                                    if (xx < 0 || xx >= s.w) continue;
                                    acc +=
                                        dy_at(n, o, i, j) * double(x[((int64_t(n) * s.c + c) * s.h + yy) * s.w + xx]);
                                }
                            }
                        dweight[((int64_t(o) * s.c + c) * s.k + ky) * s.k + kx] = T(acc);
                    }
    if (dbias)
        for (int o = 0; o < s.o; ++o) {
            double acc = 0;
            for (int n = 0; n < s.n; ++n)
                for (int i = 0; i < oh; ++i)
                    for (int j = 0; j < ow; ++j) acc += dy_at(n, o, i, j);
            dbias[o] = T(acc);
        }
}

template <class T>
void linear_forward(const T* x, const T* weight, const T* bias, int n, int in, int out, T* y) {
    linear_direct<T>(x, weight, n, in, out, y, [bias](T acc, int o) { return acc + (bias ? bias[o] : T(0)); });
}

template <class T>
void linear_backward(const T* x, const T* weight, const T* dy, int n, int in, int out, T* dx, T* dweight, T* dbias) {
    if (dx)
        for (int b = 0; b < n; ++b)
            for (int i = 0; i < in; ++i) {
                double acc = 0;
                for (int o = 0; o < out; ++o)
                    acc += double(dy[int64_t(b) * out + o]) * double(weight[int64_t(o) * in + i]);
                dx[int64_t(b) * in + i] = T(acc);
            }
    if (dweight)
        for (int o = 0; o < out; ++o)
            for (int i = 0; i < in; ++i) {
                double acc = 0;
                for (int b = 0; b < n; ++b) acc += double(dy[int64_t(b) * out + o]) * double(x[int64_t(b) * in + i]);
                dweight[int64_t(o) * in + i] = T(acc);
            }
    if (dbias)
        for (int o = 0; o < out; ++o) {
            double acc = 0;
            for (int b = 0; b < n; ++b) acc += double(dy[int64_t(b) * out + o]);
            dbias[o] = T(acc);
        }
}

template <class T>
Status batchnorm_train_forward(const T* x, int64_t n, int64_t c, int64_t hw, const T* gamma, const T* beta,
                               const BnSettings& bn, T* running_mean, T* running_var, T* y, BnCache<T>* cache) {
    const int64_t m = n * hw;
    if (m < 2)
        return Status::error("train: batch norm needs more than 1 value per channel in training mode, got " +
                             std::to_string(m) + " (a batch of 1 image of 1x1 planes); use a larger batch");
    cache->xhat.assign(size_t(n * c * hw), T(0));
    cache->mean.assign(size_t(c), T(0));
    cache->invstd.assign(size_t(c), T(0));
    for (int64_t ch = 0; ch < c; ++ch) {
        // Two passes in double: the mean, then the squared deviations (no cancellation).
        double sum = 0;
        for (int64_t b = 0; b < n; ++b)
            for (int64_t p = 0; p < hw; ++p) sum += double(x[(b * c + ch) * hw + p]);
        const double mean = sum / double(m);
        double ss = 0;
        for (int64_t b = 0; b < n; ++b)
            for (int64_t p = 0; p < hw; ++p) {
                const double d = double(x[(b * c + ch) * hw + p]) - mean;
                ss += d * d;
            }
        const double var = ss / double(m);
        const double invstd = 1.0 / std::sqrt(var + bn.eps);
        cache->mean[size_t(ch)] = T(mean);
        cache->invstd[size_t(ch)] = T(invstd);
        for (int64_t b = 0; b < n; ++b)
            for (int64_t p = 0; p < hw; ++p) {
                const int64_t i = (b * c + ch) * hw + p;
                const double xh = (double(x[i]) - mean) * invstd;
                cache->xhat[size_t(i)] = T(xh);
                y[i] = T(xh * double(gamma[ch]) + double(beta[ch]));
            }
        if (running_mean) running_mean[ch] = T((1.0 - bn.momentum) * double(running_mean[ch]) + bn.momentum * mean);
        if (running_var)
            running_var[ch] =
                T((1.0 - bn.momentum) * double(running_var[ch]) + bn.momentum * var * double(m) / double(m - 1));
    }
    return Status::success();
}

template <class T>
void batchnorm_backward(const T* dy, int64_t n, int64_t c, int64_t hw, const T* gamma, const BnCache<T>& cache, T* dx,
                        T* dgamma, T* dbeta) {
    const int64_t m = n * hw;
    for (int64_t ch = 0; ch < c; ++ch) {
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int64_t b = 0; b < n; ++b)
            for (int64_t p = 0; p < hw; ++p) {
                const int64_t i = (b * c + ch) * hw + p;
                sum_dy += double(dy[i]);
                sum_dy_xhat += double(dy[i]) * double(cache.xhat[size_t(i)]);
            }
        if (dgamma) dgamma[ch] = T(sum_dy_xhat);
        if (dbeta) dbeta[ch] = T(sum_dy);
        if (!dx) continue;
        // dx = gamma * invstd / M * (M dy - sum(dy) - xhat * sum(dy xhat)): the mean's and the variance's
        // dependence on x folded into the two sums.
        const double k = double(gamma[ch]) * double(cache.invstd[size_t(ch)]) / double(m);
        for (int64_t b = 0; b < n; ++b)
            for (int64_t p = 0; p < hw; ++p) {
                const int64_t i = (b * c + ch) * hw + p;
                dx[i] = T(k * (double(m) * double(dy[i]) - sum_dy - double(cache.xhat[size_t(i)]) * sum_dy_xhat));
            }
    }
}

template <class T>
void relu_forward(const T* x, int64_t n, T* y) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <class T>
void relu_backward(const T* x, const T* dy, int64_t n, T* dx) {
    for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
}

template <class T>
void max_pool_forward(const T* x, int64_t planes, int64_t h, int64_t w, int64_t k, T* y, std::vector<int64_t>* argmax) {
    const int64_t oh = h / k, ow = w / k;
    argmax->assign(size_t(planes * oh * ow), 0);
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t i = 0; i < oh; ++i)
            for (int64_t j = 0; j < ow; ++j) {
                int64_t best = (i * k) * w + j * k;
                T m = x[p * h * w + best];
                for (int64_t dy = 0; dy < k; ++dy)
                    for (int64_t dx = 0; dx < k; ++dx) {
                        const int64_t idx = (i * k + dy) * w + j * k + dx;
                        const T v = x[p * h * w + idx];
                        if (v > m || std::isnan(v)) {  // torch's test: the first maximum wins ties, a NaN wins
                            m = v;
                            best = idx;
                        }
                    }
                const int64_t o = (p * oh + i) * ow + j;
                y[o] = m;
                (*argmax)[size_t(o)] = best;
            }
}

template <class T>
void max_pool_backward(const T* dy, const std::vector<int64_t>& argmax, int64_t planes, int64_t h, int64_t w, int64_t k,
                       T* dx) {
    const int64_t oh = h / k, ow = w / k;
    for (int64_t i = 0; i < planes * h * w; ++i) dx[i] = T(0);
    for (int64_t p = 0; p < planes; ++p)
        for (int64_t o = 0; o < oh * ow; ++o) dx[p * h * w + argmax[size_t(p * oh * ow + o)]] += dy[p * oh * ow + o];
}

#define QUANTLAB_LAYER_GRADS(T)                                                                                        \
    template void conv2d_forward<T>(const T*, const T*, const T*, const ConvShape&, T*);                               \
    template void conv2d_backward<T>(const T*, const T*, const T*, const ConvShape&, T*, T*, T*);                      \
    template void linear_forward<T>(const T*, const T*, const T*, int, int, int, T*);                                  \
    template void linear_backward<T>(const T*, const T*, const T*, int, int, int, T*, T*, T*);                         \
    template Status batchnorm_train_forward<T>(const T*, int64_t, int64_t, int64_t, const T*, const T*,                \
                                               const BnSettings&, T*, T*, T*, BnCache<T>*);                            \
    template void batchnorm_backward<T>(const T*, int64_t, int64_t, int64_t, const T*, const BnCache<T>&, T*, T*, T*); \
    template void relu_forward<T>(const T*, int64_t, T*);                                                              \
    template void relu_backward<T>(const T*, const T*, int64_t, T*);                                                   \
    template void max_pool_forward<T>(const T*, int64_t, int64_t, int64_t, int64_t, T*, std::vector<int64_t>*);        \
    template void max_pool_backward<T>(const T*, const std::vector<int64_t>&, int64_t, int64_t, int64_t, int64_t, T*);
QUANTLAB_LAYER_GRADS(float)
QUANTLAB_LAYER_GRADS(double)
#undef QUANTLAB_LAYER_GRADS

}  // namespace quantlab
