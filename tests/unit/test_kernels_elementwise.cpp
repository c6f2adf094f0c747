// test_kernels_elementwise.cpp: the SIMD per-value passes of core/kernels.hpp (centred codes, fake-quant, finiteness,
// min/max, BatchNorm + ReLU, max pooling, channel planes <-> pixel rows) against their scalar definitions written out
// here (quantize_value and fake_quant of the quantizer, the std::min/std::max loops, the layers' expressions), compared
// bit for bit. Lengths cover the vector body and every tail length; values include exact .5 ties, both clamp bounds,
// NaN, +-Inf and signed zeros.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/kernels.hpp"
#include "core/quantizer.hpp"

using namespace quantlab;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Random values in [-r, r] with ties, zeros of both signs and out-of-range values mixed in.
std::vector<float> awkward_values(size_t n, float r, float scale, std::mt19937& rng) {
    std::uniform_real_distribution<float> dist(-r, r);
    std::uniform_int_distribution<int> pick(0, 9), code(-300, 300);
    std::vector<float> v(n);
    for (auto& x : v) {
        switch (pick(rng)) {
            case 0: x = (float(code(rng)) + 0.5f) * scale; break;  // x / scale lands on a .5 tie
            case 1: x = pick(rng) < 5 ? 0.0f : -0.0f; break;
            case 2: x = 10 * r * (pick(rng) < 5 ? 1.0f : -1.0f); break;  // clamped
            default: x = dist(rng);
        }
    }
    return v;
}

}  // namespace

TEST_CASE("quantize_centred equals quantize_value - Z for every value", "[kernels][elementwise]") {
    std::mt19937 rng(7);
    for (int bits : {2, 4, 8}) {
        for (bool symmetric : {true, false}) {
            const CodeRange cr = code_range(bits, symmetric);
            const float scale = 0.0371f;
            const int32_t z = symmetric ? 0 : (cr.qmin + cr.qmax) / 3;
            for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 100}) {
                std::vector<float> x = awkward_values(size_t(n), float(cr.qmax - cr.qmin) * scale, scale, rng);
                if (n > 3) x[2] = kNaN, x[3] = -kInf;
                std::vector<int16_t> got(size_t(n), 12345);
                quantize_centred(x.data(), n, scale, z, cr.qmin, cr.qmax, got.data());
                for (int64_t i = 0; i < n; ++i) {
                    INFO("bits " << bits << " symmetric " << symmetric << " n " << n << " i " << i << " x " << x[size_t(i)]);
                    REQUIRE(int32_t(got[size_t(i)]) == quantize_value(x[size_t(i)], scale, z, cr) - z);
                }
            }
        }
    }
    SECTION("hand-worked: S = 0.5, Z = 3, codes 0..15") {
        const std::vector<float> x{0.25f, 0.75f, -0.25f, 1.0f, -5.0f, 100.0f, 1.25f, -1.25f, 0.0f};
        // x / S = 0.5, 1.5, -0.5, 2, -10, 200, 2.5, -2.5, 0 -> ties to even, clamp to [0 - 3, 15 - 3]
        const std::vector<int16_t> want{0, 2, 0, 2, -3, 12, 2, -2, 0};
        std::vector<int16_t> got(x.size());
        quantize_centred(x.data(), int64_t(x.size()), 0.5f, 3, 0, 15, got.data());
        REQUIRE(got == want);
    }
}

TEST_CASE("fake_quant_tensor equals the quantizer's fake_quant, bit for bit", "[kernels][elementwise]") {
    std::mt19937 rng(5);
    for (int bits : {2, 5, 8}) {
        for (bool symmetric : {true, false}) {
            QuantParams p = params_for_range({-1.3f, 2.1f}, bits, symmetric);
            for (int64_t n : {1, 8, 9, 23, 64}) {
                std::vector<float> x = awkward_values(size_t(n), 3.0f, p.scale[0], rng);
                if (n > 4) x[4] = kNaN;
                std::vector<float> want(x.size()), got(x.size());
                fake_quant(x.data(), want.data(), n, p);
                fake_quant_tensor(x.data(), n, p.scale[0], p.zero_point[0], p.range.qmin, p.range.qmax, got.data());
                for (int64_t i = 0; i < n; ++i) {
                    INFO("bits " << bits << " symmetric " << symmetric << " n " << n << " i " << i << " x " << x[size_t(i)]);
                    REQUIRE(same_bits(got[size_t(i)], want[size_t(i)]));
                }
                fake_quant_tensor(x.data(), n, p.scale[0], p.zero_point[0], p.range.qmin, p.range.qmax, x.data());  // in place
                REQUIRE(std::memcmp(x.data(), want.data(), x.size() * sizeof(float)) == 0);
            }
        }
    }
}

