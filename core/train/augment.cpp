// augment.cpp: the augmentation draws and their host application (augment.hpp).
#include "core/train/augment.hpp"

namespace quantlab {

AugDraws draw_augment(int64_t b, bool crop, bool flip, std::mt19937_64& rng) {
    AugDraws d{std::vector<int64_t>(size_t(b), kAugPad), std::vector<int64_t>(size_t(b), kAugPad), std::vector<int64_t>(size_t(b), 0)};
    for (int64_t i = 0; i < b; ++i) {
        if (crop) {
            d.dy[size_t(i)] = int64_t(rng() % uint64_t(2 * kAugPad + 1));
            d.dx[size_t(i)] = int64_t(rng() % uint64_t(2 * kAugPad + 1));
        }
        if (flip) d.flip[size_t(i)] = int64_t(rng() & 1);
    }
    return d;
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

}  // namespace quantlab
