// test_ui_state.cpp: the ImGui-free part of ui/: the state string (round trip, defaults, bad values), bit
// ladders and per-layer configs, and the numbers behind the plots (ticks, histogram bins, the staircase,
// level grid, STE gradient) and the notebook's synthetic tensor. Links quantlab_ui_logic, no GL.
#include <catch2/catch.hpp>

#include <cmath>

#include "tests/support/test_files.hpp"
#include "ui/plot_data.hpp"
#include "ui/state.hpp"
#include "ui/tensor_source.hpp"

using namespace quantlab;
using namespace quantlab::ui;

TEST_CASE("ui state string", "[ui]") {
    SECTION("the default state encodes to an empty string and decodes back") {
        UiState s;
        CHECK(encode_state(s).empty());
        UiState t;
        REQUIRE(decode_state("", &t).ok());
        CHECK(t == s);
    }
    SECTION("every field round-trips") {
        UiState s;
        s.panel = Panel::kEval;
        s.lang = Lang::kJa;
        s.font_scale = 2.5f;
        s.high_contrast = true;
        s.weights = "my run (3).safetensors";
        s.lab_source = LabSource::kActivation;
        s.lab_layer = 2;
        s.lab_spec.bits = 5;
        s.lab_spec.rule = RangeRule::kMeanStd;
        s.lab_spec.k = 1.25;
        s.lab_spec.symmetric = false;
        s.lab_spec.per_channel = true;
        s.lab_spec.percentile = 99.5;
        s.lab_spec.codes = SymmetricCodes::kFull;
        s.lab_ste = SteRule::kClipped;
        s.lab_channel = 7;
        s.weight_bits = {8, 4, 4, 4, 8};
        s.act_bits = {32, 6, 6, 6, 6};
        s.quant.rule = RangeRule::kPercentile;
        s.quant.symmetric = false;
        s.quant.per_channel = true;
        s.quant.k = 0.1 + 0.2;  // not a short decimal: must still round-trip exactly
        s.quant.percentile = 99.9;
        s.quant.codes = SymmetricCodes::kFull;
        s.act_mode = ActMode::kStatic;
        s.backend = Backend::kReference;  // not the default, so it must appear in the string
        s.net_layer = 3;
        s.gallery_flipped_only = true;
        s.gallery_page = 12;
        const std::string text = encode_state(s);
        UiState t;
        REQUIRE(decode_state(text, &t).ok());
        CHECK(t == s);
        CHECK(encode_state(t) == text);
        CHECK(text.find("panel=eval") != std::string::npos);
        CHECK(text.find("wb=8,4,4,4,8") != std::string::npos);
        CHECK(text.find("codes=full") != std::string::npos);
        CHECK(text.find("lcodes=full") != std::string::npos);
        CHECK(text.find("w=my%20run%20%283%29.safetensors") != std::string::npos);
    }
    SECTION("uniform bits are written once; a leading ? or # is skipped; unknown keys are ignored") {
        UiState s;
        s.weight_bits = {3, 3, 3, 3, 3};
        s.act_bits = {3, 3, 3, 3, 3};
        CHECK(encode_state(s) == "wb=3&ab=3");
        UiState t;
        REQUIRE(decode_state("?wb=3&ab=3&future_key=1&&", &t).ok());
        CHECK(t.weight_bits == std::vector<int>{3});
        fit_layers(t, 5);
        CHECK(t.weight_bits == std::vector<int>{3, 3, 3, 3, 3});
        CHECK(decode_state("#panel=network", &t).ok());
        CHECK(t.panel == Panel::kNetwork);
        CHECK(decode_state("ab=fp", &t).ok());
        CHECK(t.act_bits == std::vector<int>{kFloatBits});
    }
    SECTION("bad values are reported, named, and leave their fields unchanged; good ones still apply") {
        UiState t;
        Status st = decode_state("panel=nope&wb=4,17&lb=0&k=-1&fs=9&lang=ja&hc=maybe&w=%zz", &t);
        REQUIRE_FALSE(st.ok());
        for (const char* key : {"panel='nope'", "wb='4,17'", "lb='0'", "k='-1'", "fs='9'", "hc='maybe'", "w="})
            CHECK(st.message.find(key) != std::string::npos);
        CHECK(t.panel == Panel::kQuantizer);
        CHECK(t.weight_bits == UiState().weight_bits);
        CHECK(t.lab_spec.bits == 3);
        CHECK(t.lang == Lang::kJa);
    }
}

