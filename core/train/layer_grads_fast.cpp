// layer_grads_fast.cpp: the fast training kernels (layer_grads_fast.hpp): GEMMs on kernels.hpp's gemm_f32,
// vectorisable loops for the rest, threads through parallel.hpp. Work is cut only where each output value stays
// with one task (rows/columns of a GEMM, images, channels, planes), so the thread count never changes a bit.
#include "core/train/layer_grads_fast.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>

#include "core/parallel.hpp"
#include "core/scratch.hpp"
#include "core/vec128.hpp"

namespace quantlab {

namespace {

constexpr int64_t kMinParallelWork = int64_t(1) << 16;  // multiply-adds or values below which threads cost more

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// fn over [0, count): on the pool when the whole job (work values) is worth it, else serially.
void run_tasks(int64_t count, int64_t work, const std::function<void(int64_t, int64_t)>& fn) {
    if (count <= 0) return;
    if (work < kMinParallelWork || count == 1)
        fn(0, count);
    else
        parallel_for(0, count, fn);
}

thread_local std::vector<float> t_col, t_dy, t_dcol;  // per-thread working buffers (scratch.hpp)

// b (rows x cols, row-major) as gemm_f32 wants its B: readable up to round_up(cols, 8) columns. Returns b
// itself (ld = cols) when cols is a multiple of 8, else a zero-padded copy in buf.
const float* padded_b(const float* b, int64_t rows, int64_t cols, std::vector<float>* buf, int64_t* ld) {
    if (cols % 8 == 0) {
        *ld = cols;
        return b;
    }
    *ld = round_up(cols, 8);
    buf->assign(size_t(rows * *ld), 0.0f);
    for (int64_t r = 0; r < rows; ++r) std::memcpy(buf->data() + r * *ld, b + r * cols, size_t(cols) * sizeof(float));
    return buf->data();
}

// c (m x n) = a (m x kdim) * b (kdim x n) on the pool, in blocks of rows and columns (each c value stays one
// gemm_f32 chain, so the blocks change nothing; c is written, not added to). b as padded_b returns it.
void gemm_parallel(int m, int n, int kdim, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                   int64_t ldc) {
    constexpr int kRows = 64, kCols = 96;  // 96: a multiple of every microkernel width
    const int64_t rb = (m + kRows - 1) / kRows, cb = (n + kCols - 1) / kCols;
    run_tasks(rb * cb, int64_t(m) * n * kdim, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
            const int r0 = int(t / cb) * kRows, c0 = int(t % cb) * kCols;
            gemm_f32(std::min(kRows, m - r0), std::min(kCols, n - c0), kdim, a + int64_t(r0) * lda, lda, b + c0, ldb,
                     c + int64_t(r0) * ldc + c0, ldc, false);
        }
    });
}

// Per-channel sums: each run (one image's plane) is summed in float in 8 interleaved partial sums (value i to sum
// i % 8: one SIMD register), added up in a fixed tree, and the runs' sums are added in double in image order. The
// order depends on the lengths only; a plane holds at most a few thousand values, so the float part stays within
// a few 1e-7 of the run's magnitude.
struct Lanes {
    double total = 0;
};

// One run's float sum.
template <class F>
float run_sum(int64_t n, F f) {
    float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) s[j] += f(i + j);
    for (int j = 0; i < n; ++i, ++j) s[j] += f(i);
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

template <class F>
void add_run(Lanes* l, int64_t n, F f) {
    l->total += double(run_sum(n, f));
}

float plane_sum(const float* v, int64_t n) {
    return run_sum(n, [v](int64_t i) { return v[i]; });
}

void add_sum(Lanes* l, const float* v, int64_t n) { l->total += double(plane_sum(v, n)); }

void add_sq_dev(Lanes* l, const float* v, int64_t n, float mean) {
    add_run(l, n, [v, mean](int64_t i) {
        const float d = v[i] - mean;
        return d * d;
    });
}

}  // namespace

