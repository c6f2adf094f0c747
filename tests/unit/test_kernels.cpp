// test_kernels.cpp: the fast and integer conv/linear kernels against the reference kernels (core/kernels.hpp),
// and parallel_for (core/parallel.hpp). Float: random data in [-1, 1], max |fast - ref| <= 1e-4 * (1 + |ref|)
// (the fast kernels sum in another order, and with FMA); a failure reports the largest difference. Integer: exactly
// equal, codes spanning [-255, 255]. Thread counts 1 and 2 must give bit-identical results.
// The instruction set under test is the one the machine picks; QUANTLAB_KERNEL_ISA=avx2|sse2|scalar forces a fallback.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <thread>
#include <vector>

#include "core/kernels.hpp"
#include "core/parallel.hpp"

using namespace quantlab;

namespace {

constexpr float kRelTol = 1e-4f;

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

std::vector<int16_t> random_codes(size_t n, std::mt19937& rng, int max_abs = 255) {
    std::uniform_int_distribution<int> dist(-max_abs, max_abs);
    std::vector<int16_t> v(n);
    for (auto& x : v) x = int16_t(dist(rng));
    // Both ends of the range at least once, where there is room.
    if (n >= 2) {
        v[0] = int16_t(max_abs);
        v[n - 1] = int16_t(-max_abs);
    }
    return v;
}

size_t conv_in_size(const ConvShape& s) { return size_t(s.n) * s.c * s.h * s.w; }
size_t conv_w_size(const ConvShape& s) { return size_t(s.o) * s.c * s.k * s.k; }
size_t conv_out_size(const ConvShape& s) { return size_t(s.n) * s.o * s.oh() * s.ow(); }

// Largest |fast - ref| and whether every element is within kRelTol * (1 + |ref|).
struct Closeness {
    float max_abs_diff = 0;
    bool within = true;
};

Closeness compare(const std::vector<float>& fast, const std::vector<float>& ref) {
    Closeness c;
    for (size_t i = 0; i < ref.size(); ++i) {
        const float d = std::fabs(fast[i] - ref[i]);
        c.max_abs_diff = std::max(c.max_abs_diff, d);
        if (!(d <= kRelTol * (1.0f + std::fabs(ref[i])))) c.within = false;
    }
    return c;
}

ConvShape conv(int n, int c, int h, int w, int o, int k, int pad) {
    ConvShape s;
    s.n = n, s.c = c, s.h = h, s.w = w, s.o = o, s.k = k, s.pad = pad;
    return s;
}

struct LinearShape {
    int n, in, out;
};

// The notebook's CNN (conv1, conv2) and odd shapes: n = 1 and 3, channels that are not multiples of 8,
// padding 1 and 2, k = 1 and 3, kernels larger than the input (all padding), a single pixel.
const std::vector<ConvShape> kConvShapes = {
    conv(2, 3, 32, 32, 32, 5, 0),   // conv1
    conv(3, 32, 14, 14, 64, 5, 0),  // conv2
    conv(1, 1, 1, 1, 1, 1, 0),      conv(1, 3, 5, 5, 2, 3, 1),    conv(3, 5, 7, 9, 7, 3, 1),
    conv(2, 3, 6, 5, 9, 3, 2),      conv(1, 13, 11, 11, 33, 1, 0), conv(3, 7, 8, 3, 5, 5, 2),
    conv(1, 2, 2, 2, 3, 5, 2),      conv(2, 17, 9, 10, 30, 4, 1),  conv(1, 32, 14, 14, 64, 5, 0),
};

const std::vector<LinearShape> kLinearShapes = {
    {5, 1600, 120}, {5, 120, 84}, {5, 84, 10},  // fc1..fc3
    {1, 1, 1}, {3, 7, 5}, {1, 1601, 121}, {37, 33, 25}, {4, 8, 8}, {130, 75, 49}, {2, 3, 200},
};

std::string describe(const ConvShape& s) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "conv n=%d c=%d h=%d w=%d o=%d k=%d pad=%d", s.n, s.c, s.h, s.w, s.o, s.k, s.pad);
    return buf;
}

