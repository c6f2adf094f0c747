// test_quantizer.cpp: the quantizer against hand-worked values (every rule, bits 1..8, grid points, both
// clamps, zero, .5 ties), its properties on random data (kept away from ties), and its error messages.
// The PyTorch comparison lives in test_quantizer_golden.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "core/quantizer.hpp"

using namespace quantlab;

namespace {

QuantParams params_of(const std::vector<float>& x, QuantSpec spec) {
    Result<QuantParams> p = compute_params(x.data(), Shape{int64_t(x.size())}, spec);
    REQUIRE(p.ok());
    return p.value;
}

std::vector<int32_t> codes_of(const std::vector<float>& x, const QuantParams& p) {
    return quantize(x.data(), int64_t(x.size()), p);
}

QuantSpec spec_of(int bits, RangeRule rule = RangeRule::kMaxAbs, bool symmetric = true) {
    QuantSpec s;
    s.bits = bits;
    s.rule = rule;
    s.symmetric = symmetric;
    return s;
}

// Random normals: an exact .5 tie has probability ~0, so properties hold without tie special cases.
std::vector<float> randn_vector(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> x(n);
    for (auto& v : x) v = dist(rng);
    return x;
}

}  // namespace

TEST_CASE("code ranges and level counts", "[quantizer]") {
    SECTION("symmetric: +-(2^(b-1)-1), 2^b - 1 levels; 1 bit is the single level 0") {
        CHECK(code_range(1, true).qmin == 0);
        CHECK(code_range(1, true).qmax == 0);
        CHECK(code_range(2, true).qmin == -1);
        CHECK(code_range(2, true).qmax == 1);
        CHECK(code_range(4, true).qmax == 7);
        CHECK(code_range(8, true).qmin == -127);
        CHECK(code_range(8, true).qmax == 127);
        CHECK(code_range(16, true).qmax == 32767);
        for (int b = 2; b <= 16; ++b) CHECK(code_range(b, true).levels() == (int64_t(1) << b) - 1);
    }
    SECTION("asymmetric: [0, 2^b - 1], 2^b levels") {
        for (int b = 1; b <= 16; ++b) {
            CHECK(code_range(b, false).qmin == 0);
            CHECK(code_range(b, false).levels() == (int64_t(1) << b));
        }
    }
}

TEST_CASE("max-abs symmetric, hand-worked at every bit width 1..8", "[quantizer]") {
    SECTION("grid points, ties to even, zero and both ends, S = max|r| / qmax") {
        for (int b = 2; b <= 8; ++b) {
            const int m = (1 << (b - 1)) - 1;
            // max|r| = m makes S exactly 1, so r/S is exact and the expected codes are plain integers.
            std::vector<float> x = {-float(m), float(m), 0.0f, 0.5f, -0.5f, 0.49f, 0.51f, -0.51f};
            std::vector<int32_t> want = {-m, m, 0, 0, 0, 0, 1, -1};
            if (m >= 3) {  // ties to even: 1.5 -> 2, 2.5 -> 2 (not 3, as rounding away from zero would give)
                x.insert(x.end(), {1.5f, -1.5f, 2.5f, -2.5f});
                want.insert(want.end(), {2, -2, 2, -2});
            }
            const QuantParams p = params_of(x, spec_of(b));
            CAPTURE(b);
            CHECK(p.scale[0] == 1.0f);
            CHECK(p.zero_point[0] == 0);
            CHECK(codes_of(x, p) == want);
        }
    }
    SECTION("1 bit: one level, everything quantizes to 0 with a finite scale") {
        std::vector<float> x = {-2.0f, 0.3f, 1.0f};
        const QuantParams p = params_of(x, spec_of(1));
        CHECK(std::isfinite(p.scale[0]));
        CHECK(codes_of(x, p) == std::vector<int32_t>{0, 0, 0});
    }
    SECTION("a non-trivial scale: b = 3, max|r| = 0.9 gives S = 0.3") {
        std::vector<float> x = {0.9f, -0.2f, 0.31f, -0.61f};
        const QuantParams p = params_of(x, spec_of(3));
        CHECK(p.scale[0] == Approx(0.3f).epsilon(1e-7));
        CHECK(codes_of(x, p) == std::vector<int32_t>{3, -1, 1, -2});
        std::vector<float> xh(x.size());
        fake_quant(x.data(), xh.data(), int64_t(x.size()), p);
        CHECK(xh[0] == Approx(0.9f));
        CHECK(xh[1] == Approx(-0.3f));
        CHECK(xh[3] == Approx(-0.6f));
    }
    SECTION("values beyond a frozen range clamp to qmin and qmax") {
        const QuantParams p = params_for_range({-1.0f, 1.0f}, 4, true);  // S = 1/7
        std::vector<float> x = {-5.0f, 5.0f, 1e30f, -1e30f};
        CHECK(codes_of(x, p) == std::vector<int32_t>{-7, 7, 7, -7});
    }
}

