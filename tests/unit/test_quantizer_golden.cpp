// test_quantizer_golden.cpp: the quantizer against PyTorch's numbers (tests/golden/make_golden.py): the
// notebook's plot input (1000 sorted randn values) fake-quantized at 2, 3, 4 and 8 bits, bit for bit.
#include <catch2/catch.hpp>

#include "core/quantizer.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;

TEST_CASE("fake-quant equals PyTorch's bit for bit on the notebook's plot input", "[quantizer][golden]") {
    const std::vector<float> x = test::read_f32(test::golden("quantizer_input.f32"));
    REQUIRE(x.size() == 1000);
    for (int b : {2, 3, 4, 8}) {
        CAPTURE(b);
        const std::vector<float> want = test::read_f32(test::golden("quantizer_b" + std::to_string(b) + ".f32"));
        REQUIRE(want.size() == 1000);
        QuantSpec spec;
        spec.bits = b;
        Result<Tensor> got = fake_quant(Tensor({1000}, x), spec);
        REQUIRE(got.ok());
        int64_t differ = 0;
        for (size_t i = 0; i < 1000; ++i) differ += got.value.data[i] != want[i];
        CHECK(differ == 0);
    }
}
