// test_augment.cpp: the trainers' augmentation in core (core/train/augment): the draws depend only on the
// generator's seed, stay in range and use both flips; crop_flip_images equals an explicit reference (build the
// zero-padded image, cut the window, mirror it), torchvision's RandomCrop(padding) + RandomHorizontalFlip order.
// tests/unit/torch/test_augment_parity.cpp checks it against the LibTorch trainer's device gather.
#include <catch2/catch.hpp>

#include <algorithm>
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

TEST_CASE("augmentation draws: cutout and colour jitter", "[augment]") {
    AugSpec s;
    s.crop = s.flip = true;
    SECTION("off: the crop and flip draws of before, and no other draws") {
        std::mt19937_64 a(5), b(5);
        const AugDraws old = draw_augment(50, true, true, a), now = draw_augment(50, s, b);
        CHECK(old.dy == now.dy);
        CHECK(old.flip == now.flip);
        CHECK(a() == b());
        CHECK(now.brightness == std::vector<float>(50, 1.0f));
    }
    SECTION("on: centres in the image, factors in [1 - a, 1 + a], spread over them") {
        s.cutout = 16;
        s.jitter = 0.4f;
        std::mt19937_64 r(8);
        const AugDraws d = draw_augment(2000, s, r, 32);
        float lo = 2, hi = 0;
        for (size_t i = 0; i < 2000; ++i) {
            CHECK((d.cy[i] >= 0 && d.cy[i] < 32 && d.cx[i] >= 0 && d.cx[i] < 32));
            for (float f : {d.brightness[i], d.contrast[i], d.saturation[i]}) lo = std::min(lo, f), hi = std::max(hi, f);
        }
        CHECK(lo >= 0.6f);
        CHECK(hi < 1.4f);
        CHECK(lo < 0.61f);
        CHECK(hi > 1.39f);
        CHECK(d.brightness != d.contrast);
    }
    SECTION("bad values are refused with the option's name") {
        s.cutout = 33;
        CHECK(check_augment(s, 32).message.find("--cutout: 33") != std::string::npos);
        s.cutout = 32;
        CHECK(check_augment(s, 32).ok());
        s.jitter = -0.1f;
        CHECK(check_augment(s, 32).message.find("--color-jitter") != std::string::npos);
        s.jitter = 0.95f;
        CHECK(!check_augment(s, 32).ok());
    }
}

TEST_CASE("cutout zeroes an N x N square around its centre, clipped at the borders", "[augment]") {
    const int64_t h = 6, w = 6;
    std::vector<float> x(size_t(2 * 3 * h * w), 0.5f);
    AugDraws d;
    d.cy = {1, 3};
    d.cx = {4, 3};
    AugSpec s;
    s.cutout = 4;  // rows cy-2 .. cy+1: image 0 rows -1..2 (clipped to 0..2), cols 2..5; image 1 rows and cols 1..4
    jitter_cutout_images(x.data(), 2, h, w, d, s);
    for (int64_t i = 0; i < 2; ++i)
        for (int64_t ch = 0; ch < 3; ++ch)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t xx = 0; xx < w; ++xx) {
                    const bool in = i == 0 ? (y <= 2 && xx >= 2) : (y >= 1 && y <= 4 && xx >= 1 && xx <= 4);
                    INFO(i << " " << ch << " " << y << " " << xx);
                    CHECK(x[size_t(((i * 3 + ch) * h + y) * w + xx)] == (in ? 0.0f : 0.5f));
                }
    std::vector<float> one(3 * 25, 1.0f);
    AugDraws c;
    c.cy = {2};
    c.cx = {0};
    s.cutout = 3;  // odd side: rows 1..3, cols -1..1 (clipped to 0..1)
    jitter_cutout_images(one.data(), 1, 5, 5, c, s);
    int zeros = 0;
    for (float v : one) zeros += v == 0.0f;
    CHECK(zeros == 3 * 3 * 2);
    CHECK(one[size_t(1 * 5 + 1)] == 0.0f);
    CHECK(one[size_t(1 * 5 + 2)] == 1.0f);
}

