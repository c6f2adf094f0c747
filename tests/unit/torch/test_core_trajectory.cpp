// test_core_trajectory.cpp: 50 training steps of core's engine (train_step on its fast kernels, ParamOptimizer)
// against the LibTorch trainer's (QuantNet, autograd, torch::optim) from the same start weights on the same
// batches (the bundled sample's images, 16 a step (a few seconds in all), no augmentation), at the notebook's
// lr 1e-3: float and W4A4 with SGD (momentum 0.9, weight decay 5e-4), and float with Adam. test_core_grads.cpp
// checks one step to 1e-4; this checks that the two trajectories stay together: every step's loss (W4A4: the
// mean loss) and the final weights (and BatchNorm running statistics).
// The two sum in different orders, so they differ by float rounding from the first step on; at W4A4 that
// decides ties, and the runs part (tolerances below: from measurement, with the reasons beside them).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "core/cifar10.hpp"
#include "core/model_file.hpp"
#include "core/train/optimizer.hpp"
#include "core/train/train_step.hpp"
#include "native/trainer/torch_model.hpp"
#include "tests/support/bias_before_bn.hpp"

// LibTorch's c10 logging defines its own CHECK; put Catch's back (as test_torch_parity.cpp does).
#undef CHECK
#define CHECK(...) INTERNAL_CATCH_TEST("CHECK", Catch::ResultDisposition::ContinueOnFailure, __VA_ARGS__)

using namespace quantlab;
using quantlab::test::bias_before_bn;
using namespace quantlab::trainer;

namespace {

constexpr int64_t kBatch = 16, kSteps = 50;

struct Trajectory {
    std::vector<double> losses;
    StateDict weights;
};

struct Batches {
    Cifar10 data;
    std::vector<float> x;
    std::vector<int32_t> labels;
    Batches() {
        Result<Cifar10> d = read_cifar10_batch(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin");
        REQUIRE(d.ok());
        data = std::move(d.value);
        x.resize(size_t(kBatch * 3 * 32 * 32));
        labels.resize(size_t(kBatch));
    }
    // Step i's batch: consecutive images, cycling through the first 992.
    void load(int64_t i) {
        const int64_t first = (i * kBatch) % 992;
        normalize_images(data, first, kBatch, x.data());
        for (int64_t k = 0; k < kBatch; ++k) labels[size_t(k)] = int32_t(data.labels[size_t(first + k)]);
    }
};

Trajectory run_core(const NetworkDesc& net, const StateDict& start, const TrainSettings& ts,
                    const OptimizerSettings& os, Batches& b) {
    Trajectory t;
    t.weights = start;
    ParamOptimizer opt(os);
    for (int64_t i = 0; i < kSteps; ++i) {
        b.load(i);
        Result<StepResult> r = train_step(net, &t.weights, ts, b.x.data(), b.labels.data(), kBatch, &opt);
        REQUIRE(r.ok());
        t.losses.push_back(r.value.loss);
    }
    return t;
}

Trajectory run_torch(const NetworkDesc& net, const StateDict& start, const TorchQuant& tq, const OptimizerSettings& os,
                     Batches& b) {
    Trajectory t;
    QuantNet model(net);
    REQUIRE(model->load(start, "start").ok());
    REQUIRE(model->set_quant(tq, torch::kCPU).ok());
    model->train();
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (os.kind == Optimizer::kSgd)
        opt = std::make_unique<torch::optim::SGD>(
            model->parameters(), torch::optim::SGDOptions(os.lr).momentum(os.momentum).weight_decay(os.weight_decay));
    else
        opt = std::make_unique<torch::optim::Adam>(model->parameters(),
                                                   torch::optim::AdamOptions(os.lr).weight_decay(os.weight_decay));
    for (int64_t i = 0; i < kSteps; ++i) {
        b.load(i);
        const torch::Tensor x = torch::from_blob(b.x.data(), {kBatch, 3, 32, 32}, torch::kFloat);
        std::vector<int64_t> l(b.labels.begin(), b.labels.end());
        opt->zero_grad();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), torch::tensor(l));
        loss.backward();
        opt->step();
        t.losses.push_back(loss.item<double>());
    }
    t.weights = model->to_state_dict();
    return t;
}

}  // namespace