TEST_CASE("ties round to even, as torch.round", "[quantizer]") {
    SECTION("round_half_even on exact halves") {
        CHECK(round_half_even(0.5f) == 0.0f);
        CHECK(round_half_even(1.5f) == 2.0f);
        CHECK(round_half_even(2.5f) == 2.0f);
        CHECK(round_half_even(-0.5f) == 0.0f);
        CHECK(round_half_even(-1.5f) == -2.0f);
        CHECK(round_half_even(-2.5f) == -2.0f);
        CHECK(round_half_even(3.49f) == 3.0f);
        CHECK(round_half_even(-3.51f) == -4.0f);
        for (float t = -300.5f; t < 300.0f; t += 1.0f) CHECK(round_half_even(t) == std::nearbyint(t));
    }
    SECTION("quantize_value sends exact ties to the even code") {
        const QuantParams one = params_for_range({-127.0f, 127.0f}, 8, true);  // S = 1
        CHECK(one.scale[0] == 1.0f);
        CHECK(quantize_value(2.5f, 1.0f, 0, one.range) == 2);
        CHECK(quantize_value(3.5f, 1.0f, 0, one.range) == 4);
        CHECK(quantize_value(-2.5f, 1.0f, 0, one.range) == -2);
    }
}

TEST_CASE("mean +- k*std (the notebook's exercise)", "[quantizer]") {
    std::vector<float> x = {1, 2, 3, 4, 5};  // mean 3, unbiased std sqrt(2.5) = 1.58113883
    SECTION("k = 1, symmetric: threshold |mean| + std = 4.58113883, S = that / 7 at 4 bits") {
        QuantSpec spec = spec_of(4, RangeRule::kMeanStd);
        spec.k = 1;
        const QuantParams p = params_of(x, spec);
        CHECK(p.alpha[0] == Approx(1.41886117).epsilon(1e-6));
        CHECK(p.beta[0] == Approx(4.58113883).epsilon(1e-6));
        CHECK(p.scale[0] == Approx(4.58113883 / 7).epsilon(1e-6));
        // 5 / 0.654448 = 7.64 clamps to 7; 1 / 0.654448 = 1.528 -> 2
        CHECK(codes_of(x, p) == std::vector<int32_t>{2, 3, 5, 6, 7});
    }
    SECTION("k = 1, asymmetric at 2 bits: range [0, 4.58] (zero is kept inside), S = 4.58/3, Z = 0") {
        QuantSpec spec = spec_of(2, RangeRule::kMeanStd, false);
        spec.k = 1;
        const QuantParams p = params_of(x, spec);
        CHECK(p.scale[0] == Approx(4.58113883 / 3).epsilon(1e-6));
        CHECK(p.zero_point[0] == 0);
        CHECK(codes_of(x, p) == std::vector<int32_t>{1, 1, 2, 3, 3});
    }
}

TEST_CASE("min-max asymmetric with a zero point", "[quantizer]") {
    SECTION("b = 2, r in [-1, 3]: S = 4/3, Z = -round(-0.75) = 1") {
        std::vector<float> x = {-1.0f, 0.0f, 3.0f, 1.0f};
        const QuantParams p = params_of(x, spec_of(2, RangeRule::kMinMax, false));
        CHECK(p.scale[0] == Approx(4.0f / 3.0f));
        CHECK(p.zero_point[0] == 1);
        CHECK(p.range.qmin == 0);
        CHECK(p.range.qmax == 3);
        // -1/S = -0.75 -> -1 (+1) = 0; 0 -> 1; 3/S = 2.25 -> 2 (+1) = 3; 1/S = 0.75 -> 1 (+1) = 2
        CHECK(codes_of(x, p) == std::vector<int32_t>{0, 1, 3, 2});
        const std::vector<float> back = dequantize(codes_of(x, p).data(), 4, p);
        CHECK(back[1] == 0.0f);  // zero is exactly representable
        CHECK(back[0] == Approx(-4.0f / 3.0f));
    }
    SECTION("every bit width 1..8 on [0, 2^b - 1]: S = 1, Z = 0, codes are the values") {
        for (int b = 1; b <= 8; ++b) {
            const float top = float((1 << b) - 1);
            std::vector<float> x = {0.0f, top, top / 2, 0.5f};
            const QuantParams p = params_of(x, spec_of(b, RangeRule::kMinMax, false));
            CAPTURE(b);
            CHECK(p.scale[0] == 1.0f);
            CHECK(p.zero_point[0] == 0);
            const int32_t half = int32_t(round_half_even(top / 2));
            CHECK(codes_of(x, p) == std::vector<int32_t>{0, int32_t(top), half, 0});
        }
    }
    SECTION("all-negative data keeps zero in range: Z = qmax") {
        std::vector<float> x = {-3.0f, -1.0f};
        const QuantParams p = params_of(x, spec_of(2, RangeRule::kMinMax, false));
        CHECK(p.zero_point[0] == 3);
        CHECK(p.scale[0] == 1.0f);
        CHECK(codes_of(x, p) == std::vector<int32_t>{0, 2});
    }
}

