// test_network.cpp: the layer-list description (PyTorch names and shapes, text round trip, validation),
// weight checks, and inference semantics that need no golden file (static mode is batch-independent,
// integer equals fake-quant, calibration, bad configs).
#include <catch2/catch.hpp>

#include <random>

#include "core/evaluate.hpp"
#include "core/network.hpp"
#include "core/quant_config_io.hpp"

using namespace quantlab;

namespace {

// Random weights of the right shapes (BN variance positive), seeded.
StateDict random_weights(const NetworkDesc& net, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-0.2f, 0.2f);
    StateDict sd;
    for (const ParamDesc& p : net.params()) {
        Tensor t(p.shape);
        for (float& v : t.data) v = u(rng);
        if (p.name.find("running_var") != std::string::npos)
            for (float& v : t.data) v = 1.0f + std::fabs(v);
        if (p.int64) t.data.assign(t.data.size(), 10.0f);
        sd.set(p.name, t, p.int64 ? "I64" : "F32");
    }
    return sd;
}

std::vector<float> random_images(int64_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(size_t(n * 3 * 32 * 32));
    for (float& v : x) v = u(rng);
    return x;
}

}  // namespace

TEST_CASE("the notebook's net as a layer list", "[network]") {
    const NetworkDesc net = notebook_net();
    SECTION("every state_dict name and shape of the notebook's Net, in PyTorch's order") {
        const std::vector<ParamDesc> p = net.params();
        REQUIRE(p.size() == 20);
        CHECK(p[0].name == "conv1.weight");
        CHECK(p[0].shape == Shape{32, 3, 5, 5});
        CHECK(p[6].name == "bn1.num_batches_tracked");
        CHECK(p[6].shape == Shape{});
        CHECK(p[6].int64);
        CHECK(p[7].name == "conv2.weight");
        CHECK(p[7].shape == Shape{64, 32, 5, 5});
        CHECK(p[14].name == "fc1.weight");
        CHECK(p[14].shape == Shape{120, 1600});
        CHECK(p[19].name == "fc3.bias");
        CHECK(p[19].shape == Shape{10});
    }
    SECTION("shapes flow: 32x32 -> conv 28 -> pool 14 -> conv 10 -> pool 5 -> 1600 -> 10") {
        CHECK(net.shape_after(0) == Shape{32, 28, 28});
        CHECK(net.shape_after(3) == Shape{32, 14, 14});
        CHECK(net.shape_after(7) == Shape{64, 5, 5});
        CHECK(net.shape_after(8) == Shape{1600});
        CHECK(net.num_classes() == 10);
        CHECK(net.quant_layers().size() == 5);
    }
    SECTION("text form round-trips, and a variant is a few characters away") {
        Result<NetworkDesc> back = parse_network(net.to_text());
        REQUIRE(back.ok());
        CHECK(back.value.to_text() == net.to_text());
        const NetworkDesc wide = wide_net(2);
        CHECK(wide.params()[0].shape == Shape{64, 3, 5, 5});
        CHECK(wide.params()[14].shape == Shape{240, 3200});
        CHECK(validate(wide).ok());
        Result<NetworkDesc> deeper = parse_network("input 3 32 32; conv c1 3 16 3 1; relu; conv c2 16 16 3 1; relu; pool 2; flatten; linear fc 4096 10");
        REQUIRE(deeper.ok());
        CHECK(deeper.value.shape_after(1) == Shape{16, 32, 32});
    }
    SECTION("bad descriptions are refused with the layer named") {
        CHECK_THAT(parse_network("conv c1 3 16 5; flatten; linear fc 100 10").message(), Catch::Contains("in features"));
        CHECK_THAT(parse_network("conv c1 4 16 5; flatten; linear fc 9216 10").message(), Catch::Contains("in channels"));
        CHECK_THAT(parse_network("conv c1 3 16 5; relu").message(), Catch::Contains("last layer"));
        CHECK_THAT(parse_network("conv c1 3 99999 5; flatten; linear fc 1 10").message(), Catch::Contains("out channels"));
        CHECK_THAT(parse_network("transformer t 1").message(), Catch::Contains("unknown layer"));
        CHECK_FALSE(parse_network("conv c1 3 16 5; flatten; linear c1 9216 10").ok());  // duplicate name
    }
}

