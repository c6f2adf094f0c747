// test_learned_quant.cpp: the learned step sizes of core/quantizer.hpp (LSQ, PACT) against hand-worked values:
// forward codes (both clamps, a .5 tie, narrow and full codes), the gradients of x and of the parameter, the
// initial values and LSQ's gradient scale; the learned parameters of core/train/learned_params.hpp (names, the
// first step setting them, the checks, the unsigned codes of inputs after a ReLU) and their export into a
// QuantConfig that core's inference applies exactly.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "core/inference.hpp"
#include "core/quant_config_io.hpp"
#include "core/train/learned_params.hpp"
#include "core/train/train_step.hpp"
#include "core/weights_io.hpp"

using namespace quantlab;

namespace {
// x / 0.5 = t: 0.6, -1.6, 2.2, 8 (above Qp = 7), -10 (below -7), 0.5 (a tie: rounds to 0)
const std::vector<float> kX = {0.3f, -0.8f, 1.1f, 4.0f, -5.0f, 0.25f};
const std::vector<float> kG = {1, 2, 3, 4, 5, 6};
}  // namespace

TEST_CASE("learned fake-quant: forward codes by hand", "[learned]") {
    const CodeRange narrow = code_range(4, true, SymmetricCodes::kNarrow), full = code_range(4, true, SymmetricCodes::kFull);
    std::vector<float> out(kX.size());
    SECTION("narrow codes [-7, 7], S = 0.5: clamps at +-3.5, the tie at 0.25 rounds to even (0)") {
        learned_fake_quant(kX.data(), out.data(), int64_t(kX.size()), 0.5f, narrow);
        CHECK(out == std::vector<float>{0.5f, -1.0f, 1.0f, 3.5f, -3.5f, 0.0f});
    }
    SECTION("full codes [-8, 7]: the low clamp is -8 S") {
        learned_fake_quant(kX.data(), out.data(), int64_t(kX.size()), 0.5f, full);
        CHECK(out == std::vector<float>{0.5f, -1.0f, 1.0f, 3.5f, -4.0f, 0.0f});
    }
    SECTION("PACT: S = alpha / Qp") {
        CHECK(learned_step(QuantizerKind::kPact, 3.5f, narrow) == 0.5f);
        CHECK(learned_step(QuantizerKind::kLsq, 0.5f, narrow) == 0.5f);
        CHECK(learned_step(QuantizerKind::kLsq, -1.0f, narrow) == kMinLearnedStep);  // held at its floor
    }
}

TEST_CASE("learned fake-quant: gradients by hand", "[learned]") {
    const CodeRange narrow = code_range(4, true, SymmetricCodes::kNarrow), full = code_range(4, true, SymmetricCodes::kFull);
    std::vector<float> gx(kX.size());
    SECTION("LSQ: dx passes inside, ds = sum g (round(t) - t) inside, -Qn below, Qp above") {
        // 1(0.4) + 2(-0.4) + 3(-0.2) + 4(7) + 5(-7) + 6(-0.5) = -11
        const double ds = learned_backward(QuantizerKind::kLsq, kX.data(), kG.data(), gx.data(), 6, 0.5f, narrow, 1.0);
        CHECK(ds == Approx(-11.0).margin(1e-5));
        CHECK(gx == std::vector<float>{1, 2, 3, 0, 0, 6});
        // the gradient scale multiplies: g = 1 / sqrt(numel Qp)
        CHECK(lsq_grad_scale(6, narrow) == Approx(1.0 / std::sqrt(42.0)));
        CHECK(learned_backward(QuantizerKind::kLsq, kX.data(), kG.data(), nullptr, 6, 0.5f, narrow, 0.25) == Approx(-11.0 * 0.25).margin(1e-5));
        // full codes: -5 is clipped at -8: 0.4 - 0.8 - 0.6 + 28 - 40 - 3 = -16
        CHECK(learned_backward(QuantizerKind::kLsq, kX.data(), kG.data(), gx.data(), 6, 0.5f, full, 1.0) == Approx(-16.0).margin(1e-5));
    }
    SECTION("PACT: dalpha = sum g where x >= alpha, minus where x <= -alpha; 0 inside") {
        const double da = learned_backward(QuantizerKind::kPact, kX.data(), kG.data(), gx.data(), 6, 3.5f, narrow, 123.0);
        CHECK(da == Approx(4.0 - 5.0));  // grad_scale is LSQ's only
        CHECK(gx == std::vector<float>{1, 2, 3, 0, 0, 6});
        // x = alpha exactly is clipped (PACT's x >= alpha)
        const std::vector<float> edge = {3.5f, -3.5f};
        const std::vector<float> g2 = {2, 3};
        std::vector<float> gx2(2);
        CHECK(learned_backward(QuantizerKind::kPact, edge.data(), g2.data(), gx2.data(), 2, 3.5f, narrow, 1.0) == Approx(2.0 - 3.0));
        CHECK(gx2 == std::vector<float>{0, 0});
        // full codes clip below at -Qn S = -alpha 8/7, weight -8/7
        CHECK(learned_backward(QuantizerKind::kPact, kX.data(), kG.data(), gx.data(), 6, 3.5f, full, 1.0) == Approx(4.0 - 5.0 * 8.0 / 7.0));
    }
    SECTION("a step at its floor gets no gradient") {
        CHECK(learned_backward(QuantizerKind::kLsq, kX.data(), kG.data(), gx.data(), 6, -0.1f, narrow, 1.0) == 0.0);
    }
}

