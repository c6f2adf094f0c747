// test_safetensors_io.cpp: safetensors reading and writing: bit-exact round trips, a file image written by
// hand from the format spec (Python's safetensors package is not installed here, so the expected bytes
// are spelled out below), atomic saves, and one test per kind of bad input.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/safetensors_io.hpp"
#include "tests/support/float_bits.hpp"

using namespace quantlab;
using quantlab::test::float_bits;

namespace {

// 8-byte little-endian header length + header + data.
std::vector<uint8_t> file_image(const std::string& header, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out;
    for (int i = 0; i < 8; ++i) out.push_back(uint8_t(uint64_t(header.size()) >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> o;
    for (float f : v)
        for (int i = 0; i < 4; ++i) o.push_back(uint8_t(float_bits(f) >> (8 * i)));
    return o;
}

Result<StateDict> read(const std::vector<uint8_t>& bytes) {
    return read_safetensors_bytes(bytes.data(), bytes.size(), "t.safetensors");
}

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string temp_path(const std::string& name) { return "/tmp/quantlab_test_" + name; }

StateDict sample() {
    StateDict sd;
    sd.set("conv1.weight", Tensor({2, 1, 1, 2}, std::vector<float>{0.1f, -0.0f, std::numeric_limits<float>::max(),
                                                                    std::numeric_limits<float>::denorm_min()}));
    sd.set("bn1.num_batches_tracked", Tensor({}, std::vector<float>{6260.0f}), "I64");
    sd.set("a.bias", Tensor({3}, std::vector<float>{1.0f, 2.0f, -3.5f}));
    sd.metadata["quantlab.format_version"] = "1";
    sd.metadata["note"] = "é \"quoted\"";
    return sd;
}

}  // namespace

TEST_CASE("safetensors: round trip", "[safetensors]") {
    const StateDict sd = sample();
    auto bytes = write_safetensors_bytes(sd);
    REQUIRE(bytes.ok());
    SECTION("header length is a multiple of 8 and data follows it") {
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i) n = (n << 8) | bytes.value[size_t(i)];
        CHECK(n % 8 == 0);
        CHECK(bytes.value.size() == 8 + n + 4 * 4 + 8 + 3 * 4);
    }
    SECTION("read back equals bit for bit, names in order, dtypes and metadata kept") {
        auto r = read(bytes.value);
        REQUIRE(r.ok());
        CHECK(r.value.names == sd.names);
        CHECK(r.value.metadata == sd.metadata);
        CHECK(r.value.dtype("bn1.num_batches_tracked") == "I64");
        CHECK(r.value.dtype("conv1.weight") == "F32");
        for (const auto& name : sd.names) {
            const Tensor& a = *sd.find(name);
            const Tensor& b = *r.value.find(name);
            CHECK(a.shape == b.shape);
            REQUIRE(a.data.size() == b.data.size());
            for (size_t i = 0; i < a.data.size(); ++i) CHECK(float_bits(a.data[i]) == float_bits(b.data[i]));
        }
    }
    SECTION("writing what was read gives the same bytes") {
        auto r = read(bytes.value);
        REQUIRE(r.ok());
        auto again = write_safetensors_bytes(r.value);
        REQUIRE(again.ok());
        CHECK(again.value == bytes.value);
    }
    SECTION("through a file") {
        const std::string path = temp_path("roundtrip.safetensors");
        REQUIRE(write_safetensors(path, sd).ok());
        auto r = read_safetensors(path);
        REQUIRE(r.ok());
        CHECK(r.value.names == sd.names);
        CHECK(slurp(path) == std::string(bytes.value.begin(), bytes.value.end()));
        std::remove(path.c_str());
    }
}

TEST_CASE("safetensors: the exact bytes of the format", "[safetensors]") {
    // What safetensors.torch.save_file({"a": torch.tensor([1.0, -2.0])}, metadata={"format": "pt"}) writes:
    // header JSON (metadata first, then tensors), padded with spaces so 8 + header is a multiple of 8.
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
    const std::vector<uint8_t> expected = file_image(padded, f32_bytes({1.0f, -2.0f}));
    SECTION("our writer produces them") {
        StateDict sd;
        sd.set("a", Tensor({2}, std::vector<float>{1.0f, -2.0f}));
        sd.metadata["format"] = "pt";
        auto bytes = write_safetensors_bytes(sd);
        REQUIRE(bytes.ok());
        CHECK(bytes.value == expected);
    }
    SECTION("our reader reads a file with other key orders, I64 and F16") {
        // I64 7 and F16 [1.5, -2.0] (0x3e00, 0xc000), little-endian; keys in an order Python may use.
        const std::string h =
            R"({"n":{"data_offsets":[0,8],"shape":[],"dtype":"I64"},"h":{"dtype":"F16","data_offsets":[8,12],"shape":[2]}})";
        auto r = read(file_image(h, {7, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x3e, 0x00, 0xc0}));
        REQUIRE(r.ok());
        CHECK(r.value.names == std::vector<std::string>{"n", "h"});
        CHECK(r.value.find("n")->data == std::vector<float>{7.0f});
        CHECK(r.value.find("n")->shape == Shape{});
        CHECK(r.value.dtype("n") == "I64");
        CHECK(r.value.find("h")->data == std::vector<float>{1.5f, -2.0f});
        CHECK(r.value.metadata.empty());
    }
}

TEST_CASE("safetensors: bad input", "[safetensors]") {
    const std::vector<uint8_t> data8 = f32_bytes({1.0f, 2.0f});
    auto bad = [&](const std::string& header, const std::vector<uint8_t>& data) {
        auto r = read(file_image(header, data));
        REQUIRE_FALSE(r.ok());
        return r.message();
    };
    SECTION("shorter than the length field") {
        const std::vector<uint8_t> b = {1, 2, 3};
        auto r = read(b);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("t.safetensors") && Catch::Contains("3 bytes"));
    }
    SECTION("truncated: header length exceeds the file") {
        auto img = file_image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data8);
        img.resize(20);
        auto r = read(img);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("exceeds file size 20"));
    }
    SECTION("oversized header length") {
        std::vector<uint8_t> img = {0, 0, 0, 0, 0, 1, 0, 0};  // 2^40
        img.resize(64, ' ');
        auto r = read(img);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("100 MB"));
    }
    SECTION("corrupt header JSON") {
        CHECK_THAT(bad(R"({"a":{"dtype":"F32",)", data8), Catch::Contains("not a valid JSON"));
        CHECK_THAT(bad("[1,2]   ", data8), Catch::Contains("'{'"));
    }
    SECTION("wrong dtype") {
        CHECK_THAT(bad(R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", data8),
                   Catch::Contains("tensor 'a'") && Catch::Contains("C64"));
        CHECK_THAT(bad(R"({"a":{"dtype":5,"shape":[1],"data_offsets":[0,8]}})", data8), Catch::Contains("dtype"));
    }
    SECTION("offsets out of range") {
        CHECK_THAT(bad(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8),
                   Catch::Contains("end 16 exceeds the 8 data bytes"));
        CHECK_THAT(bad(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", data8),
                   Catch::Contains("end before they begin"));
        CHECK_THAT(bad(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,4]}})", data8),
                   Catch::Contains("data_offsets"));
    }
    SECTION("shape does not match the byte size") {
        CHECK_THAT(bad(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8),
                   Catch::Contains("needs 12 bytes but data_offsets span 8"));
        CHECK_THAT(bad(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data8),
                   Catch::Contains("tensor 'a'"));
        CHECK_THAT(bad(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8), Catch::Contains("shape"));
    }
    SECTION("NaN and Inf weights") {
        CHECK_THAT(bad(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32_bytes({1.0f, NAN})),
                   Catch::Contains("tensor 'w'") && Catch::Contains("element 1 is NaN"));
        CHECK_THAT(bad(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f32_bytes({INFINITY, 1.0f})),
                   Catch::Contains("element 0 is Inf"));
    }
    SECTION("metadata must map strings to strings") {
        CHECK_THAT(bad(R"({"__metadata__":{"v":1}})", {}), Catch::Contains("__metadata__"));
    }
    SECTION("a tensor entry that is not an object") {
        CHECK_THAT(bad(R"({"a":[1,2]})", data8), Catch::Contains("tensor 'a'"));
    }
}