void conv2d_backward_fast(const float* x, const float* weight, const float* dy, const ConvShape& s, float* dx,
                          float* dweight, float* dbias) {
    const int oh = s.oh(), ow = s.ow(), kk2 = s.k * s.k, kdim = s.c * kk2;
    const int64_t p = int64_t(oh) * ow, in_plane = int64_t(s.h) * s.w;
    // dbias per channel: each image's plane summed (plane_sum), the images' sums added in double in image order.
    // With dweight, the planes are summed while dy^T reads them (one pass over dy less).
    std::vector<float> plane_sums(dbias ? size_t(int64_t(s.n) * s.o) : 0);  // (N x O)
    if (dbias && !dweight)
        run_tasks(s.n, int64_t(s.n) * s.o * p, [&](int64_t n0, int64_t n1) {
            for (int64_t n = n0; n < n1; ++n)
                for (int o = 0; o < s.o; ++o) plane_sums[size_t(n * s.o + o)] = plane_sum(dy + (n * s.o + o) * p, p);
        });
    if (dweight) {
        // dW^T (kdim x O) = sum over images of im2col (kdim x P) * dy^T (P x O): tasks are blocks of im2col rows,
        // each value one chain over the images and pixels in order. dy^T once for all tasks, O padded to 8.
        // Unpadded, the im2col row (channel, ky, kx) is the input plane read from (ky, kx) on, in rows of ow
        // pixels w apart: read in place as A (gemm_f32_rows) over kw = (oh - 1) w + ow values, with dy^T's rows
        // laid out w apart as well (the w - ow between a row's end and the next row's start multiply zeros).
        // That saves the im2col copy at the price of (kw - P) / P more multiply-adds: taken where that is at
        // most a quarter (the notebook's conv1: 14 %; its conv2, 36 %, copies: measured faster).
        const int64_t ldo = round_up(s.o, 8);
        const int64_t kw = int64_t(oh - 1) * s.w + ow;
        const bool in_place = s.pad == 0 && 4 * (kw - p) <= p;
        const int64_t rows = in_place ? kw : p;  // dy^T's rows per image
        std::unique_ptr<float[]> dyt_buf(new float[size_t(int64_t(s.n) * rows * ldo)]);  // every value written below
        float* dyt = dyt_buf.get();
        run_tasks(s.n, int64_t(s.n) * s.o * p, [&](int64_t n0, int64_t n1) {
            for (int64_t n = n0; n < n1; ++n) {
                float* img = dyt + n * rows * ldo;
                const float* dy_img = dy + n * s.o * p;
                if (in_place) {
                    for (int i = 0; i < oh; ++i) {
                        load_planes(dy_img + int64_t(i) * ow, p, s.o, ow, img + int64_t(i) * s.w * ldo, ldo);
                        const int64_t gap = std::min<int64_t>(s.w - ow, kw - (int64_t(i) * s.w + ow));
                        if (gap > 0) std::fill(img + (int64_t(i) * s.w + ow) * ldo, img + (int64_t(i) * s.w + ow + gap) * ldo, 0.0f);
                    }
                } else {
                    load_planes(dy_img, p, s.o, p, img, ldo);
                }
                if (dbias)  // the image's planes are in cache now
                    for (int o = 0; o < s.o; ++o) plane_sums[size_t(n * s.o + o)] = plane_sum(dy_img + o * p, p);
                if (ldo > s.o)
                    for (int64_t q = 0; q < rows; ++q) std::fill(img + q * ldo + s.o, img + (q + 1) * ldo, 0.0f);
            }
        });
        std::vector<float> dwt(size_t(kdim) * s.o, 0.0f);
        const int blocks = int(std::min<int64_t>((kdim + 3) / 4, 2 * int64_t(num_threads())));
        const int rows_per = int(round_up((kdim + blocks - 1) / blocks, 4));
        run_tasks((kdim + rows_per - 1) / rows_per, int64_t(s.n) * s.o * p * kdim, [&](int64_t b0, int64_t b1) {
            const int r0 = int(b0) * rows_per, r1 = std::min(kdim, int(b1) * rows_per);
            float* col = in_place ? nullptr : scratch(t_col, int64_t(r1 - r0) * p);
            std::vector<const float*> a_rows(in_place ? size_t(r1 - r0) : 0);
            for (int n = 0; n < s.n; ++n) {
                const float* x_img = x + int64_t(n) * s.c * in_plane;
                float* c = dwt.data() + int64_t(r0) * s.o;
                const float* b = dyt + int64_t(n) * rows * ldo;
                if (in_place) {
                    for (int r = r0; r < r1; ++r) {
                        const int ch = r / kk2, t = r % kk2;
                        a_rows[size_t(r - r0)] = x_img + ch * in_plane + (t / s.k) * s.w + t % s.k;
                    }
                    gemm_f32_rows(r1 - r0, s.o, int(kw), a_rows.data(), b, ldo, c, s.o);
                    continue;
                }
                for (int r = r0; r < r1; ++r) {
                    const int ch = r / kk2, t = r % kk2;
                    im2col_rows_f32(x_img + ch * in_plane, s, t / s.k, t % s.k, 0, oh, col + int64_t(r - r0) * p);
                }
                gemm_f32(r1 - r0, s.o, int(p), col, p, b, ldo, c, s.o);
            }
        });
        for (int o = 0; o < s.o; ++o)
            for (int r = 0; r < kdim; ++r) dweight[int64_t(o) * kdim + r] = dwt[size_t(int64_t(r) * s.o + o)];
    }
    if (dbias)
        for (int o = 0; o < s.o; ++o) {
            double total = 0;
            for (int n = 0; n < s.n; ++n) total += double(plane_sums[size_t(int64_t(n) * s.o + o)]);
            dbias[o] = float(total);
        }
    if (dx) {
        // Per image: dcol (kdim x P) = W^T (kdim x O) * dy (O x P), then col2im adds each dcol row into the input
        // plane it was read from, in (channel, ky, kx, row) order.
        std::vector<float> wt(size_t(kdim) * s.o);
        for (int o = 0; o < s.o; ++o)
            for (int r = 0; r < kdim; ++r) wt[size_t(int64_t(r) * s.o + o)] = weight[int64_t(o) * kdim + r];
        const int64_t ldp = round_up(p, 8);
        run_tasks(s.n, int64_t(s.n) * s.o * p * kdim, [&](int64_t n0, int64_t n1) {
            float* dyp = scratch(t_dy, s.o * ldp);
            float* dcol = scratch(t_dcol, kdim * ldp);
            for (int64_t n = n0; n < n1; ++n) {
                for (int o = 0; o < s.o; ++o) {
                    std::memcpy(dyp + o * ldp, dy + (n * s.o + o) * p, size_t(p) * sizeof(float));
                    std::fill(dyp + o * ldp + p, dyp + (o + 1) * ldp, 0.0f);
                }
                // whole tiles (dy's padding is 0); dcol written, not added to: no zero-fill pass
                gemm_f32(kdim, int(ldp), s.o, wt.data(), s.o, dyp, ldp, dcol, ldp, false);
                float* dx_img = dx + n * s.c * in_plane;
                std::fill(dx_img, dx_img + s.c * in_plane, 0.0f);
                for (int r = 0; r < kdim; ++r) {
                    const int ch = r / kk2, ky = (r % kk2) / s.k, kx = r % s.k;
                    const int j_lo = std::clamp(s.pad - kx, 0, ow), j_hi = std::clamp(s.w + s.pad - kx, j_lo, ow);
                    const float* row = dcol + int64_t(r) * ldp;
                    float* plane = dx_img + ch * in_plane;
                    for (int i = 0; i < oh; ++i) {
                        const int yy = i + ky - s.pad;
                        if (yy < 0 || yy >= s.h) continue;
                        float* dst = plane + int64_t(yy) * s.w;
                        const float* src = row + int64_t(i) * ow;
                        for (int j = j_lo; j < j_hi; ++j) dst[j + kx - s.pad] += src[j];
                    }
                }
            }
        });
    }
}

