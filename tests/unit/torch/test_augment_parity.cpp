// test_augment_parity.cpp: core's host augmentation (core/train/augment crop_flip_images, what `quantlab train
// --engine core` applies) equals the LibTorch trainer's device gather (torch_model.hpp crop_flip) on the same
// draws, value for value, on normalised CIFAR-sized images.
#include <catch2/catch.hpp>

#include <random>

#include "core/train/augment.hpp"
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
