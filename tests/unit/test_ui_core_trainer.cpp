// test_ui_core_trainer.cpp: the page's trainer (ui::CoreTrainer over core's TrainLoop) against the loop driven
// by hand, the way `quantlab train --engine core` drives it: the same weights to the bit whether the steps run
// on a worker thread or inside pump(), and after a stop and a resume; a learning rate that makes the loss
// non-finite stops the run with a message and keeps finite weights; bad training data and a batch larger than
// the data give messages. Three steps of batch 8 on the bundled images (the reference engine is slow).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/file_io.hpp"
#include "core/model_file.hpp"
#include "core/network.hpp"
#include "core/safetensors_io.hpp"
#include "core/train/init_weights.hpp"
#include "core/train/run.hpp"
#include "core/weights_io.hpp"
#include "tests/support/bundled_model.hpp"
#include "ui/core_trainer.hpp"

#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define QUANTLAB_TEST_THREADS 1
#endif

using namespace quantlab;

namespace {

// The notebook's pretrained network (tests/support/bundled_model.hpp), shared as the app hands it over.
std::shared_ptr<const Model> bundled_model() { return std::make_shared<const Model>(test::bundled_model()); }

// The first n records of the bundled sample as "training" bytes (any CIFAR-10 records do).
std::vector<uint8_t> sample_bytes(int64_t n) {
    Result<std::vector<uint8_t>> b = read_file_bytes(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin", "sample");
    REQUIRE(b.ok());
    b.value.resize(size_t(n * kCifar10RecordBytes));
    return b.value;
}

constexpr int64_t kImages = 40, kBatch = 8, kSteps = 3;  // 32 training images: 4 steps an epoch

ui::TrainRunConfig w4a4_config(double lr = 0.01) {
    ui::TrainRunConfig c;
    c.epochs = 2;
    c.batch = int(kBatch);
    c.lr = lr;
    c.qat = true;
    c.weight_bits = c.act_bits = 4;
    c.init_weights = "loaded";
    return c;
}

// The weights the loop gives when driven by hand, as core_train.cpp drives it.
// lsq / pact: *learned gets the loop's config with the learned steps as scales.
StateDict by_hand(const Model& start, const std::vector<uint8_t>& bytes, const AugSpec& augment = AugSpec{},
                  QuantizerKind quantizer = QuantizerKind::kFixed, QuantConfig* learned = nullptr) {
    Result<Cifar10> data = read_cifar10_bytes(bytes.data(), bytes.size(), "sample");
    REQUIRE(data.ok());
    RunSettings s;
    s.epochs = 2;
    s.batch = kBatch;
    s.lr = 0.01;
    s.val_every = 50;
    s.max_steps = kSteps;
    s.augment = augment;
    s.train.config = make_config(start.desc(), 4, 4);
    s.train.quantizer = quantizer;
    Result<std::unique_ptr<TrainLoop>> loop = TrainLoop::create(start.desc(), start.weights(), std::make_shared<const Cifar10>(data.value), s);
    REQUIRE(loop.ok());
    while (!loop.value->done()) REQUIRE(loop.value->step().ok());
    if (learned) {
        Result<QuantConfig> c = loop.value->eval_config();
        REQUIRE(c.ok());
        *learned = c.value;
    }
    return loop.value->weights();
}

// The run's weights read back from the trainer's .safetensors bytes (model tensors only).
StateDict trained(ui::CoreTrainer& t, int id, const NetworkDesc& net) {
    Result<std::vector<uint8_t>> f = t.weights_file(id);
    REQUIRE(f.ok());
    Result<StateDict> sd = read_safetensors_bytes(f.value.data(), f.value.size(), "run");
    REQUIRE(sd.ok());
    Result<StateDict> clean = model_tensors(sd.value, net, "run");
    REQUIRE(clean.ok());
    return clean.value;
}

void require_equal(const StateDict& a, const StateDict& b) {
    REQUIRE(a.names == b.names);
    for (const std::string& n : a.names) {
        INFO(n);
        REQUIRE(a.find(n)->data == b.find(n)->data);
    }
}

ui::TrainState state_of(const ui::CoreTrainer& t, int id) {
    for (const ui::TrainRun& r : t.runs())
        if (r.id == id) return r.state;
    FAIL("no run " << id);
    return ui::TrainState::kFailed;
}

std::string message_of(const ui::CoreTrainer& t, int id) {
    for (const ui::TrainRun& r : t.runs())
        if (r.id == id) return r.message;
    return "";
}

// Pumps (or, threaded, waits) until the run is no longer queued or running.
void run_out(ui::CoreTrainer& t, int id, bool threaded) {
    for (int i = 0; i < 100000; ++i) {
        const ui::TrainState s = state_of(t, id);
        if (s != ui::TrainState::kQueued && s != ui::TrainState::kRunning) return;
        if (threaded) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        else t.pump(5);
    }
    FAIL("the run did not end");
}

ui::CoreTrainerOptions options(bool threaded) {
    ui::CoreTrainerOptions o;
    o.threaded = threaded;
    o.max_steps = kSteps;
    return o;
}

}  // namespace

TEST_CASE("CoreTrainer: the loop's weights, pumped or on a worker, and across a stop and resume", "[ui][core_trainer]") {
    const std::shared_ptr<const Model> model = bundled_model();
    const std::vector<uint8_t> bytes = sample_bytes(kImages);
    const StateDict want = by_hand(*model, bytes);
    auto data = std::make_shared<const Cifar10>(read_cifar10_bytes(bytes.data(), bytes.size(), "x").value);

    SECTION("pumped (the page without threads); the runs wait for the training images first") {
        ui::CoreTrainer t(options(false));
        t.set_loaded(model, "notebook_pretrain.safetensors", data);
        Result<int> id = t.start(w4a4_config());
        REQUIRE(id.ok());
        t.pump(5);
        CHECK(t.wants_train_data());
        CHECK(state_of(t, id.value) == ui::TrainState::kQueued);
        CHECK(t.train_data_label().find("fetched when the first run starts") != std::string::npos);
        REQUIRE(t.set_train_data("sample", bytes).ok());
        CHECK_FALSE(t.wants_train_data());
        CHECK(t.train_data_label() == "Training images: sample (40 images).");  // what the panel shows
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFinished);
        require_equal(trained(t, id.value, model->desc()), want);
        // The curves start at the start model's accuracies (epoch 0) and end with a test accuracy.
        const ui::TrainRun r = t.runs().front();
        REQUIRE(r.points.size() >= 3);
        CHECK(r.points[0].epoch == 0);
        CHECK(r.points[0].val_accuracy >= 0);
        CHECK(r.points[1].epoch == 0);
        CHECK(r.points[1].test_accuracy >= 0);
        CHECK(r.points.back().test_accuracy >= 0);
    }
#ifdef QUANTLAB_TEST_THREADS
    SECTION("on a worker thread") {
        ui::CoreTrainer t(options(true));
        t.set_loaded(model, "notebook_pretrain.safetensors", data);
        REQUIRE(t.set_train_data("sample", bytes).ok());
        Result<int> id = t.start(w4a4_config());
        REQUIRE(id.ok());
        run_out(t, id.value, true);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFinished);
        require_equal(trained(t, id.value, model->desc()), want);
    }
