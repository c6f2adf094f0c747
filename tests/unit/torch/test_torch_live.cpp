// test_torch_live.cpp: the trainer as the desktop app drives it: the progress callback (epochs increase,
// validation and epoch-end points arrive), and the stop flag (the run stops after the step in flight, writes
// a checkpoint at that step and skips the final evaluation) with a mid-epoch resume that replays batch order
// and augmentation draws, so stop + resume (twice, in both epochs) ends with the uninterrupted run's weights
// and per-step losses. Single-threaded, tiny runs (4 steps per epoch).
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>

#include "core/weights_io.hpp"
#include "native/trainer/trainer.hpp"
#include "tests/support/test_files.hpp"
#include "tests/support/torch_runs.hpp"

using namespace quantlab;
using namespace quantlab::trainer;
namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) { return test::scratch_dir("quantlab_torch_live", name); }

// 256 training + 64 validation images, batch 64: 4 steps per epoch, 2 epochs; augmentation on, so that a
// mid-epoch resume must replay the skipped batches' crop and flip draws to match.
TrainOptions live_run(const fs::path& dir) {
    TrainOptions o = test::tiny_run_options(dir.string());
    o.augment_crop = o.augment_flip = true;
    o.val_every = 2;
    o.final_eval = false;
    return o;
}

double max_diff(const StateDict& a, const StateDict& b) {
    double worst = 0;
    for (const std::string& name : a.names) {
        const Tensor* x = a.find(name);
        const Tensor* y = b.find(name);
        REQUIRE(y != nullptr);
        REQUIRE(x->data.size() == y->data.size());
        for (size_t i = 0; i < x->data.size(); ++i) worst = std::max(worst, double(std::fabs(x->data[i] - y->data[i])));
    }
    return worst;
}

}  // namespace