TEST_CASE("ui bits ladder and configs", "[ui]") {
    SECTION("next_bits walks 1..16 then float and clamps at both ends") {
        CHECK(next_bits(1, -1) == 1);
        CHECK(next_bits(1, +1) == 2);
        CHECK(next_bits(8, -1) == 7);
        CHECK(next_bits(16, +1) == kFloatBits);
        CHECK(next_bits(kFloatBits, +1) == kFloatBits);
        CHECK(next_bits(kFloatBits, -1) == 16);
    }
    SECTION("summaries") {
        UiState s;
        fit_layers(s, 5);
        CHECK(bits_summary(s) == "4");
        s.act_bits.assign(5, 8);
        CHECK(bits_summary(s) == "W4A8");
        CHECK(uniform_bits(s) == 0);
        s.weight_bits[0] = 8;
        CHECK(bits_summary(s) == "mixed");
        s.weight_bits.assign(5, kFloatBits);
        s.act_bits.assign(5, kFloatBits);
        CHECK(bits_summary(s) == "fp32");
    }
    SECTION("network_config carries per-layer bits and the rule; activations are never per-channel") {
        UiState s;
        s.weight_bits = {8, 4};
        s.act_bits = {6};
        s.quant.rule = RangeRule::kMeanStd;
        s.quant.k = 2;
        s.quant.per_channel = true;
        const NetworkDesc net = notebook_net();
        fit_layers(s, int(net.quant_layers().size()));
        const QuantConfig c = network_config(s, net);
        REQUIRE(c.layers.size() == 5);
        CHECK(c.layers[0].weight.bits == 8);
        CHECK(c.layers[1].weight.bits == 4);
        CHECK(c.layers[4].weight.bits == 4);
        CHECK(c.layers[2].act.bits == 6);
        CHECK(c.layers[3].weight.rule == RangeRule::kMeanStd);
        CHECK(c.layers[3].weight.k == 2);
        CHECK(c.layers[3].weight.per_channel);
        CHECK_FALSE(c.layers[3].act.per_channel);
        CHECK(validate(c, net).ok());
    }
}