TEST_CASE("network_choice: notebook, wide:N or a description, sized to the classes", "[network]") {
    Result<NetworkDesc> nb = network_choice("notebook", 100);
    REQUIRE(nb.ok());
    CHECK(nb.value.num_classes() == 100);
    CHECK(network_choice("", 10).value.to_text() == notebook_net().to_text());
    Result<NetworkDesc> w = network_choice("wide:2", 10);
    REQUIRE(w.ok());
    CHECK(w.value.to_text() == wide_net(2).to_text());
    for (const char* bad : {"wide:0", "wide:9", "wide:", "wide:2x"}) {
        CAPTURE(bad);
        CHECK(network_choice(bad, 10).message().find("wide:N needs N in 1..8") != std::string::npos);
    }
    const std::string text = notebook_net().to_text();
    CHECK(network_choice(text, 10).ok());
    CHECK(network_choice(text, 100).message().find("has 10 outputs but the data has 100 classes") != std::string::npos);
    CHECK(network_choice("conv conv1 3 32", 10).message().find("model description: bad fields") != std::string::npos);
    CHECK(!network_choice("resnet", 10).ok());
}

TEST_CASE("weight checks name the file and the tensor", "[network]") {
    const NetworkDesc net = notebook_net();
    StateDict sd = random_weights(net, 1);
    SECTION("complete weights pass") { CHECK(check_weights(net, sd, "w.safetensors").ok()); }
    SECTION("a missing tensor") {
        StateDict bad;
        for (const std::string& n : sd.names)
            if (n != "fc2.bias") bad.set(n, *sd.find(n));
        CHECK_THAT(check_weights(net, bad, "w.safetensors").message, Catch::Contains("w.safetensors") && Catch::Contains("fc2.bias"));
    }
    SECTION("a wrong shape") {
        sd.find("conv1.weight")->shape = {32, 3, 3, 3};
        CHECK_THAT(check_weights(net, sd, "w").message, Catch::Contains("conv1.weight") && Catch::Contains("(32,3,5,5)"));
    }
    SECTION("NaN, negative variance and extra tensors") {
        StateDict a = sd;
        a.find("fc1.weight")->data[7] = std::nanf("");
        CHECK_THAT(check_weights(net, a, "w").message, Catch::Contains("non-finite") && Catch::Contains("index 7"));
        StateDict b = sd;
        b.find("bn2.running_var")->data[0] = -1;
        CHECK_THAT(check_weights(net, b, "w").message, Catch::Contains("negative variance"));
        StateDict c = sd;
        c.set("fc4.weight", Tensor({1}));
        CHECK_THAT(check_weights(net, c, "w").message, Catch::Contains("unexpected tensor 'fc4.weight'"));
    }
}