TEST_CASE("percentile range", "[quantizer]") {
    std::vector<float> x(101);
    for (int i = 0; i <= 100; ++i) x[size_t(i)] = float(i);
    SECTION("symmetric p = 90 on 0..100: threshold 90 (linear interpolation), S = 90/127 at 8 bits") {
        QuantSpec spec = spec_of(8, RangeRule::kPercentile);
        spec.percentile = 90;
        const QuantParams p = params_of(x, spec);
        CHECK(p.beta[0] == 90.0f);
        CHECK(p.scale[0] == Approx(90.0f / 127.0f));
        CHECK(codes_of(x, p)[100] == 127);  // clipped
    }
    SECTION("interpolates between samples: p = 99.5 on 0..100 gives 99.5") {
        QuantSpec spec = spec_of(8, RangeRule::kPercentile);
        spec.percentile = 99.5;
        CHECK(params_of(x, spec).beta[0] == Approx(99.5f));
    }
    SECTION("asymmetric p = 90: [P10, P90] = [10, 90], widened to include 0: S = 90/255") {
        QuantSpec spec = spec_of(8, RangeRule::kPercentile, false);
        spec.percentile = 90;
        const QuantParams p = params_of(x, spec);
        CHECK(p.alpha[0] == 10.0f);
        CHECK(p.scale[0] == Approx(90.0f / 255.0f));
        CHECK(p.zero_point[0] == 0);
    }
}

TEST_CASE("MSE-optimal range", "[quantizer]") {
    // 999 values in [-1, 1] and one outlier at 10: max-abs at 4 bits has S = 10/7 and sends most of the bulk
    // to 0 (sum of squared errors ~216); clipping at ~2 costs the outlier (10-2)^2 = 64 but the bulk only ~7.
    std::vector<float> x;
    for (int i = 0; i < 999; ++i) x.push_back(-1.0f + 2.0f * float(i) / 998.0f + 0.0003f);
    x.push_back(10.0f);
    const int64_t n = int64_t(x.size());
    auto mse_of = [&](const QuantParams& p) {
        std::vector<float> xh(x.size());
        fake_quant(x.data(), xh.data(), n, p);
        return quant_error(x.data(), xh.data(), n, p).mse;
    };
    SECTION("clips the outlier and beats max-abs") {
        const QuantParams pm = params_of(x, spec_of(4, RangeRule::kMse));
        const QuantParams pa = params_of(x, spec_of(4, RangeRule::kMaxAbs));
        CHECK(pm.beta[0] < 4.0f);
        CHECK(pm.beta[0] > 1.0f);
        CHECK(mse_of(pm) < mse_of(pa));
    }
    SECTION("no other grid threshold does better") {
        const QuantParams pm = params_of(x, spec_of(4, RangeRule::kMse));
        const double best = mse_of(pm);
        // The rule's candidates are 10 * (i/100) in float, within an ulp of i/10: allow 1e-4 relative.
        for (int i = 1; i <= 100; ++i) CHECK(mse_of(params_for_range({-i / 10.0f, i / 10.0f}, 4, true)) >= best * (1 - 1e-4));
    }
    SECTION("data that fills its range evenly keeps the full range") {
        std::vector<float> u = {-7, -5, -3, -1, 1, 3, 5, 7};
        CHECK(params_of(u, spec_of(4, RangeRule::kMse)).scale[0] == 1.0f);
    }
}

