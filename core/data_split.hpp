// data_split.hpp: the seeded orders every trainer shares: Fisher-Yates with our own generator (the same order on
// every platform and device), seeds for each use derived from the run's seed, and the train/validation split
// of the training images. Core's, so that anything choosing a model or a setting (the trainers, the
// mixed-precision search) uses the same held-out images and never the test set.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/status.hpp"

namespace quantlab {

// Seeded Fisher-Yates: an order that depends only on the seed, so a resumed run sees the batches the
// uninterrupted run would have.
std::vector<int64_t> shuffled(std::vector<int64_t> v, uint64_t seed);
// A seed for one use (split, an epoch's order, an epoch's augmentation) from the run's seed and two tags.
uint64_t mix(uint64_t seed, uint64_t a, uint64_t b);

struct TrainValSplit {
    std::vector<int64_t> train;  // indices into the training images, in the split's (shuffled) order
    std::vector<int64_t> val;    // the held-out images: round(count * val_fraction) of them
};
// The trainer's split of `count` training images: a seeded permutation whose last round(count * fraction)
// entries are the validation images. `quantlab train --seed S --val-fraction F` holds out exactly these.
TrainValSplit split_train_val(int64_t count, double val_fraction, uint64_t seed);

// The images `index` names, in that order (every index must be < data.count).
Cifar10 select_images(const Cifar10& data, const std::vector<int64_t>& index);

// The first `n` (n < 0: all) validation images of the training set in `dir` under the trainer's default split
// (seed 1, 20 %): what settings are chosen on, so that the test set stays unseen. Fails, naming the folder,
// when the training batches are missing.
Result<Cifar10> validation_images(const std::string& dir, int64_t n, double val_fraction = 0.2, uint64_t seed = 1);

}  // namespace quantlab