TEST_CASE("trainer: progress callback, stop flag, mid-epoch resume equals the uninterrupted run", "[torch][trainer][live]") {
    // The uninterrupted run, recording its progress; once for all sections (Catch re-enters the test per section).
    static std::vector<TrainProgress> seen;
    static const TrainReport ru = [] {
        TrainOptions u = live_run(scratch_dir("u"));
        u.on_progress = [](const TrainProgress& p) { seen.push_back(p); };
        return train(u);
    }();
    REQUIRE(ru.status.ok());
    REQUIRE_FALSE(ru.stopped);
    REQUIRE(ru.steps == 8);
    REQUIRE(ru.losses.size() == 8);

    SECTION("the callback sees every step with increasing epochs, validation and epoch ends") {
        REQUIRE(seen.size() == 8);  // the CPU reports every step; the epoch's last step comes as its end point
        int vals = 0, ends = 0;
        for (size_t i = 0; i < seen.size(); ++i) {
            CAPTURE(i);
            CHECK(seen[i].step == int64_t(i) + 1);
            CHECK(seen[i].total_steps == 8);
            CHECK(seen[i].epoch == Approx(double(i + 1) / 4));
            if (i > 0) CHECK(seen[i].epoch > seen[i - 1].epoch);
            CHECK(seen[i].step_loss == Approx(ru.losses[i]));
            CHECK(std::isfinite(seen[i].loss));
            CHECK(seen[i].loss > 0);
            CHECK(seen[i].images_per_s > 0);
            vals += seen[i].val_accuracy >= 0;
            ends += seen[i].epoch_end;
            if (seen[i].epoch_end) CHECK(seen[i].val_accuracy >= 0);
        }
        CHECK(ends == 2);
        CHECK(vals == 4);  // after iteration 2 of each epoch, and at each epoch's end
        CHECK(seen.back().val_accuracy == Approx(ru.last_val_acc));
    }

    SECTION("stop after step 3, resume, stop after step 6, resume: the same weights and losses") {
        const fs::path dir_s = scratch_dir("s");
        std::atomic<bool> stop{false};
        TrainOptions s1 = live_run(dir_s);
        s1.stop_flag = &stop;
        s1.final_eval = true;  // a stop skips it anyway
        s1.on_progress = [&](const TrainProgress& p) {
            if (p.step == 3) stop = true;
        };
        const TrainReport r1 = train(s1);
        REQUIRE(r1.status.ok());
        CHECK(r1.stopped);
        CHECK(r1.steps == 3);
        CHECK(r1.epochs_done == 0);
        CHECK(r1.test_images == 0);  // no final evaluation after a stop
        CHECK(r1.test_acc_static < 0);
        REQUIRE(r1.checkpoint == (dir_s / "last.safetensors").string());
        Result<StateDict> ck = read_weights(r1.checkpoint);
        REQUIRE(ck.ok());
        CHECK(ck.value.metadata.at("checkpoint_epoch") == "0");
        CHECK(ck.value.metadata.at("checkpoint_iteration") == "3");
        CHECK(ck.value.metadata.at("checkpoint_step") == "3");
        CHECK(max_diff(r1.final_weights, ck.value) == 0);  // the report's weights are the checkpoint's
        for (size_t i = 0; i < 3; ++i) CHECK(r1.losses[i] == Approx(ru.losses[i]).epsilon(1e-6));

        // Resume into epoch 2 and stop again after its second step (global step 6).
        stop = false;
        TrainOptions s2 = live_run(dir_s);
        s2.resume = r1.checkpoint;
        s2.stop_flag = &stop;
        std::vector<double> epochs2;
        s2.on_progress = [&](const TrainProgress& p) {
            epochs2.push_back(p.epoch);
            if (p.step == 6) stop = true;
        };
        const TrainReport r2 = train(s2);
        REQUIRE(r2.status.ok());
        CHECK(r2.stopped);
        CHECK(r2.steps == 3);
        CHECK(r2.epochs_done == 1);
        REQUIRE(epochs2.size() == 3);
        CHECK(epochs2.front() == Approx(1.0));  // step 4 ends epoch 1: the curve continues where it stopped
        CHECK(epochs2.back() == Approx(1.5));
        Result<StateDict> ck2 = read_weights(r2.checkpoint);
        REQUIRE(ck2.ok());
        CHECK(ck2.value.metadata.at("checkpoint_epoch") == "1");
        CHECK(ck2.value.metadata.at("checkpoint_iteration") == "2");
        // Kept aside: finishing the run below overwrites last.safetensors with its end-of-epoch checkpoint.
        const fs::path mid = scratch_dir("mid");
        fs::copy_file(dir_s / "last.safetensors", mid / "last.safetensors");
        fs::copy_file(dir_s / "last.state.safetensors", mid / "last.state.safetensors");

        // Finish.
        stop = false;
        TrainOptions s3 = live_run(dir_s);
        s3.resume = r2.checkpoint;
        s3.stop_flag = &stop;
        const TrainReport r3 = train(s3);
        REQUIRE(r3.status.ok());
        CHECK_FALSE(r3.stopped);
        CHECK(r3.steps == 2);
        CHECK(r3.epochs_done == 2);

        std::vector<double> losses = r1.losses;
        losses.insert(losses.end(), r2.losses.begin(), r2.losses.end());
        losses.insert(losses.end(), r3.losses.begin(), r3.losses.end());
        REQUIRE(losses.size() == 8);
        for (size_t i = 0; i < 8; ++i) {
            CAPTURE(i);
            CHECK(losses[i] == Approx(ru.losses[i]).epsilon(1e-5));
        }
        const double worst = max_diff(ru.final_weights, r3.final_weights);
        CAPTURE(worst);
        CHECK(worst <= 1e-6);

        SECTION("a mid-epoch checkpoint refuses a run with another number of steps per epoch") {
            TrainOptions bad = live_run(scratch_dir("bad"));
            bad.resume = (mid / "last.safetensors").string();
            bad.batch = 32;
            const TrainReport rb = train(bad);
            REQUIRE_FALSE(rb.status.ok());
            CAPTURE(rb.status.message);
            CHECK(rb.status.message.find("steps per epoch") != std::string::npos);
            CHECK(rb.status.message.find("--batch") != std::string::npos);
        }
    }

    SECTION("a stop flag already set stops before the first step, with a checkpoint to start from") {
        const fs::path dir = scratch_dir("early");
        std::atomic<bool> stop{true};
        TrainOptions o = live_run(dir);
        o.stop_flag = &stop;
        const TrainReport r = train(o);
        REQUIRE(r.status.ok());
        CHECK(r.stopped);
        CHECK(r.steps == 0);
        CHECK(fs::exists(dir / "last.safetensors"));
    }
}
