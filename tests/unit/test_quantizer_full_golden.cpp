// test_quantizer_full_golden.cpp: the full-codes quantizer (2^b codes, the notebook's printed formula) against
// PyTorch's own symmetric per-tensor quantization (tests/golden/make_golden.py: MinMaxObserver's scale,
// quantize_per_tensor's codes): scale, every code and every dequantized value equal, on 5 inputs x 4 bit
// widths; and a case worked by hand.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/quant_config_io.hpp"
#include "core/quantizer.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;

namespace {
QuantSpec full_spec(int bits) {
    QuantSpec s;
    s.bits = bits;
    s.codes = SymmetricCodes::kFull;
    return s;
}

uint32_t bits_of(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return u;
}
}  // namespace

TEST_CASE("full codes equal PyTorch's quantize_per_tensor to the code on the golden tensors", "[quantizer][golden]") {
    std::ifstream f(test::golden("quantizer_full.json"));
    const nlohmann::json j = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
    REQUIRE(j.is_object());
    const size_t n = j["n"].get<size_t>();
    const std::vector<float> inputs = test::read_f32(test::golden("quantizer_full_input.f32"));
    const std::vector<uint8_t> codes = test::read_bytes(test::golden("quantizer_full_codes.i8"));
    const std::vector<float> dequant = test::read_f32(test::golden("quantizer_full_dequant.f32"));
    const size_t cases = j["cases"].size();
    REQUIRE(cases == 20);
    REQUIRE(inputs.size() == j["inputs"].size() * n);
    REQUIRE(codes.size() == cases * n);
    REQUIRE(dequant.size() == cases * n);
    int64_t compared = 0;
    for (size_t c = 0; c < cases; ++c) {
        const nlohmann::json& k = j["cases"][c];
        const int b = k["bits"].get<int>();
        const float* x = inputs.data() + k["input"].get<size_t>() * n;
        CAPTURE(c, b, k["input"].get<int>());
        Result<QuantParams> p = compute_params(x, Shape{int64_t(n)}, full_spec(b));
        REQUIRE(p.ok());
        CHECK(p.value.range.qmin == k["qmin"].get<int>());
        CHECK(p.value.range.qmax == k["qmax"].get<int>());
        CHECK(p.value.zero_point[0] == 0);
        CHECK(bits_of(p.value.scale[0]) == bits_of(k["scale"].get<float>()));
        const std::vector<int32_t> q = quantize(x, int64_t(n), p.value);
        std::vector<float> fq(n);
        fake_quant(x, fq.data(), int64_t(n), p.value);
        int64_t code_diff = 0, value_diff = 0;
        for (size_t i = 0; i < n; ++i) {
            code_diff += q[i] != int32_t(int8_t(codes[c * n + i]));
            value_diff += bits_of(fq[i]) != bits_of(dequant[c * n + i]);
        }
        CHECK(code_diff == 0);
        CHECK(value_diff == 0);
        compared += int64_t(n);
    }
    CHECK(compared == 20000);
}