TEST_CASE("full codes: the kernels multiply by 1/S as quantize_value does, bit for bit", "[kernels][elementwise]") {
    std::mt19937 rng(11);
    for (int bits : {2, 4, 8}) {
        QuantParams p = params_for_range({-1.0f, 1.0f}, bits, true, SymmetricCodes::kFull);
        REQUIRE(p.range.multiply_inverse);
        const float s = p.scale[0];
        for (int64_t n : {1, 8, 9, 23, 64, 257}) {
            std::vector<float> x = awkward_values(size_t(n), 1.2f, s, rng);
            for (int64_t i = 0; i < n; i += 3) x[size_t(i)] = (float(int(i % 255) - 128) + 0.5f) * s;  // next to ties
            std::vector<int16_t> codes(static_cast<size_t>(n));
            quantize_centred(x.data(), n, s, 0, p.range.qmin, p.range.qmax, codes.data(), true);
            std::vector<float> want(x.size()), got(x.size());
            fake_quant(x.data(), want.data(), n, p);
            fake_quant_tensor(x.data(), n, s, 0, p.range.qmin, p.range.qmax, got.data(), true);
            for (int64_t i = 0; i < n; ++i) {
                INFO("bits " << bits << " n " << n << " i " << i << " x " << x[size_t(i)]);
                REQUIRE(int32_t(codes[size_t(i)]) == quantize_value(x[size_t(i)], s, 0, p.range));
                REQUIRE(same_bits(got[size_t(i)], want[size_t(i)]));
            }
        }
    }
}

TEST_CASE("all_finite finds one NaN or Inf anywhere", "[kernels][elementwise]") {
    for (int64_t n : {1, 5, 8, 13, 64}) {
        std::vector<float> x(size_t(n), 1.5f);
        REQUIRE(all_finite(x.data(), n));
        x[0] = std::numeric_limits<float>::max();
        REQUIRE(all_finite(x.data(), n));
        for (float bad : {kNaN, kInf, -kInf})
            for (int64_t i = 0; i < n; ++i) {
                std::vector<float> y = x;
                y[size_t(i)] = bad;
                INFO("n " << n << " at " << i << " value " << bad);
                REQUIRE_FALSE(all_finite(y.data(), n));
            }
    }
}

TEST_CASE("min_max equals the std::min / std::max loop", "[kernels][elementwise]") {
    std::mt19937 rng(11);
    for (int64_t n : {1, 2, 7, 8, 9, 16, 31, 1000}) {
        const std::vector<float> x = awkward_values(size_t(n), 3.0f, 0.1f, rng);
        float lo = 0, hi = 0;
        min_max(x.data(), n, &lo, &hi);
        float want_lo = x[0], want_hi = x[0];
        for (float v : x) want_lo = std::min(want_lo, v), want_hi = std::max(want_hi, v);
        INFO("n " << n);
        REQUIRE(lo == want_lo);
        REQUIRE(hi == want_hi);
    }
    const std::vector<float> x{3, -1, 4, 1, -5, 9, 2, 6, -5, 3, 5};
    float lo = 0, hi = 0;
    min_max(x.data(), int64_t(x.size()), &lo, &hi);
    REQUIRE(lo == -5.0f);
    REQUIRE(hi == 9.0f);
}

