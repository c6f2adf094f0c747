// fuzz_cifar10.cpp: libFuzzer entry point for the CIFAR-10 batch reader and normalize_images.
// Build: clang++ -g -O1 -fsanitize=fuzzer,address,undefined -std=c++17 -I. core/cifar10.cpp
//        tests/fuzz/fuzz_cifar10.cpp -o fuzz_cifar10
// Run:   ./fuzz_cifar10 -max_total_time=30 tests/fuzz/corpus/cifar10
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/cifar10.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const int64_t max_images = size > 0 ? int64_t(data[size - 1] % 4) - 1 : -1;  // -1 (all), 0, 1 or 2
    auto r = quantlab::read_cifar10_bytes(data, size, "fuzz.bin", max_images);
    if (!r.ok()) return 0;
    const auto& c = r.value;
    if (c.labels.size() != size_t(c.count) || c.pixels.size() != size_t(c.count) * 3072) __builtin_trap();
    std::vector<float> out(3072 * 2);
    quantlab::normalize_images(c, c.count - 1, 2, out.data());  // the second slot lies past the end
    for (size_t i = 0; i < 3072 && c.count > 0; ++i)
        if (!(out[i] >= -1.0f && out[i] <= 1.0f)) __builtin_trap();
    return 0;
}
