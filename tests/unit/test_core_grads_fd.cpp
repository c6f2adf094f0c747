// test_core_grads_fd.cpp: core's reference training engine (core/train/) without LibTorch: every layer's backward
// against central finite differences of its own forward in double, the cross-entropy's gradient likewise, a whole
// network's float gradients (compute_gradients) against finite differences of a double forward composed here from
// the forward functions only, the BatchNorm running statistics, the optimizers' formulas by hand, determinism,
// and clear failures. The LibTorch comparison is tests/unit/torch/test_core_grads.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "core/kernels.hpp"
#include "core/network.hpp"
#include "core/train/layer_grads.hpp"
#include "core/train/loss.hpp"
#include "core/train/optimizer.hpp"
#include "core/train/train_step.hpp"

using namespace quantlab;

namespace {

template <class T>
std::vector<T> randn(size_t n, unsigned seed, double sd = 1.0) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> d(0.0, sd);
    std::vector<T> v(n);
    for (T& x : v) x = T(d(rng));
    return v;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

double g_layer_worst = 0;  // the largest per-layer error, reported at the end of its test case

// max |analytic - numeric| / max(1, max |numeric|) of dL/dv[i] where L = f() and v is perturbed in place.
double fd_error(std::vector<double>* v, const std::vector<double>& analytic, const std::function<double()>& f,
                double h = 1e-6) {
    double err = 0, scale = 1;
    for (size_t i = 0; i < v->size(); ++i) {
        const double keep = (*v)[i];
        (*v)[i] = keep + h;
        const double up = f();
        (*v)[i] = keep - h;
        const double down = f();
        (*v)[i] = keep;
        const double num = (up - down) / (2 * h);
        err = std::max(err, std::fabs(num - analytic[i]));
        scale = std::max(scale, std::fabs(num));
    }
    g_layer_worst = std::max(g_layer_worst, err / scale);
    return err / scale;
}

}  // namespace

