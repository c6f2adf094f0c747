// init_weights.cpp: see init_weights.hpp.
#include "core/train/init_weights.hpp"

#include <cmath>
#include <random>

#include "core/data_split.hpp"  // mix

namespace quantlab {

namespace {
// A uniform draw in [lo, hi) from the generator's top 53 bits: std::uniform_real_distribution's result is
// implementation-defined, this is the same everywhere.
float uniform(std::mt19937_64& rng, double lo, double hi) {
    return float(lo + (hi - lo) * double(rng() >> 11) * 0x1.0p-53);
}
}  // namespace

StateDict init_weights(const NetworkDesc& net, uint64_t seed) {
    std::mt19937_64 rng(mix(seed, 0x1417, 0));
    StateDict sd;
    for (const LayerDesc& l : net.layers) {
        if (l.kind == LayerKind::kConv2d || l.kind == LayerKind::kLinear) {
            const Shape ws = l.kind == LayerKind::kConv2d ? Shape{l.out, l.in, l.kernel, l.kernel} : Shape{l.out, l.in};
            const int64_t fan_in = numel(ws) / ws[0];
            // kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / (1 + a^2)) = sqrt(1/3), bound = gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
            const double bound = 1.0 / std::sqrt(double(fan_in));
            Tensor w(ws), b(Shape{l.out});
            for (float& v : w.data) v = uniform(rng, -bound, bound);
            for (float& v : b.data) v = uniform(rng, -bound, bound);
            sd.set(l.name + ".weight", std::move(w));
            sd.set(l.name + ".bias", std::move(b));
        } else if (l.kind == LayerKind::kBatchNorm2d) {
            sd.set(l.name + ".weight", Tensor(Shape{l.in}, 1.0f));
            sd.set(l.name + ".bias", Tensor(Shape{l.in}, 0.0f));
            sd.set(l.name + ".running_mean", Tensor(Shape{l.in}, 0.0f));
            sd.set(l.name + ".running_var", Tensor(Shape{l.in}, 1.0f));
            sd.set(l.name + ".num_batches_tracked", Tensor(Shape{}, 0.0f), "I64");
        }
    }
    return sd;
}

}  // namespace quantlab
