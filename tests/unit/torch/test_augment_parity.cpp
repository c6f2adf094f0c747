// test_augment_parity.cpp: core's host augmentation (core/train/augment crop_flip_images, what `quantlab train
// --engine core` applies) equals the LibTorch trainer's device gather (torch_model.hpp crop_flip) on the same
// draws, value for value, on normalised CIFAR-sized images.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/train/augment.hpp"
#include "native/trainer/graph_step.hpp"  // float_bits
#include "native/trainer/torch_model.hpp"

using namespace quantlab;

TEST_CASE("augmentation: core's crop_flip_images = the LibTorch trainer's crop_flip", "[torch][augment]") {
    torch::manual_seed(5);
    const int64_t n = 64;
    const torch::Tensor x = torch::rand({n, 3, 32, 32}) * 2 - 1;
    std::mt19937_64 rng(9);
    const AugDraws d = draw_augment(n, true, true, rng);
    const torch::Tensor want = trainer::crop_flip(x, d.dy, d.dx, d.flip, kAugPad, -1.0).contiguous();
    std::vector<float> got(size_t(x.numel()));
    crop_flip_images(x.contiguous().data_ptr<float>(), n, 3, 32, 32, d, got.data());
    const float* w = want.data_ptr<float>();
    int64_t diff = 0;
    for (size_t i = 0; i < got.size(); ++i) diff += got[i] != w[i];
    CHECK(diff == 0);
}

// Cutout and colour jitter: core's augment_images (--engine core) against the LibTorch trainer's
// augment_on_device (the eager loop) and its static step's reading of the draws from an int64 block (the CUDA
// graph's body), on one batch with the same draws. Crop, flip and cutout are gathers and fills: equal exactly.
// Jitter is the same float operations in the same order; only the image mean's sum (double on both sides, in
// another order) may differ in its last bit, so the values agree within 1e-6.
TEST_CASE("augmentation: cutout and colour jitter, core's host = the LibTorch trainer's device", "[torch][augment]") {
    torch::manual_seed(6);
    const int64_t n = 64;
    const torch::Tensor x = (torch::rand({n, 3, 32, 32}) * 2 - 1).contiguous();
    auto max_diff = [&](const AugSpec& s, uint64_t seed) {
        std::mt19937_64 rng(seed);
        const AugDraws d = draw_augment(n, s, rng, 32);
        const torch::Tensor dev = trainer::augment_on_device(x, d, s).contiguous();
        std::vector<float> host(size_t(x.numel()));
        augment_images(x.data_ptr<float>(), n, 32, 32, d, s, host.data());
        // The static step's path: the float factors as int32 bit patterns in int64 rows.
        std::vector<int64_t> rows(size_t(5 * n));
        for (int64_t i = 0; i < n; ++i) {
            const size_t k = size_t(i);
            rows[k] = d.cy[k];
            rows[size_t(n) + k] = d.cx[k];
            rows[size_t(2 * n) + k] = trainer::float_bits(d.brightness[k]);
            rows[size_t(3 * n) + k] = trainer::float_bits(d.contrast[k]);
            rows[size_t(4 * n) + k] = trainer::float_bits(d.saturation[k]);
        }
        const torch::Tensor block = torch::from_blob(rows.data(), {5, n}, torch::kLong).clone();
        auto factor = [&](int64_t r) { return block[r].to(torch::kInt).view(torch::kFloat); };
        const torch::Tensor cf = trainer::crop_flip(x, d.dy, d.dx, d.flip, kAugPad, -1.0);
        const torch::Tensor from_block = trainer::jitter_cutout(cf, block[0], block[1], factor(2), factor(3), factor(4), s).contiguous();
        CHECK(torch::equal(from_block, dev));
        const float* p = dev.data_ptr<float>();
        double diff = 0;
        for (size_t i = 0; i < host.size(); ++i) diff = std::max(diff, double(std::fabs(host[i] - p[i])));
        return diff;
    };
    AugSpec s;
    s.crop = s.flip = true;
    s.cutout = 12;
    CHECK(max_diff(s, 1) == 0.0);  // crop, flip, cutout: exact
    s.jitter = 0.4f;
    const double d = max_diff(s, 2);
    INFO("largest difference " << d);
    CHECK(d <= 1e-6);
    s.crop = s.flip = false;
    s.cutout = 0;
    s.jitter = 0.9f;
    CHECK(max_diff(s, 3) <= 1e-6);
}
