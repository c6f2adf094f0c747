// test_archive.cpp: MD5 against RFC 1321's test suite, .tar.gz extraction of archives built here (tar
// headers written by hand, gzip by zlib), including path traversal, truncation and bad gzip, and the
// CIFAR-10 folder check. Native only, like core/archive/ (links zlib).
#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/archive/archive.hpp"

using namespace quantlab;
namespace fs = std::filesystem;

namespace {

struct TarItem {
    std::string name;
    std::string data;
    char type = '0';
};

// ustar: 512-byte header (name, octal size, checksum, type, "ustar" magic), data padded to 512,
// then two zero blocks.
std::string make_tar(const std::vector<TarItem>& items, bool end_marker = true) {
    std::string out;
    for (const auto& it : items) {
        char h[512] = {};
        std::snprintf(h, 100, "%s", it.name.c_str());
        std::snprintf(h + 100, 8, "%07o", 0644);
        std::snprintf(h + 108, 8, "%07o", 0);
        std::snprintf(h + 116, 8, "%07o", 0);
        std::snprintf(h + 124, 12, "%011o", unsigned(it.data.size()));
        std::snprintf(h + 136, 12, "%011o", 0);
        h[156] = it.type;
        std::memcpy(h + 257, "ustar", 6);
        std::memcpy(h + 263, "00", 2);
        std::memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (unsigned char c : h) sum += c;
        std::snprintf(h + 148, 8, "%06o", sum);
        out.append(h, 512);
        out += it.data;
        out.append((512 - it.data.size() % 512) % 512, '\0');
    }
    if (end_marker) out.append(1024, '\0');
    return out;
}

void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
}

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// A fresh, empty folder under /tmp for one section.
std::string fresh_dir(const std::string& name) {
    const std::string dir = "/tmp/quantlab_test_archive/" + name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string md5_str(const std::string& s) { return md5_hex(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

}  // namespace

TEST_CASE("archive: md5", "[archive]") {
    SECTION("RFC 1321 test suite") {
        CHECK(md5_str("") == "d41d8cd98f00b204e9800998ecf8427e");
        CHECK(md5_str("abc") == "900150983cd24fb0d6963f7d28e17f72");
        CHECK(md5_str("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
        CHECK(md5_str("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
        // 80 bytes: the length crosses a 64-byte block, and padding needs a second block.
        CHECK(md5_str("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
              "57edf4a22be3c955ac49da2e2107b67a");
    }
    SECTION("md5_file reads in chunks and agrees with md5_hex") {
        const std::string dir = fresh_dir("md5");
        std::string big(200000, '\0');
        for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 7 + 3);
        write_file(dir + "/big.bin", big);
        auto r = md5_file(dir + "/big.bin");
        REQUIRE(r.ok());
        CHECK(r.value == md5_str(big));
        fs::remove_all(dir);
    }
    SECTION("md5_file of a missing file") {
        auto r = md5_file("/tmp/quantlab_test_archive/none.bin");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("none.bin"));
    }
}

TEST_CASE("archive: extract_tar_gz", "[archive]") {
    const std::string payload(1500, 'x');
    const std::string base = fresh_dir("extract");
    const std::string gz = base + "/a.tar.gz";
    const std::string dest = base + "/out";
    SECTION("extracts files under the prefix, skips others") {
        write_gz(gz, make_tar({{"cifar-10-batches-bin/", "", '5'},
                               {"cifar-10-batches-bin/a.bin", payload},
                               {"cifar-10-batches-bin/empty.txt", ""},
                               {"other/readme.txt", "hello"}}));
        Status st = extract_tar_gz(gz, dest);
        INFO(st.message);
        REQUIRE(st.ok());
        CHECK(slurp(dest + "/cifar-10-batches-bin/a.bin") == payload);
        CHECK(fs::exists(dest + "/cifar-10-batches-bin/empty.txt"));
        CHECK_FALSE(fs::exists(dest + "/other"));
        CHECK_FALSE(fs::exists(dest + "/cifar-10-batches-bin/a.bin.part"));
    }
    SECTION("'..' in a name is refused and nothing lands outside dest") {
        write_gz(gz, make_tar({{"cifar-10-batches-bin/../../evil.txt", "boom"}}));
        Status st = extract_tar_gz(gz, dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("evil.txt") && Catch::Contains("refused"));
        CHECK_FALSE(fs::exists(base + "/evil.txt"));
        CHECK_FALSE(fs::exists("/tmp/quantlab_test_archive/evil.txt"));
    }
    SECTION("an absolute name is refused") {
        write_gz(gz, make_tar({{"/tmp/quantlab_test_archive_evil.txt", "boom"}}));
        Status st = extract_tar_gz(gz, dest, "");
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("absolute"));
        CHECK_FALSE(fs::exists("/tmp/quantlab_test_archive_evil.txt"));
    }
    SECTION("truncated gzip") {
        write_gz(gz, make_tar({{"cifar-10-batches-bin/a.bin", payload}}));
        std::string bytes = slurp(gz);
        write_file(gz, bytes.substr(0, bytes.size() / 2));
        Status st = extract_tar_gz(gz, dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("truncated"));
        CHECK_FALSE(fs::exists(dest + "/cifar-10-batches-bin/a.bin"));
        CHECK_FALSE(fs::exists(dest + "/cifar-10-batches-bin/a.bin.part"));
    }
    SECTION("tar without its end marker") {
        write_gz(gz, make_tar({{"cifar-10-batches-bin/a.bin", payload}}, false));
        Status st = extract_tar_gz(gz, dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("truncated"));
    }
    SECTION("not gzip (a plain tar, or an HTML error page)") {
        write_file(gz, make_tar({{"cifar-10-batches-bin/a.bin", payload}}));
        Status st = extract_tar_gz(gz, dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("not gzip"));
    }
    SECTION("corrupt gzip data") {
        std::string tar = make_tar({{"cifar-10-batches-bin/a.bin", std::string(20000, 'y') + payload}});
        write_gz(gz, tar);
        std::string bytes = slurp(gz);
        for (size_t i = 20; i < bytes.size() - 8; i += 7) bytes[i] = char(bytes[i] ^ 0x5a);
        write_file(gz, bytes);
        Status st = extract_tar_gz(gz, dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("gzip data is corrupt") || Catch::Contains("bad checksum") ||
                                   Catch::Contains("truncated"));
    }
    SECTION("gzip of something that is not a tar") {
        write_gz(gz, std::string(2048, 'z'));
        Status st = extract_tar_gz(gz, dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("bad checksum"));
    }
    SECTION("missing archive") {
        Status st = extract_tar_gz(base + "/none.tar.gz", dest);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("none.tar.gz"));
    }
    fs::remove_all(base);
}

TEST_CASE("archive: verify_cifar10_dir", "[archive]") {
    SECTION("the shared data folder is complete") {
        Status st = verify_cifar10_dir(QUANTLAB_DATA_DIR);
        INFO(st.message);
        CHECK(st.ok());
    }
    SECTION("a partial folder names every problem") {
        const std::string dir = fresh_dir("partial");
        write_file(dir + "/data_batch_1.bin", std::string(3073, '\0'));
        Status st = verify_cifar10_dir(dir);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("data_batch_1.bin has 3073 bytes, expected 30730000") &&
                                   Catch::Contains("test_batch.bin missing") && Catch::Contains("quantlab data fetch"));
        fs::remove_all(dir);
    }
}

TEST_CASE("archive: verify_dataset_dir for CIFAR-100", "[archive][cifar100]") {
    const std::string dir = fresh_dir("cifar100");
    // Sparse files of the official sizes: 50,000 and 10,000 records of 3074 bytes.
    write_file(dir + "/train.bin", "");
    write_file(dir + "/test.bin", "");
    fs::resize_file(dir + "/train.bin", 153700000);
    fs::resize_file(dir + "/test.bin", 30740000);
    Status st = verify_dataset_dir(dir, Dataset::kCifar100);
    INFO(st.message);
    CHECK(st.ok());
    fs::resize_file(dir + "/test.bin", 30730000);  // a CIFAR-10 batch's size
    st = verify_dataset_dir(dir, Dataset::kCifar100);
    REQUIRE_FALSE(st.ok());
    CHECK_THAT(st.message, Catch::Contains("test.bin has 30730000 bytes, expected 30740000") &&
                               Catch::Contains("quantlab data fetch --dataset cifar100"));
    fs::remove(dir + "/train.bin");
    st = verify_dataset_dir(dir, Dataset::kCifar100);
    CHECK_THAT(st.message, Catch::Contains("train.bin missing"));
    fs::remove_all(dir);
}
