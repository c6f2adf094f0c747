// test_augment.cpp: the trainers' augmentation in core (core/train/augment): the draws depend only on the
// generator's seed, stay in range and use both flips; crop_flip_images equals an explicit reference (build the
// zero-padded image, cut the window, mirror it), torchvision's RandomCrop(padding) + RandomHorizontalFlip order.
// tests/unit/torch/test_augment_parity.cpp checks it against the LibTorch trainer's device gather.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "core/train/augment.hpp"

using namespace quantlab;

TEST_CASE("augmentation draws: seeded, in range, crop and flip independent", "[augment]") {
    std::mt19937_64 a(11), b(11), c(12);
    const AugDraws da = draw_augment(500, true, true, a), db = draw_augment(500, true, true, b), dc = draw_augment(500, true, true, c);
    CHECK(da.dy == db.dy);
    CHECK(da.dx == db.dx);
    CHECK(da.flip == db.flip);
    CHECK((da.dy != dc.dy || da.flip != dc.flip));
    int flips = 0;
    for (size_t i = 0; i < 500; ++i) {
        CHECK((da.dy[i] >= 0 && da.dy[i] <= 2 * kAugPad && da.dx[i] >= 0 && da.dx[i] <= 2 * kAugPad));
        flips += int(da.flip[i]);
    }
    CHECK((flips > 200 && flips < 300));
    std::mt19937_64 r(3);
    const AugDraws none = draw_augment(4, false, false, r);
    CHECK(none.dy == std::vector<int64_t>(4, kAugPad));
    CHECK(none.flip == std::vector<int64_t>(4, 0));
    CHECK(r() == std::mt19937_64(3)());  // no augmentation consumes no draws
}

TEST_CASE("crop_flip_images equals pad, crop, mirror", "[augment]") {
    const int64_t n = 3, c = 2, h = 5, w = 6, pad = 2;
    std::vector<float> x(size_t(n * c * h * w));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) * 0.25f + 1.0f;
    const AugDraws d{{0, 2, 4}, {4, 2, 1}, {1, 0, 1}};
    std::vector<float> out(x.size());
    crop_flip_images(x.data(), n, c, h, w, d, out.data(), pad, -1.0f);
    const int64_t ph = h + 2 * pad, pw = w + 2 * pad;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < c; ++ch) {
            std::vector<float> padded(size_t(ph * pw), -1.0f);  // the zero-padded image (-1 after normalisation)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t xx = 0; xx < w; ++xx) padded[size_t((y + pad) * pw + xx + pad)] = x[size_t(((i * c + ch) * h + y) * w + xx)];
            for (int64_t y = 0; y < h; ++y)
                for (int64_t xx = 0; xx < w; ++xx) {
                    // RandomCrop takes the window at (dy, dx) of the padded image; the flip then mirrors the window.
                    const int64_t col = d.flip[size_t(i)] ? w - 1 - xx : xx;
                    const float want = padded[size_t((d.dy[size_t(i)] + y) * pw + d.dx[size_t(i)] + col)];
                    INFO(i << " " << ch << " " << y << " " << xx);
                    CHECK(out[size_t(((i * c + ch) * h + y) * w + xx)] == want);
                }
        }
}