TEST_CASE("ui state: the network's QuantSpec drives every layer's spec", "[ui]") {
    UiState s;
    s.weight_bits = {8, 4};
    s.act_bits = {6, 32};
    s.quant.rule = RangeRule::kPercentile;
    s.quant.symmetric = false;
    s.quant.per_channel = true;
    s.quant.k = 2.5;
    s.quant.percentile = 99.5;
    SECTION("layer_weight_spec: the setting with the layer's weight bits (the last entry repeats)") {
        QuantSpec want;
        want.rule = RangeRule::kPercentile, want.symmetric = false, want.per_channel = true, want.k = 2.5, want.percentile = 99.5;
        want.bits = 8;
        CHECK(layer_weight_spec(s, 0) == want);
        want.bits = 4;
        CHECK(layer_weight_spec(s, 1) == want);
        CHECK(layer_weight_spec(s, 4) == want);
    }
    SECTION("layer_act_spec: the same rule, the activation bits, always per-tensor") {
        const QuantSpec a0 = layer_act_spec(s, 0), a3 = layer_act_spec(s, 3);
        CHECK(a0.bits == 6);
        CHECK(a3.bits == kFloatBits);
        for (const QuantSpec& a : {a0, a3}) {
            CHECK(a.rule == RangeRule::kPercentile);
            CHECK_FALSE(a.symmetric);
            CHECK_FALSE(a.per_channel);
            CHECK(a.k == 2.5);
            CHECK(a.percentile == 99.5);
        }
    }
    SECTION("network_config equals core's apply_rule of the setting over the per-layer bits") {
        const NetworkDesc net = notebook_net();
        fit_layers(s, int(net.quant_layers().size()));
        QuantConfig want = make_config(net, kFloatBits, kFloatBits);
        for (size_t q = 0; q < want.layers.size(); ++q) {
            want.layers[q].weight.bits = s.weight_bits[q];
            want.layers[q].act.bits = s.act_bits[q];
        }
        apply_rule(&want, s.quant);
        const QuantConfig got = network_config(s, net);
        REQUIRE(got.layers.size() == want.layers.size());
        for (size_t q = 0; q < want.layers.size(); ++q) {
            CHECK(got.layers[q].weight == want.layers[q].weight);
            CHECK(got.layers[q].act == want.layers[q].act);
        }
    }
    SECTION("set_network_rule takes a spec's rule but not its bits") {
        UiState t;
        QuantSpec lab;
        lab.bits = 3;
        lab.rule = RangeRule::kMse;
        lab.symmetric = false;
        lab.per_channel = true;
        set_network_rule(t, lab);
        CHECK(t.quant.rule == RangeRule::kMse);
        CHECK_FALSE(t.quant.symmetric);
        CHECK(t.quant.per_channel);
        CHECK(t.quant.bits == QuantSpec().bits);
        CHECK(t.weight_bits == UiState().weight_bits);
        UiState u;
        REQUIRE(decode_state(encode_state(t), &u).ok());
        CHECK(u == t);
    }
    SECTION("the state string keys of the setting are unchanged: rule, sym, pc, k, pct") {
        CHECK(encode_state(s) == "wb=8,4&ab=6,32&rule=percentile&sym=0&pc=1&k=2.5&pct=99.5");
        UiState t;
        REQUIRE(decode_state("rule=meanstd&sym=0&pc=1&k=1.5&pct=99", &t).ok());
        CHECK(t.quant.rule == RangeRule::kMeanStd);
        CHECK_FALSE(t.quant.symmetric);
        CHECK(t.quant.per_channel);
        CHECK(t.quant.k == 1.5);
        CHECK(t.quant.percentile == 99.0);
        CHECK(t.quant.bits == QuantSpec().bits);  // not part of the state: the bits are the lists
    }
}

TEST_CASE("ui plot data: ticks", "[ui]") {
    SECTION("1-2-5 steps that land on the ends") {
        Ticks t = nice_ticks(0, 1, 6);
        CHECK(t.step == Approx(0.2));
        REQUIRE(t.values.size() == 6);
        CHECK(t.values.front() == 0);
        CHECK(t.values.back() == Approx(1.0));
        CHECK(format_tick(t.values[3], t) == "0.6");
        t = nice_ticks(-3.19, 3.14, 8);
        CHECK(t.step == 1);
        CHECK(t.values == std::vector<double>{-3, -2, -1, 0, 1, 2, 3});
        CHECK(format_tick(-2, t) == "-2");
        t = nice_ticks(0, 100, 6);
        CHECK(t.step == 20);
        CHECK(t.values.size() == 6);
        t = nice_ticks(0, 0.0003, 4);
        CHECK(t.step == Approx(0.0001));
        CHECK(format_tick(0.0002, t) == "0.0002");
    }
    SECTION("no negative zero, reversed and empty ranges") {
        Ticks t = nice_ticks(-0.3, 0.3, 7);
        for (double v : t.values) CHECK_FALSE((v == 0 && std::signbit(v)));
        CHECK(nice_ticks(1, -1, 5).values.front() == Approx(-1));
        CHECK(nice_ticks(2, 2, 5).values == std::vector<double>{2});
    }
}

TEST_CASE("ui plot data: histogram", "[ui]") {
    const float x[] = {0.0f, 0.1f, 0.25f, 0.5f, 0.99f, 1.0f, -0.5f, 2.0f, NAN};
    const Histogram h = histogram(x, 9, 0.0, 1.0, 4);
    REQUIRE(h.counts.size() == 4);
    // Bins [0,.25) [.25,.5) [.5,.75) [.75,1]: the last includes its right edge.
    CHECK(h.counts == std::vector<int64_t>{2, 1, 1, 2});
    CHECK(h.below == 1);
    CHECK(h.above == 1);
    CHECK(h.bin_width() == 0.25);
    CHECK(h.bin_center(0) == 0.125);
    CHECK(h.max_count() == 2);
    const MinMax mm = min_max(x, 9);
    CHECK(mm.min == -0.5f);
    CHECK(mm.max == 2.0f);
}