TEST_CASE("affine_planes equals BatchNorm then ReLU, per channel", "[kernels][elementwise]") {
    std::mt19937 rng(13);
    const int64_t n = 3, c = 5;
    const std::vector<float> a{1.5f, -0.75f, 0.0f, 2.0f, 1e-3f}, b{0.1f, -0.2f, 0.3f, 0.0f, -1.0f};
    for (int64_t hw : {1, 3, 4, 25, 30}) {
        for (bool relu : {false, true}) {
            std::vector<float> x = awkward_values(size_t(n * c * hw), 2.0f, 0.1f, rng);
            x[1] = kNaN;
            std::vector<float> want = x;
            for (int64_t i = 0; i < n * c * hw; ++i) {
                const int64_t ch = (i / hw) % c;
                float v = want[size_t(i)] * a[size_t(ch)] + b[size_t(ch)];
                if (relu) v = v > 0 ? v : 0.0f;
                want[size_t(i)] = v;
            }
            affine_planes(x.data(), n, c, hw, a.data(), b.data(), relu);
            for (size_t i = 0; i < x.size(); ++i) {
                INFO("hw " << hw << " relu " << relu << " i " << i << " got " << x[i] << " want " << want[i]);
                REQUIRE((same_bits(x[i], want[i]) || (std::isnan(x[i]) && std::isnan(want[i]))));
            }
        }
    }
}

TEST_CASE("max_pool equals the window maximum", "[kernels][elementwise]") {
    std::mt19937 rng(17);
    for (int64_t k : {2, 3}) {
        for (int64_t hw : {2, 6, 9, 28, 30}) {
            if (hw < k) continue;
            const int64_t planes = 3, o = hw / k;
            const std::vector<float> x = awkward_values(size_t(planes * hw * hw), 1.0f, 0.1f, rng);
            std::vector<float> got(size_t(planes * o * o), kNaN);
            max_pool(x.data(), planes, hw, hw, k, got.data());
            for (int64_t p = 0; p < planes; ++p)
                for (int64_t i = 0; i < o; ++i)
                    for (int64_t j = 0; j < o; ++j) {
                        float m = -kInf;
                        for (int64_t dy = 0; dy < k; ++dy)
                            for (int64_t dx = 0; dx < k; ++dx) m = std::max(m, x[size_t((p * hw + i * k + dy) * hw + j * k + dx)]);
                        INFO("k " << k << " hw " << hw << " plane " << p << " at " << i << "," << j);
                        REQUIRE(got[size_t((p * o + i) * o + j)] == m);
                    }
        }
    }
    SECTION("hand-worked 4x4 -> 2x2") {
        const std::vector<float> x{1, 2, 0, -1,  //
                                   3, 4, -2, -3,  //
                                   -5, 0, 7, 7,  //
                                   -6, -7, 8, 6};
        std::vector<float> got(4);
        max_pool(x.data(), 1, 4, 4, 2, got.data());
        REQUIRE(got == std::vector<float>{4, 0, 0, 8});
    }
}

TEST_CASE("load_planes and store_planes move each value to its place, and undo each other", "[kernels][elementwise]") {
    // Channel and pixel counts around the 4 x 4 blocks (the blocks, the rest of the pixels, the rest of the
    // channels), rows wider than the channels (ld > channels: the rest of a row is left as it was).
    std::mt19937 rng(23);
    for (int64_t channels : {1, 3, 4, 7, 32}) {
        for (int64_t pixels : {1, 4, 6, 100}) {
            CAPTURE(channels, pixels);
            const int64_t plane = pixels + 3, ld = channels + 5;
            std::vector<float> y = awkward_values(size_t(channels * plane), 1.0f, 0.1f, rng);
            std::vector<float> x(size_t(pixels * ld), -9.0f);
            load_planes(y.data(), plane, channels, pixels, x.data(), ld);
            bool placed = true;
            for (int64_t p = 0; p < pixels; ++p)
                for (int64_t c = 0; c < ld; ++c)
                    placed &= same_bits(x[size_t(p * ld + c)], c < channels ? y[size_t(c * plane + p)] : -9.0f);
            CHECK(placed);
            std::vector<float> back(y.size(), -9.0f);
            store_planes(x.data(), pixels, ld, channels, back.data(), plane);
            bool undone = true;
            for (int64_t c = 0; c < channels; ++c)
                for (int64_t p = 0; p < plane; ++p)
                    undone &= same_bits(back[size_t(c * plane + p)], p < pixels ? y[size_t(c * plane + p)] : -9.0f);
            CHECK(undone);
        }
    }
}