TEST_CASE("inference semantics", "[network]") {
    const NetworkDesc net = notebook_net();
    Result<Model> created = Model::create(net, random_weights(net, 2), "random");
    REQUIRE(created.ok());
    Model m = created.value;
    const int64_t n = 12;
    const std::vector<float> x = random_images(n, 3);
    std::vector<float> a(size_t(n * 10)), b(size_t(n * 10));

    SECTION("fast kernels match the reference within 1e-4") {
        REQUIRE(m.forward(x.data(), n, a.data(), Backend::kReference).ok());
        REQUIRE(m.forward(x.data(), n, b.data(), Backend::kFast).ok());
        for (size_t i = 0; i < a.size(); ++i) REQUIRE(b[i] == Approx(a[i]).margin(1e-4));
    }
    SECTION("the fast backends' per-batch activation parameters are the quantizer's, for every rule") {
        // The fast and integer backends take max-abs and min-max ranges from SIMD passes. On the very inputs
        // each backend saw (its trace), the quantizer's plain compute_params must give the same parameters.
        for (RangeRule rule : {RangeRule::kMaxAbs, RangeRule::kMinMax, RangeRule::kMeanStd, RangeRule::kPercentile}) {
            for (bool symmetric : {true, false}) {
                QuantConfig c = make_config(net, 6, 5);
                QuantSpec setting;
                setting.rule = rule;
                setting.symmetric = symmetric;
                apply_rule(&c, setting);
                REQUIRE(m.configure(c).ok());
                for (Backend backend : {Backend::kFast, Backend::kInteger}) {
                    ForwardTrace t;
                    REQUIRE(m.forward(x.data(), n, b.data(), backend, &t).ok());
                    REQUIRE(t.act_params.size() == 5);
                    for (size_t q = 0; q < t.act_params.size(); ++q) {
                        INFO("rule " << range_rule_name(rule) << " symmetric " << symmetric << " backend " << backend_name(backend) << " layer " << q);
                        const Tensor& in = t.inputs[q];
                        Result<QuantParams> want = compute_params(in.data.data(), Shape{in.numel()}, c.layers[q].act);
                        REQUIRE(want.ok());
                        const QuantParams& got = t.act_params[q];
                        REQUIRE(got.scale == want.value.scale);
                        REQUIRE(got.zero_point == want.value.zero_point);
                        REQUIRE(got.alpha == want.value.alpha);
                        REQUIRE(got.beta == want.value.beta);
                        REQUIRE(got.range.qmin == want.value.range.qmin);
                        REQUIRE(got.range.qmax == want.value.range.qmax);
                    }
                }
            }
        }
    }
    SECTION("static activations make an image's logits independent of its batch; dynamic ones do not") {
        QuantConfig c = make_config(net, 4, 4, ActMode::kStatic);
        Model calib = m;
        REQUIRE(calib.configure(make_config(net, 4, 4)).ok());
        Result<std::vector<RealRange>> ranges = calib.calibrate(x.data(), n, 4);
        REQUIRE(ranges.ok());
        c.act_ranges = ranges.value;
        REQUIRE(m.configure(c).ok());
        REQUIRE(m.forward(x.data(), n, a.data(), Backend::kReference).ok());
        REQUIRE(m.forward(x.data(), 1, b.data(), Backend::kReference).ok());  // image 0 alone
        for (int k = 0; k < 10; ++k) CHECK(b[size_t(k)] == a[size_t(k)]);
        REQUIRE(m.configure(make_config(net, 4, 4, ActMode::kDynamic)).ok());
        REQUIRE(m.forward(x.data(), n, a.data(), Backend::kReference).ok());
        REQUIRE(m.forward(x.data(), 1, b.data(), Backend::kReference).ok());
        bool differs = false;
        for (int k = 0; k < 10; ++k) differs |= b[size_t(k)] != a[size_t(k)];
        CHECK(differs);
    }
    // Integer sums are exact while fake-quant's float sums round, so an activation that lands within an ulp
    // of a rounding boundary can take the neighbouring code in the next layer: logits agree to ~1e-3 of
    // their scale, and predictions agree wherever the top two logits are not within 0.02.
    auto same_predictions = [&](const std::vector<float>& ref, const std::vector<float>& got) {
        for (int64_t i = 0; i < n; ++i) {
            const float* r = &ref[size_t(i * 10)];
            const int top = argmax(r, 10);
            float second = -1e30f;
            for (int k = 0; k < 10; ++k)
                if (k != top) second = std::max(second, r[k]);
            if (r[top] - second > 0.02f) REQUIRE(argmax(&got[size_t(i * 10)], 10) == top);
        }
    };
    SECTION("integer logits equal fake-quant's up to float rounding, at 8, 4 and 2 bits, per-tensor and per-channel") {
        for (int bits : {8, 4, 2})
            for (bool per_channel : {false, true}) {
                CAPTURE(bits, per_channel);
                QuantConfig c = make_config(net, bits, bits);
                for (LayerQuant& l : c.layers) l.weight.per_channel = per_channel;
                REQUIRE(m.configure(c).ok());
                REQUIRE(m.forward(x.data(), n, a.data(), Backend::kReference).ok());
                REQUIRE(m.forward(x.data(), n, b.data(), Backend::kInteger).ok());
                for (size_t i = 0; i < a.size(); ++i) REQUIRE(b[i] == Approx(a[i]).margin(1e-2));
                same_predictions(a, b);
            }
    }
    SECTION("asymmetric activations take the zero-point path of the integer kernels") {
        QuantConfig c = make_config(net, 8, 8);
        for (LayerQuant& l : c.layers) {
            l.act.symmetric = false;
            l.act.rule = RangeRule::kMinMax;
        }
        REQUIRE(m.configure(c).ok());
        REQUIRE(m.forward(x.data(), n, a.data(), Backend::kReference).ok());
        REQUIRE(m.forward(x.data(), n, b.data(), Backend::kInteger).ok());
        for (size_t i = 0; i < a.size(); ++i) REQUIRE(b[i] == Approx(a[i]).margin(1e-2));
        same_predictions(a, b);
    }
    SECTION("bad configurations are refused") {
        CHECK_THAT(m.configure(make_config(net, 0, 8)).message, Catch::Contains("conv1 weight") && Catch::Contains("bits = 0"));
        CHECK_THAT(m.configure(make_config(net, 8, 8, ActMode::kStatic)).message, Catch::Contains("calibrate"));
        QuantConfig c = make_config(net, 8, 8);
        c.layers.pop_back();
        CHECK_THAT(m.configure(c).message, Catch::Contains("4 layer settings"));
        std::vector<float> bad = x;
        bad[5] = std::nanf("");
        REQUIRE(m.configure(make_config(net, 8, 8)).ok());
        CHECK_THAT(m.forward(bad.data(), n, a.data(), Backend::kFast).message, Catch::Contains("conv1") && Catch::Contains("not finite"));
    }
    SECTION("quant config JSON round-trips and rejects nonsense") {
        QuantConfig c = make_config(net, 4, 8, ActMode::kStatic);
        c.layers[0].weight.per_channel = true;
        c.layers[2].act.rule = RangeRule::kPercentile;
        c.act_ranges.assign(5, RealRange{-1.5f, 2.25f});
        const std::string text = quant_config_to_json(c, net);
        Result<QuantConfig> back = quant_config_from_json(text, net, "meta");
        REQUIRE(back.ok());
        CHECK(quant_config_to_json(back.value, net) == text);
        CHECK_FALSE(quant_config_from_json("{\"layers\": 3}", net, "meta").ok());
        CHECK_THAT(quant_config_from_json("{not json", net, "m.safetensors").message(), Catch::Contains("m.safetensors"));
        CHECK_THAT(quant_config_from_json("{\"layers\":[{\"weight\":{\"bits\":99}},{},{},{},{}]}", net, "m").message(), Catch::Contains("bits = 99"));
    }
}

