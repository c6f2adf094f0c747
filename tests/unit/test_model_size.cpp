// test_model_size.cpp: core/model_size against byte counts worked out by hand from the notebook's layer shapes
// (conv1 32x3x5x5, conv2 64x32x5x5, fc1 120x1600, fc2 84x120, fc3 10x84, bn1 32, bn2 64).
#include <catch2/catch.hpp>

#include "core/model_size.hpp"

using namespace quantlab;

TEST_CASE("model size: packed bytes", "[model_size]") {
    CHECK(packed_bytes(2400, 32) == 9600);
    CHECK(packed_bytes(2400, 4) == 1200);
    CHECK(packed_bytes(2400, 3) == 900);
    CHECK(packed_bytes(10, 3) == 4);     // 30 bits round up to 4 bytes
    CHECK(packed_bytes(840, 1) == 105);
    CHECK(packed_bytes(7, 16) == 14);
}

TEST_CASE("model size: the notebook net, by hand", "[model_size]") {
    const NetworkDesc net = notebook_net();
    // Weights: 2400 + 51200 + 192000 + 10080 + 840 = 256,520; biases 32+64+120+84+10 = 310;
    // batch norm: 4 x (32 + 64) = 384 (weight, bias, running mean, running var; num_batches_tracked not counted).
    SECTION("float32: 257,214 values x 4 = 1,028,856 B") {
        const ModelSize m = model_size(net, {});
        REQUIRE(m.layers.size() == 5);
        CHECK(m.layers[0].name == "conv1");
        CHECK(m.layers[0].weights == 2400);
        CHECK(m.layers[0].bias == 32);
        CHECK(m.layers[2].weights == 192000);
        CHECK(m.layers[4].bias == 10);
        CHECK(m.other_values == 384);
        CHECK(m.float_bytes == 1028856);
        CHECK(m.bytes == 1028856);
        CHECK(m.ratio() == 1.0);
        // The float file holds exactly these values (plus two int64 counters and its header).
        CHECK(m.layers[1].float_bytes == 4 * (51200 + 64));
    }
    SECTION("4 bits everywhere: 128,260 B of codes + 2,776 B of float biases and batch norm = 131,036 B") {
        const ModelSize m = model_size(net, {4});
        CHECK(m.layers[0].bytes == 1200 + 4 * 32);
        CHECK(m.layers[2].bytes == 96000 + 4 * 120);
        CHECK(m.layers[4].bytes == 420 + 40);
        CHECK(m.bytes == 131036);
        CHECK(m.float_bytes == 1028856);
        CHECK(m.ratio() == Approx(7.8517).epsilon(1e-4));
        CHECK(format_bytes(m.bytes) == "131 KB");
    }
    SECTION("per-layer bits: conv1 8, conv2 4, fc1 2, fc2 3, fc3 float") {
        const ModelSize m = model_size(net, {8, 4, 2, 3, 32});
        const int64_t want = (2400 + 4 * 32) + (25600 + 4 * 64) + (48000 + 4 * 120) + (3780 + 4 * 84) + 4 * 850 + 4 * 384;
        CHECK(want == 85916);
        CHECK(m.bytes == want);
        CHECK(m.layers[4].bits == 32);
        CHECK(m.layers[4].bytes == m.layers[4].float_bytes);
    }
    SECTION("a short list repeats its last entry") {
        CHECK(model_size(net, {8, 2}).bytes == model_size(net, {8, 2, 2, 2, 2}).bytes);
    }
}

TEST_CASE("model size: the wide net scales its values", "[model_size]") {
    const ModelSize m = model_size(wide_net(2), {});
    int64_t values = 0;
    for (const ParamDesc& p : wide_net(2).params()) {
        if (p.int64) continue;
        int64_t n = 1;
        for (int64_t d : p.shape) n *= d;
        values += n;
    }
    CHECK(m.float_bytes == 4 * values);
    CHECK(m.float_bytes > 2 * 1028856);
}

TEST_CASE("model size: format_bytes", "[model_size]") {
    CHECK(format_bytes(840) == "840 B");
    CHECK(format_bytes(1240) == "1.24 KB");
    CHECK(format_bytes(9600) == "9.6 KB");
    CHECK(format_bytes(131036) == "131 KB");
    CHECK(format_bytes(1028856) == "1.03 MB");
}