void linear_backward_fast(const float* x, const float* weight, const float* dy, int n, int in, int out, float* dx,
                          float* dweight, float* dbias) {
    if (dbias)
        for (int o = 0; o < out; ++o) {
            double acc = 0;
            for (int b = 0; b < n; ++b) acc += double(dy[int64_t(b) * out + o]);
            dbias[o] = float(acc);
        }
    std::vector<float> buf;
    int64_t ld = 0;
    if (dx) {  // dx (N x IN) = dy (N x OUT) * W (OUT x IN)
        const float* b = padded_b(weight, out, in, &buf, &ld);
        gemm_parallel(n, in, out, dy, out, b, ld, dx, in);
    }
    if (dweight) {  // dW (OUT x IN) = dy^T (OUT x N) * x (N x IN): each value one chain over the batch
        std::vector<float> dyt(size_t(int64_t(out) * n));
        for (int b = 0; b < n; ++b)
            for (int o = 0; o < out; ++o) dyt[size_t(int64_t(o) * n + b)] = dy[int64_t(b) * out + o];
        const float* b = padded_b(x, n, in, &buf, &ld);
        gemm_parallel(out, in, n, dyt.data(), n, b, ld, dweight, in);
    }
}

namespace {

// One channel's batch statistics, as the reference: the mean, then the squared deviations (two passes), into
// the cache and the running statistics.
void bn_channel_stats(const float* x, int64_t n, int64_t c, int64_t hw, int64_t ch, const BnSettings& bn,
                      float* running_mean, float* running_var, BnCache<float>* cache) {
    const int64_t m = n * hw;
    Lanes sum;
    for (int64_t b = 0; b < n; ++b) add_sum(&sum, x + (b * c + ch) * hw, hw);
    const double mean = sum.total / double(m);
    Lanes ss;
    for (int64_t b = 0; b < n; ++b) add_sq_dev(&ss, x + (b * c + ch) * hw, hw, float(mean));
    const double var = ss.total / double(m);
    cache->mean[size_t(ch)] = float(mean);
    cache->invstd[size_t(ch)] = float(1.0 / std::sqrt(var + bn.eps));
    if (running_mean) running_mean[ch] = float((1.0 - bn.momentum) * double(running_mean[ch]) + bn.momentum * mean);
    if (running_var)
        running_var[ch] = float((1.0 - bn.momentum) * double(running_var[ch]) + bn.momentum * var * double(m) / double(m - 1));
}

// A channel's normalisation y = xhat gamma + beta, xhat = (x - mean) invstd: one expression, so the forward, the
// fused pool (which normalises as it reads) and the backward (which recomputes xhat) agree to the bit. T: float or
// F4, lane by lane the same float operations. The backward, which needs xhat only, passes no gamma and beta.
struct BnAffine {
    float mean, invstd, gamma = 1, beta = 0;
    BnAffine(const BnCache<float>& cache, int64_t ch, const float* g = nullptr, const float* b = nullptr)
        : mean(cache.mean[size_t(ch)]), invstd(cache.invstd[size_t(ch)]) {
        if (g) gamma = g[ch];
        if (b) beta = b[ch];
    }
    template <class T>
    T xhat(T x) const {
        return (x - mean) * invstd;
    }
    template <class T>
    T operator()(T x) const {
        return xhat(x) * gamma + beta;
    }
};

// One channel's backward (the reference's formulas; dy_plane(b): image b's plane of dL/dy): dgamma and dbeta
// (per-plane float sums added in double in image order), then dx = k (M dy - sum(dy) - xhat sum(dy xhat)) with
// k = gamma invstd / M, as a dy - b - xhat c.
template <class DyPlane>
void bn_channel_backward(const float* x, int64_t n, int64_t c, int64_t hw, int64_t ch, const float* gamma,
                         const BnCache<float>& cache, const DyPlane& dy_plane, float* dx, float* dgamma, float* dbeta) {
    const int64_t m = n * hw;
    const BnAffine f(cache, ch);
    Lanes sum_dy, sum_dy_xhat;
    for (int64_t b = 0; b < n; ++b) {
        const float* dy = dy_plane(b);
        const float* xp = x + (b * c + ch) * hw;
        add_sum(&sum_dy, dy, hw);
        add_run(&sum_dy_xhat, hw, [&](int64_t i) { return dy[i] * f.xhat(xp[i]); });
    }
    const double sd = sum_dy.total, sdx = sum_dy_xhat.total;
    if (dgamma) dgamma[ch] = float(sdx);
    if (dbeta) dbeta[ch] = float(sd);
    if (!dx) return;
    const double k = double(gamma[ch]) * double(cache.invstd[size_t(ch)]) / double(m);
    const float a = float(k * double(m)), bb = float(k * sd), cc = float(k * sdx);
    for (int64_t b = 0; b < n; ++b) {
        const float* dy = dy_plane(b);
        const float* xp = x + (b * c + ch) * hw;
        float* dxp = dx + (b * c + ch) * hw;
        for (int64_t i = 0; i < hw; ++i) dxp[i] = a * dy[i] - bb - f.xhat(xp[i]) * cc;
    }
}

// The cache as the fast kernels keep it: the mean and invstd of c channels, no xhat.
void bn_cache_prepare(int64_t c, BnCache<float>* cache) {
    cache->xhat.clear();
    cache->mean.resize(size_t(c));
    cache->invstd.resize(size_t(c));
}

}  // namespace