TEST_CASE("incremental evaluation equals the one-shot evaluation", "[network]") {
    const NetworkDesc net = notebook_net();
    Model m = Model::create(net, random_weights(net, 4), "random").value;
    Cifar10 data;
    data.count = 300;
    std::mt19937 rng(5);
    for (int64_t i = 0; i < data.count; ++i) data.labels.push_back(uint8_t(rng() % 10));
    for (int64_t i = 0; i < data.count * 3072; ++i) data.pixels.push_back(uint8_t(rng()));
    REQUIRE(m.configure(make_config(net, 4, 4)).ok());
    const EvalResult all = evaluate(m, data, 128, Backend::kFast).value;
    Evaluation e(&m, &data, 128, Backend::kFast);
    int steps = 0;
    while (!e.done()) {
        REQUIRE(e.step(1).ok());  // one batch per step, as the UI does per frame
        ++steps;
    }
    CHECK(steps == 3);
    CHECK(e.result().predictions == all.predictions);
    CHECK(e.result().correct == all.correct);
    CHECK(all.evaluated == 300);
    int64_t confusion_sum = 0;
    for (int64_t v : all.confusion) confusion_sum += v;
    CHECK(confusion_sum == 300);
}

TEST_CASE("apply_rule sets one quantizer on every layer and keeps the bits", "[network]") {
    const NetworkDesc net = notebook_net();
    QuantConfig c = make_config(net, 4, 6);
    c.layers[2].weight.bits = 3;  // a per-layer width must survive
    QuantSpec setting;
    setting.rule = RangeRule::kPercentile;
    setting.symmetric = false;
    setting.percentile = 99.5;
    setting.k = 2.5;
    setting.per_channel = true;
    apply_rule(&c, setting);
    REQUIRE(c.layers.size() == 5);
    for (size_t i = 0; i < c.layers.size(); ++i) {
        const LayerQuant& l = c.layers[i];
        INFO("layer " << i);
        REQUIRE(l.weight.bits == (i == 2 ? 3 : 4));
        REQUIRE(l.act.bits == 6);
        for (const QuantSpec* s : {&l.weight, &l.act}) {
            REQUIRE(s->rule == RangeRule::kPercentile);
            REQUIRE_FALSE(s->symmetric);
            REQUIRE(s->percentile == 99.5);
            REQUIRE(s->k == 2.5);
        }
        REQUIRE(l.weight.per_channel);
        REQUIRE_FALSE(l.act.per_channel);  // activations are per-tensor only
    }
    REQUIRE(validate(c, net).ok());
}

