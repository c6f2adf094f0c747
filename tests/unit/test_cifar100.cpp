// test_cifar100.cpp: the CIFAR-100 binary reader (dataset.hpp) on small files written here (there is no
// CIFAR-100 data on the build machines): records of coarse label, fine label and 3072 pixel bytes with known
// values, a truncated file, a CIFAR-10 batch given as CIFAR-100 and the reverse, labels out of range, and the
// dataset names, class names and folders.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/dataset.hpp"
#include "core/network.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;

namespace {

// n CIFAR-100 records: record i has coarse label i % 20, fine label (7 * i) % 100 and pixel k = (i + k) % 251,
// so every image and both labels are told apart.
std::vector<uint8_t> cifar100_records(int n) {
    std::vector<uint8_t> b(size_t(n) * 3074);
    for (int i = 0; i < n; ++i) {
        uint8_t* r = b.data() + size_t(i) * 3074;
        r[0] = uint8_t(i % 20);
        r[1] = uint8_t((7 * i) % 100);
        for (int k = 0; k < 3072; ++k) r[2 + k] = uint8_t((i + k) % 251);
    }
    return b;
}

std::string write(const std::filesystem::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string path = (dir / name).string();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return path;
}

}  // namespace

TEST_CASE("cifar100: dataset names, class counts and class names", "[cifar100]") {
    CHECK(std::string(dataset_name(Dataset::kCifar100)) == "cifar100");
    CHECK(std::string(dataset_name(Dataset::kCifar10)) == "cifar10");
    REQUIRE(parse_dataset("cifar100").ok());
    CHECK(parse_dataset("cifar100").value == Dataset::kCifar100);
    CHECK(parse_dataset("cifar10").value == Dataset::kCifar10);
    const Result<Dataset> bad = parse_dataset("CIFAR100");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.message(), Catch::Contains("'CIFAR100'") && Catch::Contains("cifar10 or cifar100"));
    const DatasetInfo& d = dataset_info(Dataset::kCifar100);
    CHECK(d.classes == 100);
    CHECK(d.record_bytes() == 3074);
    CHECK(dataset_info(Dataset::kCifar10).record_bytes() == 3073);
    CHECK(std::string(d.archive_md5) == "03b5dce01913d631647c71ecec9e9cb8");
    CHECK(std::string(d.folder) == "cifar-100-binary");
    // fine_label_names.txt: line 1 apple, line 100 worm, alphabetical.
    CHECK(dataset_class_name(Dataset::kCifar100, 0) == "apple");
    CHECK(dataset_class_name(Dataset::kCifar100, 99) == "worm");
    CHECK(dataset_class_name(Dataset::kCifar100, 100) == "100");
    for (int c = 1; c < 100; ++c) CHECK(dataset_class_name(Dataset::kCifar100, c - 1) < dataset_class_name(Dataset::kCifar100, c));
    CHECK(dataset_class_name(Dataset::kCifar10, 9) == "truck");
    CHECK(std::filesystem::path(default_dataset_cache_dir(Dataset::kCifar100)).filename() == "cifar-100-binary");
    CHECK(std::filesystem::path(default_dataset_cache_dir(Dataset::kCifar100)).parent_path() ==
          std::filesystem::path(default_data_cache_dir()).parent_path());
    CHECK(find_dataset_dir("/x/y", Dataset::kCifar100) == "/x/y");
    CHECK(find_dataset_dir("", Dataset::kCifar100) == default_dataset_cache_dir(Dataset::kCifar100));  // never $QUANTLAB_DATA
}

TEST_CASE("cifar100: reads fine labels and pixels of a small file", "[cifar100]") {
    const auto dir = test::scratch_dir("cifar100", "small");
    write(dir, "test.bin", cifar100_records(5));
    const Result<Cifar10> r = read_dataset_test(dir.string(), Dataset::kCifar100);
    REQUIRE(r.ok());
    REQUIRE(r.value.count == 5);
    REQUIRE(r.value.pixels.size() == size_t(5 * 3072));
    for (int i = 0; i < 5; ++i) {
        CHECK(int(r.value.labels[size_t(i)]) == (7 * i) % 100);  // the fine label, not the coarse one
        for (int k : {0, 1, 1023, 1024, 3071}) CHECK(int(r.value.pixels[size_t(i) * 3072 + size_t(k)]) == (i + k) % 251);
    }
    // max_images, and the same bytes from memory.
    const Result<Cifar10> two = read_dataset_file((dir / "test.bin").string(), Dataset::kCifar100, 2);
    REQUIRE(two.ok());
    CHECK(two.value.count == 2);
    const std::vector<uint8_t> bytes = cifar100_records(3);
    const Result<Cifar10> mem = read_dataset_bytes(bytes.data(), bytes.size(), Dataset::kCifar100, "mem");
    REQUIRE(mem.ok());
    CHECK(mem.value.count == 3);
    CHECK(int(mem.value.labels[2]) == 14);
    // The training file is train.bin.
    write(dir, "train.bin", cifar100_records(4));
    const Result<Cifar10> tr = read_dataset_train(dir.string(), Dataset::kCifar100);
    REQUIRE(tr.ok());
    CHECK(tr.value.count == 4);
    std::filesystem::remove_all(dir);
}