std::string describe(const LinearShape& s) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "linear n=%d in=%d out=%d", s.n, s.in, s.out);
    return buf;
}

// Restores the thread count a test changed.
struct ThreadCountGuard {
    int saved = num_threads();
    ~ThreadCountGuard() { set_num_threads(saved); }
};

}  // namespace

TEST_CASE("fast float kernels match the reference within 1e-4 * (1 + |ref|)", "[kernels]") {
    std::mt19937 rng(42);
    INFO("kernel ISA: " << kernel_isa());
    SECTION("conv2d_fast") {
        for (const ConvShape& s : kConvShapes) {
            const auto x = random_floats(conv_in_size(s), rng), w = random_floats(conv_w_size(s), rng);
            const auto b = random_floats(size_t(s.o), rng);
            for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
                std::vector<float> ref(conv_out_size(s)), fast(conv_out_size(s), -7.0f);
                conv2d_reference(x.data(), w.data(), bias, s, ref.data());
                conv2d_fast(x.data(), w.data(), bias, s, fast.data());
                const Closeness c = compare(fast, ref);
                INFO(describe(s) << (bias ? "" : " (no bias)") << ": max |fast - ref| = " << c.max_abs_diff);
                CHECK(c.within);
            }
        }
    }
    SECTION("linear_fast") {
        for (const LinearShape& s : kLinearShapes) {
            const auto x = random_floats(size_t(s.n) * s.in, rng), w = random_floats(size_t(s.out) * s.in, rng);
            const auto b = random_floats(size_t(s.out), rng);
            for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
                std::vector<float> ref(size_t(s.n) * s.out), fast(size_t(s.n) * s.out, -7.0f);
                linear_reference(x.data(), w.data(), bias, s.n, s.in, s.out, ref.data());
                linear_fast(x.data(), w.data(), bias, s.n, s.in, s.out, fast.data());
                const Closeness c = compare(fast, ref);
                INFO(describe(s) << (bias ? "" : " (no bias)") << ": max |fast - ref| = " << c.max_abs_diff);
                CHECK(c.within);
            }
        }
    }
    SECTION("network-sized batch: the fc1 sums over 1600 inputs stay within tolerance") {
        const LinearShape s{256, 1600, 120};
        const auto x = random_floats(size_t(s.n) * s.in, rng), w = random_floats(size_t(s.out) * s.in, rng);
        std::vector<float> ref(size_t(s.n) * s.out), fast(ref.size());
        linear_reference(x.data(), w.data(), nullptr, s.n, s.in, s.out, ref.data());
        linear_fast(x.data(), w.data(), nullptr, s.n, s.in, s.out, fast.data());
        const Closeness c = compare(fast, ref);
        INFO("fc1 batch 256: max |fast - ref| = " << c.max_abs_diff);
        CHECK(c.within);
    }
}