TEST_CASE("core grads: each layer's backward equals finite differences (double)", "[train][grads]") {
    // L = sum(y * r) for a fixed random r, so dL/dy = r is what backward gets.
    SECTION("conv2d with padding: input, weight and bias") {
        const ConvShape s{2, 3, 6, 5, 4, 3, 1};
        std::vector<double> x = randn<double>(2 * 3 * 6 * 5, 1), w = randn<double>(4 * 3 * 3 * 3, 2),
                            b = randn<double>(4, 3);
        const std::vector<double> r = randn<double>(size_t(2 * 4 * s.oh() * s.ow()), 4);
        std::vector<double> y(r.size());
        auto f = [&] {
            conv2d_forward(x.data(), w.data(), b.data(), s, y.data());
            return dot(y, r);
        };
        std::vector<double> dx(x.size()), dw(w.size()), db(b.size());
        conv2d_backward(x.data(), w.data(), r.data(), s, dx.data(), dw.data(), db.data());
        CHECK(fd_error(&x, dx, f) < 1e-7);
        CHECK(fd_error(&w, dw, f) < 1e-7);
        CHECK(fd_error(&b, db, f) < 1e-7);
    }
    SECTION("linear") {
        std::vector<double> x = randn<double>(3 * 7, 5), w = randn<double>(4 * 7, 6), b = randn<double>(4, 7);
        const std::vector<double> r = randn<double>(3 * 4, 8);
        std::vector<double> y(r.size());
        auto f = [&] {
            linear_forward(x.data(), w.data(), b.data(), 3, 7, 4, y.data());
            return dot(y, r);
        };
        std::vector<double> dx(x.size()), dw(w.size()), db(b.size());
        linear_backward(x.data(), w.data(), r.data(), 3, 7, 4, dx.data(), dw.data(), db.data());
        CHECK(fd_error(&x, dx, f) < 1e-7);
        CHECK(fd_error(&w, dw, f) < 1e-7);
        CHECK(fd_error(&b, db, f) < 1e-7);
    }
    SECTION("batch norm in training mode: through the batch mean and variance") {
        const int64_t n = 3, c = 2, hw = 5;
        std::vector<double> x = randn<double>(size_t(n * c * hw), 9, 2.0), gamma = randn<double>(2, 10),
                            beta = randn<double>(2, 11);
        const std::vector<double> r = randn<double>(x.size(), 12);
        std::vector<double> y(x.size());
        BnCache<double> cache;
        auto f = [&] {
            REQUIRE(batchnorm_train_forward(x.data(), n, c, hw, gamma.data(), beta.data(), BnSettings{},
                                            (double*)nullptr, (double*)nullptr, y.data(), &cache)
                        .ok());
            return dot(y, r);
        };
        f();
        std::vector<double> dx(x.size()), dg(2), db(2);
        batchnorm_backward(r.data(), n, c, hw, gamma.data(), cache, dx.data(), dg.data(), db.data());
        CHECK(fd_error(&x, dx, f) < 1e-7);
        CHECK(fd_error(&gamma, dg, f) < 1e-7);
        CHECK(fd_error(&beta, db, f) < 1e-7);
    }
    SECTION("ReLU and max pool (random values: no kinks or ties within h)") {
        std::vector<double> x = randn<double>(2 * 3 * 6 * 7, 13);
        const std::vector<double> r = randn<double>(2 * 3 * 3 * 3, 14);  // pool 2: 6x7 -> 3x3 (last column dropped)
        std::vector<double> a(x.size()), y(r.size());
        std::vector<int64_t> argmax;
        auto f = [&] {
            relu_forward(x.data(), int64_t(x.size()), a.data());
            max_pool_forward(a.data(), 6, 6, 7, 2, y.data(), &argmax);
            return dot(y, r);
        };
        f();
        std::vector<double> da(x.size()), dx(x.size());
        max_pool_backward(r.data(), argmax, 6, 6, 7, 2, da.data());
        relu_backward(x.data(), da.data(), int64_t(x.size()), dx.data());
        CHECK(fd_error(&x, dx, f) < 1e-7);
        // The dropped last column gets no gradient, and each window sends its gradient to one input.
        for (int64_t p = 0; p < 6; ++p)
            for (int64_t i = 0; i < 6; ++i) CHECK(dx[size_t((p * 6 + i) * 7 + 6)] == 0.0);
    }
    SECTION("softmax cross-entropy") {
        std::vector<double> z = randn<double>(4 * 5, 15, 3.0);
        const std::vector<int32_t> labels{0, 4, 2, 2};
        std::vector<double> g(z.size());
        REQUIRE(softmax_cross_entropy(z.data(), labels.data(), 4, 5, g.data()).ok());
        auto f = [&] { return softmax_cross_entropy(z.data(), labels.data(), 4, 5, (double*)nullptr).value; };
        CHECK(fd_error(&z, g, f) < 1e-8);
        // Hand value: two equal logits of one image give log 2.
        const std::vector<double> two{1.5, 1.5};
        const int32_t l0 = 0;
        CHECK(softmax_cross_entropy(two.data(), &l0, 1, 2, (double*)nullptr).value ==
              Approx(std::log(2.0)).epsilon(1e-15));
        // The last section: every layer's check has run by now.
        WARN("each layer's backward and the loss vs finite differences (double): largest error " << g_layer_worst);
    }
}

TEST_CASE("core grads: float forward loops equal the reference kernels bit for bit", "[train][grads]") {
    const ConvShape s{2, 3, 8, 8, 5, 3, 1};
    const std::vector<float> x = randn<float>(2 * 3 * 64, 20), w = randn<float>(5 * 27, 21), b = randn<float>(5, 22);
    std::vector<float> a(size_t(2 * 5 * 64)), c(a.size());
    conv2d_forward(x.data(), w.data(), b.data(), s, a.data());
    conv2d_reference(x.data(), w.data(), b.data(), s, c.data());
    CHECK(a == c);
    std::vector<float> la(2 * 4), lc(2 * 4);
    linear_forward(x.data(), w.data(), b.data(), 2, 24, 4, la.data());
    linear_reference(x.data(), w.data(), b.data(), 2, 24, 4, lc.data());
    CHECK(la == lc);
}