TEST_CASE("full codes worked by hand: 2^b codes, S = 2 max|r| / (2^b - 1), r times 1/S", "[quantizer]") {
    SECTION("code ranges") {
        CHECK(code_range(2, true, SymmetricCodes::kFull).qmin == -2);
        CHECK(code_range(2, true, SymmetricCodes::kFull).qmax == 1);
        CHECK(code_range(8, true, SymmetricCodes::kFull).qmin == -128);
        CHECK(code_range(8, true, SymmetricCodes::kFull).qmax == 127);
        for (int b = 1; b <= 16; ++b) CHECK(code_range(b, true, SymmetricCodes::kFull).levels() == (int64_t(1) << b));
        CHECK(code_range(4, false, SymmetricCodes::kFull).qmin == 0);  // asymmetric codes do not change
        CHECK(code_range(4, false, SymmetricCodes::kFull).qmax == 15);
        CHECK_FALSE(code_range(4, true).multiply_inverse);
        CHECK(code_range(4, true, SymmetricCodes::kFull).multiply_inverse);
    }
    SECTION("2 bits, max|r| = 1.5: S = 3 / 3 = 1, codes -2..1, +1.5 (a tie at 1.5 -> 2) clamps to 1") {
        const std::vector<float> x = {-1.5f, -0.5f, 0.5f, 1.5f, 0.7f, -1.2f};
        Result<QuantParams> p = compute_params(x.data(), Shape{6}, full_spec(2));
        REQUIRE(p.ok());
        CHECK(p.value.scale[0] == 1.0f);
        // -1.5 -> -2 (even); -0.5 -> 0 (even); 0.5 -> 0; 1.5 -> 2 -> clamped to qmax 1; 0.7 -> 1; -1.2 -> -1.
        CHECK(quantize(x.data(), 6, p.value) == std::vector<int32_t>{-2, 0, 0, 1, 1, -1});
        // Narrow codes for the same tensor: S = 1.5 / 1, codes -1..1.
        QuantSpec narrow = full_spec(2);
        narrow.codes = SymmetricCodes::kNarrow;
        Result<QuantParams> pn = compute_params(x.data(), Shape{6}, narrow);
        REQUIRE(pn.ok());
        CHECK(pn.value.scale[0] == 1.5f);
        CHECK(quantize(x.data(), 6, pn.value) == std::vector<int32_t>{-1, 0, 0, 1, 0, -1});
    }
    SECTION("8 bits, max|r| = 127.5: S = 1, the notebook's printed (beta - alpha) / (2^b - 1)") {
        const std::vector<float> x = {-127.5f, 127.5f, 2.5f, -3.5f};
        Result<QuantParams> p = compute_params(x.data(), Shape{4}, full_spec(8));
        REQUIRE(p.ok());
        CHECK(p.value.scale[0] == (127.5f - -127.5f) / 255.0f);
        CHECK(quantize(x.data(), 4, p.value) == std::vector<int32_t>{-128, 127, 2, -4});
    }
    SECTION("an all-zero tensor gets S = FLT_EPSILON (MinMaxObserver's eps) and codes 0") {
        const std::vector<float> z(5, 0.0f);
        Result<QuantParams> p = compute_params(z.data(), Shape{5}, full_spec(4));
        REQUIRE(p.ok());
        CHECK(p.value.scale[0] == FLT_EPSILON);
        CHECK(quantize(z.data(), 5, p.value) == std::vector<int32_t>(5, 0));
    }
    SECTION("r * (1/S) and r / S round differently: full codes follow the multiplication") {
        // Values within 2 ulps of (k + 0.5) S at b = 8, max|r| = 0.7 (S = 0.7 / 127.5): some round one way
        // when divided by S and the other when multiplied by 1/S; full codes must take the multiplication.
        const float m = 0.7f, s = m / 127.5f;
        int found = 0;
        for (int k = -127; k < 127; ++k)
            for (int d = -2; d <= 2; ++d) {
                float r = (float(k) + 0.5f) * s;
                for (int u = 0; u < std::abs(d); ++u) r = std::nextafter(r, d > 0 ? 1.0f : -1.0f);
                const float by_mul = round_half_even(r * (1.0f / s)), by_div = round_half_even(r / s);
                if (by_mul == by_div) continue;
                ++found;
                const std::vector<float> x = {m, r};
                Result<QuantParams> p = compute_params(x.data(), Shape{2}, full_spec(8));
                REQUIRE(p.ok());
                REQUIRE(p.value.scale[0] == s);
                CHECK(quantize(x.data(), 2, p.value)[1] == int32_t(by_mul));
            }
        CHECK(found > 10);
    }
    SECTION("names, and the stored config's \"codes\"") {
        CHECK(std::string(symmetric_codes_name(SymmetricCodes::kFull)) == "full");
        CHECK(parse_symmetric_codes("narrow").value == SymmetricCodes::kNarrow);
        CHECK_FALSE(parse_symmetric_codes("wide").ok());
        QuantConfig c = make_config(notebook_net(), 4, 4);
        c.layers[1].weight.codes = SymmetricCodes::kFull;
        const std::string text = quant_config_to_json(c, notebook_net());
        CHECK(text.find("\"codes\":\"full\"") != std::string::npos);
        Result<QuantConfig> back = quant_config_from_json(text, notebook_net(), "test");
        REQUIRE(back.ok());
        CHECK(back.value.layers[1].weight.codes == SymmetricCodes::kFull);
        CHECK(back.value.layers[0].weight.codes == SymmetricCodes::kNarrow);
        CHECK_FALSE(quant_config_from_json(R"({"layers":[{"weight":{"codes":"wide"}}]})", notebook_net(), "test").ok());
    }
}