TEST_CASE("cifar100: bad files give messages that name the file and the problem", "[cifar100]") {
    const auto dir = test::scratch_dir("cifar100", "bad");
    SECTION("truncated: the sizes are named") {
        std::vector<uint8_t> b = cifar100_records(3);
        b.resize(b.size() - 100);  // 9122 bytes: 2 records and 2974 bytes over
        const std::string path = write(dir, "test.bin", b);
        const Result<Cifar10> r = read_dataset_file(path, Dataset::kCifar100);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains(path) && Catch::Contains("9122") && Catch::Contains("3074") &&
                                    Catch::Contains("2 whole records and 2974 bytes over") && Catch::Contains("truncated"));
    }
    SECTION("a CIFAR-10 batch given as CIFAR-100 says it looks like CIFAR-10") {
        std::vector<uint8_t> b(size_t(4) * 3073, 50);
        for (int i = 0; i < 4; ++i) b[size_t(i) * 3073] = uint8_t(i);
        const std::string path = write(dir, "test_batch.bin", b);
        const Result<Cifar10> r = read_dataset_file(path, Dataset::kCifar100);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains(path) && Catch::Contains("12292") && Catch::Contains("looks like a CIFAR-10") &&
                                    Catch::Contains("--dataset cifar10"));
        // The same file read as CIFAR-10 is fine.
        const Result<Cifar10> ok = read_dataset_file(path, Dataset::kCifar10);
        REQUIRE(ok.ok());
        CHECK(ok.value.count == 4);
    }
    SECTION("a CIFAR-10 batch whose size fits both records: its pixels read as labels") {
        // 3074 CIFAR-10 records = 3073 CIFAR-100 records in bytes; the second "record" starts inside pixels.
        std::vector<uint8_t> b(size_t(3074) * 3073, 200);
        for (int i = 0; i < 3074; ++i) b[size_t(i) * 3073] = uint8_t(i % 10);
        const std::string path = write(dir, "both.bin", b);
        const Result<Cifar10> r = read_dataset_file(path, Dataset::kCifar100);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains(path) && Catch::Contains("looks like a CIFAR-10 batch"));
    }
    SECTION("a CIFAR-100 file given as CIFAR-10 points at --dataset cifar100") {
        const std::string path = write(dir, "test.bin", cifar100_records(3));
        const Result<Cifar10> r = read_dataset_file(path, Dataset::kCifar10);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains(path) && Catch::Contains("--dataset cifar100"));
    }
    SECTION("a fine label >= 100 is named with its record") {
        std::vector<uint8_t> b = cifar100_records(3);
        b[size_t(2) * 3074 + 1] = 100;
        const std::string path = write(dir, "test.bin", b);
        const Result<Cifar10> r = read_dataset_file(path, Dataset::kCifar100);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains(path) && Catch::Contains("record 2") && Catch::Contains("fine label 100") &&
                                    Catch::Contains("0..99"));
        CHECK_THAT(r.message(), !Catch::Contains("CIFAR-10"));
    }
    SECTION("a coarse label >= 20 is named") {
        std::vector<uint8_t> b = cifar100_records(2);
        b[0] = 20;
        const Result<Cifar10> r = read_dataset_bytes(b.data(), b.size(), Dataset::kCifar100, "coarse.bin");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("coarse.bin") && Catch::Contains("record 0") && Catch::Contains("coarse label 20"));
    }
    SECTION("a missing file names the folder and the fetch command") {
        const Result<Cifar10> r = read_dataset_test(dir.string(), Dataset::kCifar100);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("test.bin") && Catch::Contains("quantlab data fetch --dataset cifar100"));
    }
    SECTION("an empty file") {
        const Result<Cifar10> r = read_dataset_file(write(dir, "empty.bin", {}), Dataset::kCifar100);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("empty.bin") && Catch::Contains("file size 0"));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("cifar100: the stock nets' last layer sized from the class count", "[cifar100]") {
    const NetworkDesc net = with_classes(notebook_net(), dataset_info(Dataset::kCifar100).classes);
    REQUIRE(validate(net).ok());
    CHECK(net.num_classes() == 100);
    const std::vector<ParamDesc> params = net.params();
    REQUIRE(params.back().name == "fc3.bias");
    CHECK(params.back().shape == Shape{100});
    CHECK(params[params.size() - 2].shape == Shape{100, 84});
    // The text form carries it, so a saved 100-class model reads back as one.
    const Result<NetworkDesc> back = parse_network(net.to_text());
    REQUIRE(back.ok());
    CHECK(back.value.num_classes() == 100);
    CHECK(with_classes(wide_net(2), 100).num_classes() == 100);
    CHECK(with_classes(net, 10).to_text() == notebook_net().to_text());
}