namespace {

// A tiny net with every layer kind: conv (padded) -> bn -> relu -> pool -> conv -> relu -> flatten -> linear.
NetworkDesc tiny_net() {
    Result<NetworkDesc> r = parse_network(
        "input 2 6 6; conv c1 2 3 3 1; bn b1 3; relu; pool 2; conv c2 3 4 2; relu; flatten; linear f1 16 5");
    REQUIRE(r.ok());
    return r.value;
}

StateDict random_weights(const NetworkDesc& net, unsigned seed) {
    StateDict sd;
    for (const ParamDesc& p : net.params()) {
        Tensor t(p.shape);
        t.data = randn<float>(size_t(numel(p.shape)), seed++, 0.5);
        if (p.name.find("running_var") != std::string::npos)
            for (float& v : t.data) v = 1.0f + std::fabs(v);
        if (p.int64) t.data.assign(t.data.size(), 3.0f);
        sd.set(p.name, t, p.int64 ? "I64" : "F32");
    }
    return sd;
}

// The tiny net's loss in double from the forward functions alone (training-mode BN), parameters by name.
double tiny_loss(const NetworkDesc& net, std::map<std::string, std::vector<double>>& p, const std::vector<double>& x,
                 const std::vector<int32_t>& labels, int n) {
    std::vector<double> cur = x;
    Shape shape = net.input;
    for (size_t i = 0; i < net.layers.size(); ++i) {
        const LayerDesc& l = net.layers[i];
        const Shape out = net.shape_after(int(i));
        std::vector<double> y(size_t(n * numel(out)));
        switch (l.kind) {
            case LayerKind::kConv2d:
                conv2d_forward(cur.data(), p[l.name + ".weight"].data(), p[l.name + ".bias"].data(),
                               ConvShape{n, int(shape[0]), int(shape[1]), int(shape[2]), l.out, l.kernel, l.padding},
                               y.data());
                break;
            case LayerKind::kLinear:
                linear_forward(cur.data(), p[l.name + ".weight"].data(), p[l.name + ".bias"].data(), n, l.in, l.out,
                               y.data());
                break;
            case LayerKind::kBatchNorm2d: {
                BnCache<double> cache;
                REQUIRE(batchnorm_train_forward(cur.data(), n, shape[0], shape[1] * shape[2],
                                                p[l.name + ".weight"].data(), p[l.name + ".bias"].data(), BnSettings{},
                                                (double*)nullptr, (double*)nullptr, y.data(), &cache)
                            .ok());
                break;
            }
            case LayerKind::kReLU: relu_forward(cur.data(), int64_t(cur.size()), y.data()); break;
            case LayerKind::kMaxPool2d: {
                std::vector<int64_t> am;
                max_pool_forward(cur.data(), n * shape[0], shape[1], shape[2], int64_t(l.kernel), y.data(), &am);
                break;
            }
            case LayerKind::kFlatten: y = cur; break;
        }
        cur = std::move(y);
        shape = out;
    }
    return softmax_cross_entropy(cur.data(), labels.data(), n, shape[0], (double*)nullptr).value;
}

}  // namespace