TEST_CASE("safetensors: writing refuses what it cannot store and is atomic", "[safetensors]") {
    const std::string path = temp_path("atomic.safetensors");
    std::remove(path.c_str());
    REQUIRE(write_safetensors(path, sample()).ok());
    const std::string before = slurp(path);
    SECTION("a NaN weight: nothing written, the previous file intact") {
        StateDict sd = sample();
        sd.find("a.bias")->data[1] = NAN;
        Status st = write_safetensors(path, sd);
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("'a.bias'") && Catch::Contains("element 1"));
        CHECK(slurp(path) == before);
        CHECK_FALSE(std::ifstream(path + ".tmp").good());
    }
    SECTION("an I64 tensor holding a fraction") {
        StateDict sd = sample();
        sd.find("bn1.num_batches_tracked")->data[0] = 0.5f;
        CHECK_FALSE(write_safetensors_bytes(sd).ok());
    }
    SECTION("shape and data disagree") {
        StateDict sd = sample();
        sd.find("a.bias")->shape = {4};
        auto r = write_safetensors_bytes(sd);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("'a.bias'"));
    }
    SECTION("a folder that does not exist") {
        Status st = write_safetensors("/tmp/quantlab_no_such_dir/x.safetensors", sample());
        REQUIRE_FALSE(st.ok());
        CHECK_THAT(st.message, Catch::Contains("cannot create"));
    }
    std::remove(path.c_str());
}