// Each value of gemm_f32 is one multiply-add chain in k order from C's value, whatever tile, width or thread
// ran it: fused (fmaf) where the kernels use FMA (AVX2, AVX-512), a rounded product then an add elsewhere
// (SSE2, wasm SIMD128, scalar). Exactly that chain, bit for bit, on shapes that leave partial tiles at every
// width (8 to 48 columns) and K blocks of every length; AVX-512's 16-lane tiles therefore give AVX2's bits.
TEST_CASE("gemm_f32 is one multiply-add chain in k order per value, bit for bit", "[kernels]") {
    const std::string isa = kernel_isa();
    const bool fused = isa.rfind("avx", 0) == 0;
    INFO("kernel ISA: " << isa);
    std::mt19937 rng(7);
    for (const auto& [m, n, k] : std::vector<std::tuple<int, int, int>>{{1, 1, 1}, {4, 8, 3}, {5, 17, 129}, {7, 48, 300},
                                                                        {9, 57, 257}, {13, 100, 75}, {3, 33, 800}}) {
        const int64_t lda = k + 3, ldb = n + 5, ldc = n + 2;
        // B readable up to column round_up(n, 8) of its last row, as gemm_f32 asks
        const std::vector<float> a = random_floats(size_t(m * lda), rng), b = random_floats(size_t(k * ldb + 8), rng);
        std::vector<float> c = random_floats(size_t(m * ldc), rng), want = c;
        gemm_f32(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
        for (int i = 0; i < m; ++i)
            for (int j = 0; j < n; ++j) {
                float acc = want[size_t(i * ldc + j)];
                for (int t = 0; t < k; ++t) {
                    const float x = a[size_t(i * lda + t)], y = b[size_t(t * ldb + j)];
                    if (fused) {
                        acc = std::fmaf(x, y, acc);
                    } else {
                        volatile float prod = x * y;  // rounded on its own: no contraction into an FMA
                        acc = acc + prod;
                    }
                }
                want[size_t(i * ldc + j)] = acc;
            }
        INFO("m " << m << " n " << n << " k " << k);
        CHECK(std::memcmp(c.data(), want.data(), c.size() * sizeof(float)) == 0);
        // accumulate = false: the chains start from +0 (C's NaNs never read), the bits of a zero-filled C; C's
        // padding columns (ldc > n) are not written. Products of -0 (a zero in A) check the sign of the start.
        std::vector<float> az = a;
        for (size_t t = 0; t < az.size(); t += 5) az[t] = -0.0f;
        std::vector<float> set(c.size(), std::nanf("")), zeros(c.size(), 0.0f);
        gemm_f32(m, n, k, az.data(), lda, b.data(), ldb, set.data(), ldc, false);
        gemm_f32(m, n, k, az.data(), lda, b.data(), ldb, zeros.data(), ldc);
        for (int i = 0; i < m; ++i) {
            CHECK(std::memcmp(set.data() + i * ldc, zeros.data() + i * ldc, size_t(n) * sizeof(float)) == 0);
            for (int64_t j = n; j < ldc; ++j) CHECK(std::isnan(set[size_t(i * ldc + j)]));
        }
        // gemm_f32_rows: A's rows by pointer, here A's rows in reverse order at overlapping offsets (row i of the
        // product reads a from i's offset on, as a conv's in-place input planes overlap): the bits of gemm_f32 on
        // those rows copied out, accumulating and not.
        std::vector<const float*> rows(static_cast<size_t>(m));
        std::vector<float> copied(static_cast<size_t>(m) * k);
        for (int i = 0; i < m; ++i) {
            rows[size_t(i)] = a.data() + (m - 1 - i) * 2;
            std::copy(rows[size_t(i)], rows[size_t(i)] + k, copied.begin() + int64_t(i) * k);
        }
        for (bool accumulate : {true, false}) {
            std::vector<float> got = random_floats(size_t(m * ldc), rng), expect = got;
            gemm_f32_rows(m, n, k, rows.data(), b.data(), ldb, got.data(), ldc, accumulate);
            gemm_f32(m, n, k, copied.data(), k, b.data(), ldb, expect.data(), ldc, accumulate);
            CHECK(std::memcmp(got.data(), expect.data(), got.size() * sizeof(float)) == 0);
        }
    }
}

TEST_CASE("integer kernels equal the integer reference exactly", "[kernels]") {
    std::mt19937 rng(7);
    SECTION("conv2d_int") {
        for (const ConvShape& s : kConvShapes) {
            const auto x = random_codes(conv_in_size(s), rng), w = random_codes(conv_w_size(s), rng);
            const auto scale = random_floats(size_t(s.o), rng, 1e-5f, 1e-2f), b = random_floats(size_t(s.o), rng);
            for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
                std::vector<float> ref(conv_out_size(s)), fast(conv_out_size(s), -7.0f);
                conv2d_int_reference(x.data(), w.data(), scale.data(), bias, s, ref.data());
                conv2d_int(x.data(), w.data(), scale.data(), bias, s, fast.data());
                INFO(describe(s) << (bias ? "" : " (no bias)"));
                CHECK(fast == ref);
            }
        }
    }
    SECTION("linear_int") {
        for (const LinearShape& s : kLinearShapes) {
            const auto x = random_codes(size_t(s.n) * s.in, rng), w = random_codes(size_t(s.out) * s.in, rng);
            const auto scale = random_floats(size_t(s.out), rng, 1e-5f, 1e-2f), b = random_floats(size_t(s.out), rng);
            for (const float* bias : {b.data(), static_cast<const float*>(nullptr)}) {
                std::vector<float> ref(size_t(s.n) * s.out), fast(size_t(s.n) * s.out, -7.0f);
                linear_int_reference(x.data(), w.data(), scale.data(), bias, s.n, s.in, s.out, ref.data());
                linear_int(x.data(), w.data(), scale.data(), bias, s.n, s.in, s.out, fast.data());
                INFO(describe(s) << (bias ? "" : " (no bias)"));
                CHECK(fast == ref);
            }
        }
    }
    SECTION("the largest accumulations (|code| = 255 everywhere) do not overflow") {
        // fc1: 1600 products of 255 * 255 = 104,040,000 (needs 27 bits); conv2: 800 of them.
        const int in = 1600, out = 3, n = 2;
        std::vector<int16_t> x(size_t(n) * in, 255), w(size_t(out) * in, 255);
        for (int i = 0; i < in; ++i) w[size_t(in) + i] = -255;  // output 1: the most negative sum
        const std::vector<float> scale(out, 1.0f);
        std::vector<float> ref(size_t(n) * out), fast(ref.size());
        linear_int_reference(x.data(), w.data(), scale.data(), nullptr, n, in, out, ref.data());
        linear_int(x.data(), w.data(), scale.data(), nullptr, n, in, out, fast.data());
        CHECK(fast == ref);
        CHECK(fast[0] == float(1600 * 65025));
        CHECK(fast[1] == -float(1600 * 65025));

        const ConvShape s = conv(1, 32, 5, 5, 2, 5, 0);  // one output pixel per channel, 800 products each
        std::vector<int16_t> xc(conv_in_size(s), -255), wc(conv_w_size(s), 255);
        std::vector<float> cref(conv_out_size(s)), cfast(cref.size());
        const std::vector<float> cscale(size_t(s.o), 0.5f);
        conv2d_int_reference(xc.data(), wc.data(), cscale.data(), nullptr, s, cref.data());
        conv2d_int(xc.data(), wc.data(), cscale.data(), nullptr, s, cfast.data());
        CHECK(cfast == cref);
        CHECK(cfast[0] == -float(800 * 65025) * 0.5f);
    }
    SECTION("16-bit codes (bits > 8): the full range, two products per sum so int32 cannot overflow") {
        const LinearShape s{5, 2, 11};
        const auto x = random_codes(size_t(s.n) * s.in, rng, 32767), w = random_codes(size_t(s.out) * s.in, rng, 32767);
        const auto scale = random_floats(size_t(s.out), rng, 1e-9f, 1e-6f);
        std::vector<float> ref(size_t(s.n) * s.out), fast(ref.size());
        linear_int_reference(x.data(), w.data(), scale.data(), nullptr, s.n, s.in, s.out, ref.data());
        linear_int(x.data(), w.data(), scale.data(), nullptr, s.n, s.in, s.out, fast.data());
        CHECK(fast == ref);
        const ConvShape cs = conv(2, 2, 5, 4, 3, 1, 1);
        const auto xc = random_codes(conv_in_size(cs), rng, 32767), wc = random_codes(conv_w_size(cs), rng, 32767);
        std::vector<float> cref(conv_out_size(cs)), cfast(cref.size());
        conv2d_int_reference(xc.data(), wc.data(), scale.data(), nullptr, cs, cref.data());
        conv2d_int(xc.data(), wc.data(), scale.data(), nullptr, cs, cfast.data());
        CHECK(cfast == cref);
    }
}