Status batchnorm_train_forward_fast(const float* x, int64_t n, int64_t c, int64_t hw, const float* gamma,
                                    const float* beta, const BnSettings& bn, float* running_mean, float* running_var,
                                    float* y, BnCache<float>* cache) {
    if (n * hw < 2)  // the reference's message
        return batchnorm_train_forward(x, n, c, hw, gamma, beta, bn, running_mean, running_var, y, cache);
    bn_cache_prepare(c, cache);
    run_tasks(c, n * c * hw, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) {
            bn_channel_stats(x, n, c, hw, ch, bn, running_mean, running_var, cache);
            const BnAffine f(*cache, ch, gamma, beta);
            for (int64_t b = 0; b < n; ++b) {
                const int64_t off = (b * c + ch) * hw;
                for (int64_t i = 0; i < hw; ++i) y[off + i] = f(x[off + i]);
            }
        }
    });
    return Status::success();
}

void batchnorm_backward_fast(const float* x, const float* dy, int64_t n, int64_t c, int64_t hw, const float* gamma,
                             const BnCache<float>& cache, float* dx, float* dgamma, float* dbeta) {
    run_tasks(c, n * c * hw, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch)
            bn_channel_backward(x, n, c, hw, ch, gamma, cache, [&](int64_t b) { return dy + (b * c + ch) * hw; }, dx,
                                dgamma, dbeta);
    });
}

