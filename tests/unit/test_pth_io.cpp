// test_pth_io.cpp: the torch.save reader (zip_reader + pickle_reader + pth_io) against the notebook's real
// pretrain.pth, the small files tests/data/make_test_pth.py writes, and hand-built bad archives/pickles.
// Reference numbers were printed with Debian's torch 1.13 (see each comment).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/pickle_reader.hpp"
#include "core/pth_io.hpp"
#include "core/zip_reader.hpp"
#include "tests/support/float_bits.hpp"

using namespace quantlab;
using quantlab::test::float_bits;

namespace {

std::vector<uint8_t> slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> bytes_of(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// A string literal with embedded NULs kept (pickles are full of them).
template <size_t N>
std::string lit(const char (&s)[N]) {
    return std::string(s, N - 1);
}

void put16(std::vector<uint8_t>& o, uint32_t v) { o.push_back(uint8_t(v)); o.push_back(uint8_t(v >> 8)); }
void put32(std::vector<uint8_t>& o, uint32_t v) { put16(o, v & 0xffff); put16(o, v >> 16); }

struct ZipItem {
    std::string name;
    std::vector<uint8_t> data;
    uint16_t method = 0;
};

// A minimal stored zip (no ZIP64), the same layout torch.save produces minus its padding.
std::vector<uint8_t> make_zip(const std::vector<ZipItem>& items) {
    std::vector<uint8_t> out, central;
    for (const auto& it : items) {
        const uint32_t offset = uint32_t(out.size());
        const uint32_t crc = crc32_bytes(it.data.data(), it.data.size());
        put32(out, 0x04034b50); put16(out, 0); put16(out, 0); put16(out, it.method); put32(out, 0);
        put32(out, crc); put32(out, uint32_t(it.data.size())); put32(out, uint32_t(it.data.size()));
        put16(out, uint32_t(it.name.size())); put16(out, 0);
        out.insert(out.end(), it.name.begin(), it.name.end());
        out.insert(out.end(), it.data.begin(), it.data.end());
        put32(central, 0x02014b50); put16(central, 0); put16(central, 0); put16(central, 0); put16(central, it.method);
        put32(central, 0); put32(central, crc); put32(central, uint32_t(it.data.size()));
        put32(central, uint32_t(it.data.size())); put16(central, uint32_t(it.name.size())); put16(central, 0);
        put16(central, 0); put16(central, 0); put16(central, 0); put32(central, 0); put32(central, offset);
        central.insert(central.end(), it.name.begin(), it.name.end());
    }
    const uint32_t cd_offset = uint32_t(out.size());
    out.insert(out.end(), central.begin(), central.end());
    put32(out, 0x06054b50); put16(out, 0); put16(out, 0); put16(out, uint32_t(items.size()));
    put16(out, uint32_t(items.size())); put32(out, uint32_t(central.size())); put32(out, cd_offset); put16(out, 0);
    return out;
}

std::string binunicode(const std::string& s) {
    std::string o = "X";
    for (int i = 0; i < 4; ++i) o += char((s.size() >> (8 * i)) & 0xff);
    return o + s;
}

// The pickle torch.save writes for OrderedDict{name: tensor} with a 1-D tensor of `size` elements at
// storage_offset `offset` of storage "0" (`numel` elements of `storage_type`), stride 1.
std::string tensor_pickle(const std::string& name, const std::string& storage_type, int numel, int offset, int size,
                          const std::string& location = "cpu") {
    std::string p = "\x80\x02" "ccollections\nOrderedDict\n)R(";
    p += binunicode(name);
    p += "ctorch._utils\n_rebuild_tensor_v2\n((";
    p += binunicode("storage") + "ctorch\n" + storage_type + "\n" + binunicode("0") + binunicode(location);
    p += "K" + std::string(1, char(numel)) + "tQ";
    p += "K" + std::string(1, char(offset));
    p += "K" + std::string(1, char(size)) + "\x85";
    p += std::string("K\x01\x85") + "\x89" + ")" + "tRu.";
    return p;
}

std::vector<uint8_t> floats_le(const std::vector<float>& v) {
    std::vector<uint8_t> o;
    for (float f : v) put32(o, float_bits(f));
    return o;
}

}  // namespace

TEST_CASE("pth: the notebook's pretrain.pth (saved from CUDA)", "[pth]") {
    auto r = read_pth(std::string(QUANTLAB_SEED_DIR) + "/pretrain.pth");
    REQUIRE(r.ok());
    const StateDict& sd = r.value;

    SECTION("all 20 tensors, in state_dict order") {
        REQUIRE(sd.names.size() == 20);
        CHECK(sd.names.front() == "conv1.weight");
        CHECK(sd.names[6] == "bn1.num_batches_tracked");
        CHECK(sd.names.back() == "fc3.bias");
        CHECK(sd.tensors.size() == 20);
    }
    SECTION("shapes") {
        CHECK(sd.find("conv1.weight")->shape == Shape{32, 3, 5, 5});
        CHECK(sd.find("conv2.weight")->shape == Shape{64, 32, 5, 5});
        CHECK(sd.find("fc1.weight")->shape == Shape{120, 1600});
        CHECK(sd.find("fc2.weight")->shape == Shape{84, 120});
        CHECK(sd.find("fc3.weight")->shape == Shape{10, 84});
        CHECK(sd.find("bn1.num_batches_tracked")->shape == Shape{});
        CHECK(sd.find("nope") == nullptr);
    }
    SECTION("values equal torch.load's bit for bit") {
        // /usr/bin/python3: sd = torch.load('pretrain.pth', map_location='cpu');
        // sd['conv1.weight'][0,0,0,:3].tolist(), sd['conv1.weight'][31,2,4,4], sd['fc1.weight'][119,1599],
        // sd['fc3.bias'][-1], sd['bn1.running_var'][0]
        const Tensor& w = *sd.find("conv1.weight");
        CHECK(float_bits(w.data[0]) == 0x3dab81c9u);  // 0.0837436392903328
        CHECK(w.data[1] == 0.030946115031838417f);
        CHECK(w.data[2] == 0.20924358069896698f);
        CHECK(w.data.back() == -0.5356613993644714f);
        CHECK(sd.find("fc1.weight")->data.back() == -0.37117254734039307f);
        CHECK(sd.find("fc3.bias")->data.back() == -0.2146102637052536f);
        CHECK(sd.find("bn1.running_var")->data[0] == 4.954823017120361f);
    }
    SECTION("num_batches_tracked keeps dtype I64 (value 6260)") {
        CHECK(sd.dtype("bn1.num_batches_tracked") == "I64");
        CHECK(sd.dtype("bn2.num_batches_tracked") == "I64");
        CHECK(sd.find("bn1.num_batches_tracked")->data == std::vector<float>{6260.0f});
        CHECK(sd.dtype("conv1.weight") == "F32");
    }
}

TEST_CASE("pth: small files from make_test_pth.py", "[pth]") {
    const std::string dir = QUANTLAB_TEST_DATA_DIR;
    SECTION("dtypes F32, I64, F16, F64 and a saved Parameter") {
        auto r = read_pth(dir + "/tiny.pth");
        REQUIRE(r.ok());
        const StateDict& sd = r.value;
        CHECK(sd.names == std::vector<std::string>{"lin.weight", "lin.bias", "bn.num_batches_tracked", "half",
                                                   "double", "param"});
        CHECK(sd.find("lin.weight")->shape == Shape{2, 3});
        CHECK(sd.find("lin.weight")->data == std::vector<float>{0.5f, -1.25f, 2.0f, 3.0f, 4.5f, -6.0f});
        CHECK(sd.find("lin.bias")->data == std::vector<float>{0.25f, 0.0f, -0.125f});
        CHECK(sd.find("bn.num_batches_tracked")->data == std::vector<float>{7.0f});
        CHECK(sd.dtype("bn.num_batches_tracked") == "I64");
        CHECK(sd.find("half")->data == std::vector<float>{1.5f, -2.0f});
        CHECK(sd.dtype("half") == "F16");
        CHECK(sd.find("double")->data == std::vector<float>{0.1f, -3.0f});  // double 0.1 rounded to float
        CHECK(sd.dtype("double") == "F64");
        CHECK(sd.find("param")->data == std::vector<float>{1.0f, 2.0f});
    }
    SECTION("views into one storage at offsets 0 and 8") {
        auto r = read_pth(dir + "/tiny_views.pth");
        REQUIRE(r.ok());
        CHECK(r.value.find("row0")->data == std::vector<float>{0, 1, 2, 3});
        CHECK(r.value.find("row2")->data == std::vector<float>{8, 9, 10, 11});
    }
    SECTION("a checkpoint dict holding state_dict one level down") {
        auto r = read_pth(dir + "/tiny_checkpoint.pth");
        REQUIRE(r.ok());
        CHECK(r.value.names == std::vector<std::string>{"w"});
        CHECK(r.value.find("w")->data == std::vector<float>{1.0f, 2.0f});
    }
    SECTION("non-contiguous tensor is refused") {
        auto r = read_pth(dir + "/tiny_noncontig.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("'t'") && Catch::Contains("not contiguous"));
    }
    SECTION("NaN weight is refused, naming the tensor") {
        auto r = read_pth(dir + "/tiny_nan.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("tensor 'w'") && Catch::Contains("NaN"));
    }
    SECTION("legacy (pre-zip) torch.save format gets a hint") {
        auto r = read_pth(dir + "/tiny_legacy.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("legacy"));
    }
    SECTION("missing file") {
        auto r = read_pth(dir + "/does_not_exist.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("does_not_exist.pth") && Catch::Contains("cannot open"));
    }
}

TEST_CASE("pth: damaged copies of pretrain.pth", "[pth]") {
    const std::vector<uint8_t> good = slurp(std::string(QUANTLAB_SEED_DIR) + "/pretrain.pth");
    REQUIRE(good.size() > 1000000);
    SECTION("truncated to half") {
        auto r = read_pth_bytes(good.data(), good.size() / 2, "half.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("half.pth") && Catch::Contains("end-of-central-directory"));
    }
    SECTION("empty") {
        auto r = read_pth_bytes(good.data(), 0, "empty.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("0 bytes"));
    }
    SECTION("bad end-of-central-directory signature") {
        std::vector<uint8_t> bad = good;
        bad[bad.size() - 22] = 'X';  // the classic EOCD is the last 22 bytes (no comment)
        auto r = read_pth_bytes(bad.data(), bad.size(), "eocd.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("no end-of-central-directory"));
    }
    SECTION("one flipped weight byte fails the CRC") {
        std::vector<uint8_t> bad = good;
        bad[good.size() / 2] ^= 0x01;  // inside fc1.weight's 768,000 bytes
        auto r = read_pth_bytes(bad.data(), bad.size(), "flip.pth");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("CRC-32"));
    }
}

TEST_CASE("pth: hand-built archives", "[pth]") {
    const std::vector<uint8_t> four = floats_le({1.0f, 2.0f, 3.0f, 4.0f});
    auto load = [](const std::vector<ZipItem>& items) {
        const std::vector<uint8_t> z = make_zip(items);
        return read_pth_bytes(z.data(), z.size(), "built.pth");
    };
    SECTION("torch 2.x style 'archive/' prefix and a cuda:0 location load") {
        auto r = load({{"archive/data.pkl", bytes_of(tensor_pickle("w", "FloatStorage", 4, 1, 3, "cuda:0"))},
                       {"archive/data/0", four}});
        REQUIRE(r.ok());
        CHECK(r.value.find("w")->data == std::vector<float>{2.0f, 3.0f, 4.0f});
    }
    SECTION("view past the end of its storage") {
        auto r = load({{"a/data.pkl", bytes_of(tensor_pickle("w", "FloatStorage", 4, 2, 3))}, {"a/data/0", four}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("tensor 'w'") && Catch::Contains("exceeds the storage"));
    }
    SECTION("storage larger than its zip entry") {
        auto r = load({{"a/data.pkl", bytes_of(tensor_pickle("w", "FloatStorage", 8, 0, 4))}, {"a/data/0", four}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("claims 8") && Catch::Contains("16 bytes"));
    }
    SECTION("unsupported storage dtype") {
        auto r = load({{"a/data.pkl", bytes_of(tensor_pickle("w", "ComplexFloatStorage", 2, 0, 2))}, {"a/data/0", four}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("torch.ComplexFloatStorage") && Catch::Contains("not supported"));
    }
    SECTION("missing storage entry") {
        auto r = load({{"a/data.pkl", bytes_of(tensor_pickle("w", "FloatStorage", 4, 0, 4))}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("'a/data/0' is missing"));
    }
    SECTION("compressed entry is refused") {
        auto r = load({{"a/data.pkl", bytes_of(tensor_pickle("w", "FloatStorage", 4, 0, 4)), 8}, {"a/data/0", four}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("compression method 8"));
    }
    SECTION("a zip without data.pkl") {
        auto r = load({{"hello.txt", bytes_of("hi")}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("data.pkl"));
    }
    SECTION("big-endian byteorder is refused") {
        auto r = load({{"a/data.pkl", bytes_of(tensor_pickle("w", "FloatStorage", 4, 0, 4))},
                       {"a/byteorder", bytes_of("big")}, {"a/data/0", four}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("byteorder"));
    }
    SECTION("a pickled model instead of a state_dict") {
        auto r = load({{"a/data.pkl", bytes_of(lit("\x80\x02]q\x00."))}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("expected a state_dict"));
    }
    SECTION("a non-tensor value") {
        auto r = load({{"a/data.pkl", bytes_of("\x80\x02}(" + binunicode("lr") + "K\x01u.")}});
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("tensor 'lr'") && Catch::Contains("expected a tensor"));
    }
}

TEST_CASE("pickle: opcodes and bounds", "[pth][pickle]") {
    auto run = [](const std::string& s) { return read_pickle(reinterpret_cast<const uint8_t*>(s.data()), s.size(), "t.pkl"); };
    SECTION("integers: BININT1, BININT2, BININT, LONG1 negative") {
        auto r = run(lit("\x80\x02(K\x07M\x01\x02J\xfe\xff\xff\xff\x8a\x01\xfft."));
        REQUIRE(r.ok());
        const PickleValue& t = r.value.at(r.value.root);
        REQUIRE(t.kind == PickleKind::Tuple);
        REQUIRE(t.items.size() == 4);
        CHECK(r.value.at(t.items[0]).integer == 7);
        CHECK(r.value.at(t.items[1]).integer == 0x0201);
        CHECK(r.value.at(t.items[2]).integer == -2);
        CHECK(r.value.at(t.items[3]).integer == -1);
    }
    SECTION("BINFLOAT is big-endian") {
        auto r = run(lit("G\x3f\xf0\x00\x00\x00\x00\x00\x00."));
        REQUIRE(r.ok());
        CHECK(r.value.at(r.value.root).real == 1.0);
    }
    SECTION("a list that contains itself does not recurse or leak") {
        auto r = run(lit("]q\x00h\x00" "a."));
        REQUIRE(r.ok());
        const PickleValue& l = r.value.at(r.value.root);
        REQUIRE(l.kind == PickleKind::List);
        CHECK(l.items == std::vector<size_t>{r.value.root});
    }
    SECTION("unknown opcode") {
        auto r = run("\x80\x02\xff.");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("t.pkl") && Catch::Contains("0xff") && Catch::Contains("offset 2"));
    }
    SECTION("truncated string") {
        auto r = run(lit("\x80\x02X\x10\x00\x00\x00" "ab"));
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("truncated"));
    }
    SECTION("no STOP") {
        auto r = run("\x80\x02N");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("without a STOP"));
    }
    SECTION("stack underflow") {
        auto r = run("R.");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("empty stack"));
    }
    SECTION("memo key never stored") {
        auto r = run("h\x05.");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("memo key 5"));
    }
    SECTION("values under a MARK cannot be popped") {
        auto r = run("N(0.");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("empty stack"));
    }
    SECTION("two million MARKs hit the bound, not the memory limit") {
        auto r = run(std::string(2000000, '(') + ".");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.message(), Catch::Contains("MARK"));
    }
    SECTION("an unknown REDUCE stays an inert object") {
        auto r = run(lit("cos\nsystem\n(X\x02\x00\x00\x00lstR."));
        REQUIRE(r.ok());
        const PickleValue& o = r.value.at(r.value.root);
        CHECK(o.kind == PickleKind::Object);
        CHECK(o.text == "os.system");
    }
    SECTION("storage class names") {
        CHECK(torch_storage_dtype("torch.FloatStorage") == "F32");
        CHECK(torch_storage_dtype("torch.cuda.LongStorage") == "I64");
        CHECK(torch_storage_dtype("torch.HalfStorage") == "F16");
        CHECK(torch_storage_dtype("torch.UntypedStorage").empty());
    }
}
