// test_ui_remote_trainer.cpp: the single-threaded page's training through a worker (ui::RemoteTrainer in the page,
// ui::TrainerHost in the worker), the two ends connected here by message queues as postMessage connects them:
// the same weight file to the byte and the same curves as core's trainer run in place (ui::CoreTrainer), also
// across a stop and a resume; the worker starts only with the first run; what the trainer refuses, bad training
// images and a worker that dies become failed runs with their messages. Three steps of batch 8 on the bundled images.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cifar10.hpp"
#include "core/file_io.hpp"
#include "tests/support/bundled_model.hpp"
#include "ui/core_trainer.hpp"
#include "ui/remote_trainer.hpp"
#include "ui/trainer_host.hpp"

using namespace quantlab;

namespace {

// The notebook's pretrained network (tests/support/bundled_model.hpp), shared as the app hands it over.
std::shared_ptr<const Model> bundled_model() { return std::make_shared<const Model>(test::bundled_model()); }

std::vector<uint8_t> sample_bytes(int64_t n, int64_t skip = 0) {
    Result<std::vector<uint8_t>> b = read_file_bytes(std::string(QUANTLAB_ASSETS_DIR) + "/cifar10_test_1000.bin", "sample");
    REQUIRE(b.ok());
    return std::vector<uint8_t>(b.value.begin() + skip * kCifar10RecordBytes, b.value.begin() + (skip + n) * kCifar10RecordBytes);
}

constexpr int64_t kImages = 40, kSteps = 3;

ui::TrainRunConfig w4a4_config() {
    ui::TrainRunConfig c;
    c.epochs = 2;
    c.batch = 8;
    c.lr = 0.01;
    c.qat = true;
    c.weight_bits = c.act_bits = 4;
    c.quant.rule = RangeRule::kMse;
    c.quant.symmetric = false;
    c.quant.per_channel = true;
    c.init_weights = "loaded";
    return c;
}

// The page's end and the worker's, joined by two queues (what postMessage does between the page and its Worker).
struct Link {
    using Message = std::pair<std::string, std::vector<uint8_t>>;
    std::deque<Message> to_worker, to_page;
    int sent = 0;
    ui::TrainerHost host{[this](const std::string& json, std::vector<uint8_t> bytes) { to_page.emplace_back(json, std::move(bytes)); }};
    ui::RemoteTrainer page{options()};
    std::vector<uint8_t> saved;

    ui::RemoteTrainerOptions options() {
        ui::RemoteTrainerOptions o;
        o.device = "browser, core engine, Web Worker";
        o.send = [this](const std::string& json, const uint8_t* bytes, size_t size) {
            to_worker.emplace_back(json, std::vector<uint8_t>(bytes, bytes + size));
            ++sent;
        };
        o.save_file = [this](const std::string&, const std::vector<uint8_t>& bytes) {
            saved = bytes;
            return Status::success();
        };
        return o;
    }
    void deliver() {
        while (!to_worker.empty() || !to_page.empty()) {
            for (; !to_worker.empty(); to_worker.pop_front()) host.receive(to_worker.front().first, to_worker.front().second.data(), to_worker.front().second.size());
            for (; !to_page.empty(); to_page.pop_front()) page.receive(to_page.front().first, to_page.front().second.data(), to_page.front().second.size());
        }
    }
    // The worker's loop: a slice of training, then its messages to the page.
    void work(double ms) {
        deliver();
        host.work(ms);
        deliver();
    }
    void run_out() {
        for (int i = 0; i < 100000 && page.busy(); ++i) work(5);
        REQUIRE_FALSE(page.busy());
    }
    ui::TrainRun run(int id) const {
        for (const ui::TrainRun& r : page.runs())
            if (r.id == id) return r;
        FAIL("no run " << id);
        return {};
    }
};

// Two .safetensors files: the same header (tensors and metadata) and the same bytes (readable on failure).
void check_same_file(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
    REQUIRE(got.size() >= 8);
    REQUIRE(want.size() >= 8);
    const auto header = [](const std::vector<uint8_t>& b) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = n * 256 + b[size_t(i)];
        return std::string(b.begin() + 8, b.begin() + 8 + std::min<uint64_t>(n, b.size() - 8));
    };
    CHECK(header(got) == header(want));
    CHECK((got == want));
}