namespace {
constexpr int64_t kChunk = int64_t(1) << 14;  // values per task of the per-value loops
}

void relu_forward_fast(const float* x, int64_t n, float* y) {
    run_tasks((n + kChunk - 1) / kChunk, n, [&](int64_t t0, int64_t t1) {
        for (int64_t i = t0 * kChunk, e = std::min(n, t1 * kChunk); i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    });
}

void relu_backward_fast(const float* x, const float* dy, int64_t n, float* dx) {
    run_tasks((n + kChunk - 1) / kChunk, n, [&](int64_t t0, int64_t t1) {
        for (int64_t i = t0 * kChunk, e = std::min(n, t1 * kChunk); i < e; ++i) {
            const float d = dy[i];  // read unconditionally, so the loop vectorises (a select, no branch)
            dx[i] = x[i] > 0.0f ? d : 0.0f;
        }
    });
}

namespace {

// The 2x2 window at r (rows r and r + w) into *y, *am (base: r's index in its plane): the first maximum in the
// order r[0], r[1], r[w], r[w + 1], a NaN wins (the reference's rule). Selects as bit masks: GCC turned ?: into
// branches, which random data mispredicts.
// kRelu: the window of relu(r) (x > 0 ? x : 0, a NaN becoming 0), as relu_forward would have written it.
template <bool kRelu>
float relu_if(float v) {
    return !kRelu || v > 0.0f ? v : 0.0f;
}

// Map: what the window's values go through first (Identity, or a BatchNorm's normalisation: BnAffine).
struct Identity {
    template <class T>
    T operator()(T v) const {
        return v;
    }
};

// Where a window's maximum m was, as the pool's argmax: its index in the plane (int64_t: the layers' own
// argmax, max_pool_forward's), or (uint8_t: the fused BatchNorm path's, 8 times smaller) its place in the window,
// dy k + dx, with kDead set when the ReLU passed nothing on (m is not > 0).
constexpr uint8_t kDead = 0x80;
inline void store_arg(int64_t* am, int64_t index, int /*code*/, float /*m*/) { *am = index; }
inline void store_arg(uint8_t* am, int64_t /*index*/, int code, float m) { *am = uint8_t(code | (m > 0.0f ? 0 : kDead)); }

template <bool kRelu, class Arg, class Map>
void pool2_one(const float* r, int64_t w, float* y, Arg* am, int64_t base, const Map& map) {
    const int64_t idx[4] = {0, 1, w, w + 1};
    int64_t best = 0, code = 0;
    float m = relu_if<kRelu>(map(r[0]));
    uint32_t mb;
    std::memcpy(&mb, &m, 4);
    for (int t = 1; t < 4; ++t) {
        const float v = relu_if<kRelu>(map(r[idx[t]]));
        const int64_t take = -int64_t((v > m) | (v != v));  // all ones or 0; v != v: NaN
        uint32_t vb;
        std::memcpy(&vb, &v, 4);
        mb = (vb & uint32_t(take)) | (mb & ~uint32_t(take));
        std::memcpy(&m, &mb, 4);
        best = (idx[t] & take) | (best & ~take);
        code = (t & take) | (code & ~take);
    }
    *y = m;
    store_arg(am, base + best, int(code), m);
}

template <bool kRelu>
F4 relu_if(F4 v) {
    return kRelu ? (F4)((I4)v & (v > 0.0f)) : v;  // the scalar rule: a NaN or a negative becomes +0
}

// Four neighbouring windows (r[0..8) and r[w..w+8)) at once, lane t the window at r + 2t: pool2_one's
// comparisons, lane by lane (core/vec128.hpp).
template <bool kRelu, class Arg, class Map>
void pool2_four(const float* r, int64_t w, float* y, Arg* am, int64_t base, const Map& map) {
    F4 t0, t1, b0, b1;
    std::memcpy(&t0, r, 16);
    std::memcpy(&t1, r + 4, 16);
    std::memcpy(&b0, r + w, 16);
    std::memcpy(&b1, r + w + 4, 16);
    t0 = relu_if<kRelu>(map(t0));
    t1 = relu_if<kRelu>(map(t1));
    b0 = relu_if<kRelu>(map(b0));
    b1 = relu_if<kRelu>(map(b1));
    const F4 cand[3] = {__builtin_shufflevector(t0, t1, 1, 3, 5, 7), __builtin_shufflevector(b0, b1, 0, 2, 4, 6),
                         __builtin_shufflevector(b0, b1, 1, 3, 5, 7)};
    const int32_t offs[3] = {1, int32_t(w), int32_t(w + 1)};
    F4 m = __builtin_shufflevector(t0, t1, 0, 2, 4, 6);
    I4 best = {0, 0, 0, 0}, code = {0, 0, 0, 0};
    for (int c = 0; c < 3; ++c) {
        const F4 v = cand[c];
        const I4 take = (v > m) | (v != v);
        m = (F4)(((I4)v & take) | ((I4)m & ~take));
        best = (offs[c] & take) | (best & ~take);
        code = ((c + 1) & take) | (code & ~take);
    }
    std::memcpy(y, &m, 16);
    for (int t = 0; t < 4; ++t) store_arg(am + t, base + 2 * t + best[t], code[t], m[t]);
}

// map_of(p): plane p's Map.
template <bool kRelu, class Arg, class MapOf>
void pool_forward(const float* x, int64_t planes, int64_t h, int64_t w, int64_t k, float* y, std::vector<Arg>* argmax,
                  const MapOf& map_of) {
    const int64_t oh = h / k, ow = w / k;
    argmax->resize(size_t(planes * oh * ow));
    Arg* am = argmax->data();
    run_tasks(planes, planes * h * w, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            const float* xp = x + p * h * w;
            const auto map = map_of(p);
            if (k == 2) {  // the notebook's pool: the same comparisons in the same order, four outputs at a time
                for (int64_t i = 0; i < oh; ++i) {
                    const float* r0 = xp + (2 * i) * w;
                    const int64_t o = (p * oh + i) * ow;
                    int64_t j = 0;
                    for (; j + 4 <= ow; j += 4) pool2_four<kRelu>(r0 + 2 * j, w, y + o + j, am + o + j, (2 * i) * w + 2 * j, map);
                    for (; j < ow; ++j) pool2_one<kRelu>(r0 + 2 * j, w, y + o + j, am + o + j, (2 * i) * w + 2 * j, map);
                }
                continue;
            }
            for (int64_t i = 0; i < oh; ++i)
                for (int64_t j = 0; j < ow; ++j) {
                    int64_t best = (i * k) * w + j * k, code = 0;
                    float m = relu_if<kRelu>(map(xp[best]));
                    for (int64_t dy = 0; dy < k; ++dy)
                        for (int64_t dx = 0; dx < k; ++dx) {
                            const int64_t idx = (i * k + dy) * w + j * k + dx;
                            const float v = relu_if<kRelu>(map(xp[idx]));
                            if (v > m || std::isnan(v)) {  // the reference's rule: the first maximum, a NaN wins
                                m = v;
                                best = idx;
                                code = dy * k + dx;
                            }
                        }
                    const int64_t o = (p * oh + i) * ow + j;
                    y[o] = m;
                    store_arg(am + o, best, int(code), m);
                }
        }
    });
}

}  // namespace