#endif
    SECTION("stopped after a step and resumed: the same weights as without the stop") {
        ui::CoreTrainer t(options(false));
        t.set_loaded(model, "notebook_pretrain.safetensors", data);
        REQUIRE(t.set_train_data("sample", bytes).ok());
        Result<int> id = t.start(w4a4_config());
        REQUIRE(id.ok());
        t.pump(0);  // begins the run (the start model's test accuracy: one batch here)
        t.pump(0);  // one step
        REQUIRE(t.stop(id.value).ok());
        t.pump(0);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kStopped);
        REQUIRE(t.resume(id.value).ok());
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFinished);
        require_equal(trained(t, id.value, model->desc()), want);
    }
}

TEST_CASE("CoreTrainer: bad input gives a message and keeps the app going", "[ui][core_trainer]") {
    const std::shared_ptr<const Model> model = bundled_model();
    ui::CoreTrainer t(options(false));
    t.set_loaded(model, "notebook_pretrain.safetensors", nullptr);

    SECTION("a learning rate that makes the loss non-finite: stopped, finite weights kept, a hint") {
        REQUIRE(t.set_train_data("sample", sample_bytes(kImages)).ok());
        Result<int> id = t.start(w4a4_config(1e12));
        REQUIRE(id.ok());
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFailed);
        const std::string m = message_of(t, id.value);
        CHECK(m.find("the loss became") != std::string::npos);
        CHECK(m.find("last good weights") != std::string::npos);
        CHECK(m.find("lower the learning rate") != std::string::npos);
        const StateDict w = trained(t, id.value, model->desc());
        int64_t non_finite = 0;
        for (const std::string& n : w.names)
            for (float v : w.find(n)->data) non_finite += !std::isfinite(v);
        CHECK(non_finite == 0);
    }
    SECTION("training bytes that are not CIFAR-10 records fail the waiting run with the reason") {
        Result<int> id = t.start(w4a4_config());
        REQUIRE(id.ok());
        std::vector<uint8_t> junk(1000, 7);
        Status s = t.set_train_data("junk.bin", junk);
        REQUIRE_FALSE(s.ok());
        CHECK(s.message.find("junk.bin") != std::string::npos);
        CHECK(state_of(t, id.value) == ui::TrainState::kFailed);
        CHECK(message_of(t, id.value).find("junk.bin") != std::string::npos);
    }
    SECTION("a batch larger than the training images") {
        REQUIRE(t.set_train_data("sample", sample_bytes(20)).ok());
        ui::TrainRunConfig c = w4a4_config();
        c.batch = 64;
        Result<int> id = t.start(c);
        REQUIRE(id.ok());
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFailed);
        CHECK(message_of(t, id.value).find("batch 64 is larger than the 16 training images") != std::string::npos);
    }
    SECTION(
        "from scratch: the chosen network from init_weights (seed 1), as the loop driven by hand; a bad one is "
        "refused") {
        REQUIRE(t.set_train_data("sample", sample_bytes(kImages)).ok());
        ui::TrainRunConfig c = w4a4_config();
        c.init_weights.clear();
        c.model = "wide:2";
        Result<int> id = t.start(c);
        REQUIRE(id.ok());
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFinished);
        Result<NetworkDesc> net = network_choice("wide:2", 10);
        REQUIRE(net.ok());
        Result<Model> start = Model::create(net.value, init_weights(net.value, 1), "scratch");
        REQUIRE(start.ok());
        require_equal(trained(t, id.value, net.value), by_hand(start.value, sample_bytes(kImages)));
        c.model = "wide:99";
        CHECK_FALSE(t.start(c).ok());
    }
}

