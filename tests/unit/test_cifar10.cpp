// test_cifar10.cpp: CIFAR-10 binary reading against the shared data folder (first bytes checked with
// `od -A d -t u1 -N 8 test_batch.bin`: 3 158 159 165 ...; record 1 starts with label 8), normalization
// against torch's float32 arithmetic, bad files, and the data-folder lookup order.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "tests/support/float_bits.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;
using quantlab::test::float_bits;

namespace {

std::vector<uint8_t> records(int n, uint8_t label = 3) {
    std::vector<uint8_t> b(size_t(n) * 3073, 100);
    for (int i = 0; i < n; ++i) b[size_t(i) * 3073] = label;
    return b;
}

// Restores one environment variable when the scope ends, so sections do not leak settings.
struct EnvGuard {
    std::string name;
    bool had;
    std::string old;
    explicit EnvGuard(const char* n) : name(n) {
        const char* v = std::getenv(n);
        had = v != nullptr;
        if (v) old = v;
    }
    ~EnvGuard() {
        if (had)
            setenv(name.c_str(), old.c_str(), 1);
        else
            unsetenv(name.c_str());
    }
};

}  // namespace

TEST_CASE("cifar10: the shared test batch", "[cifar10]") {
    const std::string dir = QUANTLAB_DATA_DIR;
    SECTION("10,000 images; first label is 3 (cat), second 8 (ship); first pixels as od shows") {
        auto r = read_cifar10_test(dir);
        REQUIRE(r.ok());
        const Cifar10& c = r.value;
        CHECK(c.count == 10000);
        CHECK(c.labels.size() == 10000);
        CHECK(c.pixels.size() == size_t(10000) * 3072);
        CHECK(int(c.labels[0]) == 3);
        CHECK(std::string(kCifar10Classes[c.labels[0]]) == "cat");
        CHECK(int(c.labels[1]) == 8);
        CHECK(std::vector<uint8_t>(c.pixels.begin(), c.pixels.begin() + 7) ==
              std::vector<uint8_t>{158, 159, 165, 166, 160, 156, 162});
        CHECK(int(c.pixels[1024]) == 112);  // G plane of image 0 (od -j 1025: 112)
        CHECK(std::vector<uint8_t>(c.pixels.begin() + 3072, c.pixels.begin() + 3075) ==
              std::vector<uint8_t>{235, 231, 232});
    }
    SECTION("max_images reads only the first records") {
        auto r = read_cifar10_batch(dir + "/test_batch.bin", 2);
        REQUIRE(r.ok());
        CHECK(r.value.count == 2);
        CHECK(r.value.pixels.size() == 2 * 3072);
        CHECK(int(r.value.labels[1]) == 8);
    }
    SECTION("the training set is five batches, 5,000 images per class") {
        auto r = read_cifar10_train(dir);
        REQUIRE(r.ok());
        CHECK(r.value.count == 50000);
        std::vector<int> per_class(10, 0);
        for (uint8_t l : r.value.labels) per_class[l]++;
        CHECK(per_class == std::vector<int>(10, 5000));
    }
}

TEST_CASE("cifar10: normalize_images matches ToTensor + Normalize(0.5, 0.5)", "[cifar10]") {
    // torch 1.13: ((torch.tensor([0,1,128,158,254,255], dtype=torch.uint8).float().div(255)) - 0.5).div(0.5),
    // printed as float32 bit patterns.
    Cifar10 c;
    c.count = 2;
    c.labels = {0, 1};
    c.pixels.assign(2 * 3072, 0);
    const uint8_t px[] = {0, 1, 128, 158, 254, 255};
    const uint32_t expect[] = {0xbf800000u, 0xbf7dfdfeu, 0x3b808100u, 0x3e74f4f8u, 0x3f7dfdfeu, 0x3f800000u};
    for (int i = 0; i < 6; ++i) c.pixels[size_t(3072 + 1024 * (i % 3) + i)] = px[i];
    SECTION("bit-exact values, CHW planes kept") {
        std::vector<float> out(3072, 42.0f);
        normalize_images(c, 1, 1, out.data());
        for (int i = 0; i < 6; ++i) CHECK(float_bits(out[size_t(1024 * (i % 3) + i)]) == expect[i]);
        CHECK(out[7] == -1.0f);
    }
    SECTION("a range past the end leaves those slots untouched") {
        std::vector<float> out(2 * 3072, 42.0f);
        normalize_images(c, 1, 2, out.data());
        CHECK(out[3071] == -1.0f);
        CHECK(out[3072] == 42.0f);
    }
}

