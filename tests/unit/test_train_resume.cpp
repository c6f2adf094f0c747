// test_train_resume.cpp: core's TrainLoop stopped and resumed from its training state (core/train/resume_state.hpp,
// through safetensors bytes, as a checkpoint carries it) takes exactly the uninterrupted run's steps: the same
// losses and the same weight and learned-step bits, mid-epoch and at an epoch's end, for SGD with augmentation
// and for Adam with LSQ's learned steps; what does not fit is refused. And init_weights (--from-scratch):
// PyTorch's default init ranges, the same bits for a seed.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>

#include "core/model_file.hpp"
#include "core/safetensors_io.hpp"
#include "core/train/init_weights.hpp"
#include "core/train/resume_state.hpp"
#include "core/train/run.hpp"
#include "core/weights_io.hpp"

using namespace quantlab;

namespace {

std::shared_ptr<const Cifar10> sample(int64_t n) {
    Result<Cifar10> d = read_cifar10_batch(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin", n);
    REQUIRE(d.ok());
    return std::make_shared<const Cifar10>(std::move(d.value));
}

// 40 images: 32 training (the 80/20 split), batches of 8: 4 steps an epoch, 8 in the run.
RunSettings settings(const NetworkDesc& net, Optimizer opt, QuantizerKind qz) {
    RunSettings s;
    s.epochs = 2;
    s.batch = 8;
    s.optimizer = opt;
    s.lr = opt == Optimizer::kSgd ? 0.01 : 1e-3;
    s.weight_decay = 5e-4;
    s.schedule = Schedule::kCosine;
    s.val_every = 0;
    s.train.config = make_config(net, 4, 4);
    s.train.quantizer = qz;
    if (opt == Optimizer::kSgd) {
        s.augment.crop = s.augment.flip = true;
        s.augment.cutout = 8;
        s.augment.jitter = 0.2f;
    }
    return s;
}

bool same_bits(const StateDict& a, const StateDict& b) {
    if (a.names != b.names) return false;
    for (const std::string& n : a.names)
        if (a.find(n)->data != b.find(n)->data) return false;
    return true;
}

}  // namespace

TEST_CASE("TrainLoop: stop, save the training state, resume: the uninterrupted run's bits", "[train][resume]") {
    Result<WeightsFile> wf = read_weights_file(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
    REQUIRE(wf.ok());
    const NetworkDesc net = wf.value.net;
    const auto data = sample(40);
    struct Case {
        const char* name;
        Optimizer opt;
        QuantizerKind qz;
    };
    for (const Case& c : {Case{"SGD, W4A4, crop+flip+cutout+jitter", Optimizer::kSgd, QuantizerKind::kFixed},
                          Case{"Adam, LSQ W4A4", Optimizer::kAdam, QuantizerKind::kLsq}}) {
        CAPTURE(c.name);
        const RunSettings s = settings(net, c.opt, c.qz);
        Result<std::unique_ptr<TrainLoop>> straight = TrainLoop::create(net, wf.value.weights, data, s);
        REQUIRE(straight.ok());
        REQUIRE(straight.value->steps_per_epoch() == 4);
        std::vector<double> losses;
        while (!straight.value->done()) {
            Result<RunStep> r = straight.value->step();
            REQUIRE(r.ok());
            losses.push_back(r.value.loss);
        }
        REQUIRE(losses.size() == 8);
        for (int64_t stop : {3, 4}) {  // mid-epoch, and at the end of the first epoch
            CAPTURE(stop);
            Result<std::unique_ptr<TrainLoop>> first = TrainLoop::create(net, wf.value.weights, data, s);
            REQUIRE(first.ok());
            for (int64_t i = 0; i < stop; ++i) REQUIRE(first.value->step().ok());
            // The checkpoint: the weights, and the state through a file's bytes.
            Result<std::vector<uint8_t>> bytes = write_safetensors_bytes(first.value->resume_state());
            REQUIRE(bytes.ok());
            Result<StateDict> state = read_safetensors_bytes(bytes.value.data(), bytes.value.size(), "state");
            REQUIRE(state.ok());
            if (c.opt == Optimizer::kSgd) CHECK(state.value.find("optim.conv1.weight.momentum_buffer"));
            else CHECK(state.value.find("optim.conv1.weight.exp_avg_sq"));
            if (c.qz == QuantizerKind::kLsq) CHECK(state.value.find("learned.conv1.weight_scale"));
            Result<std::unique_ptr<TrainLoop>> rest = TrainLoop::create(net, first.value->weights(), data, s);
            REQUIRE(rest.ok());
            REQUIRE(rest.value->resume(stop, state.value).ok());
            CHECK(rest.value->steps_done() == stop);
            for (int64_t i = stop; !rest.value->done(); ++i) {
                Result<RunStep> r = rest.value->step();
                REQUIRE(r.ok());
                CHECK(r.value.loss == losses[size_t(i)]);
                CHECK(r.value.epoch == int(i / 4));
            }
            CHECK(rest.value->steps_done() == 8);
            CHECK(same_bits(rest.value->weights(), straight.value->weights()));
            CHECK(same_bits(rest.value->learned(), straight.value->learned()));
        }
    }
}

TEST_CASE("TrainLoop::resume refuses a state of another optimizer, a position past the end, a started run",
          "[train][resume]") {
    Result<WeightsFile> wf = read_weights_file(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
    REQUIRE(wf.ok());
    const NetworkDesc net = wf.value.net;
    const auto data = sample(40);
    {
        const RunSettings s = settings(net, Optimizer::kSgd, QuantizerKind::kFixed);
        Result<std::unique_ptr<TrainLoop>> a = TrainLoop::create(net, wf.value.weights, data, s);
        REQUIRE(a.ok());
        REQUIRE(a.value->step().ok());
        const StateDict state = a.value->resume_state();
        RunSettings adam = s;
        adam.optimizer = Optimizer::kAdam;
        Result<std::unique_ptr<TrainLoop>> b = TrainLoop::create(net, a.value->weights(), data, adam);
        REQUIRE(b.ok());
        Status st = b.value->resume(1, state);
        CHECK_FALSE(st.ok());
        CHECK(st.message.find("--optimizer sgd") != std::string::npos);
        Result<std::unique_ptr<TrainLoop>> c = TrainLoop::create(net, a.value->weights(), data, s);
        REQUIRE(c.ok());
        st = c.value->resume(9, state);
        CHECK_FALSE(st.ok());
        CHECK(st.message.find("this run has 8 steps") != std::string::npos);
        REQUIRE(c.value->step().ok());
        CHECK_FALSE(c.value->resume(1, state).ok());  // only before the first step
    }
}

TEST_CASE("init_weights: PyTorch's default init, seeded", "[train][init]") {
    const NetworkDesc net = notebook_net();
    const StateDict a = init_weights(net, 1), b = init_weights(net, 1), c = init_weights(net, 2);
    CHECK(same_bits(a, b));
    CHECK(a.find("conv1.weight")->data != c.find("conv1.weight")->data);
    REQUIRE(model_tensors(a, net, "init").ok());  // every state_dict entry, as the network has it
    for (const LayerDesc& l : net.layers) {
        if (l.kind == LayerKind::kBatchNorm2d) {
            for (float v : a.find(l.name + ".weight")->data) CHECK(v == 1.0f);
            for (float v : a.find(l.name + ".bias")->data) CHECK(v == 0.0f);
            for (float v : a.find(l.name + ".running_var")->data) CHECK(v == 1.0f);
            CHECK(a.dtype(l.name + ".num_batches_tracked") == "I64");
            continue;
        }
        if (l.kind != LayerKind::kConv2d && l.kind != LayerKind::kLinear) continue;
        const Tensor& w = *a.find(l.name + ".weight");
        const double bound =
            1.0 / std::sqrt(double(w.numel() / w.shape[0]));  // kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in))
        for (const std::string& p : {l.name + ".weight", l.name + ".bias"}) {
            const std::vector<float>& v = a.find(p)->data;
            double mx = 0, sum = 0, sq = 0;
            for (float x : v) mx = std::max(mx, std::fabs(double(x))), sum += x, sq += double(x) * x;
            CAPTURE(p, bound, mx);
            CHECK(mx <= bound);
            if (v.size() >= 1000) {  // the uniform's variance bound^2 / 3, within sampling error
                const double var = sq / double(v.size()) - (sum / double(v.size())) * (sum / double(v.size()));
                CHECK(std::fabs(var / (bound * bound / 3) - 1) < 0.1);
                CHECK(mx > 0.99 * bound);
            }
        }
    }
}