TEST_CASE("core grads: a whole network's step equals finite differences", "[train][grads]") {
    const NetworkDesc net = tiny_net();
    const int n = 3;
    StateDict w = random_weights(net, 30);
    const std::vector<float> xf = randn<float>(size_t(n * 2 * 36), 40);
    const std::vector<int32_t> labels{1, 4, 0};
    TrainSettings ts;
    ts.kernels = TrainKernels::kReference;  // the reference's test (the fast kernels: test_core_train_fast.cpp)
    ts.config = make_config(net, kFloatBits, kFloatBits);
    StateDict grads;
    StateDict after = w;
    Result<StepResult> r = compute_gradients(net, &after, ts, xf.data(), labels.data(), n, &grads);
    REQUIRE(r.ok());

    std::map<std::string, std::vector<double>> p;
    for (const std::string& name : w.names)
        p[name] = std::vector<double>(w.find(name)->data.begin(), w.find(name)->data.end());
    const std::vector<double> x(xf.begin(), xf.end());
    CHECK(r.value.loss == Approx(tiny_loss(net, p, x, labels, n)).epsilon(1e-6));

    REQUIRE(grads.names.size() == 8);  // c1, b1, c2, f1: weight and bias each
    SECTION("every trainable parameter: the float engine against double differences") {
        double worst = 0;
        for (const std::string& name : grads.names) {
            const std::vector<float>& gf = grads.find(name)->data;
            const double e = fd_error(&p[name], std::vector<double>(gf.begin(), gf.end()),
                                      [&] { return tiny_loss(net, p, x, labels, n); });
            CAPTURE(name, e);
            CHECK(e < 1e-5);
            worst = std::max(worst, e);
        }
        WARN("whole-network float gradients vs double finite differences: max error "
             << worst << " (relative to max(1, max |grad|))");
    }

    SECTION("BatchNorm running statistics move as torch's: momentum 0.1, unbiased variance; the count goes up") {
        const std::vector<float>& rm0 = w.find("b1.running_mean")->data;
        const std::vector<float>& rv0 = w.find("b1.running_var")->data;
        // The batch statistics of conv c1's output, recomputed here in double.
        std::vector<double> y(size_t(n * 3 * 36));
        conv2d_forward(x.data(), p["c1.weight"].data(), p["c1.bias"].data(), ConvShape{n, 2, 6, 6, 3, 3, 1}, y.data());
        for (int ch = 0; ch < 3; ++ch) {
            double s = 0, ss = 0;
            for (int b = 0; b < n; ++b)
                for (int i = 0; i < 36; ++i) s += y[size_t((b * 3 + ch) * 36 + i)];
            const double mean = s / (n * 36);
            for (int b = 0; b < n; ++b)
                for (int i = 0; i < 36; ++i) ss += std::pow(y[size_t((b * 3 + ch) * 36 + i)] - mean, 2);
            CHECK(after.find("b1.running_mean")->data[size_t(ch)] ==
                  Approx(0.9 * rm0[size_t(ch)] + 0.1 * mean).epsilon(1e-5));
            CHECK(after.find("b1.running_var")->data[size_t(ch)] ==
                  Approx(0.9 * rv0[size_t(ch)] + 0.1 * ss / (n * 36 - 1)).epsilon(1e-5));
        }
        CHECK(after.find("b1.num_batches_tracked")->data[0] == 4.0f);
        CHECK(after.find("c1.weight")->data == w.find("c1.weight")->data);  // parameters untouched
    }
    SECTION("deterministic: the same step twice gives the same bits") {
        StateDict again = w, grads2;
        REQUIRE(compute_gradients(net, &again, ts, xf.data(), labels.data(), n, &grads2).ok());
        for (const std::string& name : grads.names) CHECK(grads.find(name)->data == grads2.find(name)->data);
        CHECK(again.find("b1.running_var")->data == after.find("b1.running_var")->data);
    }
    SECTION("W4A4 with the identity STE: the float network's gradients at the fake-quantized point") {
        // With the identity STE the weight gradient is the float gradient evaluated at the quantized weights and
        // inputs; checked on the first layer, whose input (the images) is quantized once per batch.
        TrainSettings q = ts;
        q.config = make_config(net, 4, 4);
        StateDict wq = w, gq;
        REQUIRE(compute_gradients(net, &wq, q, xf.data(), labels.data(), n, &gq).ok());
        CHECK(gq.find("c1.weight")->data != grads.find("c1.weight")->data);
        TrainSettings clipped = q;
        clipped.ste = SteRule::kClipped;
        StateDict wc = w, gc;
        REQUIRE(compute_gradients(net, &wc, clipped, xf.data(), labels.data(), n, &gc).ok());
        // max-abs symmetric weights: max |w| codes to qmax exactly, so nothing is clipped and the STEs agree.
        for (const std::string& name : gq.names) CHECK(gq.find(name)->data == gc.find(name)->data);
    }
    SECTION("bad input fails clearly and changes nothing") {
        const std::vector<int32_t> bad{1, 7, 0};
        StateDict keep = w, g2;
        Result<StepResult> e = compute_gradients(net, &keep, ts, xf.data(), bad.data(), n, &g2);
        REQUIRE_FALSE(e.ok());
        CHECK(e.message().find("label 7 of image 1") != std::string::npos);
        CHECK(keep.find("b1.running_mean")->data == w.find("b1.running_mean")->data);
        StateDict missing = w;
        missing.tensors.erase("c2.bias");
        missing.names.erase(std::find(missing.names.begin(), missing.names.end(), "c2.bias"));
        CHECK(compute_gradients(net, &missing, ts, xf.data(), labels.data(), n, &g2).message().find("c2.bias") !=
              std::string::npos);
        std::vector<float> nan_x = xf;
        nan_x[5] = NAN;
        TrainSettings q = ts;
        q.config = make_config(net, 4, 4);
        CHECK_FALSE(compute_gradients(net, &keep, q, nan_x.data(), labels.data(), n, &g2).ok());
    }
}