TEST_CASE("per-channel along axis 0", "[quantizer]") {
    std::vector<float> x = {-1.0f, 0.5f, 1.0f, -4.0f, 2.0f, 4.0f};
    QuantSpec spec = spec_of(2);
    spec.per_channel = true;
    Result<QuantParams> p = compute_params(x.data(), Shape{2, 3}, spec);
    REQUIRE(p.ok());
    SECTION("one scale per output channel") {
        REQUIRE(p.value.scale.size() == 2);
        CHECK(p.value.scale[0] == 1.0f);
        CHECK(p.value.scale[1] == 4.0f);
    }
    SECTION("codes use their own channel's scale (0.5 ties to 0 in both)") {
        CHECK(codes_of(x, p.value) == std::vector<int32_t>{-1, 0, 1, -1, 0, 1});
    }
    SECTION("per-tensor on the same data shares one scale") {
        const QuantParams pt = params_of(x, spec_of(2));
        CHECK(codes_of(x, pt) == std::vector<int32_t>{0, 0, 0, -1, 0, 1});
    }
}

TEST_CASE("properties on random data", "[quantizer]") {
    const std::vector<float> x = randn_vector(4096, 7);
    const int64_t n = int64_t(x.size());
    // One pass over every rule x mode x bit width; the three properties are checked on each.
    for (RangeRule rule : {RangeRule::kMaxAbs, RangeRule::kMeanStd, RangeRule::kMinMax, RangeRule::kPercentile, RangeRule::kMse})
        for (bool sym : {true, false})
            for (int b = 1; b <= 8; ++b) {
                CAPTURE(range_rule_name(rule), sym, b);
                const QuantParams p = params_of(x, spec_of(b, rule, sym));
                // levels <= 2^b and every code inside [qmin, qmax]
                const std::vector<int32_t> q = codes_of(x, p);
                std::set<int32_t> distinct(q.begin(), q.end());
                CHECK(int64_t(distinct.size()) <= (int64_t(1) << b));
                CHECK(*distinct.begin() >= p.range.qmin);
                CHECK(*distinct.rbegin() <= p.range.qmax);
                // fake-quant is idempotent
                std::vector<float> xh(x.size()), xhh(x.size());
                fake_quant(x.data(), xh.data(), n, p);
                fake_quant(xh.data(), xhh.data(), n, p);
                CHECK(xhh == xh);
                // |r - r_hat| <= S/2 inside the representable range
                const float s = p.scale[0];
                const float lo = s * float(p.range.qmin - p.zero_point[0]), hi = s * float(p.range.qmax - p.zero_point[0]);
                int64_t worse = 0;
                for (int64_t i = 0; i < n; ++i)
                    if (x[size_t(i)] >= lo && x[size_t(i)] <= hi && std::fabs(x[size_t(i)] - xh[size_t(i)]) > s * 0.5f * (1 + 1e-5f)) ++worse;
                CHECK(worse == 0);
            }
    SECTION("an all-zero tensor stays zero under every rule and mode") {
        std::vector<float> z(16, 0.0f), out(16, 1.0f);
        for (RangeRule rule : {RangeRule::kMaxAbs, RangeRule::kMeanStd, RangeRule::kMinMax, RangeRule::kPercentile, RangeRule::kMse})
            for (bool sym : {true, false}) {
                const QuantParams p = params_of(z, spec_of(4, rule, sym));
                fake_quant(z.data(), out.data(), 16, p);
                CHECK(out == z);
                CHECK(std::isfinite(p.scale[0]));
            }
    }
}

