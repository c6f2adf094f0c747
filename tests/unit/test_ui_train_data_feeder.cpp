// test_ui_train_data_feeder.cpp: the desktop app's training images for core's trainer (ui/train_data_feeder):
// a folder's data_batch_1..5.bin, those present, concatenated in order (byte for byte) and named; a folder without
// them fails naming it; dropped files told apart by name and read in name order; and the feeder hands a folder's
// images to a CoreTrainer when a run asks for them, or fails the run with the folder's message.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/cifar10.hpp"
#include "tests/support/test_files.hpp"
#include "ui/train_data_feeder.hpp"

#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define QUANTLAB_TEST_THREADS 1
#endif

using namespace quantlab;
using namespace quantlab::ui;
namespace fs = std::filesystem;

namespace {

// `count` CIFAR-10 records with label `label`, pixel bytes label + the record's index (mod 256); returns the bytes.
std::vector<uint8_t> write_batch(const fs::path& path, uint8_t label, int count) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < count; ++i) {
        bytes.push_back(label);
        bytes.insert(bytes.end(), size_t(kCifar10ImageBytes), uint8_t(label + i));
    }
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return bytes;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("train batches: the folder's data_batch files, those present, in order", "[ui][train_data_feeder]") {
    SECTION("some of the five: concatenated in number order, named one by one") {
        const fs::path dir = test::scratch_dir("quantlab_train_data", "some");
        const std::vector<uint8_t> b5 = write_batch(dir / "data_batch_5.bin", 5, 1);
        const std::vector<uint8_t> b1 = write_batch(dir / "data_batch_1.bin", 1, 3);
        const std::vector<uint8_t> b2 = write_batch(dir / "data_batch_2.bin", 2, 2);
        write_batch(dir / "test_batch.bin", 9, 1);  // not a training file
        Result<TrainBatches> r = read_train_batches(dir.string(), "given with --data");
        REQUIRE(r.ok());
        CHECK(r.value.bytes == concat({b1, b2, b5}));
        CHECK(r.value.name == "data_batch_1.bin, data_batch_2.bin, data_batch_5.bin in " + dir.string());
    }
    SECTION("all five: one short name") {
        const fs::path dir = test::scratch_dir("quantlab_train_data", "all");
        std::vector<uint8_t> all;
        for (int i = 1; i <= 5; ++i) {
            const std::vector<uint8_t> b = write_batch(dir / ("data_batch_" + std::to_string(i) + ".bin"), uint8_t(i), 1);
            all.insert(all.end(), b.begin(), b.end());
        }
        Result<TrainBatches> r = read_train_batches(dir.string(), "given with --data");
        REQUIRE(r.ok());
        CHECK(r.value.bytes == all);
        CHECK(r.value.name == "data_batch_1..5.bin in " + dir.string());
    }
    SECTION("none, or no folder: the message names the folder, how it was chosen, the files and the fix") {
        const fs::path dir = test::scratch_dir("quantlab_train_data", "none");
        write_batch(dir / "test_batch.bin", 1, 1);
        for (const fs::path& d : {dir, dir / "missing"}) {
            Result<TrainBatches> r = read_train_batches(d.string(), "from $QUANTLAB_DATA");
            REQUIRE_FALSE(r.ok());
            CHECK(r.message().find("no CIFAR-10 training images in " + d.string() + " (from $QUANTLAB_DATA)") != std::string::npos);
            CHECK(r.message().find("data_batch_1.bin") != std::string::npos);
            CHECK(r.message().find("quantlab data fetch") != std::string::npos);
        }
    }
}

TEST_CASE("train batches: dropped files told apart by name, read in name order", "[ui][train_data_feeder]") {
    CHECK(is_train_batch_name("data_batch_1.bin"));
    CHECK(is_train_batch_name("/some/where/DATA_BATCH_12.BIN"));
    CHECK_FALSE(is_train_batch_name("data_batch_.bin"));
    CHECK_FALSE(is_train_batch_name("data_batch_x.bin"));
    CHECK_FALSE(is_train_batch_name("data_batch_1.bin.gz"));
    CHECK_FALSE(is_train_batch_name("test_batch.bin"));
    CHECK_FALSE(is_train_batch_name("data_batch_1.bin/other.safetensors"));

    const fs::path a = test::scratch_dir("quantlab_train_data", "drop_a"), b = test::scratch_dir("quantlab_train_data", "drop_b");
    const std::vector<uint8_t> b3 = write_batch(a / "data_batch_3.bin", 3, 1);
    const std::vector<uint8_t> b1 = write_batch(b / "data_batch_1.bin", 1, 2);
    Result<TrainBatches> r = read_batch_files({(a / "data_batch_3.bin").string(), (b / "data_batch_1.bin").string()});
    REQUIRE(r.ok());
    CHECK(r.value.bytes == concat({b1, b3}));
    CHECK(r.value.name == "data_batch_1.bin + data_batch_3.bin");
    Result<TrainBatches> bad = read_batch_files({(a / "data_batch_3.bin").string(), (a / "data_batch_4.bin").string()});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.message().find("cannot read " + (a / "data_batch_4.bin").string()) != std::string::npos);
}

#ifdef QUANTLAB_TEST_THREADS
TEST_CASE("train data feeder: a run's request is answered from the folder, or fails the run naming it", "[ui][train_data_feeder]") {
    CoreTrainerOptions o;
    o.threaded = true;
    o.device = "test";
    TrainRunConfig c;  // from scratch: no loaded model needed
    c.init_weights.clear();
    c.epochs = 1;
    c.batch = 4;
    // Polls as the frame loop does until `done` holds (the limit only keeps a broken build from hanging).
    auto poll_until = [](TrainDataFeeder& f, auto done) {
        for (int i = 0; i < 30000 && !done(); ++i) {
            f.poll();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return done();
    };
    SECTION("images there") {
        const fs::path dir = test::scratch_dir("quantlab_train_data", "feed");
        write_batch(dir / "data_batch_1.bin", 1, 6);
        write_batch(dir / "data_batch_2.bin", 2, 4);
        CoreTrainer t(o);
        TrainDataFeeder f(&t, dir.string(), "given with --data");
        f.poll();  // nothing asked yet: nothing read
        CHECK(t.train_images() == 0);
        REQUIRE(t.start(c).ok());
        CHECK(t.wants_train_data());
        REQUIRE(poll_until(f, [&] { return t.train_images() > 0; }));
        CHECK(t.train_images() == 10);
        CHECK_FALSE(t.wants_train_data());
        CHECK(t.train_data_label().find("data_batch_1.bin, data_batch_2.bin in " + dir.string()) != std::string::npos);
    }
    SECTION("no training files: the waiting run fails with the folder's message") {
        const fs::path dir = test::scratch_dir("quantlab_train_data", "feed_none");
        CoreTrainer t(o);
        TrainDataFeeder f(&t, dir.string(), "given with --data");
        Result<int> id = t.start(c);
        REQUIRE(id.ok());
        REQUIRE(poll_until(f, [&] { return t.runs().at(0).state == TrainState::kFailed; }));
        CHECK(t.runs().at(0).message.find("no CIFAR-10 training images in " + dir.string()) != std::string::npos);
        CHECK(t.train_images() == 0);
    }
}
#endif