TEST_CASE("thread count does not change kernel results", "[kernels]") {
    ThreadCountGuard guard;
    std::mt19937 rng(3);
    for (const ConvShape& s : {conv(7, 3, 32, 32, 32, 5, 0), conv(1, 32, 14, 14, 64, 5, 0), conv(3, 5, 9, 9, 6, 3, 1)}) {
        INFO(describe(s));
        const auto x = random_floats(conv_in_size(s), rng), w = random_floats(conv_w_size(s), rng);
        const auto b = random_floats(size_t(s.o), rng);
        const auto xc = random_codes(conv_in_size(s), rng), wc = random_codes(conv_w_size(s), rng);
        std::vector<float> f1(conv_out_size(s)), f2(f1.size()), i1(f1.size()), i2(f1.size());
        set_num_threads(1);
        conv2d_fast(x.data(), w.data(), b.data(), s, f1.data());
        conv2d_int(xc.data(), wc.data(), b.data(), b.data(), s, i1.data());
        set_num_threads(2);
        conv2d_fast(x.data(), w.data(), b.data(), s, f2.data());
        conv2d_int(xc.data(), wc.data(), b.data(), b.data(), s, i2.data());
        CHECK(f1 == f2);
        CHECK(i1 == i2);
    }
    for (const LinearShape& s : {LinearShape{256, 1600, 120}, LinearShape{1, 1600, 120}, LinearShape{3, 120, 84}}) {
        INFO(describe(s));
        const auto x = random_floats(size_t(s.n) * s.in, rng), w = random_floats(size_t(s.out) * s.in, rng);
        const auto b = random_floats(size_t(s.out), rng);
        const auto xc = random_codes(size_t(s.n) * s.in, rng), wc = random_codes(size_t(s.out) * s.in, rng);
        std::vector<float> f1(size_t(s.n) * s.out), f2(f1.size()), i1(f1.size()), i2(f1.size());
        set_num_threads(1);
        linear_fast(x.data(), w.data(), b.data(), s.n, s.in, s.out, f1.data());
        linear_int(xc.data(), wc.data(), b.data(), b.data(), s.n, s.in, s.out, i1.data());
        set_num_threads(2);
        linear_fast(x.data(), w.data(), b.data(), s.n, s.in, s.out, f2.data());
        linear_int(xc.data(), wc.data(), b.data(), b.data(), s.n, s.in, s.out, i2.data());
        CHECK(f1 == f2);
        CHECK(i1 == i2);
    }
}

