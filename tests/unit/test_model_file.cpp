// test_model_file.cpp: core/model_file (a weights file opened as a Model with its stored quantization
// settings; the metadata stamp) and core's one static calibration, `calibrated`, against Model::calibrate.
#include <catch2/catch.hpp>

#include "core/cifar10.hpp"
#include "core/model_file.hpp"
#include "core/quant_config_io.hpp"
#include "core/safetensors_io.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;

namespace {

const std::string kAssets = QUANTLAB_ASSETS_DIR;

// The first n images of the bundled test sample, normalised: (n,3,32,32).
std::vector<float> sample_images(int64_t n) {
    Result<Cifar10> d = read_cifar10_batch(kAssets + "/cifar10_test_1000.bin", n);
    REQUIRE(d.ok());
    std::vector<float> x(size_t(d.value.count * kCifar10ImageBytes));
    normalize_images(d.value, 0, d.value.count, x.data());
    return x;
}

}  // namespace

TEST_CASE("model file: open_model", "[model_file]") {
    SECTION("the bundled notebook weights open as a float Model of the notebook's net, with no stored settings") {
        const std::string path = kAssets + "/notebook_pretrain.safetensors";
        Result<ModelFile> f = open_model(path);
        REQUIRE(f.ok());
        CHECK(f.value.name == path);
        CHECK(f.value.net().to_text() == notebook_net().to_text());
        CHECK(f.value.net().name == "notebook_net");
        CHECK(f.value.metadata().at("trained_by") == "notebook (pretrained)");
        REQUIRE(f.value.model.config().layers.size() == 5);
        for (const LayerQuant& l : f.value.model.config().layers) CHECK((l.weight.bits == kFloatBits && l.act.bits == kFloatBits));
        REQUIRE(f.value.stored_config.ok());
        CHECK(f.value.stored_config.value.layers.empty());
        CHECK(check_cifar10_net(f.value.net(), path).ok());

        // The same bytes handed over in memory (the page's and a dropped file's way) give the same model.
        const std::vector<uint8_t> bytes = test::read_bytes(path);
        Result<ModelFile> b = open_model_bytes(bytes.data(), bytes.size(), "notebook_pretrain.safetensors");
        REQUIRE(b.ok());
        CHECK(b.value.name == "notebook_pretrain.safetensors");
        CHECK(b.value.model.weights().names == f.value.model.weights().names);
        CHECK(b.value.model.weights().find("conv1.weight")->data == f.value.model.weights().find("conv1.weight")->data);
    }
    SECTION("a QAT export's stored settings read back as written in its header") {
        // assets/qat_w4a4.safetensors's quant_config: W4A4 on every layer, asymmetric MSE-optimal ranges,
        // per-channel weights, static activations; conv2's calibrated input range is [0, 5.8349103927612305].
        Result<ModelFile> f = open_model(kAssets + "/qat_w4a4.safetensors");
        REQUIRE(f.ok());
        REQUIRE(f.value.stored_config.ok());
        const QuantConfig& c = f.value.stored_config.value;
        REQUIRE(c.layers.size() == 5);
        CHECK(c.act_mode == ActMode::kStatic);
        for (const LayerQuant& l : c.layers) {
            CHECK(l.weight.bits == 4);
            CHECK(l.act.bits == 4);
            CHECK(l.weight.rule == RangeRule::kMse);
            CHECK_FALSE(l.weight.symmetric);
            CHECK(l.weight.per_channel);
            CHECK_FALSE(l.act.per_channel);
        }
        REQUIRE(c.act_ranges.size() == 5);
        CHECK(c.act_ranges[1].alpha == 0.0f);
        CHECK(c.act_ranges[1].beta == 5.8349103927612305f);
        CHECK(c.act_ranges[0].alpha == -0.9399999976158142f);
        // The Model itself opens float: the stored settings are the caller's to apply.
        CHECK(f.value.model.config().layers[0].weight.bits == kFloatBits);
        CHECK(f.value.model.configure(c).ok());
    }
    SECTION("bad files fail with a message naming the file") {
        const std::string garbage = "not a model";
        Result<ModelFile> g = open_model_bytes(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size(), "garbage.safetensors");
        REQUIRE_FALSE(g.ok());
        CHECK_THAT(g.message(), Catch::Contains("garbage.safetensors"));

        const std::string missing = kAssets + "/no_such_weights.safetensors";
        Result<ModelFile> m = open_model(missing);
        REQUIRE_FALSE(m.ok());
        CHECK_THAT(m.message(), Catch::Contains(missing));
        CHECK_THAT(m.message(), Catch::Contains("cannot open"));

        // A state_dict of another model: read fine, but not the notebook's net.
        Result<ModelFile> t = open_model(std::string(QUANTLAB_TEST_DATA_DIR) + "/tiny.pth");
        REQUIRE_FALSE(t.ok());
        CHECK_THAT(t.message(), Catch::Contains("tiny.pth"));
        CHECK_THAT(t.message(), Catch::Contains("missing tensor"));
        // read_weights_file stops short of the Model: the tensors and the (default) net are there.
        Result<WeightsFile> w = read_weights_file(std::string(QUANTLAB_TEST_DATA_DIR) + "/tiny.pth");
        REQUIRE(w.ok());
        CHECK(w.value.net.name == "notebook_net");
        CHECK_FALSE(w.value.weights.names.empty());
    }
    SECTION("stored settings that do not read leave the file open and say why") {
        Result<ModelFile> f = open_model(kAssets + "/notebook_pretrain.safetensors");
        REQUIRE(f.ok());
        StateDict sd = f.value.model.weights();
        sd.metadata[kMetaQuantConfig] = "{\"layers\": 3}";
        Result<std::vector<uint8_t>> bytes = write_safetensors_bytes(sd);
        REQUIRE(bytes.ok());
        Result<ModelFile> b = open_model_bytes(bytes.value.data(), bytes.value.size(), "odd.safetensors");
        REQUIRE(b.ok());
        REQUIRE_FALSE(b.value.stored_config.ok());
        CHECK_THAT(b.value.stored_config.message(), Catch::Contains("odd.safetensors"));
    }
}

