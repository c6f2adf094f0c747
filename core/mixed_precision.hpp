// mixed_precision.hpp: bits per layer under a budget. Each conv/linear layer takes one width from a short list
// (weights and activations alike); its cost is the bytes of its weights (model_size.hpp), its bit operations
// (MACs x weight bits x activation bits) and a proxy loss: the accuracy lost with only that layer quantized at
// that width (sensitivity.hpp), summed over layers. The exact search keeps every assignment no other beats on
// all three, layer by layer (dominated partial assignments can never complete better, the costs being sums);
// the greedy one lowers, one width at a time, the layer that loses least per byte saved. Candidates are then
// evaluated for real, on validation images.
#pragma once
#include <cstdint>
#include <vector>

#include "core/network.hpp"
#include "core/status.hpp"

namespace quantlab {

struct PrecisionCosts {
    std::vector<int> widths;                  // the choices, e.g. {8, 4, 3, 2}
    std::vector<std::vector<int64_t>> bytes;  // [layer][width]: weight and bias bytes
    std::vector<std::vector<double>> bops;    // [layer][width]: MACs per image x bits x bits
    std::vector<std::vector<double>> loss;    // [layer][width]: proxy, points of accuracy lost
};

struct BitAssignment {
    std::vector<int> bits;  // per conv/linear layer
    int64_t bytes = 0;      // the whole model's parameters (model_size: BN and biases included)
    double bops = 0;        // per image
    double loss = 0;        // proxy: sum of the layers' losses
};

struct Budget {
    int64_t bytes = 0;  // <= 0: no limit
    double bops = 0;    // <= 0: no limit
};

// Multiply-accumulates of one image through layer q (conv: out H x W x out ch x in ch x k x k; linear: in x out).
std::vector<int64_t> layer_macs(const NetworkDesc& net);

// The cost table: bytes and BOPs from the network, loss[q][w] from the caller (sensitivity's "only" cases).
// Fails when loss is not layers x widths or a width is not 1..16.
Result<PrecisionCosts> precision_costs(const NetworkDesc& net, const std::vector<int>& widths,
                                       const std::vector<std::vector<double>>& loss);

// What an assignment costs (bits[q] one of costs.widths for every layer).
BitAssignment assignment_cost(const PrecisionCosts& costs, const NetworkDesc& net, const std::vector<int>& bits);

// Every assignment within the budget that no other beats on bytes and loss together (and BOPs, when the budget
// limits them), sorted by bytes: the accuracy-vs-size front.
std::vector<BitAssignment> pareto_front(const PrecisionCosts& costs, const NetworkDesc& net, const Budget& budget = {});
// The least proxy loss within the budget (ties: fewer bytes), exactly; fails when nothing fits.
Result<BitAssignment> best_exact(const PrecisionCosts& costs, const NetworkDesc& net, const Budget& budget);
// Greedy: every layer at the widest width, then the cheapest step down (least added loss per byte saved) until
// the budget is met; fails when even the narrowest widths do not fit.
Result<BitAssignment> best_greedy(const PrecisionCosts& costs, const NetworkDesc& net, const Budget& budget);

}  // namespace quantlab
