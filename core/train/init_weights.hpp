// init_weights.hpp: a network's start weights for a run from scratch, with PyTorch's default initialisation of
// nn.Conv2d / nn.Linear / nn.BatchNorm2d (reset_parameters): conv and linear weights kaiming_uniform_(a = sqrt(5)),
// which is uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases uniform over the same bound, BatchNorm weight 1,
// bias 0, running mean 0, running variance 1, no batches tracked. The distributions are torch's; the draws are
// core's own generator (seeded, the same bits on every platform), not torch.manual_seed's stream.
#pragma once
#include <cstdint>

#include "core/network.hpp"
#include "core/state_dict.hpp"

namespace quantlab {

// Every state_dict entry of `net` (net.params() order, num_batches_tracked typed I64), the same for the same seed.
StateDict init_weights(const NetworkDesc& net, uint64_t seed);

}  // namespace quantlab