TEST_CASE("cifar10: bad input", "[cifar10]") {
    SECTION("size not a multiple of 3073") {
        auto b = records(2);
        b.pop_back();
        auto r = read_cifar10_bytes(b.data(), b.size(), "short.bin");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("short.bin") && Catch::Contains("6145") && Catch::Contains("3073"));
    }
    SECTION("empty") {
        auto r = read_cifar10_bytes(nullptr, 0, "empty.bin");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("file size 0"));
    }
    SECTION("label 11 names the record") {
        auto b = records(3);
        b[2 * 3073] = 11;
        auto r = read_cifar10_bytes(b.data(), b.size(), "bad.bin");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("record 2") && Catch::Contains("label 11"));
        // The check without the copy (the page hands its training images on to a worker) says the same.
        auto c = check_dataset_bytes(b.data(), b.size(), Dataset::kCifar10, "bad.bin");
        REQUIRE_FALSE(c.ok());
        CHECK(c.message() == r.message());
        b[2 * 3073] = 9;
        auto ok = check_dataset_bytes(b.data(), b.size(), Dataset::kCifar10, "bad.bin");
        REQUIRE(ok.ok());
        CHECK(ok.value == 3);
        b.pop_back();
        CHECK(check_dataset_bytes(b.data(), b.size(), Dataset::kCifar10, "short.bin").message() ==
              read_cifar10_bytes(b.data(), b.size(), "short.bin").message());
    }
    SECTION("bytes in memory read like a file") {
        auto b = records(3, 9);
        auto r = read_cifar10_bytes(b.data(), b.size(), "ok.bin", 2);
        REQUIRE(r.ok());
        CHECK(r.value.count == 2);
        CHECK(r.value.labels == std::vector<uint8_t>{9, 9});
    }
    SECTION("a folder that does not exist") {
        auto r = read_cifar10_test("/tmp/quantlab_no_such_folder");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("does not exist") && Catch::Contains("quantlab data fetch") &&
                                    Catch::Contains("QUANTLAB_DATA"));
    }
    SECTION("a folder missing a batch lists what it holds") {
        const std::string dir = "/tmp/quantlab_test_cifar_partial";
        std::filesystem::create_directories(dir);
        {
            std::ofstream(dir + "/data_batch_1.bin", std::ios::binary)
                .write(reinterpret_cast<const char*>(records(1).data()), 3073);
        }
        auto r = read_cifar10_train(dir);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("data_batch_2.bin") && Catch::Contains("holds: data_batch_1.bin") &&
                                    Catch::Contains("--data"));
        std::filesystem::remove_all(dir);
    }
}

TEST_CASE("cifar10: data folder lookup", "[cifar10]") {
    EnvGuard g1("QUANTLAB_DATA"), g2("XDG_CACHE_HOME"), g3("HOME");
    SECTION("--data wins") {
        setenv("QUANTLAB_DATA", "/env/dir", 1);
        CHECK(find_data_dir("/cli/dir") == "/cli/dir");
    }
    SECTION("then QUANTLAB_DATA") {
        setenv("QUANTLAB_DATA", "/env/dir", 1);
        CHECK(find_data_dir("") == "/env/dir");
    }
    SECTION("then $XDG_CACHE_HOME/quantlab/cifar-10-batches-bin") {
        unsetenv("QUANTLAB_DATA");
        setenv("XDG_CACHE_HOME", "/xdg", 1);
        CHECK(find_data_dir("") == "/xdg/quantlab/cifar-10-batches-bin");
    }
    SECTION("else ~/.cache/quantlab/cifar-10-batches-bin") {
        unsetenv("QUANTLAB_DATA");
        unsetenv("XDG_CACHE_HOME");
        setenv("HOME", "/home/student", 1);
        CHECK(find_data_dir("") == "/home/student/.cache/quantlab/cifar-10-batches-bin");
        CHECK(default_data_cache_dir() == "/home/student/.cache/quantlab/cifar-10-batches-bin");
    }
    SECTION("the test set: --data or $QUANTLAB_DATA even when bad, the cache only when it holds test_batch.bin") {
        const std::filesystem::path cache = test::scratch_dir("test_cifar10", "xdg");
        const std::filesystem::path found = cache / "quantlab" / "cifar-10-batches-bin";
        unsetenv("QUANTLAB_DATA");
        setenv("XDG_CACHE_HOME", cache.c_str(), 1);
        TestSetChoice c = choose_test_set("");  // empty cache: the bundled sample
        CHECK_FALSE(c.use_dir);
        CHECK_FALSE(c.explicit_dir);
        CHECK(c.dir == found.string());
        CHECK(c.source == "the per-user cache");
        std::filesystem::create_directories(found);
        c = choose_test_set("");  // a folder without test_batch.bin is not a test set
        CHECK_FALSE(c.use_dir);
        std::ofstream(found / "test_batch.bin", std::ios::binary).write(reinterpret_cast<const char*>(records(1).data()), 3073);
        c = choose_test_set("");
        CHECK(c.use_dir);
        CHECK(c.dir == found.string());
        setenv("QUANTLAB_DATA", "/no/such/env/dir", 1);  // explicit: chosen even though it does not exist
        c = choose_test_set("");
        CHECK(c.use_dir);
        CHECK(c.explicit_dir);
        CHECK(c.dir == "/no/such/env/dir");
        CHECK(c.source == "from $QUANTLAB_DATA");
        c = choose_test_set("/no/such/cli/dir");
        CHECK(c.use_dir);
        CHECK(c.dir == "/no/such/cli/dir");
        CHECK(c.source == "given with --data");
        setenv("QUANTLAB_DATA", "", 1);  // set but empty: not a folder, as find_data_dir reads it
        c = choose_test_set("");
        CHECK_FALSE(c.explicit_dir);
        CHECK(c.dir == found.string());
        std::filesystem::remove_all(cache);
    }
    SECTION("class names") {
        CHECK(std::string(kCifar10Classes[0]) == "airplane");
        CHECK(std::string(kCifar10Classes[9]) == "truck");
    }
}