TEST_CASE("ui plot data: staircase, levels, STE", "[ui]") {
    // 2-bit symmetric, S = 1: codes -1, 0, 1; risers at -0.5 and 0.5.
    const QuantParams p = params_for_range({-1.0f, 1.0f}, 2, true);
    REQUIRE(p.scale[0] == 1.0f);
    SECTION("exact risers at (k + 1/2) S, clamped outside") {
        const Polyline s = staircase(p, -3, 3);
        CHECK(s.x == std::vector<float>{-3, -0.5f, -0.5f, 0.5f, 0.5f, 3});
        CHECK(s.y == std::vector<float>{-1, -1, 0, 0, 1, 1});
        CHECK(representable_range(p).lo == -1);
        CHECK(representable_range(p).hi == 1);
    }
    SECTION("asymmetric with a zero point") {
        const QuantParams a = params_for_range({0.0f, 3.0f}, 2, false);  // S = 1, Z = 0, codes 0..3
        const Polyline s = staircase(a, -1, 4);
        CHECK(s.y.front() == 0);
        CHECK(s.y.back() == 3);
        CHECK(s.x.size() == 2 + 2 * 3);
        CHECK(level_grid(a, -1, 4) == std::vector<float>{0, 1, 2, 3});
    }
    SECTION("too many risers: sampled instead") {
        const QuantParams w = params_for_range({-1.0f, 1.0f}, 16, true);
        const Polyline s = staircase(w, -1, 1, 100);
        CHECK(s.x.size() == 200);
        CHECK(level_grid(w, -1, 1, 256).empty());
    }
    SECTION("1 bit: the single level 0") {
        const QuantParams one = params_for_range({-2.0f, 2.0f}, 1, true);
        const Polyline s = staircase(one, -2, 2);
        CHECK(s.y == std::vector<float>{0, 0});
    }
    SECTION("STE gradient: identity is 1 everywhere, clipped is 0 outside [-1, 1]") {
        const Polyline id = ste_gradient(p, SteRule::kIdentity, -2, 2, 5);
        CHECK(id.y == std::vector<float>{1, 1, 1, 1, 1});
        const Polyline cl = ste_gradient(p, SteRule::kClipped, -2, 2, 5);
        CHECK(cl.x == std::vector<float>{-2, -1, 0, 1, 2});
        CHECK(cl.y.front() == 0);
        CHECK(cl.y[2] == 1);
        CHECK(cl.y.back() == 0);
    }
    SECTION("per-channel params: one channel's slice") {
        QuantSpec spec;
        spec.bits = 4;
        spec.per_channel = true;
        const Tensor t({2, 2}, std::vector<float>{1, -1, 7, 3});
        Result<QuantParams> pc = compute_params(t, spec);
        REQUIRE(pc.ok());
        const QuantParams c1 = channel_params(pc.value, 1);
        CHECK_FALSE(c1.per_channel());
        CHECK(c1.scale[0] == pc.value.scale[1]);
        CHECK(channel_params(pc.value, 99).scale[0] == pc.value.scale[1]);
    }
}

TEST_CASE("ui synthetic tensor: the notebook's torch.randn(1000).sort()", "[ui]") {
    const std::vector<float> r = notebook_randn_sorted(1000, 100);
    REQUIRE(r.size() == 1000);
    CHECK(std::is_sorted(r.begin(), r.end()));
    // Golden: torch.manual_seed(100); torch.randn(1000).sort()[0] from PyTorch (tests/golden/quantizer_input.f32).
    const std::vector<float> golden = test::read_f32(test::golden("quantizer_input.f32"));
    REQUIRE(golden.size() == 1000);
    double worst = 0;
    for (size_t i = 0; i < r.size(); ++i) worst = std::max(worst, double(std::fabs(r[i] - golden[i])));
    INFO("largest difference " << worst);
    CHECK(worst < 1e-5);  // libm's log/cos/sin vs torch's vectorised ones: a few ulp
}
