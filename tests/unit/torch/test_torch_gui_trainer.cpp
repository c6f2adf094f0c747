// test_torch_gui_trainer.cpp: the desktop app's training hooks (native/gui/gui_trainer) without a window:
// a tiny run goes queued -> running -> finished with live points, exports a file core reads back with its
// test accuracy; a second run queues behind a running one; Stop checkpoints mid-run (kStopped), an unfinished
// run exports from its checkpoint in the background, Resume continues the curve; a missing data folder
// fails the run with a message saying where the app looked and how to fix it; old launches' run folders are
// pruned (only those, only when idle past the limit).
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "core/dataset.hpp"
#include "core/network.hpp"
#include "core/quant_config_io.hpp"
#include "core/weights_io.hpp"
#include "native/gui/gui_trainer.hpp"
#include "ui/run_spec.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;
using namespace quantlab::gui;
using ui::parse_run_spec;
using ui::TrainRun;
using ui::TrainState;
namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) { return test::scratch_dir("quantlab_gui_trainer", name); }

GuiTrainerOptions tiny_options(const fs::path& runs) {
    GuiTrainerOptions o;
    o.data_dir = QUANTLAB_DATA_DIR;
    o.data_source = "test";
    o.runs_dir = runs.string();
    o.assets_dir = QUANTLAB_ASSETS_DIR;
    o.threads = 1;
    o.device = trainer::Device::kCpu;
    o.limit_train = 320;  // 4 steps of 64 per epoch
    o.limit_test = 200;
    o.calib_images = 200;
    o.val_every = 2;
    return o;
}

ui::TrainRunConfig tiny_config(int epochs) {
    ui::TrainRunConfig c;
    c.init_weights = "notebook_pretrain.safetensors";  // by name, as the panel passes the loaded weights
    c.epochs = epochs;
    c.batch = 64;
    c.lr = 0.01;
    c.qat = true;
    c.weight_bits = c.act_bits = 4;
    return c;
}

TrainRun run_of(const GuiTrainer& t, int id) {
    for (const TrainRun& r : t.runs())
        if (r.id == id) return r;
    FAIL("no run " << id);
    return {};
}

// Polls until pred holds for the run (the UI's way: a snapshot per frame); fails after `seconds`.
TrainRun wait_for(const GuiTrainer& t, int id, const std::function<bool(const TrainRun&)>& pred, double seconds, const char* what) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    TrainRun r = run_of(t, id);
    while (!pred(r)) {
        if (std::chrono::steady_clock::now() > end) {
            INFO("state " << int(r.state) << ", points " << r.points.size() << ", message: " << r.message);
            FAIL("timed out waiting for " << what);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        r = run_of(t, id);
    }
    return r;
}

}  // namespace

TEST_CASE("gui trainer: the model chooser's choices; a bad description is refused at start with core's message", "[torch][gui_trainer]") {
    const fs::path dir = scratch_dir("model");
    GuiTrainer t(tiny_options(dir / "runs"));
    ui::TrainRunConfig c = tiny_config(1);
    c.init_weights.clear();  // from scratch
    c.model = "wide:9";
    CHECK(t.start(c).message().find("wide:N needs N in 1..8") != std::string::npos);
    c.model = "conv conv1 3 32; relu";
    CHECK(t.start(c).message().find("model description") != std::string::npos);
    c.model = with_classes(notebook_net(), 100).to_text();
    CHECK(t.start(c).message().find("100 outputs but the data has 10 classes") != std::string::npos);
    CHECK(t.runs().empty());
    // wide:2 from scratch trains, and its checkpoint holds the wide net (conv1 with 64 channels).
    c.model = "wide:2";
    c.qat = false;
    Result<int> id = t.start(c);
    REQUIRE(id.ok());
    const TrainRun r = wait_for(t, id.value, [](const TrainRun& x) { return x.state == TrainState::kFinished || x.state == TrainState::kFailed; },
                                300, "the run to end");
    INFO(r.message);
    REQUIRE(r.state == TrainState::kFinished);
    // Points carry the step and the wall time, both increasing.
    for (size_t i = 1; i < r.points.size(); ++i) {
        CHECK(r.points[i].step > r.points[i - 1].step);
        CHECK(r.points[i].seconds >= r.points[i - 1].seconds);
    }
    CHECK(r.points.back().step == 4);
    CHECK(t.runs_dir() == (dir / "runs").string());
    Result<StateDict> ck = read_weights((dir / "runs" / ("run-" + std::to_string(id.value)) / "last.safetensors").string());
    REQUIRE(ck.ok());
    CHECK(ck.value.find("conv1.weight")->shape == Shape{64, 3, 5, 5});
}