TEST_CASE("learned fake-quant: initial values", "[learned]") {
    const CodeRange narrow = code_range(4, true, SymmetricCodes::kNarrow);
    const std::vector<float> x = {1, -2, 3, -4};
    CHECK(learned_init(QuantizerKind::kLsq, x.data(), 4, narrow) == Approx(2.0 * 2.5 / std::sqrt(7.0)));
    CHECK(learned_init(QuantizerKind::kPact, x.data(), 4, narrow) == 4.0f);  // max |x|: the fixed rule's first step
    const std::vector<float> zeros(5, 0.0f);
    CHECK(learned_init(QuantizerKind::kLsq, zeros.data(), 5, narrow) == 1.0f);
    CHECK(parse_quantizer_kind("lsq").value == QuantizerKind::kLsq);
    CHECK(parse_quantizer_kind("pact").value == QuantizerKind::kPact);
    CHECK(parse_quantizer_kind("fixed").value == QuantizerKind::kFixed);
    const Result<QuantizerKind> bad = parse_quantizer_kind("lsqq");
    REQUIRE(!bad.ok());
    CHECK(bad.message().find("unknown 'lsqq'") != std::string::npos);
}

TEST_CASE("learned parameters: names, checks and the first step", "[learned]") {
    const NetworkDesc net = notebook_net();
    SECTION("names and which tensors learn") {
        const QuantConfig c = make_config(net, 4, 4);
        const StateDict lsq = make_learned_params(net, c, QuantizerKind::kLsq), pact = make_learned_params(net, c, QuantizerKind::kPact);
        CHECK(lsq.names.size() == 2 * net.quant_layers().size());
        CHECK(lsq.names.front() == "conv1.weight_scale");
        CHECK(lsq.names[1] == "conv1.act_scale");
        CHECK(pact.names.size() == net.quant_layers().size());
        CHECK(pact.names.front() == "conv1.act_alpha");
        CHECK(make_learned_params(net, c, QuantizerKind::kFixed).names.empty());
    }
    SECTION("a float config, asymmetric and per-channel are refused with the flag to change") {
        Status s = check_learned(net, make_config(net, kFloatBits, kFloatBits), QuantizerKind::kLsq);
        REQUIRE(!s);
        CHECK(s.message.find("nothing to learn") != std::string::npos);
        CHECK(!check_learned(net, make_config(net, 4, kFloatBits), QuantizerKind::kPact));  // PACT learns activations only
        CHECK(check_learned(net, make_config(net, 4, kFloatBits), QuantizerKind::kLsq));
        QuantConfig a = make_config(net, 4, 4);
        a.layers[0].act.symmetric = false;  // conv1's input, the normalised image, has both signs
        s = check_learned(net, a, QuantizerKind::kLsq);
        REQUIRE(!s);
        CHECK(s.message.find("--asymmetric") != std::string::npos);
        CHECK(s.message.find("conv1 input") != std::string::npos);
        a = make_config(net, 4, 4);
        a.layers[1].weight.symmetric = false;  // LSQ's weight steps are symmetric
        CHECK(!check_learned(net, a, QuantizerKind::kLsq));
        QuantConfig pc = make_config(net, 4, 4);
        pc.layers[0].weight.per_channel = true;
        CHECK(check_learned(net, pc, QuantizerKind::kPact));  // PACT weights keep their rule
        CHECK(!check_learned(net, pc, QuantizerKind::kLsq));
        CHECK(check_learned(net, make_config(net, kFloatBits, kFloatBits), QuantizerKind::kFixed));
    }
    SECTION("the first step sets every parameter from its tensor; the next steps move them") {
        Result<StateDict> sd = read_weights(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
        REQUIRE(sd.ok());
        StateDict w = sd.value;
        TrainSettings ts;
        ts.config = make_config(net, 4, 4);
        ts.quantizer = QuantizerKind::kLsq;
        const int64_t n = 4;
        std::vector<float> x(size_t(n * 3 * 32 * 32));
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-1, 1);
        for (float& v : x) v = u(rng);
        const std::vector<int32_t> labels = {1, 2, 3, 4};
        StateDict learned, grads;
        StateDict lgrads;
        REQUIRE(!compute_gradients(net, &w, ts, x.data(), labels.data(), n, &grads).ok());  // no parameter set given
        Result<StepResult> r = compute_gradients(net, &w, ts, x.data(), labels.data(), n, &grads, &learned, &lgrads);
        REQUIRE(r.ok());
        const CodeRange c4 = code_range(4, true);
        const Tensor& w1 = *sd.value.find("conv1.weight");
        CHECK(learned.find("conv1.weight_scale")->data[0] == learned_init(QuantizerKind::kLsq, w1.data.data(), w1.numel(), c4));
        CHECK(learned.find("conv1.act_scale")->data[0] == learned_init(QuantizerKind::kLsq, x.data(), int64_t(x.size()), c4));
        for (const std::string& name : learned.names) {
            CAPTURE(name);
            CHECK(learned.find(name)->data[0] > 0);
            CHECK(std::isfinite(lgrads.find(name)->data[0]));
        }
        CHECK(lgrads.find("fc3.act_scale")->data[0] != 0);
        // one SGD step on the steps moves them against their gradient
        OptimizerSettings os;
        os.momentum = 0;
        os.weight_decay = 0;
        os.lr = 1e-3;
        ParamOptimizer opt(os), lopt(os);
        const StateDict before = learned;
        REQUIRE(train_step(net, &w, ts, x.data(), labels.data(), n, &opt, &grads, &learned, &lopt).ok());
        const std::string k = "conv2.weight_scale";
        CHECK(learned.find(k)->data[0] != before.find(k)->data[0]);
    }
}

