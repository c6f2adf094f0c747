// test_ui_model_catalog.cpp: ui/model_catalog - the bundled models as the picker lists them, what each says
// about itself (against the metadata printed in assets/README.md and the README's model table), the messages
// for an unknown name and for a file that does not fit the network (both languages), and the overlay's jobs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/model_file.hpp"
#include "core/safetensors_io.hpp"
#include "core/weights_io.hpp"
#include "tests/support/test_files.hpp"
#include "ui/i18n.hpp"
#include "ui/model_catalog.hpp"

using namespace quantlab;

namespace {
const std::string kAssets = QUANTLAB_ASSETS_DIR;

// Restores English however a test ends.
struct LangGuard {
    ~LangGuard() { ui::set_language(ui::Lang::kEn); }
};
}  // namespace

TEST_CASE("model catalog: the bundled models and their metadata", "[ui][catalog]") {
    LangGuard lang;
    const ui::ModelCatalog models = ui::scan_models(kAssets);
    const std::vector<std::string> files = {"float_best.safetensors",   "notebook_pretrain.safetensors", "qat_mixed_84kb.safetensors",
                                            "qat_w2a2.safetensors",     "qat_w2a2_fl8.safetensors",      "qat_w2a2_lsq.safetensors",
                                            "qat_w3a3.safetensors",     "qat_w3a3_lsq.safetensors",      "qat_w4a4.safetensors"};
    REQUIRE(models.size() == files.size());
    for (size_t i = 0; i < files.size(); ++i) {
        CHECK(models[i].file == files[i]);
        CHECK(models[i].usable());
        CHECK(models[i].error.empty());
    }
    auto at = [&](const std::string& stem) -> const ui::CatalogEntry& {
        const ui::CatalogEntry* e = ui::find_model(models, stem);
        REQUIRE(e);
        return *e;
    };
    const ui::CatalogEntry& fb = models[0];
    CHECK(fb.stem() == "float_best");
    CHECK(fb.test_accuracy == Approx(76.50));
    CHECK_FALSE(fb.qat());
    CHECK(fb.weight_bits == kFloatBits);

    const ui::CatalogEntry& nb = models[1];
    CHECK(nb.test_accuracy == Approx(67.17));  // test_accuracy_float: the notebook file has no test_accuracy
    CHECK(nb.trained_by == "notebook (pretrained)");
    CHECK(nb.config.layers.empty());
    CHECK_FALSE(nb.qat());

    const int bits[] = {2, 3, 4};
    const double acc[] = {60.71, 73.82, 75.86};
    for (int i = 0; i < 3; ++i) {
        const ui::CatalogEntry& q = at("qat_w" + std::to_string(bits[i]) + "a" + std::to_string(bits[i]));
        CHECK(q.qat());
        CHECK(q.weight_bits == bits[i]);
        CHECK(q.act_bits == bits[i]);
        CHECK(q.test_accuracy == Approx(acc[i]));
        CHECK(q.config.act_mode == ActMode::kStatic);
        CHECK(q.config.act_ranges.size() == 5);
        CHECK(q.quantization == "W" + std::to_string(bits[i]) + "A" + std::to_string(bits[i]) + ", mse asymmetric, per-channel weights");
    }
    // Learned steps (LSQ), stored as fixed scales (native/trainer/RESULTS.md): their accuracies are the README's.
    struct Learned {
        const char* stem;
        int layer_bits[5];
        int weight_bits;  // 0: they differ by layer
        double test_accuracy;
    };
    const Learned learned[] = {{"qat_w2a2_lsq", {2, 2, 2, 2, 2}, 2, 70.39},
                               {"qat_w3a3_lsq", {3, 3, 3, 3, 3}, 3, 75.47},
                               {"qat_w2a2_fl8", {8, 2, 2, 2, 8}, 0, 73.93},
                               {"qat_mixed_84kb", {8, 4, 2, 4, 4}, 0, 76.27}};
    for (const Learned& l : learned) {
        INFO(l.stem);
        const ui::CatalogEntry& q = at(l.stem);
        CHECK(q.qat());
        CHECK(q.weight_bits == l.weight_bits);
        CHECK(q.act_bits == l.weight_bits);
        CHECK(q.test_accuracy == Approx(l.test_accuracy));
        CHECK(q.config.act_mode == ActMode::kStatic);
        REQUIRE(q.config.layers.size() == 5);
        REQUIRE(q.config.act_scales.size() == 5);
        REQUIRE(q.config.weight_scales.size() == 5);
        for (size_t k = 0; k < 5; ++k) {
            CHECK(q.config.layers[k].weight.bits == l.layer_bits[k]);
            CHECK(q.config.layers[k].act.bits == l.layer_bits[k]);
            CHECK(q.config.act_scales[k] > 0);
            CHECK(q.config.weight_scales[k] > 0);
            CHECK(q.config.layers[k].act.symmetric == (k == 0));  // unsigned codes after a ReLU (conv2..fc3's inputs)
        }
        CHECK(q.quantization.find("lsq learned steps") != std::string::npos);
    }
    CHECK(ui::bits_label(at("qat_mixed_84kb").weight_bits, at("qat_mixed_84kb").act_bits) == "mixed");

    SECTION("descriptions, English and Japanese") {
        ui::set_language(ui::Lang::kEn);
        CHECK(ui::describe(at("qat_w4a4")) == "QAT W4A4, mse asymmetric, per-channel weights · test accuracy 75.86 % · "
                                         "fine-tuned from float_best.safetensors");
        CHECK(ui::describe(nb) == "float · test accuracy 67.17 % · notebook (pretrained)");
        CHECK(ui::describe(fb) == "float · test accuracy 76.50 % · fine-tuned from pretrain.pth");
        ui::set_language(ui::Lang::kJa);
        const std::string ja = ui::describe(at("qat_w4a4"));
        CHECK(ja.find("テスト精度 75.86 %") != std::string::npos);
        CHECK(ja.find("QAT") != std::string::npos);
        CHECK(ui::describe(nb).find("浮動小数点") != std::string::npos);
    }

    SECTION("find and pick by file name or stem") {
        CHECK(ui::find_model(models, "qat_w3a3") == &models[6]);
        CHECK(ui::find_model(models, "qat_w3a3.safetensors") == &models[6]);
        CHECK(ui::find_model(models, "qat_w3") == nullptr);
        Result<const ui::CatalogEntry*> p = ui::pick_model(models, "float_best");
        REQUIRE(p.ok());
        CHECK(p.value == &models[0]);
    }

    SECTION("an unknown name: a message that names it and lists the bundled models, in the current language") {
        ui::set_language(ui::Lang::kEn);
        Result<const ui::CatalogEntry*> p = ui::pick_model(models, "qat_w9a9");
        REQUIRE_FALSE(p.ok());
        CHECK(p.message() == "Unknown model 'qat_w9a9'. Bundled models: float_best, notebook_pretrain, qat_mixed_84kb, qat_w2a2, qat_w2a2_fl8, qat_w2a2_lsq, "
                               "qat_w3a3, qat_w3a3_lsq, qat_w4a4");
        ui::set_language(ui::Lang::kJa);
        Result<const ui::CatalogEntry*> j = ui::pick_model(models, "qat_w9a9");
        REQUIRE_FALSE(j.ok());
        CHECK(j.message().find("不明なモデル 'qat_w9a9'") == 0);
    }
}

