// app_context.hpp: what App hands each panel every frame (internal to ui/, not part of the public API):
// the state to read and change, the loaded network and data, the evaluation service and the keys of the
// results the panels show. Each panel is a class behind PanelView, made by its panel_*.cpp file.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/dataset.hpp"
#include "core/inference.hpp"
#include "ui/eval_service.hpp"
#include "ui/model_catalog.hpp"
#include "ui/state.hpp"

namespace quantlab::ui {

class TrainerHooks;

// What is loaded. Replaced as a whole when a file is opened; `generation` tells caches to drop.
struct Document {
    std::shared_ptr<const Model> model;   // configured as float
    std::string weights_name;
    std::string weights_path;              // where it was read from, when known (desktop): a training run's start
    std::shared_ptr<const Cifar10> data;
    std::string data_name;
    Dataset dataset = Dataset::kCifar10;   // what `data` holds (its labels' range)
    uint64_t generation = 0;
    std::vector<std::string> layer_names;  // conv/linear layers, in order
    QuantConfig file_config;               // the weights file's own settings and calibrated ranges (a QAT export); no layers: none
    std::string file_key;                  // config_key (fast backend) of the UI setting that stands for file_config; "": none
    std::shared_ptr<const ModelCatalog> models;  // the bundled models (ui/model_catalog.hpp), never null in App
    int num_layers() const { return int(layer_names.size()); }
    int num_classes() const { return model ? model->desc().num_classes() : kCifar10NumClasses; }
};

// Bit widths the accuracy-vs-bits sweep evaluates (all layers alike, the state's rule).
inline const std::vector<int>& sweep_bits() {
    static const std::vector<int> b{2, 3, 4, 5, 6, 8, 16};
    return b;
}

struct AppContext {
    UiState& state;
    const Document& doc;
    EvalService& eval;
    TrainerHooks* trainer = nullptr;
    bool desktop = false;
    std::shared_ptr<const ForwardTrace> trace;  // float inputs of the first batch (null until recorded)
    std::string current_key, float_key;         // EvalService keys of the state's config and of float
    std::vector<std::string> sweep_keys;        // one per sweep_bits()
    std::function<void(const std::string&)> report_error;
    float scale = 1;                            // size of "1 px at scale 1" in pixels
    std::vector<std::string> sensitivity_keys;  // "Which layer breaks?" (ui/sensitivity_view.hpp); empty when not shown
    // Opens weights or data as if the user dropped the file (the training panel's "Use as model").
    std::function<Status(const std::string&, const std::vector<uint8_t>&)> open_file;
};

class PanelView {
public:
    virtual ~PanelView() = default;
    virtual void draw(AppContext& ctx) = 0;
};

std::unique_ptr<PanelView> make_quantizer_panel();
std::unique_ptr<PanelView> make_network_panel();
std::unique_ptr<PanelView> make_eval_panel();
std::unique_ptr<PanelView> make_train_panel();

// Shared controls: bits as a slider 1..16 (`width` px) with a "float" checkbox. Returns true when changed.
// width < 0: the slider takes what the checkbox leaves of the line; where that is too narrow for "16 bit" the
// checkbox's label becomes its tooltip (a table column at large fonts), as it does with float_label false.
bool bits_control(const char* label, int* bits, float width, bool float_label = true);
// Continues the current line when an item `next_width` pixels wide still fits in the window, else starts a
// new line: rows of controls wrap instead of running off the edge at large font scales.
void same_line_if_fits(float next_width, float spacing = -1.0f);
// One button per name, the one at *selected highlighted (like the top bar's panel buttons); wraps like
// same_line_if_fits. Returns true when the selection changed.
bool view_tabs(const char* id, const std::vector<const char*>& names, int* selected);

// A control `width` px wide with its label (ImGui's label after "##" is the id only): ImGui writes the label right
// of the control, where a narrow column (a projector's large font, Japanese labels) cuts it. When the label does
// not fit there, it gets a line of its own above and the control the column's whole width. Call it just before
// the control and pass the control the label it returns (valid until the next call).
const char* column_field(const char* label, float width);
// A checkbox whose label wraps onto further lines where the column is too narrow for it (ImGui's is one line).
bool column_checkbox(const char* label, bool* value);
// One line of text (dimmed when `disabled`) in what is left of the line: where it would be cut at the window's
// edge, it ends in "..." and shows in full as a tooltip.
void text_fitted(const char* text, bool disabled = false);
// The width of a checkbox (or radio button) with its label on one line, for same_line_if_fits.
float checkbox_width(const char* label);

// A range-rule combo (+ k / percentile fields when they apply) for spec's rule, k and percentile. Returns true
// when changed.
bool rule_controls(QuantSpec* spec, float width);
// A combo for spec's symmetric codes, narrow (2^b - 1) or full (2^b); disabled when asymmetric. True when changed.
bool codes_control(QuantSpec* spec, float width);

}  // namespace quantlab::ui