TEST_CASE("learned scales in a QuantConfig: JSON and inference use them exactly", "[learned]") {
    const NetworkDesc net = notebook_net();
    const size_t nq = net.quant_layers().size();
    QuantConfig c = make_config(net, 4, 4, ActMode::kDynamic);
    StateDict lsq = make_learned_params(net, c, QuantizerKind::kLsq);
    REQUIRE(!with_learned_scales(c, net, QuantizerKind::kLsq, lsq).ok());  // never set
    for (size_t i = 0; i < lsq.names.size(); ++i) lsq.find(lsq.names[i])->data[0] = 0.01f * float(i + 1);
    Result<QuantConfig> lc = with_learned_scales(c, net, QuantizerKind::kLsq, lsq);
    REQUIRE(lc.ok());
    CHECK(lc.value.act_mode == ActMode::kStatic);
    REQUIRE(lc.value.weight_scales.size() == nq);
    CHECK(lc.value.weight_scales[0] == 0.01f);
    CHECK(lc.value.act_scales[0] == 0.02f);
    CHECK(lc.value.act_ranges[0].alpha == 0.02f * -7.0f);
    SECTION("PACT exports alpha / Qp and leaves the weights to their rule") {
        StateDict pact = make_learned_params(net, c, QuantizerKind::kPact);
        for (const std::string& name : pact.names) pact.find(name)->data[0] = 3.5f;
        Result<QuantConfig> pc = with_learned_scales(c, net, QuantizerKind::kPact, pact);
        REQUIRE(pc.ok());
        CHECK(pc.value.weight_scales.empty());
        CHECK(pc.value.act_scales[2] == 0.5f);
    }
    SECTION("JSON round trip; bad values are named") {
        Result<QuantConfig> back = quant_config_from_json(quant_config_to_json(lc.value, net), net, "t");
        REQUIRE(back.ok());
        CHECK(back.value.weight_scales == lc.value.weight_scales);
        CHECK(back.value.act_scales == lc.value.act_scales);
        QuantConfig bad = lc.value;
        bad.act_scales[1] = -1.0f;
        Status s = validate(bad, net);
        REQUIRE(!s);
        CHECK(s.message.find("conv2 act_scales") != std::string::npos);
        bad = lc.value;
        bad.weight_scales.pop_back();
        CHECK(!validate(bad, net));
    }
    SECTION("inference: the weights and inputs are coded with the given steps") {
        Result<StateDict> sd = read_weights(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
        REQUIRE(sd.ok());
        Result<Model> m = Model::create(net, sd.value, "t");
        REQUIRE(m.ok());
        REQUIRE(m.value.configure(lc.value).ok());
        const int64_t n = 2;
        std::vector<float> x(size_t(n * 3 * 32 * 32));
        std::mt19937 rng(5);
        std::uniform_real_distribution<float> u(-1, 1);
        for (float& v : x) v = u(rng);
        std::vector<float> logits(size_t(n * 10));
        ForwardTrace trace;
        REQUIRE(m.value.forward(x.data(), n, logits.data(), Backend::kReference, &trace).ok());
        for (size_t q = 0; q < nq; ++q) {
            REQUIRE(trace.act_params[q].scale.size() == 1);
            CHECK(trace.act_params[q].scale[0] == lc.value.act_scales[q]);
        }
        // the same logits from the integer kernels (the steps go into the rescale S_x S_w)
        std::vector<float> li(logits.size());
        REQUIRE(m.value.forward(x.data(), n, li.data(), Backend::kInteger).ok());
        for (size_t i = 0; i < li.size(); ++i) CHECK(li[i] == Approx(logits[i]).epsilon(1e-4).margin(1e-4));
    }
}

TEST_CASE("learned inputs after a ReLU use unsigned codes [0, 2^b - 1]", "[learned]") {
    const CodeRange u2 = code_range(2, false);  // [0, 3]
    SECTION("forward and gradients by hand, 2 bits, S = 0.5") {
        // x / 0.5 = t: -0.6 (below 0), 0.4, 1.2, 2, 10 (above 3), 1.5 (a tie: rounds to 2)
        const std::vector<float> x = {-0.3f, 0.2f, 0.6f, 1.0f, 5.0f, 0.75f}, g(6, 1.0f);
        std::vector<float> out(6), gx(6);
        learned_fake_quant(x.data(), out.data(), 6, 0.5f, u2);
        CHECK(out == std::vector<float>{0.0f, 0.0f, 0.5f, 1.0f, 1.5f, 1.0f});
        // LSQ: 0 (below: qmin = 0) - 0.4 - 0.2 + 0 + 3 (above: Qp) + 0.5 = 2.9
        CHECK(learned_backward(QuantizerKind::kLsq, x.data(), g.data(), gx.data(), 6, 0.5f, u2, 1.0) == Approx(2.9).margin(1e-5));
        CHECK(gx == std::vector<float>{0, 1, 1, 1, 0, 1});
        CHECK(lsq_grad_scale(6, u2) == Approx(1.0 / std::sqrt(18.0)));
        CHECK(learned_init(QuantizerKind::kLsq, x.data(), 6, u2) == Approx(2.0 * (7.85 / 6.0) / std::sqrt(3.0)));
        // PACT on [0, alpha], alpha = 1.5 (S = 0.5): dalpha counts x >= alpha only, below 0 weighs 0
        CHECK(learned_step(QuantizerKind::kPact, 1.5f, u2) == 0.5f);
        CHECK(learned_backward(QuantizerKind::kPact, x.data(), g.data(), gx.data(), 6, 1.5f, u2, 1.0) == Approx(1.0));
        CHECK(gx == std::vector<float>{0, 1, 1, 1, 0, 1});
    }
    SECTION("which inputs: after a ReLU, past pools and flattens") {
        const NetworkDesc net = notebook_net();
        CHECK(!input_nonnegative(net, 0));  // the normalised image
        for (size_t q = 1; q < net.quant_layers().size(); ++q) CHECK(input_nonnegative(net, q));
        Result<NetworkDesc> other = parse_network("conv c1 3 4 3 1; relu; pool 2; conv c2 4 4 3 1; bn b2 4; flatten; linear f1 1024 10");
        REQUIRE(other.ok());
        CHECK(input_nonnegative(other.value, 1));   // relu, pool
        CHECK(!input_nonnegative(other.value, 2));  // a BatchNorm after the ReLU has both signs
    }
    SECTION("a run's config: unsigned learned inputs after a ReLU, symmetric weights and image") {
        const NetworkDesc net = notebook_net();
        const QuantConfig c = make_config(net, 2, 2);
        for (QuantizerKind kind : {QuantizerKind::kLsq, QuantizerKind::kPact}) {
            const QuantConfig lc = with_learned_codes(c, net, kind);
            CHECK(lc.layers[0].act.symmetric);
            for (size_t q = 0; q < lc.layers.size(); ++q) {
                CHECK(lc.layers[q].weight.symmetric);
                if (q > 0) CHECK(!lc.layers[q].act.symmetric);
            }
            CHECK(check_learned(net, lc, kind));
            CHECK(validate(lc, net));
        }
        const QuantConfig fixed = with_learned_codes(c, net, QuantizerKind::kFixed);
        for (const LayerQuant& l : fixed.layers) CHECK(l.act.symmetric);
        QuantConfig w8 = c;  // a float input learns nothing and keeps its spec
        w8.layers[2].act.bits = kFloatBits;
        CHECK(with_learned_codes(w8, net, QuantizerKind::kLsq).layers[2].act.symmetric);
    }
    SECTION("export and inference: [0, 3 S], Z = 0, the same logits from the integer kernels") {
        const NetworkDesc net = notebook_net();
        const QuantConfig c = with_learned_codes(make_config(net, 2, 2), net, QuantizerKind::kLsq);
        StateDict lsq = make_learned_params(net, c, QuantizerKind::kLsq);
        for (size_t i = 0; i < lsq.names.size(); ++i) lsq.find(lsq.names[i])->data[0] = 0.05f * float(i + 1);
        Result<QuantConfig> lc = with_learned_scales(c, net, QuantizerKind::kLsq, lsq);
        REQUIRE(lc.ok());
        CHECK(lc.value.act_ranges[0].alpha == -lc.value.act_scales[0]);  // symmetric 2-bit narrow codes [-1, 1]
        CHECK(lc.value.act_ranges[1].alpha == 0.0f);
        CHECK(lc.value.act_ranges[1].beta == 3.0f * lc.value.act_scales[1]);
        Result<QuantConfig> back = quant_config_from_json(quant_config_to_json(lc.value, net), net, "t");
        REQUIRE(back.ok());
        CHECK(!back.value.layers[1].act.symmetric);
        Result<StateDict> sd = read_weights(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
        REQUIRE(sd.ok());
        Result<Model> m = Model::create(net, sd.value, "t");
        REQUIRE(m.ok());
        REQUIRE(m.value.configure(back.value).ok());
        const int64_t n = 2;
        std::vector<float> x(size_t(n * 3 * 32 * 32));
        std::mt19937 rng(9);
        std::uniform_real_distribution<float> u(-1, 1);
        for (float& v : x) v = u(rng);
        std::vector<float> logits(size_t(n * 10)), li(logits.size());
        ForwardTrace trace;
        REQUIRE(m.value.forward(x.data(), n, logits.data(), Backend::kReference, &trace).ok());
        for (size_t q = 1; q < net.quant_layers().size(); ++q) {
            CAPTURE(q);
            CHECK(trace.act_params[q].range.qmin == 0);
            CHECK(trace.act_params[q].range.qmax == 3);
            CHECK(trace.act_params[q].zero_point == std::vector<int32_t>{0});
            CHECK(trace.act_params[q].scale == std::vector<float>{lc.value.act_scales[q]});
        }
        REQUIRE(m.value.forward(x.data(), n, li.data(), Backend::kInteger).ok());
        for (size_t i = 0; i < li.size(); ++i) CHECK(li[i] == Approx(logits[i]).epsilon(1e-4).margin(1e-4));
        // an unsigned learned weight is refused: weights have both signs
        QuantConfig bad = lc.value;
        bad.layers[1].weight.symmetric = false;
        CHECK(!validate(bad, net));
    }
}