TEST_CASE("CoreTrainer: the panel's augmentation knobs reach the loop; what it cannot do is refused", "[ui][core_trainer]") {
    const std::shared_ptr<const Model> model = bundled_model();
    const std::vector<uint8_t> bytes = sample_bytes(kImages);
    auto data = std::make_shared<const Cifar10>(read_cifar10_bytes(bytes.data(), bytes.size(), "x").value);
    ui::CoreTrainer t(options(false));
    t.set_loaded(model, "notebook_pretrain.safetensors", data);
    REQUIRE(t.set_train_data("sample", bytes).ok());

    SECTION("crop + flip, cutout 16 and jitter 0.4: the loop's weights with that AugSpec, not those without") {
        ui::TrainRunConfig c = w4a4_config();
        c.augment = true;
        c.cutout = 16;
        c.jitter = 0.4;
        Result<int> id = t.start(c);
        REQUIRE(id.ok());
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFinished);
        const StateDict got = trained(t, id.value, model->desc());
        require_equal(got, by_hand(*model, bytes, AugSpec{true, true, 16, 0.4f}));
        // Not silently dropped: without cutout and jitter (crop + flip alone) the weights differ.
        const StateDict crop_flip = by_hand(*model, bytes, AugSpec{true, true, 0, 0.0f});
        bool differs = false;
        for (const std::string& n : got.names) differs = differs || got.find(n)->data != crop_flip.find(n)->data;
        CHECK(differs);
    }
    SECTION("CIFAR-100 and an out-of-range cutout are refused with the reason") {
        ui::TrainRunConfig c = w4a4_config();
        c.dataset = Dataset::kCifar100;
        CHECK(t.start(c).message().find("CIFAR-10 training images only") != std::string::npos);
        CHECK_FALSE(t.trains_on(Dataset::kCifar100));
        c = w4a4_config();
        c.cutout = 40;
        CHECK(t.start(c).message().find("40") != std::string::npos);
        c = w4a4_config();
        c.jitter = 1.5;
        CHECK(t.start(c).message().find("1.5") != std::string::npos);
        CHECK(t.runs().empty());
    }
}

