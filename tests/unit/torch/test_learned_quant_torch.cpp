// test_learned_quant_torch.cpp: the trainer's learned-step fake-quant (torch_model.cpp's LearnedFunction, for
// --quantizer lsq / pact) against (1) a straightforward autograd formulation of each paper (LSQ: the gradient-scale
// and round-pass tricks of Esser et al.; PACT: clamp to [-alpha, alpha] with the rounding passed straight through),
// (2) core's learned_backward, (3) a whole training step of core's engine vs QuantNet (loss, every learned
// parameter's gradient), and (4) the export: core's inference with the exported config (learned steps as fixed
// scales, static) predicts what QuantNet's own forward predicts on a batch. Each with symmetric codes and with the
// unsigned codes a run gives learned inputs after a ReLU (learned_params.hpp, with_learned_codes).
// Inputs are random normals: none lands on a .5 tie or a clamp edge, where the formulations may pick differently.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "core/inference.hpp"
#include "core/train/learned_params.hpp"
#include "core/train/train_step.hpp"
#include "core/weights_io.hpp"
#include "native/trainer/torch_model.hpp"

#undef CHECK
#define CHECK(...) INTERNAL_CATCH_TEST("CHECK", Catch::ResultDisposition::ContinueOnFailure, __VA_ARGS__)

using namespace quantlab;
using namespace quantlab::trainer;

namespace {

torch::Tensor randn_t(std::vector<int64_t> shape, unsigned seed, double sd) {
    torch::manual_seed(seed);
    return torch::randn(shape) * sd;
}

// The round-pass trick: forward round, backward identity.
torch::Tensor round_pass(const torch::Tensor& t) { return (t.round() - t).detach() + t; }

// LSQ as the paper writes it: s scaled in the backward by g, v / s clamped and rounded (passed through).
torch::Tensor lsq_reference(const torch::Tensor& v, const torch::Tensor& s, CodeRange r, double g) {
    const torch::Tensor sg = (s * g - (s * g).detach()) + s.detach();
    const torch::Tensor t = r.multiply_inverse ? v * sg.reciprocal() : v / sg;
    return round_pass(t.clamp(double(r.qmin), double(r.qmax))) * sg;
}

// PACT: clip to [qmin S, alpha] with S = alpha / Qp (narrow codes: [-alpha, alpha]), then quantize with the whole
// quantizer passed straight through (PACT's STE: dalpha comes from the clip only).
torch::Tensor pact_reference(const torch::Tensor& x, const torch::Tensor& alpha, CodeRange r) {
    const double qp = double(r.qmax);
    const torch::Tensor lo = alpha * (double(r.qmin) / qp);
    const torch::Tensor y = torch::minimum(torch::maximum(x, lo), alpha);
    const torch::Tensor s = (alpha / float(qp)).detach();
    const torch::Tensor t = r.multiply_inverse ? y.detach() * s.reciprocal() : y.detach() / s;
    const torch::Tensor q = t.clamp(double(r.qmin), double(r.qmax)).round() * s;
    return y + (q - y).detach();
}

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
    const double m = b.abs().max().item<double>();
    const double e = (a - b).abs().max().item<double>();
    return m > 0 ? e / m : e;
}

}  // namespace

