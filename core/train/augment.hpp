// augment.hpp: the trainers' augmentation, one definition for both engines: torchvision's RandomCrop(32,
// padding=4) and RandomHorizontalFlip, cutout (DeVries & Taylor 2017) and colour jitter (brightness, contrast,
// saturation) as per-image draws from a seeded generator (draw_augment: the same draws, in the same order, for
// the LibTorch trainer and core's), and their application to normalised images on the host (augment_images; the
// LibTorch trainer applies the same draws on its device, torch_model.hpp augment_on_device).
// Order, as torchvision's usual pipeline: crop, flip, colour jitter (on the 0..1 image), Normalize, cutout.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "core/status.hpp"

namespace quantlab {

// The crop's zero padding in pixels (torchvision's RandomCrop(32, padding=4)).
constexpr int64_t kAugPad = 4;
// The largest colour-jitter strength: factors in [1 - a, 1 + a] must stay positive.
constexpr float kMaxJitter = 0.9f;

// A run's augmentation recipe.
struct AugSpec {
    bool crop = false, flip = false;
    int64_t cutout = 0;  // side in pixels of the zeroed square (0: none)
    float jitter = 0;    // colour jitter strength a: brightness, contrast and saturation factors in [1 - a, 1 + a] (0: none)
    bool any() const { return crop || flip || cutout > 0 || jitter > 0; }
};

// Cutout within 0..side and jitter within 0..kMaxJitter; else an error naming the option and the value.
Status check_augment(const AugSpec& spec, int64_t side);

// Per image: crop offsets dy, dx in [0, 2 * kAugPad] into the padded image (kAugPad: unshifted) and flip 0 or 1;
// the cutout square's centre (cy, cx) in [0, side) (unused without cutout); the jitter factors (1 without jitter).
struct AugDraws {
    std::vector<int64_t> dy, dx, flip;
    std::vector<int64_t> cy, cx;
    std::vector<float> brightness, contrast, saturation;
};

// The draws for b images of side x side pixels, per image from `rng` in a fixed order: dy, dx (crop), flip, cy,
// cx (cutout), brightness, contrast, saturation (jitter), each only when its augmentation is on, so a recipe
// without cutout and jitter draws exactly what it did before they existed. A run resumed mid-epoch calls this
// for the batches it skips, so it continues with the draws the uninterrupted run makes.
AugDraws draw_augment(int64_t b, const AugSpec& spec, std::mt19937_64& rng, int64_t side = 32);
AugDraws draw_augment(int64_t b, bool crop, bool flip, std::mt19937_64& rng);

// Applies draws d to n normalised images x (n, c, h, w) into out (same shape; out != x): out[i] is the h x w
// window at (dy - pad, dx - pad) of image i padded with `fill` (-1: black after Normalize(0.5, 0.5), as
// torchvision pads before ToTensor), mirrored left-right when flip is 1. Equal to the LibTorch trainer's crop_flip.
void crop_flip_images(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, const AugDraws& d, float* out,
                      int64_t pad = kAugPad, float fill = -1.0f);

// In place on n normalised RGB images x (n, 3, h, w) (v = (x + 1) / 2 is the 0..1 image):
// colour jitter when spec.jitter > 0, torchvision's adjust_brightness, adjust_contrast, adjust_saturation in this
// fixed order (ColorJitter picks a random order per image), each clamped to 0..1:
//   v = clamp(b v);  v = clamp(c v + (1 - c) mean(gray(v)));  v = clamp(s v + (1 - s) gray(v)),
//   gray = 0.2989 r + 0.587 g + 0.114 b (torchvision's rgb_to_grayscale), mean over the whole image;
// then cutout when spec.cutout = N > 0: rows cy - N/2 .. cy - N/2 + N - 1 and the same columns around cx, clipped
// at the borders, set to 0 in the normalised image (DeVries & Taylor's code masks after Normalize: the data mean).
void jitter_cutout_images(float* x, int64_t n, int64_t h, int64_t w, const AugDraws& d, const AugSpec& spec);

// The whole augmentation (crop/flip, then jitter and cutout) of n normalised RGB images into out (out != x).
void augment_images(const float* x, int64_t n, int64_t h, int64_t w, const AugDraws& d, const AugSpec& spec, float* out);

}  // namespace quantlab