TEST_CASE("CoreTrainer: LSQ and PACT learn their steps as the loop does; the file carries them; the curves show them", "[ui][core_trainer]") {
    const std::shared_ptr<const Model> model = bundled_model();
    const std::vector<uint8_t> bytes = sample_bytes(kImages);
    auto data = std::make_shared<const Cifar10>(read_cifar10_bytes(bytes.data(), bytes.size(), "x").value);
    for (QuantizerKind kind : {QuantizerKind::kLsq, QuantizerKind::kPact}) {
        INFO(quantizer_kind_name(kind));
        QuantConfig want_config;
        const StateDict want = by_hand(*model, bytes, AugSpec{}, kind, &want_config);
        ui::CoreTrainer t(options(false));
        t.set_loaded(model, "notebook_pretrain.safetensors", data);
        REQUIRE(t.set_train_data("sample", bytes).ok());
        ui::TrainRunConfig c = w4a4_config();
        c.quantizer = kind;
        Result<int> id = t.start(c);
        REQUIRE(id.ok());
        run_out(t, id.value, false);
        REQUIRE(state_of(t, id.value) == ui::TrainState::kFinished);
        require_equal(trained(t, id.value, model->desc()), want);
        // The downloaded file opens as any model and its stored config is the loop's learned steps, static.
        Result<std::vector<uint8_t>> f = t.weights_file(id.value);
        REQUIRE(f.ok());
        Result<ModelFile> mf = open_model_bytes(f.value.data(), f.value.size(), "run.safetensors");
        REQUIRE(mf.ok());
        REQUIRE(mf.value.stored_config.ok());
        const QuantConfig& got = mf.value.stored_config.value;
        CHECK(got.act_mode == ActMode::kStatic);
        CHECK(got.act_scales == want_config.act_scales);
        CHECK(got.weight_scales == want_config.weight_scales);
        REQUIRE(got.act_ranges.size() == want_config.act_ranges.size());
        for (size_t q = 0; q < got.act_ranges.size(); ++q) {
            CHECK(got.act_ranges[q].alpha == want_config.act_ranges[q].alpha);
            CHECK(got.act_ranges[q].beta == want_config.act_ranges[q].beta);
        }
        if (kind == QuantizerKind::kLsq) CHECK(got.weight_scales.size() == 5);
        CHECK(got.layers[1].act.symmetric == false);  // conv2's input follows a ReLU: unsigned codes
        // The run's test accuracy is core's inference with that config on the test images.
        Model m = mf.value.model;
        REQUIRE(m.configure(got).ok());
        Result<EvalResult> acc = evaluate(m, *data, 128, Backend::kFast);
        REQUIRE(acc.ok());
        const ui::TrainRun r = t.runs().front();
        REQUIRE(r.points.back().test_accuracy >= 0);
        CHECK(r.points.back().test_accuracy == Approx(acc.value.accuracy()));
        // The curves carry every layer's steps, positive (set by the first step).
        REQUIRE(r.layers.size() == 5);
        CHECK(r.layers.front() == "conv1");
        const ui::TrainPoint* last = nullptr;
        for (const ui::TrainPoint& p : r.points)
            if (!p.act_steps.empty()) last = &p;
        REQUIRE(last);
        REQUIRE(last->act_steps.size() == 5);
        for (float a : last->act_steps) CHECK(a > 0);
        for (float w : last->weight_steps) CHECK((kind == QuantizerKind::kLsq ? w > 0 : w == 0));
    }
}