TEST_CASE("gui trainer: a run finishes with live points and exports a file core reads", "[torch][gui_trainer]") {
    const fs::path dir = scratch_dir("finish");
    GuiTrainer t(tiny_options(dir / "runs"));
    CHECK(t.device().find("cpu") != std::string::npos);
    CHECK(t.runs().empty());
    CHECK_FALSE(t.busy());

    Result<int> id = t.start(tiny_config(2));
    REQUIRE(id.ok());
    CHECK(t.busy());
    const TrainRun r = wait_for(t, id.value, [](const TrainRun& x) { return x.state == TrainState::kFinished || x.state == TrainState::kFailed; },
                                180, "the run to end");
    INFO(r.message);
    REQUIRE(r.state == TrainState::kFinished);
    CHECK(r.message.find("test accuracy") != std::string::npos);
    REQUIRE(r.points.size() == 8);  // every step of 2 epochs x 4 (tiny runs keep every point)
    int vals = 0;
    for (size_t i = 1; i < r.points.size(); ++i) CHECK(r.points[i].epoch > r.points[i - 1].epoch);
    for (const ui::TrainPoint& p : r.points) {
        CHECK(p.loss > 0);
        CHECK(p.images_per_s > 0);
        vals += p.val_accuracy >= 0;
    }
    CHECK(vals == 4);
    CHECK(r.points.back().epoch == Approx(2.0));
    CHECK(fs::exists(dir / "runs" / ("run-" + std::to_string(id.value)) / "last.safetensors"));
    CHECK_FALSE(t.busy());

    // A finished run exports at once (it was calibrated and evaluated at its end).
    const std::string out = (dir / "out" / "finished.safetensors").string();
    fs::create_directories(dir / "out");
    REQUIRE(t.export_weights(id.value, out).ok());
    Result<StateDict> sd = read_weights(out);
    REQUIRE(sd.ok());
    REQUIRE(sd.value.metadata.count("test_accuracy"));
    CHECK(sd.value.metadata.at("test_images") == "200");
    CHECK(r.message.find(sd.value.metadata.at("test_accuracy")) != std::string::npos);
    Result<NetworkDesc> net = network_for(sd.value, out);
    REQUIRE(net.ok());
    Result<QuantConfig> qc = quant_config_from_json(sd.value.metadata.at("quant_config"), net.value, out);
    REQUIRE(qc.ok());
    CHECK(qc.value.layers.front().weight.bits == 4);
    CHECK(qc.value.act_mode == ActMode::kStatic);
    CHECK(run_of(t, id.value).message.find("exported to " + out) != std::string::npos);

    CHECK_FALSE(t.export_weights(999, out).ok());
    CHECK_FALSE(t.stop(999).ok());
    CHECK_FALSE(t.resume(id.value).ok());  // finished, not stopped
}