TEST_CASE("model file: check_cifar10_net", "[model_file]") {
    CHECK(check_cifar10_net(notebook_net(), "a.safetensors").ok());
    CHECK(check_cifar10_net(wide_net(2), "a.safetensors").ok());
    Result<NetworkDesc> gray = parse_network("input 1 28 28; conv c1 1 4 5 0; relu; flatten; linear fc 2304 10");
    REQUIRE(gray.ok());
    const Status s = check_cifar10_net(gray.value, "mnist.safetensors");
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message, Catch::StartsWith("mnist.safetensors: the network takes"));
    CHECK_THAT(s.message, Catch::Contains("10 classes"));
    Result<NetworkDesc> five = parse_network("input 3 32 32; conv c1 3 4 5 0; relu; flatten; linear fc 3136 5");
    REQUIRE(five.ok());
    CHECK_THAT(check_cifar10_net(five.value, "five.pth").message, Catch::Contains("has 5 classes"));
}

TEST_CASE("model file: stamp_metadata and copy_provenance", "[model_file]") {
    const NetworkDesc net = wide_net(2);
    SECTION("the keys every QuantLab file carries") {
        Metadata m;
        stamp_metadata(&m, net, "made here");
        CHECK(m == Metadata{{"format", "quantlab"},
                            {"quantlab_format_version", "1"},
                            {"model", net.name},
                            {"model_desc", net.to_text()},
                            {"source", "made here"}});
    }
    SECTION("an existing source and other keys are kept; an empty source adds none") {
        Metadata m{{"source", "the notebook"}, {"trained_by", "me"}, {"format", "pt"}};
        stamp_metadata(&m, net, "made here");
        CHECK(m.at("source") == "the notebook");
        CHECK(m.at("trained_by") == "me");
        CHECK(m.at("format") == "quantlab");
        Metadata e;
        stamp_metadata(&e, net, "");
        CHECK(e.count("source") == 0);
        CHECK(e.count(kMetaQuantConfig) == 0);
    }
    SECTION("with a config: quant_config, which reads back through read_weights_file") {
        QuantConfig c = make_config(net, 4, 8);
        c.layers[1].weight.bits = 2;
        QuantSpec rule;
        rule.rule = RangeRule::kPercentile;
        rule.percentile = 99.5;
        rule.symmetric = false;
        apply_rule(&c, rule);
        Metadata m;
        stamp_metadata(&m, net, "x", &c);
        CHECK(m.at(kMetaQuantConfig) == quant_config_to_json(c, net));

        // A random-free file of this net: every tensor zero but the BN variances (1).
        StateDict sd;
        for (const ParamDesc& p : net.params()) {
            Tensor t(p.shape);
            if (p.name.find("running_var") != std::string::npos) t.data.assign(t.data.size(), 1.0f);
            sd.set(p.name, t, p.int64 ? "I64" : "F32");
        }
        sd.metadata = m;
        const auto dir = test::scratch_dir("test_model_file", "stamp");
        const std::string path = (dir / "w.safetensors").string();
        REQUIRE(write_safetensors(path, sd).ok());
        Result<ModelFile> f = open_model(path);
        REQUIRE(f.ok());
        CHECK(f.value.net().to_text() == net.to_text());
        CHECK(f.value.net().name == net.name);
        REQUIRE(f.value.stored_config.ok());
        const QuantConfig& back = f.value.stored_config.value;
        REQUIRE(back.layers.size() == c.layers.size());
        for (size_t i = 0; i < c.layers.size(); ++i) {
            CHECK(back.layers[i].weight == c.layers[i].weight);
            CHECK(back.layers[i].act == c.layers[i].act);
        }
    }
    SECTION("copy_provenance copies trained_by and val_accuracy where they say something") {
        const Metadata from{{"trained_by", "sgd 5 epochs"}, {"val_accuracy", ""}, {"test_accuracy", "60"}};
        Metadata to{{"source", "s"}};
        copy_provenance(from, &to);
        CHECK(to == Metadata{{"source", "s"}, {"trained_by", "sgd 5 epochs"}});
        copy_provenance(Metadata{{"val_accuracy", "61.50"}}, &to);
        CHECK(to.at("val_accuracy") == "61.50");
    }
}