// Core's trainer in place (the threads page's way), for the same run.
std::vector<uint8_t> in_place(const std::shared_ptr<const Model>& model, std::shared_ptr<const Cifar10> test, const std::vector<uint8_t>& bytes,
                              std::vector<ui::TrainPoint>* points) {
    ui::CoreTrainerOptions o;
    o.threaded = false;
    ui::CoreTrainer t(o);
    t.set_test_options(-1, kSteps, 50, 1);
    t.set_loaded(model, "notebook_pretrain.safetensors", std::move(test));
    REQUIRE(t.set_train_data("sample", bytes).ok());
    Result<int> id = t.start(w4a4_config());
    REQUIRE(id.ok());
    for (int i = 0; i < 100000 && t.busy(); ++i) t.pump(5);
    REQUIRE(t.runs().front().state == ui::TrainState::kFinished);
    *points = t.runs().front().points;
    Result<std::vector<uint8_t>> w = t.weights_file(id.value);
    REQUIRE(w.ok());
    return w.value;
}

}  // namespace

TEST_CASE("RemoteTrainer + TrainerHost: the weights and curves of core's trainer in place, through messages", "[ui][remote_trainer]") {
    const std::shared_ptr<const Model> model = bundled_model();
    const std::vector<uint8_t> bytes = sample_bytes(kImages);
    const std::vector<uint8_t> test_bytes = sample_bytes(16, 100);
    auto test = std::make_shared<const Cifar10>(read_cifar10_bytes(test_bytes.data(), test_bytes.size(), "test").value);
    std::vector<ui::TrainPoint> want_points;
    const std::vector<uint8_t> want = in_place(model, test, bytes, &want_points);

    Link link;
    link.page.set_test_options(-1, kSteps, 50, 1);
    link.page.set_loaded(model, "notebook_pretrain.safetensors", test);
    CHECK(link.sent == 0);  // no worker before the first run
    CHECK(link.page.train_data_label().find("fetched when the first run starts") != std::string::npos);
    CHECK(link.page.device() == "browser, core engine, Web Worker");

    SECTION("a W4A4 run: waits for the images, trains, the same file and curves") {
        Result<int> id = link.page.start(w4a4_config());
        REQUIRE(id.ok());
        CHECK(link.sent > 0);
        link.work(5);
        CHECK(link.page.wants_train_data());
        CHECK(link.run(id.value).state == ui::TrainState::kQueued);
        REQUIRE(link.page.set_train_data("sample", bytes.data(), bytes.size()).ok());
        CHECK_FALSE(link.page.wants_train_data());
        CHECK(link.page.train_data_label() == "Training images: sample (40 images).");
        link.run_out();
        const ui::TrainRun r = link.run(id.value);
        REQUIRE(r.state == ui::TrainState::kFinished);
        CHECK(r.message.find("finished: test accuracy") != std::string::npos);
        Result<std::vector<uint8_t>> got = link.page.weights_file(id.value);
        REQUIRE(got.ok());
        check_same_file(got.value, want);
        REQUIRE(r.points.size() == want_points.size());
        for (size_t i = 0; i < r.points.size(); ++i) {
            INFO("point " << i);
            CHECK(r.points[i].epoch == want_points[i].epoch);
            CHECK(r.points[i].step == want_points[i].step);
            CHECK(r.points[i].loss == want_points[i].loss);
            CHECK(r.points[i].val_accuracy == want_points[i].val_accuracy);
            CHECK(r.points[i].test_accuracy == want_points[i].test_accuracy);
        }
        const nlohmann::json s = nlohmann::json::parse(link.page.status_json());
        CHECK(s["train_images"] == kImages);
        CHECK(s["busy"] == false);
        CHECK(s["runs"][0]["id"] == id.value);
        CHECK(s["runs"][0]["state"] == "finished");
        CHECK(s["runs"][0]["steps"] == kSteps);
        CHECK(s["runs"][0]["test"].get<double>() >= 0);
        // Download: the page saves the bytes and says so; the worker's next message does not overwrite it.
        REQUIRE(link.page.export_weights(id.value, "run.safetensors").ok());
        check_same_file(link.saved, want);
        link.work(5);
        CHECK(link.run(id.value).message == "downloaded as run.safetensors");
    }
    SECTION("stopped after a step and resumed: the same weights; weights are there while it runs") {
        REQUIRE(link.page.set_train_data("sample", bytes.data(), bytes.size()).ok());
        Result<int> id = link.page.start(w4a4_config());
        REQUIRE(id.ok());
        CHECK_FALSE(link.page.weights_file(id.value).ok());  // not a step yet
        link.work(0);  // begins the run (the start model's accuracies)
        link.work(0);  // the test batch
        link.work(0);  // one step
        CHECK(link.run(id.value).state == ui::TrainState::kRunning);
        CHECK(link.page.weights_file(id.value).ok());  // Use works while it runs
        REQUIRE(link.page.stop(id.value).ok());
        link.work(0);
        REQUIRE(link.run(id.value).state == ui::TrainState::kStopped);
        CHECK_FALSE(link.page.stop(id.value).ok());
        REQUIRE(link.page.resume(id.value).ok());
        link.run_out();
        REQUIRE(link.run(id.value).state == ui::TrainState::kFinished);
        Result<std::vector<uint8_t>> got = link.page.weights_file(id.value);
        REQUIRE(got.ok());
        check_same_file(got.value, want);
    }
}