TEST_CASE("gui trainer: queue, stop, export from the checkpoint, resume", "[torch][gui_trainer]") {
    const fs::path dir = scratch_dir("stop");
    GuiTrainer t(tiny_options(dir / "runs"));
    Result<int> a = t.start(tiny_config(40));  // 160 steps: long enough to stop mid-run
    REQUIRE(a.ok());
    Result<int> b = t.start(tiny_config(1));
    REQUIRE(b.ok());
    wait_for(t, a.value, [](const TrainRun& x) { return x.points.size() >= 6 || x.state == TrainState::kFailed; }, 120, "run A's first points");
    CHECK(run_of(t, a.value).state == TrainState::kRunning);
    CHECK(run_of(t, b.value).state == TrainState::kQueued);  // one run at a time

    // Stop B while it waits: it never starts.
    REQUIRE(t.stop(b.value).ok());
    CHECK(run_of(t, b.value).state == TrainState::kStopped);

    // Stop A: the trainer finishes its step and checkpoints.
    REQUIRE(t.stop(a.value).ok());
    const TrainRun stopped = wait_for(t, a.value, [](const TrainRun& x) { return x.state != TrainState::kRunning; }, 60, "run A to stop");
    INFO(stopped.message);
    REQUIRE(stopped.state == TrainState::kStopped);
    const fs::path ckpt = dir / "runs" / ("run-" + std::to_string(a.value)) / "last.safetensors";
    CHECK(stopped.message.find(ckpt.string()) != std::string::npos);
    Result<StateDict> ck = read_weights(ckpt.string());
    REQUIRE(ck.ok());
    const double stopped_at = stopped.points.back().epoch;
    CHECK(std::stod(ck.value.metadata.at("checkpoint_step")) == Approx(stopped_at * 4));  // the checkpoint is where the curve ends
    CHECK(stopped_at < 40);
    CHECK_FALSE(t.busy());

    // Export the stopped run: calibrated and evaluated from its checkpoint in the background.
    const std::string out = (dir / "stopped.safetensors").string();
    REQUIRE(t.export_weights(a.value, out).ok());
    const TrainRun exported = wait_for(t, a.value, [](const TrainRun& x) { return x.message.rfind("export", 0) == 0 && x.message.find("...") == std::string::npos; },
                                       120, "the export");
    INFO(exported.message);
    REQUIRE(exported.message.rfind("exported the checkpoint to " + out, 0) == 0);
    Result<StateDict> sd = read_weights(out);
    REQUIRE(sd.ok());
    CHECK(sd.value.metadata.count("test_accuracy") == 1);
    CHECK(sd.value.metadata.count("checkpoint_epoch") == 0);  // a clean export, not a checkpoint
    Result<NetworkDesc> net = network_for(sd.value, out);
    REQUIRE(net.ok());
    CHECK(sd.value.names.size() == net.value.params().size());

    // Resume: the curve continues after the stop point.
    const size_t before = stopped.points.size();
    REQUIRE(t.resume(a.value).ok());
    CHECK(run_of(t, a.value).state != TrainState::kStopped);
    const TrainRun resumed = wait_for(t, a.value, [&](const TrainRun& x) { return x.points.size() >= before + 3 || x.state == TrainState::kFailed; }, 120,
                                      "points after the resume");
    REQUIRE(resumed.state == TrainState::kRunning);
    CHECK(resumed.points[before].epoch == Approx(stopped_at + 0.25));
    for (size_t i = 1; i < resumed.points.size(); ++i) CHECK(resumed.points[i].epoch > resumed.points[i - 1].epoch);

    // Closing the app mid-run: shutdown stops the run after its step and joins the worker.
    const auto t0 = std::chrono::steady_clock::now();
    t.shutdown();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    CHECK(run_of(t, a.value).state == TrainState::kStopped);
    CHECK_FALSE(t.start(tiny_config(1)).ok());
}

TEST_CASE("gui trainer: no data folder fails the run with where it looked and how to fix it", "[torch][gui_trainer]") {
    const fs::path dir = scratch_dir("nodata");
    GuiTrainerOptions o = tiny_options(dir / "runs");
    o.data_dir = (dir / "no-such-folder").string();
    o.data_source = "the per-user cache; neither --data nor $QUANTLAB_DATA was given";
    GuiTrainer t(o);
    Result<int> id = t.start(tiny_config(1));
    REQUIRE(id.ok());
    const TrainRun r = wait_for(t, id.value, [](const TrainRun& x) { return x.state == TrainState::kFailed || x.state == TrainState::kFinished; }, 30,
                                "the run to fail");
    INFO(r.message);
    CHECK(r.state == TrainState::kFailed);
    CHECK(r.message.find(o.data_dir) != std::string::npos);
    CHECK(r.message.find("quantlab data fetch") != std::string::npos);
    CHECK(r.message.find("--data") != std::string::npos);
    CHECK(r.message.find("QUANTLAB_DATA") != std::string::npos);

    // Start weights that cannot be found are refused at once, with a hint.
    ui::TrainRunConfig c = tiny_config(1);
    c.init_weights = "nowhere.safetensors";
    Result<int> bad = t.start(c);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.message().find("nowhere.safetensors") != std::string::npos);
}