void max_pool_forward_fast(const float* x, int64_t planes, int64_t h, int64_t w, int64_t k, float* y,
                           std::vector<int64_t>* argmax) {
    pool_forward<false>(x, planes, h, w, k, y, argmax, [](int64_t) { return Identity(); });
}

void relu_max_pool_forward_fast(const float* x, int64_t planes, int64_t h, int64_t w, int64_t k, float* y,
                                std::vector<int64_t>* argmax) {
    pool_forward<true>(x, planes, h, w, k, y, argmax, [](int64_t) { return Identity(); });
}

void relu_max_pool_backward_fast(const float* dy, const std::vector<int64_t>& argmax, const float* x, int64_t planes, int64_t h,
                                 int64_t w, int64_t k, float* dx) {
    const int64_t oh = h / k, ow = w / k;
    run_tasks(planes, planes * h * w, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            float* dp = dx + p * h * w;
            const float* xp = x + p * h * w;
            std::fill(dp, dp + h * w, 0.0f);
            // The windows do not overlap (stride = k), so each place gets at most one dy: 0 + dy as the pool's
            // backward adds it (a -0 dy becomes +0), kept where ReLU passed its input on (x > 0).
            for (int64_t o = 0; o < oh * ow; ++o) {
                const int64_t at = argmax[size_t(p * oh * ow + o)];
                const float d = 0.0f + dy[p * oh * ow + o];
                dp[at] = xp[at] > 0.0f ? d : 0.0f;
            }
        }
    });
}

