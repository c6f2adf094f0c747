// mixed_precision.cpp: cost tables, the exact Pareto search and the greedy one (mixed_precision.hpp).
#include "core/mixed_precision.hpp"

#include <algorithm>
#include <limits>

#include "core/model_size.hpp"
#include "core/quantizer.hpp"

namespace quantlab {

namespace {

// Bytes outside the conv/linear layers (batch norm, float32): the same for every assignment.
int64_t other_bytes(const NetworkDesc& net) {
    const ModelSize s = model_size(net, {});
    int64_t layers = 0;
    for (const LayerSize& l : s.layers) layers += l.bytes;
    return s.bytes - layers;
}

bool within(const BitAssignment& a, const Budget& b) {
    return (b.bytes <= 0 || a.bytes <= b.bytes) && (b.bops <= 0 || a.bops <= b.bops);
}

// Keeps the assignments no other beats on bytes, BOPs (when they are budgeted) and loss together (one of exact
// ties), sorted by bytes.
std::vector<BitAssignment> non_dominated(std::vector<BitAssignment> v, bool use_bops) {
    std::stable_sort(v.begin(), v.end(), [use_bops](const BitAssignment& a, const BitAssignment& b) {
        if (a.bytes != b.bytes) return a.bytes < b.bytes;
        if (use_bops && a.bops != b.bops) return a.bops < b.bops;
        return a.loss < b.loss;
    });
    std::vector<BitAssignment> kept;
    for (BitAssignment& a : v) {
        bool dominated = false;
        for (const BitAssignment& k : kept)  // sorted: every kept one has bytes (and BOPs) <= a's where they tie
            if ((!use_bops || k.bops <= a.bops) && k.loss <= a.loss) { dominated = true; break; }
        if (!dominated) kept.push_back(std::move(a));
    }
    return kept;
}

}  // namespace

std::vector<int64_t> layer_macs(const NetworkDesc& net) {
    std::vector<int64_t> macs;
    for (int i : net.quant_layers()) {
        const LayerDesc& l = net.layers[size_t(i)];
        if (l.kind == LayerKind::kConv2d) {
            const Shape out = net.shape_after(i);  // (C, H, W)
            macs.push_back(int64_t(out[1]) * out[2] * l.out * l.in * l.kernel * l.kernel);
        } else {
            macs.push_back(int64_t(l.in) * l.out);
        }
    }
    return macs;
}

Result<PrecisionCosts> precision_costs(const NetworkDesc& net, const std::vector<int>& widths, const std::vector<std::vector<double>>& loss) {
    const size_t layers = net.quant_layers().size();
    if (widths.empty()) return Status::error("mixed precision: no bit widths to choose from");
    for (int w : widths)
        if (w < kMinBits || w > kMaxBits) return Status::error("mixed precision: width " + std::to_string(w) + " is not 1..16");
    if (loss.size() != layers) return Status::error("mixed precision: a loss row per conv/linear layer is needed");
    for (const std::vector<double>& row : loss)
        if (row.size() != widths.size()) return Status::error("mixed precision: a loss per width is needed");
    PrecisionCosts c{widths, std::vector<std::vector<int64_t>>(layers), std::vector<std::vector<double>>(layers), loss};
    const std::vector<int64_t> macs = layer_macs(net);
    for (int w : widths) {
        const ModelSize s = model_size(net, {w});
        for (size_t q = 0; q < layers; ++q) {
            c.bytes[q].push_back(s.layers[q].bytes);
            c.bops[q].push_back(double(macs[q]) * w * w);
        }
    }
    return c;
}

BitAssignment assignment_cost(const PrecisionCosts& costs, const NetworkDesc& net, const std::vector<int>& bits) {
    BitAssignment a{bits, other_bytes(net), 0, 0};
    for (size_t q = 0; q < bits.size() && q < costs.bytes.size(); ++q) {
        const size_t w = size_t(std::find(costs.widths.begin(), costs.widths.end(), bits[q]) - costs.widths.begin());
        if (w == costs.widths.size()) continue;  // not a choice: callers pass choices
        a.bytes += costs.bytes[q][w];
        a.bops += costs.bops[q][w];
        a.loss += costs.loss[q][w];
    }
    return a;
}

std::vector<BitAssignment> pareto_front(const PrecisionCosts& costs, const NetworkDesc& net, const Budget& budget) {
    const size_t layers = costs.bytes.size(), widths = costs.widths.size();
    // The least bytes and BOPs the layers after q can still add: a partial assignment over budget even with
    // those is dropped early.
    std::vector<int64_t> min_bytes_after(layers + 1, 0);
    std::vector<double> min_bops_after(layers + 1, 0);
    for (size_t q = layers; q-- > 0;) {
        min_bytes_after[q] = min_bytes_after[q + 1] + *std::min_element(costs.bytes[q].begin(), costs.bytes[q].end());
        min_bops_after[q] = min_bops_after[q + 1] + *std::min_element(costs.bops[q].begin(), costs.bops[q].end());
    }
    std::vector<BitAssignment> states = {BitAssignment{{}, other_bytes(net), 0, 0}};
    for (size_t q = 0; q < layers; ++q) {
        std::vector<BitAssignment> next;
        for (const BitAssignment& s : states)
            for (size_t w = 0; w < widths; ++w) {
                BitAssignment t = s;
                t.bits.push_back(costs.widths[w]);
                t.bytes += costs.bytes[q][w];
                t.bops += costs.bops[q][w];
                t.loss += costs.loss[q][w];
                if (budget.bytes > 0 && t.bytes + min_bytes_after[q + 1] > budget.bytes) continue;
                if (budget.bops > 0 && t.bops + min_bops_after[q + 1] > budget.bops) continue;
                next.push_back(std::move(t));
            }
        states = non_dominated(std::move(next), budget.bops > 0);
    }
    std::vector<BitAssignment> front;
    for (BitAssignment& s : states)
        if (within(s, budget)) front.push_back(std::move(s));
    return front;
}

Result<BitAssignment> best_exact(const PrecisionCosts& costs, const NetworkDesc& net, const Budget& budget) {
    const std::vector<BitAssignment> front = pareto_front(costs, net, budget);
    if (front.empty()) return Status::error("mixed precision: no choice of widths fits the budget");
    const BitAssignment* best = &front.front();
    for (const BitAssignment& a : front)
        if (a.loss < best->loss || (a.loss == best->loss && a.bytes < best->bytes)) best = &a;
    return *best;
}

Result<BitAssignment> best_greedy(const PrecisionCosts& costs, const NetworkDesc& net, const Budget& budget) {
    const size_t layers = costs.bytes.size();
    std::vector<int> order = costs.widths;  // widest first
    std::sort(order.rbegin(), order.rend());
    std::vector<size_t> at(layers, 0);      // index into `order` per layer
    auto bits_now = [&] {
        std::vector<int> b;
        for (size_t q = 0; q < layers; ++q) b.push_back(order[at[q]]);
        return b;
    };
    BitAssignment cur = assignment_cost(costs, net, bits_now());
    while (!within(cur, budget)) {
        const bool bytes_over = budget.bytes > 0 && cur.bytes > budget.bytes;
        double best_ratio = std::numeric_limits<double>::infinity();
        size_t best_q = layers;
        for (size_t q = 0; q < layers; ++q) {
            if (at[q] + 1 >= order.size()) continue;
            ++at[q];
            const BitAssignment t = assignment_cost(costs, net, bits_now());
            --at[q];
            const double saved = bytes_over ? double(cur.bytes - t.bytes) : cur.bops - t.bops;
            if (saved <= 0) continue;
            const double ratio = (t.loss - cur.loss) / saved;
            if (ratio < best_ratio) best_ratio = ratio, best_q = q;
        }
        if (best_q == layers) return Status::error("mixed precision: even the narrowest widths do not fit the budget");
        ++at[best_q];
        cur = assignment_cost(costs, net, bits_now());
    }
    return cur;
}

}  // namespace quantlab
