// model_widgets.hpp: the ImGui pieces of "models on the page": the model picker (a combo of the bundled models
// with a line on what the current one is) and the accuracy-vs-bits overlay (PTQ of the float model and the QAT
// models) that the evaluation panel's sweep plot draws. The data behind them is ui/model_catalog.hpp.
#pragma once
#include <string>
#include <vector>

#include "ui/eval_service.hpp"
#include "ui/model_catalog.hpp"

namespace quantlab::ui {

// A combo listing `models` (those that cannot be used are shown disabled, with why), then on the same line
// what `current` (the loaded weights' name) is. Returns true when the user picked a model; *chosen is its
// file name.
bool model_picker(const ModelCatalog& models, const std::string& current, std::string* chosen);

// Plot items for the sweep plot (between plot::begin_plot and end_plot, x = index into `bits`): the overlay
// points EvalService has so far for overlay_jobs(models, bits, backend).
void overlay_plot_items(const ModelCatalog& models, const EvalService& eval, const std::vector<int>& bits, Backend backend);

}  // namespace quantlab::ui