void max_pool_backward_fast(const float* dy, const std::vector<int64_t>& argmax, int64_t planes, int64_t h, int64_t w,
                            int64_t k, float* dx) {
    const int64_t oh = h / k, ow = w / k;
    run_tasks(planes, planes * h * w, [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
            float* dp = dx + p * h * w;
            std::fill(dp, dp + h * w, 0.0f);
            for (int64_t o = 0; o < oh * ow; ++o) dp[argmax[size_t(p * oh * ow + o)]] += dy[p * oh * ow + o];
        }
    });
}

Status bn_relu_max_pool_forward_fast(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                                     const float* gamma, const float* beta, const BnSettings& bn, float* running_mean,
                                     float* running_var, float* y, BnCache<float>* cache, std::vector<uint8_t>* window_arg) {
    const int64_t hw = h * w;
    if (n * hw < 2)  // the reference's message (it fails before writing anything)
        return batchnorm_train_forward<float>(x, n, c, hw, gamma, beta, bn, running_mean, running_var, nullptr, cache);
    bn_cache_prepare(c, cache);
    run_tasks(c, n * c * hw, [&](int64_t c0, int64_t c1) {
        for (int64_t ch = c0; ch < c1; ++ch) bn_channel_stats(x, n, c, hw, ch, bn, running_mean, running_var, cache);
    });
    pool_forward<true>(x, n * c, h, w, k, y, window_arg, [&](int64_t p) { return BnAffine(*cache, p % c, gamma, beta); });
    return Status::success();
}

