// bench_quantizer.cpp: throughput of the reference quantizer on a 1M-element tensor (parameters,
// codes, fake-quant, the MSE search against quant_params_fast), built natively and for wasm so the two can be compared on one machine.
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "bench_timer.hpp"
#include "core/parallel.hpp"
#include "core/quant_params_fast.hpp"
#include "core/quantizer.hpp"

using namespace quantlab;

int main() {
    constexpr int64_t kN = 1 << 20;
    std::mt19937 rng(1);
    std::normal_distribution<float> dist;
    std::vector<float> x(kN), out(kN);
    for (auto& v : x) v = dist(rng);
    std::printf("quantizer benchmark, %lld float32 elements, median of >= 5 runs\n", (long long)kN);
    for (int bits : {8, 4, 2}) {
        QuantSpec spec;
        spec.bits = bits;
        const QuantParams p = compute_params(x.data(), Shape{kN}, spec).value;
        char name[64];
        std::snprintf(name, sizeof name, "fake_quant %d-bit", bits);
        bench::report(name, kN / bench::median_seconds([&] { fake_quant(x.data(), out.data(), kN, p); }) / 1e6, "M elem/s");
        std::snprintf(name, sizeof name, "quantize (codes) %d-bit", bits);
        volatile int32_t sink = 0;
        bench::report(name, kN / bench::median_seconds([&] { sink = sink + quantize(x.data(), kN, p)[0]; }) / 1e6, "M elem/s");
        std::snprintf(name, sizeof name, "compute_params maxabs %d-bit", bits);
        bench::report(name, kN / bench::median_seconds([&] { sink = sink + compute_params(x.data(), Shape{kN}, spec).value.range.qmax; }) / 1e6, "M elem/s");
    }
    // The MSE range search (100 candidates): the reference against quant_params_fast (one thread), on normal values
    // and on a ReLU output (half zeros, a long tail), 4 bits per tensor.
    set_num_threads(1);
    std::vector<float> relu(x);
    for (auto& v : relu) v = v > 0 ? v * v : 0.0f;
    for (const auto& item : {std::pair<const char*, const std::vector<float>*>{"normal", &x}, {"relu", &relu}}) {
        const char* what = item.first;
        const std::vector<float>* data = item.second;  // not a structured binding: C++17 lambdas cannot capture one
        QuantSpec spec;
        spec.bits = 4;
        spec.rule = RangeRule::kMse;
        spec.symmetric = data == &x;
        volatile float sink = 0;
        char name[64];
        std::snprintf(name, sizeof name, "compute_params mse 4-bit, %s", what);
        bench::report(name, kN / bench::median_seconds([&] { sink = sink + compute_params(data->data(), Shape{kN}, spec).value.scale[0]; }) / 1e6, "M elem/s");
        std::snprintf(name, sizeof name, "compute_params_fast mse 4-bit, %s", what);
        bench::report(name, kN / bench::median_seconds([&] { sink = sink + compute_params_fast(data->data(), Shape{kN}, spec).value.scale[0]; }) / 1e6, "M elem/s");
    }
    return 0;
}