namespace {

// A plan step as written out by hand from a network description.
struct WantStep {
    StepOp op;
    int layer, layers, q;
    bool bn, relu, pool2;
    Shape in, out;
};

void check_plan(const std::vector<PlanStep>& got, const std::vector<WantStep>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        INFO("step " << i);
        CHECK(int(got[i].op) == int(want[i].op));
        CHECK(got[i].layer == want[i].layer);
        CHECK(got[i].layers == want[i].layers);
        CHECK(got[i].q == want[i].q);
        CHECK(got[i].bn == want[i].bn);
        CHECK(got[i].relu == want[i].relu);
        CHECK(got[i].pool2 == want[i].pool2);
        CHECK(got[i].in == want[i].in);
        CHECK(got[i].out == want[i].out);
    }
}

}  // namespace

TEST_CASE("a configured Model's plan: the notebook net's steps and fusions", "[network]") {
    // The notebook's layers: 0 conv1 3->32 5x5, 1 bn1, 2 relu, 3 pool 2, 4 conv2 32->64 5x5, 5 bn2, 6 relu,
    // 7 pool 2, 8 flatten, 9 fc1 1600->120, 10 relu, 11 fc2 120->84, 12 relu, 13 fc3 84->10.
    const NetworkDesc net = notebook_net();
    Model m = Model::create(net, random_weights(net, 6), "random").value;
    using S = StepOp;
    // The float backends: each BatchNorm takes the ReLU after it; nothing else fuses.
    const std::vector<WantStep> float_plan = {
        {S::kConv, 0, 1, 0, false, false, false, {3, 32, 32}, {32, 28, 28}},
        {S::kBatchNorm, 1, 2, -1, false, true, false, {32, 28, 28}, {32, 28, 28}},
        {S::kMaxPool, 3, 1, -1, false, false, false, {32, 28, 28}, {32, 14, 14}},
        {S::kConv, 4, 1, 1, false, false, false, {32, 14, 14}, {64, 10, 10}},
        {S::kBatchNorm, 5, 2, -1, false, true, false, {64, 10, 10}, {64, 10, 10}},
        {S::kMaxPool, 7, 1, -1, false, false, false, {64, 10, 10}, {64, 5, 5}},
        {S::kFlatten, 8, 1, -1, false, false, false, {64, 5, 5}, {1600}},
        {S::kLinear, 9, 1, 2, false, false, false, {1600}, {120}},
        {S::kReLU, 10, 1, -1, false, false, false, {120}, {120}},
        {S::kLinear, 11, 1, 3, false, false, false, {120}, {84}},
        {S::kReLU, 12, 1, -1, false, false, false, {84}, {84}},
        {S::kLinear, 13, 1, 4, false, false, false, {84}, {10}},
    };
    SECTION("float weights: every backend runs the float plan") {
        for (Backend b : {Backend::kReference, Backend::kFast, Backend::kInteger}) {
            INFO(backend_name(b));
            check_plan(m.plan(b), float_plan);
        }
    }
    SECTION("8 bits: each integer conv takes its BatchNorm, ReLU and pool; the linears run on codes") {
        REQUIRE(m.configure(make_config(net, 8, 8)).ok());
        check_plan(m.plan(Backend::kReference), float_plan);
        check_plan(m.plan(Backend::kFast), float_plan);
        check_plan(m.plan(Backend::kInteger), {
            {S::kConvInt, 0, 4, 0, true, true, true, {3, 32, 32}, {32, 14, 14}},
            {S::kConvInt, 4, 4, 1, true, true, true, {32, 14, 14}, {64, 5, 5}},
            {S::kFlatten, 8, 1, -1, false, false, false, {64, 5, 5}, {1600}},
            {S::kLinearInt, 9, 1, 2, false, false, false, {1600}, {120}},
            {S::kReLU, 10, 1, -1, false, false, false, {120}, {120}},
            {S::kLinearInt, 11, 1, 3, false, false, false, {120}, {84}},
            {S::kReLU, 12, 1, -1, false, false, false, {84}, {84}},
            {S::kLinearInt, 13, 1, 4, false, false, false, {84}, {10}},
        });
    }
    SECTION("layers that cannot run on codes (a 16-bit weight, a float activation) run float, unfused") {
        QuantConfig c = make_config(net, 8, 8);
        c.layers[0].weight.bits = 16;  // conv1: not <= 8 bits
        c.layers[3].act.bits = kFloatBits;  // fc2's input stays float
        REQUIRE(m.configure(c).ok());
        check_plan(m.plan(Backend::kInteger), {
            {S::kConv, 0, 1, 0, false, false, false, {3, 32, 32}, {32, 28, 28}},
            {S::kBatchNorm, 1, 2, -1, false, true, false, {32, 28, 28}, {32, 28, 28}},
            {S::kMaxPool, 3, 1, -1, false, false, false, {32, 28, 28}, {32, 14, 14}},
            {S::kConvInt, 4, 4, 1, true, true, true, {32, 14, 14}, {64, 5, 5}},
            {S::kFlatten, 8, 1, -1, false, false, false, {64, 5, 5}, {1600}},
            {S::kLinearInt, 9, 1, 2, false, false, false, {1600}, {120}},
            {S::kReLU, 10, 1, -1, false, false, false, {120}, {120}},
            {S::kLinear, 11, 1, 3, false, false, false, {120}, {84}},
            {S::kReLU, 12, 1, -1, false, false, false, {84}, {84}},
            {S::kLinearInt, 13, 1, 4, false, false, false, {84}, {10}},
        });
    }
}