TEST_CASE("error statistics", "[quantizer]") {
    SECTION("hand-worked: r = {1, -1, 0.5} at 2 bits, S = 1 -> r_hat = {1, -1, 0}") {
        std::vector<float> x = {1.0f, -1.0f, 0.5f};
        const QuantParams p = params_of(x, spec_of(2));
        std::vector<float> xh(3);
        fake_quant(x.data(), xh.data(), 3, p);
        CHECK(xh == std::vector<float>{1.0f, -1.0f, 0.0f});
        const QuantError e = quant_error(x.data(), xh.data(), 3, p);
        CHECK(e.mse == Approx(0.25 / 3));
        CHECK(e.sqnr_db == Approx(10 * std::log10(2.25 / 0.25)));
        CHECK(e.clipped_fraction == 0.0);
        CHECK(e.max_abs_error == Approx(0.5));
    }
    SECTION("clipped fraction against a frozen range") {
        const QuantParams p = params_for_range({-1.0f, 1.0f}, 2, true);
        std::vector<float> x = {-3.0f, 0.2f, 1.4f, 1.6f};  // 1.4 rounds to 1 (inside); 1.6 rounds to 2 (clipped)
        std::vector<float> xh(4);
        fake_quant(x.data(), xh.data(), 4, p);
        CHECK(quant_error(x.data(), xh.data(), 4, p).clipped_fraction == 0.5);
    }
    SECTION("exact reconstruction has infinite SQNR") {
        std::vector<float> x = {1.0f, -1.0f};
        const QuantParams p = params_of(x, spec_of(8));
        std::vector<float> xh(2);
        fake_quant(x.data(), xh.data(), 2, p);
        CHECK(std::isinf(quant_error(x.data(), xh.data(), 2, p).sqnr_db));
    }
}

TEST_CASE("straight-through estimator", "[quantizer][ste]") {
    const QuantParams p = params_for_range({-1.0f, 1.0f}, 2, true);  // S = 1, codes -1..1
    const std::vector<float> x = {-2.0f, -1.4f, -0.5f, 0.3f, 1.4f, 1.6f};
    const std::vector<float> g = {1, 2, 3, 4, 5, 6};
    std::vector<float> gi(x.size());
    SECTION("identity passes every gradient (the notebook's rule)") {
        ste_backward(x.data(), g.data(), gi.data(), 6, p, SteRule::kIdentity);
        CHECK(gi == g);
    }
    SECTION("clipped zeroes the gradient where the code was clamped") {
        ste_backward(x.data(), g.data(), gi.data(), 6, p, SteRule::kClipped);
        CHECK(gi == std::vector<float>{0, 2, 3, 4, 5, 0});
    }
    SECTION("names parse both ways") {
        CHECK(parse_ste_rule("clipped").value == SteRule::kClipped);
        CHECK(std::string(ste_rule_name(SteRule::kIdentity)) == "identity");
        CHECK_FALSE(parse_ste_rule("sigmoid").ok());
    }
}

TEST_CASE("bad arguments give clear errors", "[quantizer]") {
    std::vector<float> x = {1.0f, 2.0f};
    SECTION("bits 0 and 17") {
        for (int b : {0, 17, -3}) {
            Result<QuantParams> p = compute_params(x.data(), Shape{2}, spec_of(b));
            CHECK_FALSE(p.ok());
            CHECK_THAT(p.message(), Catch::Contains("bits = " + std::to_string(b)) && Catch::Contains("1..16"));
        }
    }
    SECTION("NaN and Inf inputs name the index") {
        std::vector<float> bad = {1.0f, std::numeric_limits<float>::quiet_NaN()};
        Result<QuantParams> p = compute_params(bad.data(), Shape{2}, spec_of(4));
        CHECK_FALSE(p.ok());
        CHECK_THAT(p.message(), Catch::Contains("index 1") && Catch::Contains("not finite"));
        bad[1] = std::numeric_limits<float>::infinity();
        CHECK_FALSE(compute_params(bad.data(), Shape{2}, spec_of(4)).ok());
    }
    SECTION("empty tensors") {
        Result<QuantParams> p = compute_params(x.data(), Shape{0}, spec_of(4));
        CHECK_FALSE(p.ok());
        CHECK_THAT(p.message(), Catch::Contains("empty"));
    }
    SECTION("k <= 0 or not finite for mean +- k*std") {
        QuantSpec s = spec_of(4, RangeRule::kMeanStd);
        for (double k : {0.0, -1.0, std::nan("")}) {
            s.k = k;
            CHECK_FALSE(compute_params(x.data(), Shape{2}, s).ok());
        }
    }
    SECTION("percentile outside (50, 100]") {
        QuantSpec s = spec_of(4, RangeRule::kPercentile);
        s.percentile = 101;
        CHECK_FALSE(compute_params(x.data(), Shape{2}, s).ok());
    }
    SECTION("a tensor whose data does not match its shape") {
        Tensor t;
        t.shape = {3};
        t.data = {1.0f};
        CHECK_THAT(fake_quant(t, spec_of(4)).message(), Catch::Contains("needs 3"));
    }
    SECTION("unknown rule names") {
        CHECK_THAT(parse_range_rule("max").message(), Catch::Contains("maxabs"));
        CHECK(parse_range_rule("percentile").value == RangeRule::kPercentile);
    }
}
