// augment.hpp: the trainers' augmentation, one definition for both engines: torchvision's RandomCrop(32,
// padding=4) and RandomHorizontalFlip as per-image draws from a seeded generator (draw_augment: the same draws,
// in the same order, for the LibTorch trainer and core's), and their application to normalised images on the
// host (crop_flip_images; the LibTorch trainer applies the same draws on its device, torch_model.hpp crop_flip).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace quantlab {

// The crop's zero padding in pixels (torchvision's RandomCrop(32, padding=4)).
constexpr int64_t kAugPad = 4;

// Per image: crop offsets dy, dx in [0, 2 * kAugPad] into the padded image (kAugPad: unshifted) and flip 0 or 1.
struct AugDraws {
    std::vector<int64_t> dy, dx, flip;
};

// Crop offsets and flips for b images, drawn per image from `rng` in a fixed order (dy, dx, then flip). A run
// resumed mid-epoch calls this for the batches it skips, so it continues with the draws the uninterrupted run makes.
AugDraws draw_augment(int64_t b, bool crop, bool flip, std::mt19937_64& rng);

// Applies draws d to n normalised images x (n, c, h, w) into out (same shape; out != x): out[i] is the h x w
// window at (dy - pad, dx - pad) of image i padded with `fill` (-1: black after Normalize(0.5, 0.5), as
// torchvision pads before ToTensor), mirrored left-right when flip is 1. Equal to the LibTorch trainer's crop_flip.
void crop_flip_images(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, const AugDraws& d, float* out,
                      int64_t pad = kAugPad, float fill = -1.0f);

}  // namespace quantlab
