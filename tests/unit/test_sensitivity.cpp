// test_sensitivity.cpp: core's per-layer sensitivity cases (which layers each case quantizes, at what bits) and
// run_sensitivity against a direct evaluation of the same setting written by hand; the per-layer bits text
// (`--layer-bits`) parsed, rejected with the item named, and written back.
#include <catch2/catch.hpp>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/layer_bits.hpp"
#include "core/network.hpp"
#include "core/sensitivity.hpp"
#include "core/weights_io.hpp"
#include "tests/support/bundled_model.hpp"

using namespace quantlab;

namespace {

// Which (weight, act) bits each layer has, as a flat list.
std::vector<int> bits_of(const QuantConfig& c) {
    std::vector<int> out;
    for (const LayerQuant& l : c.layers) {
        out.push_back(l.weight.bits);
        out.push_back(l.act.bits);
    }
    return out;
}

}  // namespace

TEST_CASE("layer bits: NAME=BITS and NAME=W:A set those layers only; bad items are named", "[sensitivity]") {
    const NetworkDesc net = notebook_net();
    QuantConfig c = make_config(net, 2, 2);
    REQUIRE(apply_layer_bits(&c, net, "conv1=8,fc3=8:4"));
    REQUIRE(c.layers.size() == 5);
    CHECK(bits_of(c) == std::vector<int>{8, 8, 2, 2, 2, 2, 2, 2, 8, 4});
    CHECK(layer_bits_text(c, net, 2, 2) == "conv1=8,fc3=8:4");
    CHECK(layer_bits_text(make_config(net, 2, 2), net, 2, 2).empty());
    CHECK(apply_layer_bits(&c, net, ""));  // nothing to change
    CHECK(bits_of(c) == std::vector<int>{8, 8, 2, 2, 2, 2, 2, 2, 8, 4});

    const Status unknown = apply_layer_bits(&c, net, "conv9=8");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.message.find("conv9") != std::string::npos);
    CHECK(unknown.message.find("conv1, conv2") != std::string::npos);  // lists the layers there are
    for (const char* bad : {"conv1=0", "conv1=17", "conv1=8:", "conv1=x", "conv1", "conv1=8:99", "conv1=-4", "conv1=4.5"}) {
        INFO(bad);
        const Status s = apply_layer_bits(&c, net, bad);
        REQUIRE_FALSE(s);
        CHECK(s.message.find(std::string("'") + bad + "'") != std::string::npos);
    }
    CHECK(bits_of(c) == std::vector<int>{8, 8, 2, 2, 2, 2, 2, 2, 8, 4});  // failures leave earlier items only
}

TEST_CASE("sensitivity cases: one layer alone, or all but one kept at 8", "[sensitivity]") {
    const NetworkDesc net = notebook_net();
    QuantSpec rule;
    rule.per_channel = true;
    QuantConfig base = make_config(net, 6, 6);
    apply_rule(&base, rule);
    const std::vector<SensitivityCase> cases =
        sensitivity_cases(net, base, {4, 2}, {SensitivityPart::kWeights, SensitivityPart::kBoth});
    REQUIRE(cases.size() == 1 + 2 * 2 * (1 + 2 * 5));
    CHECK(bits_of(cases[0].config) == std::vector<int>(10, kFloatBits));
    for (const SensitivityCase& c : cases) CHECK(c.config.layers[0].weight.per_channel);  // the rule carries over

    // weights at 4 bits: [1] uniform, [2..6] only layer q, [7..11] all but q
    CHECK(cases[1].layer == -1);
    CHECK(bits_of(cases[1].config) == std::vector<int>{4, 32, 4, 32, 4, 32, 4, 32, 4, 32});
    CHECK(cases[3].mode == SensitivityMode::kOnly);
    CHECK(cases[3].layer == 1);
    CHECK(bits_of(cases[3].config) == std::vector<int>{32, 32, 4, 32, 32, 32, 32, 32, 32, 32});
    CHECK(cases[11].mode == SensitivityMode::kAllBut);
    CHECK(cases[11].layer == 4);
    CHECK(bits_of(cases[11].config) == std::vector<int>{4, 32, 4, 32, 4, 32, 4, 32, 8, 32});
    // both at 2 bits, the last block: all but conv1
    const SensitivityCase& last_block_first = cases[cases.size() - 5];
    CHECK(last_block_first.part == SensitivityPart::kBoth);
    CHECK(last_block_first.bits == 2);
    CHECK(bits_of(last_block_first.config) == std::vector<int>{8, 8, 2, 2, 2, 2, 2, 2, 2, 2});
}