TEST_CASE("learned fake-quant Function equals the papers' autograd formulations and core", "[torch][learned]") {
    torch::set_num_threads(1);
    // narrow and full symmetric codes, and the unsigned codes [0, 2^b - 1] of a learned input after a ReLU
    for (int variant : {0, 1, 2})
        for (int bits : {2, 4, 8}) {
            const SymmetricCodes codes = variant == 1 ? SymmetricCodes::kFull : SymmetricCodes::kNarrow;
            const CodeRange r = code_range(bits, variant != 2, codes);
            CAPTURE(bits, variant);
            const torch::Tensor x0 = randn_t({4, 3, 5, 5}, 11 + unsigned(bits), 1.0);
            const torch::Tensor gy = randn_t({4, 3, 5, 5}, 99, 1.0);
            const Tensor xc = from_torch(x0), gc = from_torch(gy);
            SECTION("LSQ") {
                const float s0 = learned_init(QuantizerKind::kLsq, xc.data.data(), xc.numel(), r);
                const double g = lsq_grad_scale(x0.numel(), r);
                torch::Tensor x1 = x0.clone().requires_grad_(true), s1 = torch::full({}, s0).requires_grad_(true);
                torch::Tensor x2 = x0.clone().requires_grad_(true), s2 = torch::full({}, s0).requires_grad_(true);
                const torch::Tensor y1 = learned_fake_quant(x1, s1, QuantizerKind::kLsq, r, g), y2 = lsq_reference(x2, s2, r, g);
                CHECK(torch::equal(y1, y2));
                (y1 * gy).sum().backward();
                (y2 * gy).sum().backward();
                CHECK(max_rel(x1.grad(), x2.grad()) < 1e-6);  // the reference's g / s * s is g up to the last bit
                CHECK(s1.grad().item<double>() == Approx(s2.grad().item<double>()).epsilon(1e-4));
                // core
                std::vector<float> out(size_t(xc.numel())), gin(size_t(xc.numel()));
                learned_fake_quant(xc.data.data(), out.data(), xc.numel(), learned_step(QuantizerKind::kLsq, s0, r), r);
                CHECK(torch::equal(to_torch(Tensor(xc.shape, out)), y1.detach()));
                const double ds = learned_backward(QuantizerKind::kLsq, xc.data.data(), gc.data.data(), gin.data(), xc.numel(), s0, r, g);
                CHECK(torch::equal(to_torch(Tensor(xc.shape, gin)), x1.grad()));
                CHECK(ds == Approx(s1.grad().item<double>()).epsilon(1e-4));
            }
            SECTION("PACT") {
                // alpha inside the data's range, so both clamps act
                const float a0 = 1.3f;
                torch::Tensor x1 = x0.clone().requires_grad_(true), a1 = torch::full({}, a0).requires_grad_(true);
                torch::Tensor x2 = x0.clone().requires_grad_(true), a2 = torch::full({}, a0).requires_grad_(true);
                const torch::Tensor y1 = learned_fake_quant(x1, a1, QuantizerKind::kPact, r, 1.0), y2 = pact_reference(x2, a2, r);
                CHECK(max_rel(y1.detach(), y2.detach()) < 1e-6);
                (y1 * gy).sum().backward();
                (y2 * gy).sum().backward();
                CHECK(torch::equal(x1.grad(), x2.grad()));
                CHECK(a1.grad().item<double>() == Approx(a2.grad().item<double>()).epsilon(1e-4));
                std::vector<float> gin(size_t(xc.numel()));
                const double da = learned_backward(QuantizerKind::kPact, xc.data.data(), gc.data.data(), gin.data(), xc.numel(), a0, r, 1.0);
                CHECK(torch::equal(to_torch(Tensor(xc.shape, gin)), x1.grad()));
                CHECK(da == Approx(a1.grad().item<double>()).epsilon(1e-4));
            }
        }
}