TEST_CASE("core optimizers: torch's SGD, Adam and AdamW formulas by hand", "[train][optimizer]") {
    StateDict p, g;
    p.set("w", Tensor({2}, std::vector<float>{1.0f, -2.0f}));
    g.set("w", Tensor({2}, std::vector<float>{0.5f, 0.25f}));
    SECTION("SGD: momentum buffer starts at the first gradient; weight decay added to the gradient") {
        OptimizerSettings s;
        s.lr = 0.1;
        s.momentum = 0.9;
        s.weight_decay = 0.01;
        ParamOptimizer opt(s);
        REQUIRE(opt.step(&p, g).ok());
        const double d0 = 0.5 + 0.01 * 1.0;  // buf = d
        const double w1 = 1.0 - 0.1 * d0;
        CHECK(p.find("w")->data[0] == Approx(w1).epsilon(1e-6));
        REQUIRE(opt.step(&p, g).ok());
        const double d1 = 0.5 + 0.01 * w1, buf = 0.9 * d0 + d1;
        CHECK(p.find("w")->data[0] == Approx(w1 - 0.1 * buf).epsilon(1e-6));
    }
    SECTION("Adam: bias-corrected moments; the first step moves each weight by about lr") {
        OptimizerSettings s;
        s.kind = Optimizer::kAdam;
        s.lr = 0.01;
        s.weight_decay = 0;
        ParamOptimizer opt(s);
        REQUIRE(opt.step(&p, g).ok());
        CHECK(p.find("w")->data[0] == Approx(1.0 - 0.01 * 0.5 / (0.5 + 1e-8)).epsilon(1e-6));
        CHECK(p.find("w")->data[1] == Approx(-2.0 - 0.01 * 0.25 / (0.25 + 1e-8)).epsilon(1e-6));
        REQUIRE(opt.step(&p, g).ok());  // the same gradient again: m/sqrt(v) stays 1 after correction
        CHECK(p.find("w")->data[0] == Approx(1.0 - 0.02).epsilon(1e-6));
    }
    SECTION("AdamW: decay on the weight, not the gradient") {
        OptimizerSettings s;
        s.kind = Optimizer::kAdamW;
        s.lr = 0.01;
        s.weight_decay = 0.1;
        ParamOptimizer opt(s);
        REQUIRE(opt.step(&p, g).ok());
        CHECK(p.find("w")->data[0] == Approx(1.0 * (1 - 0.001) - 0.01).epsilon(1e-6));
    }
    SECTION("a gradient without its parameter is an error") {
        StateDict g2;
        g2.set("v", Tensor({1}, 1.0f));
        ParamOptimizer opt{OptimizerSettings{}};
        CHECK(opt.step(&p, g2).message.find("'v'") != std::string::npos);
    }
}
