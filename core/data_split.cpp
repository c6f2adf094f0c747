// data_split.cpp: seeded shuffles and the train/validation split (data_split.hpp).
#include "core/data_split.hpp"

#include <cmath>
#include <random>
#include <utility>

namespace quantlab {

std::vector<int64_t> shuffled(std::vector<int64_t> v, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (size_t i = v.size(); i > 1; --i) {
        const size_t j = size_t(rng() % i);
        std::swap(v[i - 1], v[j]);
    }
    return v;
}

uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + a * 0xBF58476D1CE4E5B9ull + b * 0x94D049BB133111EBull + 0x2545F4914F6CDD1Dull;
    x ^= x >> 31;
    x *= 0xD6E8FEB86659FD93ull;
    return x ^ (x >> 32);
}

TrainValSplit split_train_val(int64_t count, double val_fraction, uint64_t seed) {
    std::vector<int64_t> all(size_t(count > 0 ? count : 0));
    for (size_t i = 0; i < all.size(); ++i) all[i] = int64_t(i);
    const std::vector<int64_t> perm = shuffled(std::move(all), mix(seed, 0x5eed, 0));
    const size_t n_val = size_t(std::llround(double(perm.size()) * val_fraction));
    TrainValSplit s;
    s.train.assign(perm.begin(), perm.end() - std::ptrdiff_t(n_val));
    s.val.assign(perm.end() - std::ptrdiff_t(n_val), perm.end());
    return s;
}

Cifar10 select_images(const Cifar10& data, const std::vector<int64_t>& index) {
    Cifar10 out;
    out.count = int64_t(index.size());
    out.labels.reserve(index.size());
    out.pixels.reserve(index.size() * size_t(kCifar10ImageBytes));
    for (int64_t i : index) {
        out.labels.push_back(data.labels[size_t(i)]);
        const auto* p = data.pixels.data() + size_t(i * kCifar10ImageBytes);
        out.pixels.insert(out.pixels.end(), p, p + kCifar10ImageBytes);
    }
    return out;
}

Result<Cifar10> validation_images(const std::string& dir, int64_t n, double val_fraction, uint64_t seed) {
    Result<Cifar10> train = read_cifar10_train(dir);
    if (!train.ok())
        return Status::error(train.message() + " (settings are chosen on validation images held out of the training batches, never on the test set)");
    TrainValSplit split = split_train_val(train.value.count, val_fraction, seed);
    if (n >= 0 && size_t(n) < split.val.size()) split.val.resize(size_t(n));
    return select_images(train.value, split.val);
}

}  // namespace quantlab