TEST_CASE("conv2d_int's fused BatchNorm, ReLU and 2x2 pool equal those passes run after it", "[kernels]") {
    ThreadCountGuard guard;
    std::mt19937 rng(9);
    // The notebook's two convs, odd output sizes (the pool drops the last row/column), n = 1 (bands of rows
    // per image at 2 threads, which must start on even rows: 18 rows in 4 bands would be 5 rows each).
    for (const ConvShape& s : {conv(3, 3, 32, 32, 32, 5, 0), conv(2, 32, 14, 14, 64, 5, 0), conv(1, 5, 11, 9, 7, 3, 1),
                               conv(1, 4, 28, 28, 16, 5, 0), conv(1, 8, 20, 20, 16, 5, 1), conv(2, 3, 6, 6, 3, 2, 0)}) {
        const auto xc = random_codes(conv_in_size(s), rng, 127), wc = random_codes(conv_w_size(s), rng, 127);
        const auto b = random_floats(size_t(s.o), rng), scale = random_floats(size_t(s.o), rng, 1e-4f, 1e-3f);
        const auto bn_a = random_floats(size_t(s.o), rng, -2.0f, 2.0f), bn_b = random_floats(size_t(s.o), rng);
        const int oh = s.oh(), ow = s.ow(), ph = oh / 2, pw = ow / 2;
        // The reference: the conv alone, then the layers' own passes.
        std::vector<float> full(conv_out_size(s)), want(size_t(s.n) * s.o * ph * pw);
        conv2d_int_reference(xc.data(), wc.data(), scale.data(), b.data(), s, full.data());
        for (int threads : {1, 2}) {
            set_num_threads(threads);
            for (int stage = 1; stage <= 3; ++stage) {  // BN; BN + ReLU; BN + ReLU + pool
                INFO(describe(s) << " threads " << threads << " stage " << stage);
                std::vector<float> ref = full;
                affine_planes(ref.data(), s.n, s.o, int64_t(oh) * ow, bn_a.data(), bn_b.data(), stage >= 2);
                ConvPost post;
                post.scale = bn_a.data();
                post.shift = bn_b.data();
                post.relu = stage >= 2;
                post.pool2 = stage == 3;
                if (post.pool2) {
                    max_pool(ref.data(), int64_t(s.n) * s.o, oh, ow, 2, want.data());
                    ref = want;
                }
                std::vector<float> got(ref.size(), -1.0f);
                conv2d_int(xc.data(), wc.data(), scale.data(), b.data(), s, got.data(), post);
                CHECK(got == ref);
            }
        }
    }
}