TEST_CASE("calibrated: the static config Model::calibrate's ranges make", "[model_file]") {
    Result<ModelFile> f = open_model(kAssets + "/notebook_pretrain.safetensors");
    REQUIRE(f.ok());
    const Model& float_model = f.value.model;
    const std::vector<float> x = sample_images(200);
    const int64_t n = 200;

    QuantConfig config = make_config(float_model.desc(), 4, 3);
    QuantSpec rule;
    rule.rule = RangeRule::kMeanStd;
    rule.k = 2.5;
    rule.symmetric = false;
    apply_rule(&config, rule);
    config.layers[4].act.bits = kFloatBits;  // a float layer still gets a range

    // The reference: the model configured with the dynamic config, then Model::calibrate (batches of 64).
    Model direct = float_model;
    REQUIRE(direct.configure(config).ok());
    Result<std::vector<RealRange>> ranges = direct.calibrate(x.data(), n, 64);
    REQUIRE(ranges.ok());

    Result<QuantConfig> c = calibrated(float_model, config, x.data(), n, 64);
    REQUIRE(c.ok());
    CHECK(c.value.act_mode == ActMode::kStatic);
    REQUIRE(c.value.act_ranges.size() == 5);
    for (size_t q = 0; q < 5; ++q) {
        CHECK(c.value.act_ranges[q].alpha == ranges.value[q].alpha);
        CHECK(c.value.act_ranges[q].beta == ranges.value[q].beta);
        CHECK(c.value.layers[q].weight == config.layers[q].weight);
        CHECK(c.value.layers[q].act == config.layers[q].act);
    }
    CHECK(validate(c.value, float_model.desc()).ok());
    // The ranges depend on the quantized weights (calibration observes the quantized network), so they are
    // not the float network's.
    Model float_copy = float_model;
    Result<std::vector<RealRange>> float_ranges = float_copy.calibrate(x.data(), n, 64);
    REQUIRE(float_ranges.ok());
    CHECK(float_ranges.value[2].beta != c.value.act_ranges[2].beta);

    SECTION("the model's own configuration and a config's old ranges do not matter") {
        Model other = float_model;
        REQUIRE(other.configure(make_config(other.desc(), 8, 8)).ok());
        QuantConfig stale = config;
        stale.act_mode = ActMode::kStatic;
        stale.act_ranges.assign(5, RealRange{-1, 1});
        Result<QuantConfig> d = calibrated(other, stale, x.data(), n, 64);
        REQUIRE(d.ok());
        for (size_t q = 0; q < 5; ++q) CHECK(d.value.act_ranges[q].beta == c.value.act_ranges[q].beta);
        CHECK(other.config().layers[0].weight.bits == 8);  // untouched
    }
    SECTION("errors: no images, a config for another network") {
        Result<QuantConfig> e = calibrated(float_model, config, x.data(), 0, 64);
        REQUIRE_FALSE(e.ok());
        CHECK_THAT(e.message(), Catch::StartsWith("calibrate:"));
        QuantConfig short_config = config;
        short_config.layers.pop_back();
        Result<QuantConfig> s = calibrated(float_model, short_config, x.data(), n, 64);
        REQUIRE_FALSE(s.ok());
        CHECK_THAT(s.message(), Catch::StartsWith("quant config: 4 layer settings"));
    }
}