TEST_CASE("model catalog: files that do not fit the network are listed with why", "[ui][catalog]") {
    LangGuard lang;
    const std::filesystem::path dir = test::scratch_dir("catalog", "bad");
    // 1. Not a weights file at all.
    {
        std::ofstream f(dir / "garbage.safetensors", std::ios::binary);
        f << "this is not a safetensors file";
    }
    // 2. A well-formed file of a net with 100 classes (CIFAR-100's head): it opens, but QuantLab evaluates
    //    CIFAR-10, so it does not fit.
    {
        Result<StateDict> sd = read_weights(kAssets + "/notebook_pretrain.safetensors");
        REQUIRE(sd.ok());
        Result<NetworkDesc> net = parse_network(
            "input 3 32 32; conv conv1 3 32 5 0; bn bn1 32; relu; pool 2; conv conv2 32 64 5 0; bn bn2 64; relu; pool 2; "
            "flatten; linear fc1 1600 120; relu; linear fc2 120 84; relu; linear fc3 84 100");
        REQUIRE(net.ok());
        net.value.name = "cifar100_net";
        sd.value.set("fc3.weight", Tensor({100, 84}, 0.01f));
        sd.value.set("fc3.bias", Tensor({100}, 0.0f));
        sd.value.metadata.clear();
        stamp_metadata(&sd.value.metadata, net.value, "test");
        REQUIRE(write_safetensors((dir / "cifar100.safetensors").string(), sd.value));
    }
    // 3. A good one beside them, and a file of another kind that is not listed.
    std::filesystem::copy_file(kAssets + "/qat_w4a4.safetensors", dir / "qat_w4a4.safetensors");
    { std::ofstream(dir / "notes.txt") << "not a model"; }

    const ui::ModelCatalog models = ui::scan_models(dir.string());
    REQUIRE(models.size() == 3);
    CHECK(models[0].file == "cifar100.safetensors");
    CHECK(models[1].file == "garbage.safetensors");
    CHECK(models[2].file == "qat_w4a4.safetensors");
    CHECK_FALSE(models[0].usable());
    CHECK(models[0].error.find("100 classes") != std::string::npos);
    CHECK_FALSE(models[1].usable());
    CHECK_FALSE(models[1].error.empty());
    CHECK(models[2].qat());

    ui::set_language(ui::Lang::kEn);
    Result<const ui::CatalogEntry*> p = ui::pick_model(models, "cifar100");
    REQUIRE_FALSE(p.ok());
    CHECK(p.message().find("This model does not fit the network: cifar100.safetensors: the network takes (3,32,32) inputs and has 100 classes") == 0);
    CHECK(ui::describe(models[0]).find("cannot be used: ") == 0);
    ui::set_language(ui::Lang::kJa);
    Result<const ui::CatalogEntry*> pj = ui::pick_model(models, "garbage");
    REQUIRE_FALSE(pj.ok());
    CHECK(pj.message().find("このモデルはネットワークに合いません") == 0);

    SECTION("a missing folder lists nothing") {
        CHECK(ui::scan_models((dir / "missing").string()).empty());
    }
}