TEST_CASE("kernels on weights packed once equal the per-call kernels and the reference, at 1 and 2 threads", "[kernels]") {
    // A configured Model packs each weight once (pack_conv_int, pack_linear_int, pack_linear_fast) and runs it
    // on every batch: the packed weight must give what packing on every call gives, batch after batch.
    ThreadCountGuard guard;
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        std::mt19937 rng(11);
        SECTION("conv2d_int, alone and with its fused BatchNorm, ReLU and pool (threads " + std::to_string(threads) + ")") {
            for (const ConvShape& s : kConvShapes) {
                INFO(describe(s) << " threads " << threads);
                const auto w = random_codes(conv_w_size(s), rng);
                const auto scale = random_floats(size_t(s.o), rng, 1e-5f, 1e-2f), b = random_floats(size_t(s.o), rng);
                const auto bn_a = random_floats(size_t(s.o), rng, -2.0f, 2.0f), bn_b = random_floats(size_t(s.o), rng);
                // The Model packs from the layer alone (no batch or image size): the same panels.
                const ConvShape layer_only{0, s.c, 0, 0, s.o, s.k, s.pad};
                const PackedWeightI16 packed = pack_conv_int(w.data(), layer_only);
                CHECK(packed.panels == pack_conv_int(w.data(), s).panels);
                for (int batch = 0; batch < 2; ++batch) {  // the packed weight serves batch after batch
                    const auto x = random_codes(conv_in_size(s), rng);
                    std::vector<float> ref(conv_out_size(s)), per_call(ref.size(), -7.0f), got(ref.size(), -5.0f);
                    conv2d_int_reference(x.data(), w.data(), scale.data(), b.data(), s, ref.data());
                    conv2d_int(x.data(), w.data(), scale.data(), b.data(), s, per_call.data());
                    conv2d_int(x.data(), packed, scale.data(), b.data(), s, got.data());
                    CHECK(got == ref);
                    CHECK(got == per_call);
                    ConvPost post;
                    post.scale = bn_a.data();
                    post.shift = bn_b.data();
                    post.relu = true;
                    post.pool2 = true;
                    std::vector<float> fused_per_call(size_t(s.n) * s.o * (s.oh() / 2) * (s.ow() / 2), -7.0f);
                    std::vector<float> fused_got(fused_per_call.size(), -5.0f);
                    conv2d_int(x.data(), w.data(), scale.data(), b.data(), s, fused_per_call.data(), post);
                    conv2d_int(x.data(), packed, scale.data(), b.data(), s, fused_got.data(), post);
                    CHECK(fused_got == fused_per_call);
                }
            }
        }
        SECTION("linear_int and linear_fast (threads " + std::to_string(threads) + ")") {
            std::vector<LinearShape> shapes = kLinearShapes;
            shapes.push_back({256, 1600, 120});  // fc1 at the benchmark's batch: row and column blocks
            shapes.push_back({1, 1600, 120});
            for (const LinearShape& s : shapes) {
                INFO(describe(s) << " threads " << threads);
                const auto w = random_codes(size_t(s.out) * s.in, rng);
                const auto wf = random_floats(size_t(s.out) * s.in, rng);
                const auto scale = random_floats(size_t(s.out), rng, 1e-5f, 1e-2f), b = random_floats(size_t(s.out), rng);
                const PackedWeightI16 packed = pack_linear_int(w.data(), s.in, s.out);
                const PackedWeightF32 packed_f = pack_linear_fast(wf.data(), s.in, s.out);
                for (int batch = 0; batch < 2; ++batch) {
                    const auto x = random_codes(size_t(s.n) * s.in, rng);
                    std::vector<float> ref(size_t(s.n) * s.out), per_call(ref.size(), -7.0f), got(ref.size(), -5.0f);
                    linear_int_reference(x.data(), w.data(), scale.data(), b.data(), s.n, s.in, s.out, ref.data());
                    linear_int(x.data(), w.data(), scale.data(), b.data(), s.n, s.in, s.out, per_call.data());
                    linear_int(x.data(), packed, scale.data(), b.data(), s.n, s.in, s.out, got.data());
                    CHECK(got == ref);
                    CHECK(got == per_call);

                    const auto xf = random_floats(size_t(s.n) * s.in, rng);
                    std::vector<float> fref(ref.size()), fper_call(ref.size(), -7.0f), fgot(ref.size(), -5.0f);
                    linear_reference(xf.data(), wf.data(), b.data(), s.n, s.in, s.out, fref.data());
                    linear_fast(xf.data(), wf.data(), b.data(), s.n, s.in, s.out, fper_call.data());
                    linear_fast(xf.data(), packed_f, b.data(), s.n, s.in, s.out, fgot.data());
                    CHECK(fgot == fper_call);  // the same sums in the same order
                    const Closeness c = compare(fgot, fref);
                    INFO("max |packed fast - ref| = " << c.max_abs_diff);
                    CHECK(c.within);
                }
            }
        }
    }
}

