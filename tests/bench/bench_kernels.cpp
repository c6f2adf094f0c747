// bench_kernels.cpp: images/s of the conv/linear kernels on the notebook CNN's five layer shapes (conv1, conv2,
// fc1..fc3; bn, relu and pooling left out), each alone and as the whole sequence: reference, fast float and
// integer, at 1 and 2 threads (the web build has 1). Batch 256; the slow reference runs a batch of 16.
// Built natively and for wasm so the two can be compared on one machine.
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench_timer.hpp"
#include "core/kernels.hpp"
#include "core/parallel.hpp"

using namespace quantlab;

namespace {

constexpr int kBatch = 256;
constexpr int kReferenceBatch = 16;

struct Layer {
    const char* name;
    bool is_conv;
    ConvShape conv;     // is_conv
    int in = 0, out = 0;  // linear
    int64_t in_size(int n) const { return is_conv ? int64_t(n) * conv.c * conv.h * conv.w : int64_t(n) * in; }
    int64_t out_size(int n) const { return is_conv ? int64_t(n) * conv.o * conv.oh() * conv.ow() : int64_t(n) * out; }
    int64_t w_size() const { return is_conv ? int64_t(conv.o) * conv.c * conv.k * conv.k : int64_t(out) * in; }
    int64_t bias_size() const { return is_conv ? conv.o : out; }
};

Layer conv_layer(const char* name, int c, int hw, int o) {
    Layer l{name, true, {}};
    l.conv.c = c, l.conv.h = hw, l.conv.w = hw, l.conv.o = o, l.conv.k = 5, l.conv.pad = 0;
    return l;
}

Layer linear_layer(const char* name, int in, int out) {
    Layer l{name, false, {}};
    l.in = in, l.out = out;
    return l;
}

// Inputs, weights and outputs of one layer, float and integer codes, sized for kBatch.
struct LayerData {
    std::vector<float> x, w, b, scale, y;
    std::vector<int16_t> xq, wq;
};

enum class Flavour { kReference, kFast, kInt };

void run_layer(const Layer& l, LayerData& d, Flavour f, int n) {
    if (l.is_conv) {
        ConvShape s = l.conv;
        s.n = n;
        if (f == Flavour::kReference) conv2d_reference(d.x.data(), d.w.data(), d.b.data(), s, d.y.data());
        if (f == Flavour::kFast) conv2d_fast(d.x.data(), d.w.data(), d.b.data(), s, d.y.data());
        if (f == Flavour::kInt) conv2d_int(d.xq.data(), d.wq.data(), d.scale.data(), d.b.data(), s, d.y.data());
    } else {
        if (f == Flavour::kReference) linear_reference(d.x.data(), d.w.data(), d.b.data(), n, l.in, l.out, d.y.data());
        if (f == Flavour::kFast) linear_fast(d.x.data(), d.w.data(), d.b.data(), n, l.in, l.out, d.y.data());
        if (f == Flavour::kInt) linear_int(d.xq.data(), d.wq.data(), d.scale.data(), d.b.data(), n, l.in, l.out, d.y.data());
    }
}

}  // namespace

int main() {
    const std::vector<Layer> layers = {conv_layer("conv1", 3, 32, 32), conv_layer("conv2", 32, 14, 64),
                                       linear_layer("fc1", 1600, 120), linear_layer("fc2", 120, 84),
                                       linear_layer("fc3", 84, 10)};
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    std::uniform_int_distribution<int> code(-127, 127);
    std::vector<LayerData> data(layers.size());
    for (size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        LayerData& d = data[i];
        d.x.resize(size_t(l.in_size(kBatch)));
        d.w.resize(size_t(l.w_size()));
        d.b.resize(size_t(l.bias_size()));
        d.scale.assign(size_t(l.bias_size()), 1e-4f);
        d.y.resize(size_t(l.out_size(kBatch)));
        for (auto& v : d.x) v = real(rng);
        for (auto& v : d.w) v = real(rng);
        for (auto& v : d.b) v = real(rng);
        d.xq.resize(d.x.size());
        d.wq.resize(d.w.size());
        for (auto& v : d.xq) v = int16_t(code(rng));
        for (auto& v : d.wq) v = int16_t(code(rng));
    }

    set_num_threads(2);
    const bool two_threads = num_threads() == 2;
    std::printf("kernel benchmark: ISA %s, batch %d (reference: %d), images/s, median of >= 5 runs\n", kernel_isa(),
                kBatch, kReferenceBatch);

    struct Config {
        std::string label;
        Flavour flavour;
        int threads, batch;
    };
    std::vector<Config> configs = {{"reference", Flavour::kReference, 1, kReferenceBatch},
                                   {"fast 1T", Flavour::kFast, 1, kBatch},
                                   {"int 1T", Flavour::kInt, 1, kBatch}};
    if (two_threads) {
        configs.insert(configs.begin() + 2, {"fast 2T", Flavour::kFast, 2, kBatch});
        configs.push_back({"int 2T", Flavour::kInt, 2, kBatch});
    }
    for (const Config& c : configs) {
        set_num_threads(c.threads);
        for (size_t i = 0; i < layers.size(); ++i) {
            const double t = bench::median_seconds([&] { run_layer(layers[i], data[i], c.flavour, c.batch); }, 0.5);
            bench::report((std::string(layers[i].name) + " " + c.label).c_str(), c.batch / t, "img/s");
        }
        const double t = bench::median_seconds([&] {
            for (size_t i = 0; i < layers.size(); ++i) run_layer(layers[i], data[i], c.flavour, c.batch);
        });
        bench::report(("network " + c.label).c_str(), c.batch / t, "img/s");
    }
    return 0;
}