TEST_CASE("colour jitter: brightness, contrast and saturation by hand", "[augment]") {
    // Two pixels of the 0..1 image: A = (0.5, 0.25, 0.75), B = (1, 0, 0.5); normalised x = 2v - 1.
    const std::vector<float> x0 = {0.0f, 1.0f, -0.5f, -1.0f, 0.5f, 0.0f};  // (1, 3, 1, 2): r(A, B), g(A, B), b(A, B)
    AugSpec s;
    s.jitter = 0.5f;  // only switches the step on: the factors are the draws'
    auto run = [&](float b, float c, float sat) {
        std::vector<float> x = x0;
        AugDraws d;
        d.brightness = {b};
        d.contrast = {c};
        d.saturation = {sat};
        jitter_cutout_images(x.data(), 1, 1, 2, d, s);
        std::vector<float> v;  // back to 0..1
        for (float e : x) v.push_back((e + 1) / 2);
        return v;
    };
    SECTION("factors of 1 change nothing") {
        const std::vector<float> v = run(1, 1, 1);
        const std::vector<float> want = {0.5f, 1.0f, 0.25f, 0.0f, 0.75f, 0.5f};
        for (size_t i = 0; i < 6; ++i) CHECK(v[i] == Approx(want[i]).margin(1e-7));
    }
    SECTION("brightness 1.5: v * 1.5, clamped at 1") {
        const std::vector<float> v = run(1.5f, 1, 1);
        const std::vector<float> want = {0.75f, 1.0f, 0.375f, 0.0f, 1.0f, 0.75f};
        for (size_t i = 0; i < 6; ++i) CHECK(v[i] == Approx(want[i]).margin(1e-7));
    }
    SECTION("contrast 0.5: halfway to the image's mean gray") {
        // gray(A) = 0.2989 * 0.5 + 0.587 * 0.25 + 0.114 * 0.75 = 0.3817, gray(B) = 0.2989 + 0.057 = 0.3559, mean 0.3688
        const std::vector<float> v = run(1, 0.5f, 1);
        const std::vector<float> want = {0.4344f, 0.6844f, 0.3094f, 0.1844f, 0.5594f, 0.4344f};
        for (size_t i = 0; i < 6; ++i) CHECK(v[i] == Approx(want[i]).margin(1e-6));
    }
    SECTION("saturation 0: each pixel its gray; 2: away from it, clamped") {
        const std::vector<float> g = run(1, 1, 0);
        const std::vector<float> want0 = {0.3817f, 0.3559f, 0.3817f, 0.3559f, 0.3817f, 0.3559f};
        for (size_t i = 0; i < 6; ++i) CHECK(g[i] == Approx(want0[i]).margin(1e-6));
        const std::vector<float> v = run(1, 1, 2);
        // A: 2 v - 0.3817 = (0.6183, 0.1183, 1.1183 -> 1); B: 2 v - 0.3559 = (1.6441 -> 1, -0.3559 -> 0, 0.6441)
        const std::vector<float> want2 = {0.6183f, 1.0f, 0.1183f, 0.0f, 1.0f, 0.6441f};
        for (size_t i = 0; i < 6; ++i) CHECK(v[i] == Approx(want2[i]).margin(1e-6));
    }
}

TEST_CASE("augment_images: crop/flip, then jitter and cutout", "[augment]") {
    const int64_t n = 2, h = 8, w = 8;
    std::vector<float> x(size_t(n * 3 * h * w));
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i % 37) / 18.0f - 1.0f;
    AugSpec s;
    s.crop = s.flip = true;
    s.cutout = 3;
    s.jitter = 0.3f;
    std::mt19937_64 r(4);
    const AugDraws d = draw_augment(n, s, r, h);
    std::vector<float> want(x.size()), got(x.size());
    crop_flip_images(x.data(), n, 3, h, w, d, want.data());
    jitter_cutout_images(want.data(), n, h, w, d, s);
    augment_images(x.data(), n, h, w, d, s, got.data());
    CHECK(got == want);
}