TEST_CASE("gui trainer: cutout / jitter / dataset reach TrainOptions; missing CIFAR-100 data is said before Start", "[torch][gui_trainer]") {
    Result<ui::TrainRunConfig> c = parse_run_spec("augment=1,cutout=16,jitter=0.4,dataset=cifar100,init=scratch");
    REQUIRE(c.ok());
    CHECK(c.value.cutout == 16);
    CHECK(c.value.jitter == Approx(0.4));
    CHECK(c.value.dataset == Dataset::kCifar100);

    const fs::path dir = scratch_dir("knobs");
    GuiTrainerOptions go = tiny_options(dir / "runs");
    go.cifar100_dir = (dir / "no-cifar-100").string();
    // From scratch on CIFAR-100: the notebook's net with 100 outputs, CIFAR-100's folder, the augmentation as set.
    Result<trainer::TrainOptions> o = run_options(c.value, go, "", (dir / "run-1").string());
    REQUIRE(o.ok());
    CHECK(o.value.dataset == Dataset::kCifar100);
    CHECK(o.value.data_dir == go.cifar100_dir);
    CHECK(o.value.from_scratch);
    CHECK(o.value.augment_crop);
    CHECK(o.value.augment_flip);
    CHECK(o.value.augment_cutout == 16);
    CHECK(o.value.augment_jitter == Approx(0.4));
    Result<NetworkDesc> net = parse_network(o.value.model_desc);
    REQUIRE(net.ok());
    CHECK(net.value.num_classes() == 100);
    // CIFAR-10 (the default) keeps the CIFAR-10 folder and 10 outputs; no cutout, no jitter by default.
    ui::TrainRunConfig ten = tiny_config(1);
    ten.init_weights.clear();
    Result<trainer::TrainOptions> o10 = run_options(ten, go, "", (dir / "run-2").string());
    REQUIRE(o10.ok());
    CHECK(o10.value.data_dir == go.data_dir);
    CHECK(o10.value.augment_cutout == 0);
    CHECK(o10.value.augment_jitter == 0);
    CHECK(parse_network(o10.value.model_desc).value.num_classes() == 10);

    GuiTrainer t(go);
    CHECK(t.trains_on(Dataset::kCifar100));
    CHECK(t.check_data(Dataset::kCifar10).ok());
    const Status missing = t.check_data(Dataset::kCifar100);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.message.find(go.cifar100_dir) != std::string::npos);
    CHECK(missing.message.find("quantlab data fetch --dataset cifar100") != std::string::npos);
    // An out-of-range cutout is refused at Start with core's message.
    ten.cutout = 40;
    CHECK(t.start(ten).message().find("--cutout: 40") != std::string::npos);
    CHECK(t.runs().empty());
}

TEST_CASE("gui trainer: prune_runs removes only earlier sessions idle for longer than the limit", "[torch][gui]") {
    const fs::path root = scratch_dir("prune");
    const auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 40);
    auto make = [&](const std::string& rel, bool age) {
        const fs::path f = root / rel;
        fs::create_directories(f.parent_path());
        std::ofstream(f) << "checkpoint";
        if (age) {
            fs::last_write_time(f, old);
            for (fs::path d = f.parent_path(); d != root; d = d.parent_path()) fs::last_write_time(d, old);
        }
    };
    make("20240101-101010-42/run-1/last.safetensors", true);      // idle 40 days: goes
    make("20240102-101010-43/run-1/last.safetensors", true);      // idle 40 days, but a run wrote again below
    make("20240102-101010-43/run-2/last.safetensors", false);     // ... today: the session stays
    make("20991231-235959-7/run-1/last.safetensors", false);      // written today: stays
    make("my-notes/keep.txt", true);                               // not a session folder: stays however old
    CHECK(prune_runs(root.string(), 0).empty());                   // 0 keeps everything
    CHECK(fs::exists(root / "20240101-101010-42"));
    const std::vector<std::string> gone = prune_runs(root.string(), 30);
    REQUIRE(gone.size() == 1);
    CHECK(fs::path(gone[0]).filename() == "20240101-101010-42");
    CHECK_FALSE(fs::exists(root / "20240101-101010-42"));
    CHECK(fs::exists(root / "20240102-101010-43/run-1/last.safetensors"));
    CHECK(fs::exists(root / "20991231-235959-7"));
    CHECK(fs::exists(root / "my-notes/keep.txt"));
    CHECK(prune_runs((root / "no such folder").string(), 30).empty());
}
