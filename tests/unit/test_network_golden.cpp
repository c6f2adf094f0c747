// test_network_golden.cpp: core inference of the notebook's pretrained net against PyTorch
// (tests/golden/make_golden.py): float logits of the first 64 test images within 1e-4, the same
// predictions under fake-quant at 8/4/3/2 bits, integer predictions equal to fake-quant's, and the
// predictions over all 10,000 test images equal to PyTorch's image by image (see the tolerance note there).
#include <catch2/catch.hpp>

#include <cmath>

#include "core/cifar10.hpp"
#include "core/evaluate.hpp"
#include "core/pth_io.hpp"
#include "tests/support/test_files.hpp"

using namespace quantlab;

namespace {

const Model& pretrained() {
    static Model model = [] {
        Result<StateDict> sd = read_pth(std::string(QUANTLAB_SEED_DIR) + "/pretrain.pth");
        REQUIRE(sd.ok());
        Result<Model> m = Model::create(notebook_net(), sd.value, "pretrain.pth");
        REQUIRE(m.ok());
        return m.value;
    }();
    return model;
}

const Cifar10& test_set() {
    static Cifar10 data = [] {
        Result<Cifar10> d = read_cifar10_test(QUANTLAB_DATA_DIR);
        REQUIRE(d.ok());
        return d.value;
    }();
    return data;
}

// Logits of images [0, n) as one batch.
std::vector<float> logits_of(const Model& m, int64_t n, Backend backend) {
    std::vector<float> x(size_t(n * kCifar10ImageBytes)), logits(size_t(n * 10));
    normalize_images(test_set(), 0, n, x.data());
    REQUIRE(m.forward(x.data(), n, logits.data(), backend).ok());
    return logits;
}

const int kBits[] = {32, 8, 4, 3, 2};  // the golden file's variant order: float, b8, b4, b3, b2

}  // namespace

TEST_CASE("first 64 test images against PyTorch", "[network][golden]") {
    const std::vector<float> golden = test::read_f32(test::golden("logits_first64.bin"));
    REQUIRE(golden.size() == 5 * 64 * 10);
    Model m = pretrained();
    SECTION("float logits within 1e-4, reference and fast kernels") {
        for (Backend b : {Backend::kReference, Backend::kFast}) {
            const std::vector<float> got = logits_of(m, 64, b);
            double worst = 0;
            for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, double(std::fabs(got[i] - golden[i])));
            CAPTURE(backend_name(b), worst);
            CHECK(worst <= 1e-4);
        }
    }
    SECTION("fake-quant predictions identical at every bit width; integer predictions equal fake-quant's") {
        for (int v = 1; v < 5; ++v) {
            CAPTURE(kBits[v]);
            REQUIRE(m.configure(make_config(m.desc(), kBits[v], kBits[v])).ok());
            const std::vector<float> fq = logits_of(m, 64, Backend::kReference);
            const std::vector<float> in = logits_of(m, 64, Backend::kInteger);
            int differ_torch = 0, differ_int = 0;
            double worst = 0;
            for (int i = 0; i < 64; ++i) {
                const float* want = &golden[size_t((v * 64 + i) * 10)];
                differ_torch += argmax(&fq[size_t(i * 10)], 10) != argmax(want, 10);
                differ_int += argmax(&in[size_t(i * 10)], 10) != argmax(&fq[size_t(i * 10)], 10);
                for (int k = 0; k < 10; ++k) worst = std::max(worst, double(std::fabs(fq[size_t(i * 10 + k)] - want[k])));
            }
            CAPTURE(worst);
            CHECK(differ_torch == 0);
            CHECK(differ_int == 0);
        }
    }
}

TEST_CASE("accuracy over the 10,000 test images equals PyTorch's, image by image", "[network][golden][full]") {
    Model m = pretrained();
    const int bits[] = {32, 16, 8, 6, 5, 4, 3, 2};
    const char* files[] = {"float", "b16", "b8", "b6", "b5", "b4", "b3", "b2"};
    // Image-by-image equality is exact at float, 16, 5, 4, 3 and 2 bits. At 8 and 6 bits a few images sit
    // on a knife edge: an activation lands within an ulp of a rounding boundary and the top two logits are
    // close, so any other summation order can flip them. PyTorch itself, rerun in float64
    // (make_golden.py --sensitivity), changes 1 prediction at 8 bits and 3 at 6 bits; core (another
    // summation order in float32) may differ by no more than that.
    const int64_t allowed[] = {0, 0, 1, 3, 0, 0, 0, 0};
    for (int v = 0; v < 8; ++v) {
        CAPTURE(bits[v]);
        const std::vector<uint8_t> want = test::read_bytes(test::golden(std::string("predictions_") + files[v] + ".u8"));
        REQUIRE(want.size() == 10000);
        REQUIRE(m.configure(make_config(m.desc(), bits[v], bits[v])).ok());
        Result<EvalResult> r = evaluate(m, test_set(), 128, Backend::kFast);
        REQUIRE(r.ok());
        int64_t differ = 0, first = -1;
        for (size_t i = 0; i < 10000; ++i)
            if (r.value.predictions[i] != want[i]) {
                ++differ;
                if (first < 0) first = int64_t(i);
            }
        CAPTURE(differ, first, r.value.correct);
        CHECK(differ <= allowed[v]);
        // The integer path: the same predictions as fake-quant, image by image, but for the same knife-edge
        // images (integer sums are exact, fake-quant's float sums round): the same bound as above.
        if (bits[v] <= 8) {
            Result<EvalResult> ri = evaluate(m, test_set(), 128, Backend::kInteger);
            REQUIRE(ri.ok());
            int64_t differ_int = 0;
            for (size_t i = 0; i < 10000; ++i) differ_int += ri.value.predictions[i] != r.value.predictions[i];
            CAPTURE(differ_int);
            CHECK(differ_int <= allowed[v]);
        }
    }
}