namespace {
thread_local std::vector<float> t_bn_dy;  // one channel's gradient of the BatchNorm's output, all images
}

void bn_relu_max_pool_backward_fast(const float* dy, const std::vector<uint8_t>& window_arg, const float* x, int64_t n,
                                    int64_t c, int64_t h, int64_t w, int64_t k, const float* gamma,
                                    const BnCache<float>& cache, float* dx, float* dgamma, float* dbeta) {
    const int64_t hw = h * w, oh = h / k, ow = w / k;
    int64_t at[kDead] = {};  // a window place's offset from the window's corner
    for (int64_t code = 0; code < std::min<int64_t>(k * k, kDead); ++code) at[code] = (code / k) * w + code % k;
    run_tasks(c, n * c * hw, [&](int64_t c0, int64_t c1) {
        float* d = scratch(t_bn_dy, n * hw);
        for (int64_t ch = c0; ch < c1; ++ch) {
            // The pool's and the ReLU's backward into d (relu_max_pool_backward_fast's values: 0 + dy at the
            // window's maximum where the ReLU passed it on), then the BatchNorm's with d as its dy: the same values
            // in the same order as the three layers' kernels, the same bits.
            for (int64_t b = 0; b < n; ++b) {
                const int64_t plane = b * c + ch;
                float* dp = d + b * hw;
                std::fill(dp, dp + hw, 0.0f);
                for (int64_t i = 0, o = plane * oh * ow; i < oh; ++i)
                    for (int64_t j = 0; j < ow; ++j, ++o) {
                        // 0 + dy, or +0 where kDead is set: a bit mask (a branch mispredicts the ReLU's pattern)
                        const uint8_t a = window_arg[size_t(o)];
                        const float g = 0.0f + dy[o];
                        uint32_t bits;
                        std::memcpy(&bits, &g, 4);
                        bits &= uint32_t(a >> 7) - 1u;
                        std::memcpy(dp + (i * w + j) * k + at[a & ~kDead], &bits, 4);
                    }
            }
            bn_channel_backward(x, n, c, hw, ch, gamma, cache, [&](int64_t b) { return d + b * hw; }, dx, dgamma, dbeta);
        }
    });
}

}  // namespace quantlab