TEST_CASE("build_plan fuses only what follows in order: BatchNorm, then ReLU, then a 2x2 pool", "[network]") {
    using S = StepOp;
    const auto net_of = [](const std::string& text) {
        Result<NetworkDesc> net = parse_network(text);
        REQUIRE(net.ok());
        return net.value;
    };
    const auto all = [](const NetworkDesc& net, bool on_codes) { return std::vector<bool>(net.quant_layers().size(), on_codes); };
    SECTION("a conv without a BatchNorm right after it fuses nothing") {
        // 0 c1, 1 relu, 2 c2, 3 b2, 4 relu, 5 pool 2, 6 flatten, 7 fc
        const NetworkDesc net = net_of("input 3 8 8; conv c1 3 4 3 1; relu; conv c2 4 4 3 1; bn b2 4; relu; pool 2; flatten; linear fc 64 3");
        check_plan(build_plan(net, all(net, true)), {
            {S::kConvInt, 0, 1, 0, false, false, false, {3, 8, 8}, {4, 8, 8}},
            {S::kReLU, 1, 1, -1, false, false, false, {4, 8, 8}, {4, 8, 8}},
            {S::kConvInt, 2, 4, 1, true, true, true, {4, 8, 8}, {4, 4, 4}},
            {S::kFlatten, 6, 1, -1, false, false, false, {4, 4, 4}, {64}},
            {S::kLinearInt, 7, 1, 2, false, false, false, {64}, {3}},
        });
    }
    SECTION("a 3x3 pool is not fused, nor a pool without the ReLU before it; a BatchNorm alone is") {
        // 0 c1, 1 b1, 2 relu, 3 pool 3, 4 c2, 5 b2, 6 pool 2, 7 flatten, 8 fc
        const NetworkDesc net = net_of("input 3 9 9; conv c1 3 4 3 1; bn b1 4; relu; pool 3; conv c2 4 2 1 0; bn b2 2; pool 2; flatten; linear fc 2 3");
        check_plan(build_plan(net, all(net, true)), {
            {S::kConvInt, 0, 3, 0, true, true, false, {3, 9, 9}, {4, 9, 9}},
            {S::kMaxPool, 3, 1, -1, false, false, false, {4, 9, 9}, {4, 3, 3}},
            {S::kConvInt, 4, 2, 1, true, false, false, {4, 3, 3}, {2, 3, 3}},
            {S::kMaxPool, 6, 1, -1, false, false, false, {2, 3, 3}, {2, 1, 1}},
            {S::kFlatten, 7, 1, -1, false, false, false, {2, 1, 1}, {2}},
            {S::kLinearInt, 8, 1, 2, false, false, false, {2}, {3}},
        });
        // The float plan of the same net: only BatchNorm + ReLU.
        check_plan(build_plan(net, all(net, false)), {
            {S::kConv, 0, 1, 0, false, false, false, {3, 9, 9}, {4, 9, 9}},
            {S::kBatchNorm, 1, 2, -1, false, true, false, {4, 9, 9}, {4, 9, 9}},
            {S::kMaxPool, 3, 1, -1, false, false, false, {4, 9, 9}, {4, 3, 3}},
            {S::kConv, 4, 1, 1, false, false, false, {4, 3, 3}, {2, 3, 3}},
            {S::kBatchNorm, 5, 1, -1, false, false, false, {2, 3, 3}, {2, 3, 3}},
            {S::kMaxPool, 6, 1, -1, false, false, false, {2, 3, 3}, {2, 1, 1}},
            {S::kFlatten, 7, 1, -1, false, false, false, {2, 1, 1}, {2}},
            {S::kLinear, 8, 1, 2, false, false, false, {2}, {3}},
        });
    }
}