namespace {

struct Batch {
    NetworkDesc net = notebook_net();
    StateDict weights;
    std::vector<float> x;
    std::vector<int32_t> labels;
    int64_t n = 8;
    Batch() {
        Result<StateDict> sd = read_weights(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
        REQUIRE(sd.ok());
        weights = sd.value;
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        x.resize(size_t(n * 3 * 32 * 32));
        for (float& v : x) v = u(rng);
        for (int64_t i = 0; i < n; ++i) labels.push_back(int32_t((i * 3 + 1) % 10));
    }
    torch::Tensor x_t() const { return torch::from_blob(const_cast<float*>(x.data()), {n, 3, 32, 32}, torch::kFloat).clone(); }
    torch::Tensor labels_t() const { return torch::tensor(std::vector<int64_t>(labels.begin(), labels.end())); }
};

}  // namespace

TEST_CASE("a whole core training step with learned steps equals QuantNet's", "[torch][learned]") {
    torch::set_num_threads(1);
    const Batch b;
    // One side continuous in every conv (W4 with float inputs, or A4 with float weights): no exact max-pool ties
    // (test_core_grads.cpp explains why W4A4 cannot be compared before the last conv).
    struct Case {
        const char* name;
        QuantizerKind kind;
        int wbits, abits;
    };
    const Case cases[] = {{"LSQ W4", QuantizerKind::kLsq, 4, kFloatBits},
                          {"LSQ A4", QuantizerKind::kLsq, kFloatBits, 4},
                          {"PACT A4", QuantizerKind::kPact, kFloatBits, 4},
                          {"LSQ A3 full codes", QuantizerKind::kLsq, kFloatBits, 3},
                          {"LSQ A2 unsigned after ReLU", QuantizerKind::kLsq, kFloatBits, 2},
                          {"PACT A3 unsigned after ReLU", QuantizerKind::kPact, kFloatBits, 3}};
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TrainSettings ts;
        ts.config = make_config(b.net, c.wbits, c.abits);
        if (std::string(c.name).find("full") != std::string::npos)
            for (LayerQuant& l : ts.config.layers) l.act.codes = SymmetricCodes::kFull;
        if (std::string(c.name).find("unsigned") != std::string::npos) {
            ts.config = with_learned_codes(ts.config, b.net, c.kind);
            REQUIRE(!ts.config.layers[1].act.symmetric);
        }
        ts.quantizer = c.kind;
        StateDict w = b.weights, grads, learned, lgrads;
        Result<StepResult> r = compute_gradients(b.net, &w, ts, b.x.data(), b.labels.data(), b.n, &grads, &learned, &lgrads);
        REQUIRE(r.ok());

        QuantNet model(b.net);
        REQUIRE(model->load(b.weights, "notebook_pretrain").ok());
        TorchQuant tq;
        tq.config = ts.config;
        tq.quantizer = c.kind;
        REQUIRE(model->set_quant(tq, torch::kCPU).ok());
        model->train();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(b.x_t()), b.labels_t());
        loss.backward();
        CHECK(loss.item<double>() == Approx(r.value.loss).epsilon(1e-5));
        const StateDict tl = model->learned_state();
        const std::vector<torch::Tensor> params = model->learned_parameters();
        REQUIRE(tl.names == learned.names);
        REQUIRE(params.size() == learned.names.size());
        for (size_t i = 0; i < params.size(); ++i) {
            const std::string& name = learned.names[i];
            CAPTURE(name);
            // initial values from the same tensors (core's learned_init on torch's activations: last-bit differences)
            CHECK(tl.find(name)->data[0] == Approx(learned.find(name)->data[0]).epsilon(1e-5));
            const double tg = params[i].grad().item<double>(), cg = lgrads.find(name)->data[0];
            CHECK(cg == Approx(tg).epsilon(2e-3).margin(1e-6));
        }
        // and the weights' gradients
        for (const auto& p : model->named_parameters()) {
            if (p.key().find("conv") == std::string::npos && p.key().find("fc") == std::string::npos) continue;
            if (p.key().find("bias") != std::string::npos) continue;
            CAPTURE(p.key());
            const torch::Tensor cg = to_torch(*grads.find(p.key())).reshape(p.value().sizes());
            CHECK(max_rel(cg, p.value().grad()) < 1e-3);
        }
    }
}

TEST_CASE("core's inference with the exported learned steps predicts what the trainer's forward does", "[torch][learned]") {
    torch::set_num_threads(1);
    const Batch b;
    for (QuantizerKind kind : {QuantizerKind::kLsq, QuantizerKind::kPact})
        for (int bits : {2, 4})
          for (bool after_relu_unsigned : {false, true}) {
            CAPTURE(quantizer_kind_name(kind), bits, after_relu_unsigned);
            QuantNet model(b.net);
            REQUIRE(model->load(b.weights, "notebook_pretrain").ok());
            TorchQuant tq;
            tq.config = make_config(b.net, bits, bits);
            if (after_relu_unsigned) tq.config = with_learned_codes(tq.config, b.net, kind);  // as a training run sets it
            tq.quantizer = kind;
            REQUIRE(model->set_quant(tq, torch::kCPU).ok());
            model->train();
            {
                torch::NoGradGuard ng;
                model->forward(b.x_t());  // the first batch sets the steps
            }
            // move the steps off their initial values, as training would
            StateDict st = model->learned_state();
            for (size_t i = 0; i < st.names.size(); ++i) st.find(st.names[i])->data[0] *= 1.0f + 0.07f * float(i % 3);
            REQUIRE(model->load_learned(st).ok());
            model->eval();
            torch::Tensor logits;
            {
                torch::NoGradGuard ng;
                logits = model->forward(b.x_t());
            }
            Result<QuantConfig> cfg = with_learned_scales(tq.config, b.net, kind, model->learned_state());
            REQUIRE(cfg.ok());
            Result<Model> m = Model::create(b.net, model->to_state_dict(), "t");
            REQUIRE(m.ok());
            REQUIRE(m.value.configure(cfg.value).ok());
            std::vector<float> out(size_t(b.n * 10));
            REQUIRE(m.value.forward(b.x.data(), b.n, out.data(), Backend::kFast).ok());
            const torch::Tensor core_logits = torch::from_blob(out.data(), {b.n, 10}, torch::kFloat);
            CHECK(torch::equal(core_logits.argmax(1), logits.argmax(1)));
            CHECK(max_rel(core_logits, logits) < 1e-3);
        }
}