TEST_CASE("parallel_for covers the range once, nests, and passes exceptions on", "[kernels]") {
    ThreadCountGuard guard;
    SECTION("set_num_threads") {
        set_num_threads(3);
#ifdef __EMSCRIPTEN__
        CHECK(num_threads() == 1);
#else
        CHECK(num_threads() == 3);
        set_num_threads(0);
        CHECK(num_threads() == std::max(1, int(std::thread::hardware_concurrency())));
#endif
    }
    SECTION("every index exactly once, for several thread counts and range sizes") {
        for (int threads : {1, 2, 4}) {
            set_num_threads(threads);
            for (int64_t size : {0, 1, 2, 3, 17, 1000}) {
                std::vector<std::atomic<int>> hits(size_t(size) + 1);
                parallel_for(5, 5 + size, [&](int64_t b, int64_t e) {
                    CHECK(b < e);
                    for (int64_t i = b; i < e; ++i) hits[size_t(i - 5)]++;
                });
                int wrong = 0;
                for (int64_t i = 0; i < size; ++i) wrong += hits[size_t(i)] != 1;
                INFO("threads " << threads << ", size " << size);
                CHECK(wrong == 0);
            }
        }
    }
    // Only an upper bound on the threads is checked: whether parked helpers join in again when the count goes
    // back up depends on timing, so that count is held only to covering the range.
    SECTION("a lower count uses no more threads than that; raising it again still covers the range") {
        for (int threads : {4, 2, 1, 3}) {
            set_num_threads(threads);
            std::mutex mutex;
            std::set<std::thread::id> ids;
            int64_t covered = 0;
            parallel_for(0, 64, [&](int64_t b, int64_t e) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));  // long enough for every helper to join in
                std::lock_guard<std::mutex> lock(mutex);
                ids.insert(std::this_thread::get_id());
                covered += e - b;
            });
            INFO("threads " << threads);
            CHECK(covered == 64);
            CHECK(int(ids.size()) <= threads);
        }
    }
    SECTION("a parallel_for inside a parallel_for runs serially and completes") {
        set_num_threads(2);
        std::atomic<int64_t> sum{0};
        parallel_for(0, 8, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i)
                parallel_for(0, 10, [&](int64_t b2, int64_t e2) {
                    for (int64_t j = b2; j < e2; ++j) sum += i * 10 + j;
                });
        });
        CHECK(sum == 79 * 80 / 2);
    }
    SECTION("an exception from fn reaches the caller, and the pool still works") {
        set_num_threads(2);
        CHECK_THROWS_AS(parallel_for(0, 100, [](int64_t b, int64_t) {
                            if (b >= 0) throw std::runtime_error("boom");
                        }),
                        std::runtime_error);
        std::atomic<int> count{0};
        parallel_for(0, 100, [&](int64_t b, int64_t e) { count += int(e - b); });
        CHECK(count == 100);
    }
}