TEST_CASE("a reconfigured Model computes what a freshly configured one does", "[network]") {
    // The plan and the packed weights are rebuilt by configure(): a Model taken through other bit widths
    // (and per-channel weights, and a float layer) must give the same logits, bit for bit, as a new Model
    // configured once, on every backend.
    const NetworkDesc net = notebook_net();
    const StateDict weights = random_weights(net, 8);
    const int64_t n = 7;
    const std::vector<float> x = random_images(n, 9);
    QuantConfig per_channel = make_config(net, 4, 6);
    for (LayerQuant& l : per_channel.layers) l.weight.per_channel = true;
    QuantConfig mixed = make_config(net, 8, 8);
    mixed.layers[1].weight.bits = 12;
    mixed.layers[4].act.bits = kFloatBits;
    const std::vector<QuantConfig> configs = {make_config(net, 8, 8), make_config(net, 2, 3), per_channel, mixed,
                                              make_config(net, kFloatBits, kFloatBits), make_config(net, 8, 8)};
    Model reused = Model::create(net, weights, "random").value;
    for (size_t i = 0; i < configs.size(); ++i) {
        Model fresh = Model::create(net, weights, "random").value;
        REQUIRE(fresh.configure(configs[i]).ok());
        REQUIRE(reused.configure(configs[i]).ok());
        for (Backend b : {Backend::kReference, Backend::kFast, Backend::kInteger}) {
            INFO("config " << i << " backend " << backend_name(b));
            std::vector<float> want(size_t(n * 10)), got(want.size(), -1.0f);
            REQUIRE(fresh.forward(x.data(), n, want.data(), b).ok());
            REQUIRE(reused.forward(x.data(), n, got.data(), b).ok());
            CHECK(got == want);
        }
    }
}