TEST_CASE("50 steps of core's engine track LibTorch's (float and W4A4 SGD, float Adam)", "[torch][train][trajectory]") {
    torch::set_num_threads(1);
    Result<WeightsFile> wf = read_weights_file(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
    REQUIRE(wf.ok());
    const NetworkDesc net = wf.value.net;
    Batches batches;
    struct Case {
        const char* name;
        int bits;
        Optimizer opt;
        int64_t tracked_steps;  // steps whose loss must agree to step_tol (the rest: the mean over all to mean_tol)
        double step_tol, mean_tol, weight_tol;
    };
    // Tolerances, relative (|core - torch| / |torch| per loss; max |core - torch| / max |torch| per tensor), from
    // measurement (x86-64 AVX2, LibTorch 1.13 with oneDNN; the worst seen in brackets), with a margin for other
    // machines' summation orders:
    //   float SGD   every step's loss and the mean to 1e-4 (1.4e-6), the weights to 1e-4 (3.5e-7): rounding differences of 1e-7
    //               a step that training does not amplify at this rate. (At lr 0.01 a near-tie in a max-pool
    //               window flips after ~25 steps and the runs part by 1e-3: the trajectory is chaotic at that rate.)
    //   float Adam  the losses to 1e-4 (7.9e-6), the weights to 1e-3 (1.2e-4): Adam divides by the gradient's own
    //               size, so small gradients' rounding differences move weights by a fraction of lr.
    //   W4A4 SGD    the first step's loss to 1e-5 (3.8e-7: same weights, same codes), then the runs part: two conv
    //               outputs in a pool window that are equal in exact arithmetic (S_x S_w times the same integer sum)
    //               tie in one library and not in the other, so the gradient goes to a different (equally valid)
    //               input (test_core_grads.cpp), and a value within rounding of a code boundary takes the other code.
    //               From the first such event (step ~10 here) the per-step losses differ by whole percent (up to
    //               115 % on a batch of 16); what stays close is the mean loss over the 50 steps (4.5e-2) and
    //               the weights (2.6e-2, bn1.running_var): bounds 0.15 and 0.1.
    const Case cases[] = {
        {"float, SGD momentum 0.9, wd 5e-4", kFloatBits, Optimizer::kSgd, kSteps, 1e-4, 1e-4, 1e-4},
        {"W4A4, SGD momentum 0.9, wd 5e-4", 4, Optimizer::kSgd, 1, 1e-5, 0.15, 0.1},
        {"float, Adam, wd 5e-4", kFloatBits, Optimizer::kAdam, kSteps, 1e-4, 1e-4, 1e-3},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TrainSettings ts;
        ts.config = make_config(net, c.bits, c.bits);
        ts.kernels = TrainKernels::kFast;  // what `quantlab train --engine core` runs
        TorchQuant tq;
        tq.config = ts.config;
        tq.kernel = FqKernel::kExact;
        OptimizerSettings os;
        os.kind = c.opt;
        os.lr = 1e-3;
        os.momentum = 0.9;
        os.weight_decay = 5e-4;
        const Trajectory core = run_core(net, wf.value.weights, ts, os, batches);
        const Trajectory ref = run_torch(net, wf.value.weights, tq, os, batches);
        double worst_loss = 0, worst_w = 0, mean_core = 0, mean_ref = 0;
        std::string worst_name;
        for (int64_t i = 0; i < kSteps; ++i) {
            const double e =
                std::fabs(core.losses[size_t(i)] - ref.losses[size_t(i)]) / std::fabs(ref.losses[size_t(i)]);
            CAPTURE(i, core.losses[size_t(i)], ref.losses[size_t(i)]);
            if (i >= c.tracked_steps) continue;
            CHECK(e < c.step_tol);
            worst_loss = std::max(worst_loss, e);
        }
        for (int64_t i = 0; i < kSteps; ++i) {
            mean_core += core.losses[size_t(i)] / double(kSteps);
            mean_ref += ref.losses[size_t(i)] / double(kSteps);
        }
        const double mean_err = std::fabs(mean_core - mean_ref) / mean_ref;
        CAPTURE(mean_core, mean_ref);
        CHECK(mean_err < c.mean_tol);
        for (const std::string& n : ref.weights.names) {
            if (ref.weights.dtype(n) != "F32" || (c.opt != Optimizer::kSgd && bias_before_bn(net, n))) continue;
            const std::vector<float>& a = core.weights.find(n)->data;
            const std::vector<float>& b = ref.weights.find(n)->data;
            REQUIRE(a.size() == b.size());
            double e = 0, m = 0;
            for (size_t k = 0; k < a.size(); ++k)
                e = std::max(e, std::fabs(double(a[k]) - b[k])), m = std::max(m, std::fabs(double(b[k])));
            const double rel = m > 0 ? e / m : e;
            CAPTURE(n, rel);
            CHECK(rel < c.weight_tol);
            if (rel > worst_w) worst_w = rel, worst_name = n;
        }
        WARN(c.name << ": mean loss " << mean_core << " (torch " << mean_ref << ", error " << mean_err
                    << "); worst error of the " << c.tracked_steps << " tracked steps' losses " << worst_loss
                    << "; worst weight error " << worst_w << " (" << worst_name << ")");
    }
}
