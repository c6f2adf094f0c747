// test_ui_eval_service.cpp: ui::EvalService (run inside pump(), as on a page without threads) against core's
// evaluate() on the same configs: static jobs calibrate on the first evaluation images, and a job that brings
// its own ranges (a QAT file's calibrated ones, as `quantlab eval`'s "file (static)" row) is evaluated with
// exactly those. With a worker thread (native, or wasm with pthreads): wait_for, what a frame uses to show a
// change's first estimate, and the first batch on more threads, which must not change a result.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/network.hpp"
#include "core/parallel.hpp"
#include "core/model_file.hpp"
#include "core/weights_io.hpp"
#include "tests/support/bundled_model.hpp"
#include "ui/eval_service.hpp"
#include "ui/model_catalog.hpp"

#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define QUANTLAB_TEST_THREADS 1
#endif

using namespace quantlab;

namespace {

std::shared_ptr<const Model> bundled_model() { return std::make_shared<const Model>(test::bundled_model()); }

// core's answer for a config with fixed ranges
EvalResult core_eval(const Model& float_model, const Cifar10& data, const QuantConfig& config,
                     Backend backend = Backend::kInteger) {
    Model m = float_model;
    REQUIRE(m.configure(config));
    Result<EvalResult> r = evaluate(m, data, ui::kEvalBatch, backend);
    REQUIRE(r.ok());
    return r.value;
}

std::shared_ptr<const Cifar10> sample(int64_t images) {
    Result<Cifar10> c = read_cifar10_batch(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin", images);
    REQUIRE(c.ok());
    return std::make_shared<const Cifar10>(std::move(c.value));
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Restores core's thread count however a test ends.
struct ThreadCountGuard {
    int saved = num_threads();
    ~ThreadCountGuard() { set_num_threads(saved); }
};

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
    const ui::EvalJob job_calibrate = ui::eval_job(base, Backend::kInteger);
    const ui::EvalJob job_given = ui::eval_job(given, Backend::kInteger);
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

// The accuracy-vs-bits overlay: jobs that bring their own model (the bundled float_best and QAT files) beside
// the loaded one. Each point must be what `quantlab eval` computes for that file: PTQ = build_config's
// make_config + apply_rule(--asymmetric --rule mse --per-channel), dynamic ranges; QAT = the file's stored
// settings as they are (its "file (static)" row). The references here are exactly those, from the files.
TEST_CASE("eval service: the overlay points equal core's evaluation of each bundled file", "[ui][catalog]") {
    auto data = sample(256);  // two batches: the PTQ points' MSE range search per batch is most of the time (x20 under ASan)
    const std::string assets = QUANTLAB_ASSETS_DIR;
    const ui::ModelCatalog models = ui::scan_models(assets);
    const std::vector<int> bits{2, 4, 8};
    std::vector<ui::OverlayJob> overlay = ui::overlay_jobs(models, bits, Backend::kInteger);
    REQUIRE(overlay.size() == 3 + 5);  // PTQ at 3 widths; the 5 QAT files with the same bits on every layer

    ui::EvalService service(false);
    service.set_source(bundled_model(), data);  // the loaded model is another one (the notebook's)
    const QuantConfig loaded_config = make_config(bundled_model()->desc(), 4, 4);
    const ui::EvalJob loaded = ui::eval_job(loaded_config, Backend::kInteger);
    std::vector<ui::EvalJob> jobs{loaded};
    for (const ui::OverlayJob& o : overlay) jobs.push_back(o.job);
    service.set_jobs(jobs);
    for (int i = 0; i < 4000 && service.busy(); ++i) service.pump(50);
    REQUIRE_FALSE(service.busy());

    for (const ui::OverlayJob& o : overlay) {
        Result<ModelFile> f = open_model(assets + "/" + o.model);
        REQUIRE(f.ok());
        QuantConfig c;
        if (o.qat) {
            REQUIRE(f.value.stored_config.ok());
            c = f.value.stored_config.value;
        } else {
            c = make_config(f.value.net(), o.weight_bits, o.act_bits, ActMode::kDynamic);
            QuantSpec rule;
            rule.rule = RangeRule::kMse;
            rule.symmetric = false;
            rule.per_channel = true;
            apply_rule(&c, rule);
        }
        const EvalResult want = core_eval(f.value.model, *data, c);
        std::shared_ptr<const ui::EvalSnapshot> got = service.get(o.job.key);
        INFO(o.model << " W" << o.weight_bits << "A" << o.act_bits);
        REQUIRE(got);
        CHECK(got->done);
        CHECK(got->error.empty());
        CHECK(got->result.evaluated == data->count);
        CHECK(got->result.correct == want.correct);
        CHECK(got->result.predictions_hash() == want.predictions_hash());
    }
    // The loaded model's own job is unaffected, and the overlay's 4-bit PTQ is float_best's, not the notebook's.
    const EvalResult want_loaded = core_eval(*bundled_model(), *data, loaded_config);
    REQUIRE(service.get(loaded.key));
    CHECK(service.get(loaded.key)->result.predictions_hash() == want_loaded.predictions_hash());
    CHECK(service.get(overlay[1].job.key)->result.predictions_hash() != want_loaded.predictions_hash());
}

TEST_CASE("eval service: wait_for without a worker thread answers at once", "[ui]") {
    auto data = sample(128);
    const std::shared_ptr<const Model> model = bundled_model();
    const QuantConfig config = make_config(model->desc(), 6, 6);
    const ui::EvalJob job = ui::eval_job(config, Backend::kInteger);
    ui::EvalService service(false);
    service.set_source(model, data);
    service.set_jobs({job});
    // Nothing can arrive while the caller waits (pump() is the caller's), so it must not wait. (Bounds far from
    // the times involved: a loaded machine must not fail this; a minute's wait would.)
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(service.wait_for(job.key, 60000));
    CHECK(ms_since(t0) < 30000);
    for (int i = 0; i < 100 && service.busy(); ++i) service.pump(50);
    CHECK(service.wait_for(job.key, 2000));
    CHECK(service.get(job.key));
}

#ifdef QUANTLAB_TEST_THREADS
TEST_CASE("eval service: wait_for returns with the first snapshot, or false after max_ms", "[ui]") {
    auto data = sample(384);
    const std::shared_ptr<const Model> model = bundled_model();
    const QuantConfig config = make_config(model->desc(), 5, 5);
    const ui::EvalJob job = ui::eval_job(config, Backend::kInteger);
    ui::EvalService service(true);
    service.set_source(model, data);
    CHECK_FALSE(service.wait_for(job.key, 0));  // not asked for yet: no snapshot, and no wait

    service.set_jobs({job});
    // Generous: the worker computes the trace first, and a loaded test machine (ASan, other suites) is slow.
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(service.wait_for(job.key, 300000));
    CHECK(ms_since(t0) < 150000);  // woken by the publication, not by the timeout
    std::shared_ptr<const ui::EvalSnapshot> first = service.get(job.key);
    REQUIRE(first);
    CHECK(first->result.evaluated >= ui::kEvalBatch);
    CHECK(first->error.empty());

    // A key nobody computes: waits about max_ms (while the worker publishes the other job's batches), then false.
    t0 = std::chrono::steady_clock::now();
    CHECK_FALSE(service.wait_for("no such job", 150));
    const double waited = ms_since(t0);
    CHECK(waited >= 145);
    CHECK(waited < 60000);  // it returns (however loaded the machine)
    CHECK_FALSE(service.get("no such job"));

    // An existing snapshot: true at once.
    t0 = std::chrono::steady_clock::now();
    CHECK(service.wait_for(job.key, 120000));
    CHECK(ms_since(t0) < 60000);
}

TEST_CASE("eval service: the first batch on more threads gives the 1-thread results and restores the count", "[ui]") {
    ThreadCountGuard guard;
    set_num_threads(1);
    auto data = sample(384);
    const std::shared_ptr<const Model> model = bundled_model();
    const QuantConfig config = make_config(model->desc(), 4, 3);
    const EvalResult want_int = core_eval(*model, *data, config, Backend::kInteger);
    const EvalResult want_fast = core_eval(*model, *data, config, Backend::kFast);
    // A slow job first (plain loops): while its first batch runs, this thread sees the raised count.
    const ui::EvalJob slow = ui::eval_job(config, Backend::kReference);
    const ui::EvalJob job_int = ui::eval_job(config, Backend::kInteger);
    const ui::EvalJob job_fast = ui::eval_job(config, Backend::kFast);

    ui::EvalService service(true);
    service.set_first_batch_threads(3);
    service.set_source(model, data);
    service.set_jobs({slow});
    int most = 0;
    const auto t0 = std::chrono::steady_clock::now();
    while (!service.get(slow.key) && ms_since(t0) < 60000) most = std::max(most, num_threads());
    REQUIRE(service.get(slow.key));
    CHECK(most == 3);          // the first batch ran with the knob's count...
    CHECK(num_threads() == 1);  // ...and the count was back before its snapshot was published

    service.set_jobs({job_int, job_fast});  // the slow one pauses after its batch

    for (int i = 0; i < 6000 && service.busy(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE_FALSE(service.busy());
    CHECK(num_threads() == 1);
    for (const auto& [job, want] : {std::make_pair(job_int, want_int), std::make_pair(job_fast, want_fast)}) {
        std::shared_ptr<const ui::EvalSnapshot> got = service.get(job.key);
        REQUIRE(got);
        INFO(job.key);
        CHECK(got->done);
        CHECK(got->error.empty());
        CHECK(got->result.evaluated == data->count);
        CHECK(got->result.correct == want.correct);
        CHECK(got->result.predictions_hash() == want.predictions_hash());
    }
}
#endif