TEST_CASE("model catalog: the overlay's jobs", "[ui][catalog]") {
    const ui::ModelCatalog models = ui::scan_models(kAssets);
    const std::vector<ui::OverlayJob> jobs = ui::overlay_jobs(models, {2, 4, 8}, Backend::kInteger);
    // PTQ of float_best at each width, then each QAT model with the same bits on every layer, in file order (the
    // mixed ones, qat_mixed_84kb and qat_w2a2_fl8, have no place on a bits axis).
    const char* qat_files[] = {"qat_w2a2.safetensors", "qat_w2a2_lsq.safetensors", "qat_w3a3.safetensors", "qat_w3a3_lsq.safetensors",
                               "qat_w4a4.safetensors"};
    const int qat_bits[] = {2, 2, 3, 3, 4};
    REQUIRE(jobs.size() == 3 + 5);
    for (int i = 0; i < 3; ++i) {
        const ui::OverlayJob& j = jobs[size_t(i)];
        CHECK_FALSE(j.qat);
        CHECK(j.model == "float_best.safetensors");
        CHECK(j.job.model == models[0].model);
        CHECK(j.job.config.act_mode == ActMode::kDynamic);
        for (const LayerQuant& l : j.job.config.layers) {
            CHECK(l.weight.bits == j.weight_bits);
            CHECK(l.weight.rule == RangeRule::kMse);
            CHECK_FALSE(l.weight.symmetric);
            CHECK(l.weight.per_channel);
            CHECK_FALSE(l.act.per_channel);
        }
        CHECK(j.job.key.find("float_best.safetensors|") == 0);
    }
    CHECK(jobs[0].weight_bits == 2);
    CHECK(jobs[2].weight_bits == 8);
    for (int i = 0; i < 5; ++i) {
        const ui::OverlayJob& j = jobs[size_t(3 + i)];
        CHECK(j.qat);
        CHECK(j.model == qat_files[i]);
        CHECK(j.weight_bits == qat_bits[i]);
        const std::vector<RealRange>& want = ui::find_model(models, qat_files[i])->config.act_ranges;
        REQUIRE(j.job.config.act_ranges.size() == want.size());
        for (size_t k = 0; k < want.size(); ++k)
            CHECK((j.job.config.act_ranges[k].alpha == want[k].alpha && j.job.config.act_ranges[k].beta == want[k].beta));
        CHECK(j.job.key.find("file ranges") != std::string::npos);
    }
    // Without the float model only the QAT points remain.
    ui::ModelCatalog no_float(models.begin() + 1, models.end());
    CHECK(ui::overlay_jobs(no_float, {2, 4}, Backend::kFast).size() == 5);
}
