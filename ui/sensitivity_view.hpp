// sensitivity_view.hpp: the network view's "Which layer breaks?" chart. Per conv/linear layer two accuracies
// from core's sensitivity_cases_for: only this layer at its current bits (the others float), and every layer at
// its current bits except this one kept at 8; the float and the current setting's accuracy as reference lines.
// The cases are ordinary EvalService jobs (App adds them while the view is shown), so the bars fill in batch by
// batch and follow the bits as they change; results stay cached per setting.
#pragma once
#include <imgui.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/network.hpp"
#include "core/quant_config.hpp"
#include "ui/app_context.hpp"

namespace quantlab::ui {

// The network panel's views (state.panel_view): 0 weights histogram, 1 activations histogram (side by side
// when the panel is wide), 2 this chart, 3 the accuracy-vs-size front, 4 the architecture diagram (its own
// view only where lines are scarce; elsewhere it is always above the table and view 4 shows the histograms).
constexpr int kNetViewSensitivity = 2;
constexpr int kNetViewPareto = 3;
constexpr int kNetViewDiagram = 4;

// Whether the chart or the front is on screen (App evaluates their cases only then).
bool sensitivity_shown(const UiState& s);

// The settings the view on screen needs (none for the others). The chart, for the state's per-layer bits:
// layers x "only", then layers x "all but" (core order). The front: per layer q, per width of pareto_widths(),
// q alone at that width (weights and activations), the rest float: the one-layer losses of core's
// mixed_precision.hpp, measured on the evaluation images.
std::vector<QuantConfig> sensitivity_configs(const UiState& s, const NetworkDesc& net);
const std::vector<int>& pareto_widths();  // {8, 4, 3, 2}, as `quantlab mixed`

// The accuracy-vs-size front in `size`: x the model's size, y the proxy accuracy (float minus the summed one-layer
// losses), the current setting's real accuracy beside it; a click on a point sets every layer's bits to it.
void draw_pareto(AppContext& ctx, ImVec2 size);

// The chart in `size`, from ctx.sensitivity_keys (one per sensitivity_configs entry).
void draw_sensitivity(AppContext& ctx, ImVec2 size);

// For status(): [{"layer", "only": {accuracy, correct, evaluated, done}, "all_but": {...}}] per layer; empty
// when the keys are (the chart is not shown).
nlohmann::json sensitivity_json(const EvalService& eval, const std::vector<std::string>& keys,
                                const std::vector<std::string>& layer_names);

// For status(): {"done", "total", "ready", "front": [{"bits", "bytes", "loss", "proxy"}]} from the front's keys
// (the one-layer cases, as sensitivity_configs orders them); "front" empty until every case is final.
nlohmann::json pareto_json(const EvalService& eval, const std::vector<std::string>& keys, const std::string& float_key,
                           const NetworkDesc& net);

}  // namespace quantlab::ui