TEST_CASE("sensitivity cases for a mixed setting: each layer alone at its bits, all but it kept at 8", "[sensitivity]") {
    const NetworkDesc net = notebook_net();
    // The current setting, written as --layer-bits would: 4 bits everywhere, conv2 at 3, fc1's activations at 6,
    // fc2 at 16 (wider than 8: kept as it is), fc3 float; static mode with stale ranges, the MSE rule per channel.
    QuantConfig current = make_config(net, 4, 4, ActMode::kStatic);
    QuantSpec rule;
    rule.rule = RangeRule::kMse;
    rule.per_channel = true;
    apply_rule(&current, rule);
    REQUIRE(apply_layer_bits(&current, net, "conv2=3,fc1=4:6,fc2=16,fc3=32"));
    current.act_ranges.assign(5, RealRange{-1, 1});

    const std::vector<SensitivityCase> cases = sensitivity_cases_for(current);
    REQUIRE(cases.size() == 10);
    // Hand-written: only layer q at its bits (others float) ...
    const std::vector<std::vector<int>> only = {
        {4, 4, 32, 32, 32, 32, 32, 32, 32, 32},
        {32, 32, 3, 3, 32, 32, 32, 32, 32, 32},
        {32, 32, 32, 32, 4, 6, 32, 32, 32, 32},
        {32, 32, 32, 32, 32, 32, 16, 16, 32, 32},
        {32, 32, 32, 32, 32, 32, 32, 32, 32, 32},
    };
    // ... and everything at its bits except q at (at least) 8.
    const std::vector<std::vector<int>> all_but = {
        {8, 8, 3, 3, 4, 6, 16, 16, 32, 32},
        {4, 4, 8, 8, 4, 6, 16, 16, 32, 32},
        {4, 4, 3, 3, 8, 8, 16, 16, 32, 32},
        {4, 4, 3, 3, 4, 6, 16, 16, 32, 32},
        {4, 4, 3, 3, 4, 6, 16, 16, 32, 32},
    };
    const std::vector<int> weight_bits = {4, 3, 4, 16, 32};
    for (int q = 0; q < 5; ++q) {
        INFO("layer " << q);
        const SensitivityCase& o = cases[size_t(q)];
        const SensitivityCase& a = cases[size_t(5 + q)];
        CHECK(o.mode == SensitivityMode::kOnly);
        CHECK(a.mode == SensitivityMode::kAllBut);
        CHECK(o.layer == q);
        CHECK(a.layer == q);
        CHECK(o.part == SensitivityPart::kBoth);
        CHECK(o.bits == weight_bits[size_t(q)]);
        CHECK(a.bits == weight_bits[size_t(q)]);
        CHECK(bits_of(o.config) == only[size_t(q)]);
        CHECK(bits_of(a.config) == all_but[size_t(q)]);
        for (const SensitivityCase* c : {&o, &a}) {
            CHECK(c->config.act_mode == ActMode::kStatic);
            CHECK(c->config.act_ranges.empty());  // stale ranges dropped: the cases are calibrated anew
            QuantConfig ranged = c->config;  // valid once calibrated (a static config needs its ranges)
            ranged.act_ranges.assign(5, RealRange{-1, 1});
            CHECK(validate(ranged, net));
            for (const LayerQuant& l : c->config.layers) {
                CHECK(l.weight.rule == RangeRule::kMse);
                CHECK(l.weight.per_channel);
                CHECK(l.act.rule == RangeRule::kMse);
            }
        }
    }
    // keep_bits other than 8; an empty setting gives no cases.
    const std::vector<SensitivityCase> keep6 = sensitivity_cases_for(make_config(net, 2, 2), 6);
    CHECK(bits_of(keep6[5 + 2].config) == std::vector<int>{2, 2, 2, 2, 6, 6, 2, 2, 2, 2});
    CHECK(sensitivity_cases_for(QuantConfig()).empty());
}

TEST_CASE("sensitivity: every case's accuracy equals a direct evaluation of that setting", "[sensitivity]") {
    Result<Cifar10> data = read_cifar10_batch(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin", 128);  // 128: one batch, enough to tell the cases apart
    REQUIRE(data.ok());
    Model model = test::bundled_model();
    const NetworkDesc net = model.desc();
    const std::vector<SensitivityCase> cases = sensitivity_cases(net, make_config(net, 32, 32), {3}, {SensitivityPart::kBoth});
    int64_t calls = 0;
    Result<std::vector<SensitivityRow>> rows =
        run_sensitivity(model, data.value, cases, 128, Backend::kFast, nullptr, 0, [&](int64_t d, int64_t t) {
            ++calls;
            CHECK(t == int64_t(cases.size()));
            CHECK(d == calls);
        });
    REQUIRE(rows.ok());
    REQUIRE(rows.value.size() == cases.size());
    CHECK(calls == int64_t(cases.size()));
    CHECK(bits_of(model.config()) == std::vector<int>(10, kFloatBits));  // the model is left as it came

    // Direct: the settings written out by hand through --layer-bits' form, on a fresh model.
    const Model fresh = test::bundled_model();
    auto direct = [&](int all_bits, const std::string& layer_bits) {
        QuantConfig c = make_config(net, all_bits, all_bits);
        REQUIRE(apply_layer_bits(&c, net, layer_bits));
        Model m = fresh;
        REQUIRE(m.configure(c));
        Result<EvalResult> r = evaluate(m, data.value, 128, Backend::kFast);
        REQUIRE(r.ok());
        return r.value;
    };
    const std::vector<std::string> names = {"conv1", "conv2", "fc1", "fc2", "fc3"};
    CHECK(rows.value[0].result.predictions == direct(32, "").predictions);
    CHECK(rows.value[1].result.predictions == direct(3, "").predictions);
    for (size_t q = 0; q < 5; ++q) {
        INFO(names[q]);
        CHECK(rows.value[2 + q].result.predictions == direct(32, names[q] + "=3").predictions);
        CHECK(rows.value[7 + q].result.predictions == direct(3, names[q] + "=8").predictions);
    }
    // The cases differ from each other: 3-bit everywhere loses accuracy against float on these images.
    CHECK(rows.value[1].result.accuracy() < rows.value[0].result.accuracy());
}