TEST_CASE("RemoteTrainer + TrainerHost: refusals, bad images and a dead worker are failed runs with messages", "[ui][remote_trainer]") {
    Link link;
    link.page.set_loaded(bundled_model(), "notebook_pretrain.safetensors", nullptr);

    SECTION("bits the trainer refuses") {
        REQUIRE(link.page.set_train_data("sample", sample_bytes(kImages).data(), size_t(kImages * kCifar10RecordBytes)).ok());
        ui::TrainRunConfig c = w4a4_config();
        c.weight_bits = 99;
        Result<int> id = link.page.start(c);
        REQUIRE(id.ok());
        link.work(5);
        CHECK(link.run(id.value).state == ui::TrainState::kFailed);
        CHECK(link.run(id.value).message.find("QAT bits must be") != std::string::npos);
        CHECK_FALSE(link.page.busy());
        // The next run still trains (the ids stay apart).
        link.page.set_test_options(-1, 1, 50, 1);
        Result<int> next = link.page.start(w4a4_config());
        REQUIRE(next.ok());
        link.run_out();
        CHECK(link.run(next.value).state == ui::TrainState::kFinished);
        CHECK(link.run(id.value).state == ui::TrainState::kFailed);
    }
    SECTION("training bytes that are not CIFAR-10 records") {
        Result<int> id = link.page.start(w4a4_config());
        REQUIRE(id.ok());
        std::vector<uint8_t> junk(1000, 7);
        Status s = link.page.set_train_data("junk.bin", junk.data(), junk.size());
        REQUIRE_FALSE(s.ok());
        CHECK(s.message.find("junk.bin") != std::string::npos);
        link.work(5);
        CHECK(link.run(id.value).state == ui::TrainState::kFailed);
        CHECK(link.run(id.value).message.find("junk.bin") != std::string::npos);
    }
    SECTION("a worker that could not start") {
        Result<int> id = link.page.start(w4a4_config());
        REQUIRE(id.ok());
        link.page.worker_failed("train_worker.js could not be loaded");
        CHECK(link.run(id.value).state == ui::TrainState::kFailed);
        CHECK(link.run(id.value).message.find("train_worker.js") != std::string::npos);
        CHECK_FALSE(link.page.busy());
        link.work(5);  // what the worker still says changes nothing
        CHECK(link.run(id.value).state == ui::TrainState::kFailed);
        Result<int> next = link.page.start(w4a4_config());  // nothing to train it: failed at once, with the reason
        REQUIRE(next.ok());
        CHECK(link.run(next.value).state == ui::TrainState::kFailed);
        CHECK(link.run(next.value).message.find("train_worker.js") != std::string::npos);
    }
    SECTION("a message the worker cannot read is reported, not thrown") {
        Result<int> id = link.page.start(w4a4_config());
        REQUIRE(id.ok());
        link.host.receive("{\"op\": \"start\", \"id\": \"two\"}", nullptr, 0);
        link.host.receive("not json", nullptr, 0);
        link.deliver();
        CHECK(link.run(id.value).state == ui::TrainState::kFailed);
        CHECK(link.run(id.value).message.find("training worker") != std::string::npos);
    }
}
