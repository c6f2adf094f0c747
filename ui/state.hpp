// state.hpp: everything the user can set in the UI, in one struct, and its state string (a URL query string
// such as "panel=eval&wb=4&ab=4&rule=meanstd&k=2"). Plain C++ with no ImGui, so it is unit-tested and the web
// page can keep it in its URL. Derived data (models, results, caches) lives elsewhere (app.cpp).
#pragma once
#include <string>
#include <vector>

#include "core/inference.hpp"
#include "core/quant_config.hpp"
#include "core/quantizer.hpp"
#include "core/status.hpp"

namespace quantlab::ui {

enum class Panel { kQuantizer, kNetwork, kEval, kTrain };
constexpr int kNumPanels = 4;
const char* panel_key(Panel p);  // "quantizer", "network", "eval", "train"

enum class Lang { kEn, kJa };

// What the quantizer lab quantizes.
enum class LabSource {
    kSynthetic,   // the notebook's plot input: torch.manual_seed(100); torch.randn(1000).sort()
    kWeight,      // a conv/linear layer's float weight
    kActivation,  // a conv/linear layer's recorded float input (first evaluation batch)
};

struct UiState {
    Panel panel = Panel::kQuantizer;
    Lang lang = Lang::kEn;
    float font_scale = 1.0f;      // 1..3 (presenter mode uses 2)
    bool high_contrast = false;

    // The weights in use: a bundled file name ("notebook_pretrain.safetensors") or a dropped file's name.
    std::string weights = "notebook_pretrain.safetensors";

    // Quantizer lab.
    LabSource lab_source = LabSource::kSynthetic;
    int lab_layer = 0;             // index among the conv/linear layers
    QuantSpec lab_spec = default_lab_spec();
    SteRule lab_ste = SteRule::kIdentity;
    int lab_channel = 0;           // per-channel: which channel the staircase shows

    // Network quantization (what the network view and the evaluation use). One entry per conv/linear layer;
    // 32 (kFloatBits) = float. A single entry means "every layer" until the network is known (fit_layers).
    std::vector<int> weight_bits{4};
    std::vector<int> act_bits{4};
    // The quantizer of every layer (core's apply_rule): rule, symmetry, k, percentile, and per-channel for the
    // weights. quant.bits is not used (the bits are the lists above) and stays at its default.
    QuantSpec quant;
    ActMode act_mode = ActMode::kDynamic;
    // Integer kernels by default: codes times codes in int32 where bits <= 8 (fake-quant above 8 bits and for
    // float layers), the fastest path and so the quickest first estimate after a change of bits.
    Backend backend = Backend::kInteger;

    // Views.
    int net_layer = 0;             // network view: the selected layer
    bool gallery_flipped_only = false;
    int gallery_page = 0;
    // The part a panel shows when the window is too small for all of them at once (presenter mode, small
    // windows): its tab, by index (the evaluation panel: accuracy, per class, confusion, gallery).
    int panel_view = 0;

    // Lesson mode (ui/lessons.hpp): 0 = off, else the step shown (1..kNumLessons); "lesson=N" in the URL.
    int lesson = 0;

    static QuantSpec default_lab_spec() {
        QuantSpec s;
        s.bits = 3;  // the notebook's plot: quantization(r, b=3)
        return s;
    }
    bool operator==(const UiState& o) const;
    bool operator!=(const UiState& o) const { return !(*this == o); }
};

// Bit widths a control steps through: 1..16, then 32 (float).
int next_bits(int bits, int delta);
// "4" for uniform bits, "W4A8" when weights and activations differ, "mixed" when layers differ.
std::string bits_summary(const UiState& s);
// The uniform bit width of all weights and activations, or 0 when they differ.
int uniform_bits(const UiState& s);

// Resizes per-layer bit lists to n layers (a missing entry repeats the last one) and clamps layer indices.
void fit_layers(UiState& s, int n);

// Makes `rule` the network's quantizer (s.quant): its rule, symmetry, per-channel, k and percentile; not its
// bits (those are weight_bits / act_bits). For "use the lab's settings" and "start from the file's settings".
void set_network_rule(UiState& s, const QuantSpec& rule);

// A QuantConfig from the state's network settings (static mode: act_ranges still to be calibrated).
QuantConfig network_config(const UiState& s, const NetworkDesc& net);
// The spec the network uses for layer q's weights / activations: s.quant with the layer's bits (activations
// per-tensor).
QuantSpec layer_weight_spec(const UiState& s, int q);
QuantSpec layer_act_spec(const UiState& s, int q);

// The state as a query string: only keys that differ from a default UiState, in a fixed order.
std::string encode_state(const UiState& s);
// Applies "key=value&..." onto `s` (a leading '?' or '#' is skipped, values are %-decoded). Unknown keys are
// ignored; a bad value leaves that field unchanged and is reported (all bad values, in one message).
Status decode_state(const std::string& text, UiState* s);

}  // namespace quantlab::ui
