// test_ui_eval_service.cpp: ui::EvalService (run inside pump(), as on a page without threads) against core's
// evaluate() on the same configs: static jobs calibrate on the first evaluation images, and a job that brings
// its own ranges (a QAT file's calibrated ones, as `quantlab eval`'s "file (static)" row) is evaluated with
// exactly those.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/network.hpp"
#include "core/weights_io.hpp"
#include "ui/eval_service.hpp"

using namespace quantlab;

namespace {

std::shared_ptr<const Model> bundled_model() {
    Result<StateDict> sd = read_weights(std::string(QUANTLAB_ASSETS_DIR) + "/notebook_pretrain.safetensors");
    REQUIRE(sd.ok());
    Result<NetworkDesc> net = network_for(sd.value, "notebook_pretrain.safetensors");
    REQUIRE(net.ok());
    Result<Model> m = Model::create(net.value, sd.value, "notebook_pretrain.safetensors");
    REQUIRE(m.ok());
    return std::make_shared<const Model>(std::move(m.value));
}

// core's answer for a config with fixed ranges
EvalResult core_eval(const Model& float_model, const Cifar10& data, const QuantConfig& config) {
    Model m = float_model;
    REQUIRE(m.configure(config));
    Result<EvalResult> r = evaluate(m, data, ui::kEvalBatch, Backend::kInteger);
    REQUIRE(r.ok());
    return r.value;
}

}  // namespace

TEST_CASE("eval service: static ranges calibrated on the first images, or the ranges a job brings", "[ui]") {
    Result<Cifar10> c = read_cifar10_batch(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin", 384);
    REQUIRE(c.ok());
    auto data = std::make_shared<const Cifar10>(std::move(c.value));
    const std::shared_ptr<const Model> model = bundled_model();
    const QuantConfig base = make_config(model->desc(), 4, 4, ActMode::kStatic);

    // Reference 1: ranges calibrated as the service does (dynamic 4-bit config, first images, batch 128).
    QuantConfig dyn = base;
    dyn.act_mode = ActMode::kDynamic;
    Model calib_model = *model;
    REQUIRE(calib_model.configure(dyn));
    std::vector<float> x(size_t(data->count * kCifar10ImageBytes));
    normalize_images(*data, 0, data->count, x.data());
    Result<std::vector<RealRange>> calibrated = calib_model.calibrate(x.data(), data->count, ui::kEvalBatch);
    REQUIRE(calibrated.ok());
    QuantConfig calibrated_config = base;
    calibrated_config.act_ranges = calibrated.value;
    const EvalResult want_calibrated = core_eval(*model, *data, calibrated_config);

    // Reference 2: other ranges, as a file would bring them (half the calibrated ones: more clipping).
    QuantConfig given = base;
    for (RealRange r : calibrated.value) given.act_ranges.push_back({r.alpha * 0.5f, r.beta * 0.5f});
    const EvalResult want_given = core_eval(*model, *data, given);
    REQUIRE(want_given.predictions_hash() != want_calibrated.predictions_hash());  // else the test proves nothing

    ui::EvalService service(false);
    service.set_source(model, data);
    const ui::EvalJob job_calibrate{ui::config_key(base, Backend::kInteger), base, Backend::kInteger};
    const ui::EvalJob job_given{ui::config_key(given, Backend::kInteger), given, Backend::kInteger};
    CHECK(job_calibrate.key != job_given.key);
    CHECK(job_given.key.find("file ranges") != std::string::npos);
    service.set_jobs({job_calibrate, job_given});
    for (int i = 0; i < 1000 && service.busy(); ++i) service.pump(50);
    REQUIRE_FALSE(service.busy());

    auto got_calibrated = service.get(job_calibrate.key), got_given = service.get(job_given.key);
    REQUIRE(got_calibrated);
    REQUIRE(got_given);
    CHECK(got_calibrated->done);
    CHECK(got_calibrated->error.empty());
    CHECK(got_calibrated->result.evaluated == data->count);
    CHECK(got_calibrated->result.correct == want_calibrated.correct);
    CHECK(got_calibrated->result.predictions_hash() == want_calibrated.predictions_hash());
    CHECK(got_given->result.correct == want_given.correct);
    CHECK(got_given->result.predictions_hash() == want_given.predictions_hash());
}
