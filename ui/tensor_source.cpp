// tensor_source.cpp: the notebook's synthetic plot input (see tensor_source.hpp).
#include "ui/tensor_source.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace quantlab::ui {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> notebook_randn_sorted(int n, uint32_t seed) {
    n = std::max(n, 16);
    std::mt19937 gen(seed);  // torch's CPU generator: the standard mt19937, seeded the same way
    // at::uniform_real_distribution<float>: the low 24 bits of one 32-bit draw, times 2^-24.
    auto uniform = [&] { return float(gen() & 0xffffffu) * (1.0f / 16777216.0f); };
    std::vector<float> d(static_cast<size_t>(n));
    for (float& v : d) v = uniform();
    // normal_fill_16: Box-Muller pairs (j, j + 8) inside each block of 16.
    auto fill16 = [](float* p) {
        for (int j = 0; j < 8; ++j) {
            const float u1 = 1 - p[j], u2 = p[j + 8];
            const float radius = std::sqrt(-2 * std::log(u1));
            const float theta = float(2.0 * kPi * double(u2));  // torch: 2.0f * c10::pi<double> * u2
            p[j] = radius * std::cos(theta);
            p[j + 8] = radius * std::sin(theta);
        }
    };
    for (int i = 0; i + 16 <= n; i += 16) fill16(d.data() + i);
    if (n % 16 != 0) {
        float* tail = d.data() + n - 16;
        for (int i = 0; i < 16; ++i) tail[i] = uniform();
        fill16(tail);
    }
    std::sort(d.begin(), d.end());
    return d;
}

}  // namespace quantlab::ui
