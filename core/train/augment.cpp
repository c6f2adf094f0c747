// augment.cpp: the augmentation draws and their host application (augment.hpp).
#include "core/train/augment.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

namespace quantlab {

namespace {

// A uniform float in [0, 1) from one 64-bit draw (its top 24 bits: every value exact in float).
float uniform01(std::mt19937_64& rng) { return float(rng() >> 40) * (1.0f / 16777216.0f); }

std::string short_number(float v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", double(v));
    return b;
}

float clamp01(float v) { return std::min(std::max(v, 0.0f), 1.0f); }

}  // namespace

Status check_augment(const AugSpec& spec, int64_t side) {
    if (spec.cutout < 0 || spec.cutout > side)
        return Status::error("--cutout: " + std::to_string(spec.cutout) + " is not a square side; use 0 (none) to " + std::to_string(side) +
                             " pixels (DeVries & Taylor used 16 on CIFAR-10)");
    if (!(spec.jitter >= 0 && spec.jitter <= kMaxJitter))
        return Status::error("--color-jitter: " + short_number(spec.jitter) + " is out of range; use 0 (none) to " + short_number(kMaxJitter) +
                             " (factors in [1 - a, 1 + a], e.g. 0.4)");
    return Status::success();
}

AugDraws draw_augment(int64_t b, const AugSpec& s, std::mt19937_64& rng, int64_t side) {
    const size_t n = size_t(b);
    AugDraws d{std::vector<int64_t>(n, kAugPad), std::vector<int64_t>(n, kAugPad), std::vector<int64_t>(n, 0),
               std::vector<int64_t>(n, 0),       std::vector<int64_t>(n, 0),       std::vector<float>(n, 1.0f),
               std::vector<float>(n, 1.0f),      std::vector<float>(n, 1.0f)};
    const float lo = 1.0f - s.jitter, span = 2.0f * s.jitter;
    for (size_t i = 0; i < n; ++i) {
        if (s.crop) {
            d.dy[i] = int64_t(rng() % uint64_t(2 * kAugPad + 1));
            d.dx[i] = int64_t(rng() % uint64_t(2 * kAugPad + 1));
        }
        if (s.flip) d.flip[i] = int64_t(rng() & 1);
        if (s.cutout > 0) {
            d.cy[i] = int64_t(rng() % uint64_t(side));
            d.cx[i] = int64_t(rng() % uint64_t(side));
        }
        if (s.jitter > 0) {
            d.brightness[i] = lo + span * uniform01(rng);
            d.contrast[i] = lo + span * uniform01(rng);
            d.saturation[i] = lo + span * uniform01(rng);
        }
    }
    return d;
}

AugDraws draw_augment(int64_t b, bool crop, bool flip, std::mt19937_64& rng) {
    AugSpec s;
    s.crop = crop;
    s.flip = flip;
    return draw_augment(b, s, rng);
}

void crop_flip_images(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, const AugDraws& d, float* out, int64_t pad,
                      float fill) {
    for (int64_t i = 0; i < n; ++i) {
        const int64_t oy = d.dy[size_t(i)] - pad, ox = d.dx[size_t(i)] - pad;
        const bool mirror = d.flip[size_t(i)] != 0;
        for (int64_t ch = 0; ch < c; ++ch) {
            const float* src = x + (i * c + ch) * h * w;
            float* dst = out + (i * c + ch) * h * w;
            for (int64_t y = 0; y < h; ++y) {
                const int64_t sy = y + oy;
                for (int64_t xx = 0; xx < w; ++xx) {
                    // The padded image's column for output column xx: flipped before the crop offset is added,
                    // as the device gather does (cols = dx + (w - 1 - xx)).
                    const int64_t sx = (mirror ? w - 1 - xx : xx) + ox;
                    dst[y * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[sy * w + sx] : fill;
                }
            }
        }
    }
}

void jitter_cutout_images(float* x, int64_t n, int64_t h, int64_t w, const AugDraws& d, const AugSpec& spec) {
    const int64_t hw = h * w;
    for (int64_t i = 0; i < n; ++i) {
        float* r = x + i * 3 * hw;
        float* g = r + hw;
        float* b = g + hw;
        if (spec.jitter > 0) {
            // Each step in float, in the order the device computes it (torch_model.cpp augment_on_device).
            const float fb = d.brightness[size_t(i)], fc = d.contrast[size_t(i)], fs = d.saturation[size_t(i)];
            for (float* p : {r, g, b})
                for (int64_t k = 0; k < hw; ++k) p[k] = clamp01((p[k] + 1.0f) * 0.5f * fb);
            double sum = 0;  // the mean of the grayscale image (double: the device's float sum differs in the last bits)
            for (int64_t k = 0; k < hw; ++k) sum += 0.2989f * r[k] + 0.587f * g[k] + 0.114f * b[k];
            const float mean = float(sum / double(hw));
            for (float* p : {r, g, b})
                for (int64_t k = 0; k < hw; ++k) p[k] = clamp01(fc * p[k] + (1.0f - fc) * mean);
            for (int64_t k = 0; k < hw; ++k) {
                const float gray = 0.2989f * r[k] + 0.587f * g[k] + 0.114f * b[k];
                r[k] = clamp01(fs * r[k] + (1.0f - fs) * gray);
                g[k] = clamp01(fs * g[k] + (1.0f - fs) * gray);
                b[k] = clamp01(fs * b[k] + (1.0f - fs) * gray);
            }
            for (float* p : {r, g, b})
                for (int64_t k = 0; k < hw; ++k) p[k] = p[k] * 2.0f - 1.0f;
        }
        if (spec.cutout > 0) {
            const int64_t y0 = std::max<int64_t>(d.cy[size_t(i)] - spec.cutout / 2, 0), y1 = std::min(d.cy[size_t(i)] - spec.cutout / 2 + spec.cutout, h);
            const int64_t x0 = std::max<int64_t>(d.cx[size_t(i)] - spec.cutout / 2, 0), x1 = std::min(d.cx[size_t(i)] - spec.cutout / 2 + spec.cutout, w);
            for (float* p : {r, g, b})
                for (int64_t y = y0; y < y1; ++y)
                    for (int64_t xx = x0; xx < x1; ++xx) p[y * w + xx] = 0.0f;
        }
    }
}

void augment_images(const float* x, int64_t n, int64_t h, int64_t w, const AugDraws& d, const AugSpec& spec, float* out) {
    if (spec.crop || spec.flip) crop_flip_images(x, n, 3, h, w, d, out);
    else std::memcpy(out, x, size_t(n * 3 * h * w) * sizeof(float));
    jitter_cutout_images(out, n, h, w, d, spec);
}

}  // namespace quantlab
