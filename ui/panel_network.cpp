// panel_network.cpp: the network view. The architecture with its fake-quant points (ui/arch_diagram.hpp);
// weight and activation bits per conv/linear layer (and one control for all), the range rule, activation
// mode; per layer the SQNR of the quantized weights and of the quantized input activations (the float input
// recorded over the first batch), and for the selected layer the float vs quantized histograms. Quantized
// values sit on levels, so they are drawn as stems whose height is the count spread over one step S
// (count x bin width / S): comparable with the float histogram's bars.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "core/model_size.hpp"
#include "core/quant_params_fast.hpp"
#include "ui/app_context.hpp"
#include "ui/arch_diagram.hpp"
#include "ui/i18n.hpp"
#include "ui/plot.hpp"
#include "ui/sensitivity_view.hpp"

namespace quantlab::ui {

namespace {

// Float vs quantized statistics of one tensor under one spec.
struct TensorStats {
    bool valid = false, quantized = false;
    QuantSpec spec;
    std::string error;
    QuantError err;
    Histogram hist;                 // float values
    std::vector<float> level_x, level_y;  // quantized mass per level (stems), when few enough levels
    Histogram qhist;                // quantized values in the same bins, when too many levels for stems
    double x0 = 0, x1 = 0;
    Interval repr;
};

TensorStats compute_stats(const Tensor& t, const QuantSpec& spec) {
    TensorStats s;
    s.spec = spec;
    s.valid = true;
    if (t.data.empty()) {
        s.valid = false;
        return s;
    }
    const MinMax mm = min_max(t.data.data(), t.numel());
    double lo = mm.min, hi = mm.max;
    if (!(hi > lo)) lo -= 1, hi += 1;
    const double pad = (hi - lo) * 0.04;
    s.x0 = lo - pad;
    s.x1 = hi + pad;
    const int bins = 90;
    s.hist = histogram(t.data.data(), t.numel(), s.x0, s.x1, bins);
    if (spec.bits == kFloatBits) return s;
    Result<QuantParams> p = compute_params_fast(t.data.data(), t.shape, spec);
    if (!p.ok()) {
        s.error = p.message();
        return s;
    }
    s.quantized = true;
    std::vector<float> fq(t.data.size());
    fake_quant(t.data.data(), fq.data(), t.numel(), p.value);
    s.err = quant_error(t.data.data(), fq.data(), t.numel(), p.value);
    s.repr = p.value.per_channel() ? Interval{s.x0, s.x1} : representable_range(p.value);
    // Stems for per-tensor params with few levels in view; otherwise a histogram of the quantized values.
    const std::vector<float> levels = p.value.per_channel() ? std::vector<float>() : level_grid(p.value, s.x0, s.x1, bins);
    if (!levels.empty()) {
        const double S = p.value.scale[0];
        std::vector<double> counts(levels.size(), 0.0);
        const double first = levels.front();
        for (float v : fq) {
            const long i = std::lround((double(v) - first) / S);
            if (i >= 0 && size_t(i) < counts.size()) counts[size_t(i)] += 1;
        }
        const double k = s.hist.bin_width() / S;
        for (size_t i = 0; i < levels.size(); ++i)
            if (counts[i] > 0) s.level_x.push_back(levels[i]), s.level_y.push_back(float(counts[i] * k));
    } else {
        s.qhist = histogram(fq.data(), int64_t(fq.size()), s.x0, s.x1, bins);
    }
    return s;
}

class NetworkPanel : public PanelView {
public:
    void draw(AppContext& ctx) override;

private:
    // compact: lines are scarce (presenter, small window): the rule and range settings go into a pop-up,
    // the table drops the shape and clipping columns.
    void global_controls(AppContext& ctx, bool compact);
    void layer_table(AppContext& ctx, float height, bool compact);
    void layer_plots(AppContext& ctx, const ImVec2& size, bool compact);
    void update(AppContext& ctx);

    uint64_t generation_ = ~uint64_t(0);
    const ForwardTrace* trace_ = nullptr;
    std::vector<TensorStats> weight_, act_;
};

void NetworkPanel::update(AppContext& ctx) {
    const int n = ctx.doc.num_layers();
    if (generation_ != ctx.doc.generation || int(weight_.size()) != n) {
        weight_.assign(size_t(n), TensorStats());
        act_.assign(size_t(n), TensorStats());
        generation_ = ctx.doc.generation;
    }
    if (trace_ != ctx.trace.get()) {
        act_.assign(size_t(n), TensorStats());
        trace_ = ctx.trace.get();
    }
    // One tensor per frame (the largest, conv2's input, is 0.8 M values): frames stay short when every layer
    // changed at once; the table fills in over a few frames.
    int budget = 1;
    for (int q = 0; q < n && budget > 0; ++q) {
        const QuantSpec ws = layer_weight_spec(ctx.state, q);
        if (!weight_[size_t(q)].valid || weight_[size_t(q)].spec != ws) {
            weight_[size_t(q)] = compute_stats(ctx.doc.model->layer_weight(q), ws);
            --budget;
        }
        const QuantSpec as = layer_act_spec(ctx.state, q);
        if (trace_ && size_t(q) < trace_->inputs.size() && (!act_[size_t(q)].valid || act_[size_t(q)].spec != as)) {
            act_[size_t(q)] = compute_stats(trace_->inputs[size_t(q)], as);
            --budget;
        }
    }
}

void NetworkPanel::global_controls(AppContext& ctx, bool compact) {
    UiState& s = ctx.state;
    const float fs = ImGui::GetFontSize();
    // compact: narrower sliders right after the label, so both bit widths and the rule button share one line
    const float w = compact ? fs * 6 : fs * 11;
    ImGui::TextUnformatted(tr("All layers"));
    ImGui::SameLine(compact ? 0.0f : fs * 7);
    int wb = s.weight_bits.empty() ? 8 : s.weight_bits.front();
    int ab = s.act_bits.empty() ? 8 : s.act_bits.front();
    const bool w_mixed = std::any_of(s.weight_bits.begin(), s.weight_bits.end(), [&](int b) { return b != wb; });
    const bool a_mixed = std::any_of(s.act_bits.begin(), s.act_bits.end(), [&](int b) { return b != ab; });
    if (bits_control(w_mixed ? tr("weights (mixed)") : tr("weights"), &wb, w, !compact)) std::fill(s.weight_bits.begin(), s.weight_bits.end(), wb);
    // Each control on the line when it fits there, else on the next (large fonts, narrow windows).
    const float box = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x;
    same_line_if_fits(w + fs * 4 + ImGui::CalcTextSize(a_mixed ? tr("activations (mixed)") : tr("activations")).x, fs * (compact ? 1 : 2));
    if (bits_control(a_mixed ? tr("activations (mixed)") : tr("activations"), &ab, w, !compact)) std::fill(s.act_bits.begin(), s.act_bits.end(), ab);
    if (compact) {
        same_line_if_fits(ImGui::CalcTextSize(tr("range rule")).x + fs * 2, fs);
        char label[128];
        std::snprintf(label, sizeof label, "%s...###netopts", tr("range rule"));
        if (ImGui::Button(label)) ImGui::OpenPopup("##netopts");
        if (!ImGui::BeginPopup("##netopts")) return;
    }
    if (!compact) ImGui::SetCursorPosX(fs * 7);
    ImGui::BeginGroup();
    rule_controls(&s.quant, w);
    ImGui::EndGroup();
    same_line_if_fits(box + ImGui::CalcTextSize(tr("symmetric (Z = 0)")).x, fs * 2);
    ImGui::Checkbox(tr("symmetric (Z = 0)"), &s.quant.symmetric);
    same_line_if_fits(box + ImGui::CalcTextSize(tr("per-channel weights")).x);
    ImGui::Checkbox(tr("per-channel weights"), &s.quant.per_channel);
    same_line_if_fits(fs * 17 + ImGui::CalcTextSize(tr("activation ranges")).x + fs * 0.5f, fs * 2);
    int mode = int(s.act_mode);
    const char* modes[] = {tr("dynamic: range per batch (notebook)"), tr("static: calibrated, frozen")};
    ImGui::SetNextItemWidth(fs * 17);
    if (ImGui::Combo(tr("activation ranges"), &mode, modes, 2)) s.act_mode = ActMode(mode);
    if (!compact) ImGui::SetCursorPosX(fs * 7);  // under the range rule: the row above is full
    codes_control(&s.quant, w);
    if (compact) ImGui::EndPopup();
}

void NetworkPanel::layer_table(AppContext& ctx, float height, bool compact) {
    UiState& s = ctx.state;
    const int n = ctx.doc.num_layers();
    const float fs = ImGui::GetFontSize();
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_BordersOuter |
                                  ImGuiTableFlags_SizingStretchProp | ImGuiTableFlags_ScrollY;
    if (!ImGui::BeginTable("##layers", compact ? 6 : 8, flags, ImVec2(0, height))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    // Text columns as wide as their widest text (so numbers are never cut); the bits controls share the rest.
    auto fixed = [&](const char* header, const char* widest_value) {
        const float wv = std::max(ImGui::CalcTextSize(header).x, ImGui::CalcTextSize(widest_value).x);
        ImGui::TableSetupColumn(header, ImGuiTableColumnFlags_WidthFixed, std::ceil(wv + fs * 0.2f));
    };
    fixed(tr("layer"), "conv2");
    if (!compact) fixed(tr("weight shape"), "(120,1600)");
    ImGui::TableSetupColumn(tr("weight bits"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    ImGui::TableSetupColumn(tr("act. bits"), ImGuiTableColumnFlags_WidthStretch, 1.0f);
    fixed(tr("W SQNR"), "99.9 dB");
    fixed(tr("A SQNR"), "99.9 dB");
    if (!compact) fixed(tr("A clipped"), "100.00 %");
    fixed(tr("weight size"), "999 KB");
    ImGui::TableHeadersRow();
    auto sqnr = [](const TensorStats& t) -> std::string {
        if (!t.valid) return "...";
        if (!t.error.empty()) return "error";
        if (!t.quantized) return "float";
        if (std::isinf(t.err.sqnr_db)) return "inf";
        char b[32];
        std::snprintf(b, sizeof b, "%.1f dB", t.err.sqnr_db);
        return b;
    };
    const ModelSize size = model_size(ctx.doc.model->desc(), s.weight_bits);
    for (int q = 0; q < n; ++q) {
        ImGui::PushID(q);
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        if (ImGui::Selectable(ctx.doc.layer_names[size_t(q)].c_str(), s.net_layer == q, ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap))
            s.net_layer = q;
        if (!compact) {
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(shape_str(ctx.doc.model->layer_weight(q).shape).c_str());
        }
        ImGui::TableNextColumn();
        bits_control("##w", &s.weight_bits[size_t(q)], -1);
        ImGui::TableNextColumn();
        bits_control("##a", &s.act_bits[size_t(q)], -1);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(sqnr(weight_[size_t(q)]).c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(sqnr(act_[size_t(q)]).c_str());
        const TensorStats& a = act_[size_t(q)];
        if (!compact) {
            ImGui::TableNextColumn();
            if (a.valid && a.quantized) ImGui::Text("%.2f %%", 100.0 * a.err.clipped_fraction);
            else ImGui::TextUnformatted("-");
        }
        ImGui::TableNextColumn();
        if (size_t(q) < size.layers.size()) {
            const LayerSize& l = size.layers[size_t(q)];
            ImGui::TextUnformatted(format_bytes(l.bytes).c_str());
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("%s: %s\n%s: %s", tr("float"), format_bytes(l.float_bytes).c_str(), tr("bias (float32)"),
                                  format_bytes(4 * l.bias).c_str());
        }
        ImGui::PopID();
    }
    ImGui::EndTable();
}

// The model's size at the current weight bits vs float (core/model_size.hpp says what counts).
void size_line(const AppContext& ctx) {
    const std::vector<int>& wb = ctx.state.weight_bits;
    const ModelSize m = model_size(ctx.doc.model->desc(), wb);
    const bool uniform = std::all_of(wb.begin(), wb.end(), [&](int b) { return b == wb.front(); });
    char label[64], line[256];
    if (!uniform) std::snprintf(label, sizeof label, "%s", tr("mixed bits"));
    else if (wb.empty() || wb.front() == kFloatBits) std::snprintf(label, sizeof label, "%s", tr("float"));
    else std::snprintf(label, sizeof label, tr("%d-bit"), wb.front());
    std::snprintf(line, sizeof line, tr("%s: %s = %.1fx smaller than float (%s)"), label, format_bytes(m.bytes).c_str(), m.ratio(),
                  format_bytes(m.float_bytes).c_str());
    ImGui::TextUnformatted(line);
    // What counts: beside the numbers where the line has room, else on hover (large fonts).
    const char* note = tr("(weights packed at their bits; biases and batch norm float32)");
    if (ImGui::GetItemRectSize().x + ImGui::GetStyle().ItemSpacing.x + ImGui::CalcTextSize(note).x <= ImGui::GetContentRegionAvail().x) {
        ImGui::SameLine();
        ImGui::TextDisabled("%s", note);
    } else if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("%s", note);
    }
}

void draw_stats(const char* id, const char* title, const TensorStats& t, ImVec2 size) {
    const plot::Colors& c = plot::colors();
    // Heights of everything drawn; one bar far above the rest (ReLU's zeros in an activation) is cut so the
    // rest of the distribution stays readable, and labelled with its height.
    std::vector<double> h;
    for (int64_t v : t.hist.counts) h.push_back(double(v));
    for (float y : t.level_y) h.push_back(double(y));
    for (int64_t v : t.qhist.counts) h.push_back(double(v));
    std::sort(h.begin(), h.end(), std::greater<double>());
    double ymax = h.empty() ? 1.0 : std::max(1.0, h[0]);
    bool cut = false;
    if (h.size() > 2) {
        auto it = std::find_if(h.begin(), h.end(), [&](double v) { return v < h[0] * 0.999; });
        const double next = it == h.end() ? h[0] : *it;
        if (h[0] > 4 * next && next > 0) ymax = next * 1.6, cut = true;
    }
    plot::Limits lim{t.x0, t.x1, 0, ymax * 1.1};
    if (!plot::begin_plot(id, title, size, lim, nullptr, tr("count"))) return;
    if (t.quantized) {
        if (t.repr.lo > t.x0) plot::vspan(t.x0, t.repr.lo, c.clip_shade);
        if (t.repr.hi < t.x1) plot::vspan(t.repr.hi, t.x1, c.clip_shade);
    }
    plot::histogram(tr("float"), t.hist, c.series[1]);
    if (!t.level_x.empty()) plot::stems(tr("quantized (per level)"), t.level_x.data(), t.level_y.data(), int(t.level_x.size()), c.series[0], 2.0f);
    if (!t.qhist.counts.empty()) plot::histogram(tr("quantized"), t.qhist, c.series[0], false);
    if (cut) {
        // Label the cut bar at its x (the float histogram's tallest bin).
        size_t top = 0;
        for (size_t i = 1; i < t.hist.counts.size(); ++i)
            if (t.hist.counts[i] > t.hist.counts[top]) top = i;
        char b[64];
        std::snprintf(b, sizeof b, " ^ %s", format_number(double(t.hist.counts[top])).c_str());
        plot::text(t.hist.bin_center(top), ymax * 1.1, b, c.text, ImVec2(0, 0));
    }
    plot::end_plot();
}

void NetworkPanel::layer_plots(AppContext& ctx, const ImVec2& size, bool compact) {
    const int q = std::clamp(ctx.state.net_layer, 0, ctx.doc.num_layers() - 1);
    const std::string name = ctx.doc.layer_names[size_t(q)];
    const float sp = ImGui::GetStyle().ItemSpacing.x;
    const ImVec2 half((size.x - sp) * 0.5f, size.y);
    auto title = [&](const char* what, const TensorStats& t) {
        std::string s = name + " " + what;
        if (t.valid && t.quantized) {
            char b[64];
            std::snprintf(b, sizeof b, "  SQNR %.1f dB", t.err.sqnr_db);
            s += b;
        }
        return s;
    };
    // Two plots side by side when each gets about 24 lines of text in width, else one at a time (view 0 / 1);
    // "Which layer breaks?" (view 2, ui/sensitivity_view.hpp) takes the place of the histograms.
    const float fs = ImGui::GetFontSize();
    UiState& s = ctx.state;
    const bool side_by_side = half.x >= fs * 24;
    int view = s.panel_view;
    if (view < 0 || view > kNetViewDiagram || (view == kNetViewDiagram && !compact)) view = 0;
    if (view == 1 && side_by_side) view = 0;
    const float y0 = ImGui::GetCursorPosY();
    {
        // The tabs and the view each shows (the plots' titles say more than the tabs).
        std::vector<const char*> names;
        std::vector<int> views;
        if (compact) names.push_back(tr("architecture")), views.push_back(kNetViewDiagram);
        if (side_by_side) {
            names.push_back(tr("histograms")), views.push_back(0);
        } else {
            names.push_back(tr("weights")), views.push_back(0);
            names.push_back(tr("activations")), views.push_back(1);
        }
        names.push_back(tr("Which layer breaks?")), views.push_back(kNetViewSensitivity);
        names.push_back(tr("accuracy vs size")), views.push_back(kNetViewPareto);
        int which = int(std::find(views.begin(), views.end(), view) - views.begin());
        if (view_tabs("##netviews", names, &which)) s.panel_view = views[size_t(which)];
    }
    ImVec2 full(size.x, size.y - (ImGui::GetCursorPosY() - y0));
    if (view == kNetViewDiagram) {
        // The architecture where lines are scarce (lesson 4 at a projector): the diagram, then the selected
        // layer's histograms in what is left when that is enough for a plot.
        if (int clicked = draw_arch_diagram(ctx.doc.model->desc(), s, full.x, full.y); clicked >= 0) s.net_layer = clicked;
        full.y = ImGui::GetContentRegionAvail().y;
        if (full.y < fs * 6) return;
        view = 0;
    }
    if (view == kNetViewSensitivity) {
        draw_sensitivity(ctx, full);
        return;
    }
    if (view == kNetViewPareto) {
        draw_pareto(ctx, full);
        return;
    }
    if (half.x < fs * 24) {
        const int which = view;
        if (which == 0) draw_stats("##wh", title(tr("weights: float vs quantized"), weight_[size_t(q)]).c_str(), weight_[size_t(q)], full);
        else if (act_[size_t(q)].valid) draw_stats("##ah", title(tr("input activations: float vs quantized"), act_[size_t(q)]).c_str(), act_[size_t(q)], full);
        else ImGui::TextDisabled("%s", tr("recording activations..."));
        return;
    }
    const ImVec2 halves((size.x - sp) * 0.5f, full.y);
    draw_stats("##wh", title(tr("weights: float vs quantized"), weight_[size_t(q)]).c_str(), weight_[size_t(q)], halves);
    ImGui::SameLine();
    if (act_[size_t(q)].valid) {
        draw_stats("##ah", title(tr("input activations: float vs quantized"), act_[size_t(q)]).c_str(), act_[size_t(q)], halves);
    } else {
        ImGui::TextDisabled("%s", tr("recording activations..."));
    }
}

void NetworkPanel::draw(AppContext& ctx) {
    update(ctx);
    // Lines are scarce when the window holds fewer than 30 lines of text (presenter mode at 720-1080 px).
    const bool compact = ImGui::GetContentRegionAvail().y < ImGui::GetFontSize() * 30;
    global_controls(ctx, compact);
    ImGui::Separator();
    const float fs = ImGui::GetFontSize();
    // "Which layer breaks?" needs height: it drops the diagram when lines are few (under 45), and in compact mode
    // the table and size line too (the bits are then set with the controls above, or Up / Down), as the
    // diagram's own view (compact mode only) does: its W/A labels give each layer's bits.
    const bool sensitivity = sensitivity_shown(ctx.state);
    const bool chart_only = (sensitivity || ctx.state.panel_view == kNetViewDiagram) && compact;
    // The architecture with its fake-quant points; a click on a conv/linear block selects that layer. Not in
    // compact mode (presenter at 720-800 px): the layer table says the same and the plots need the lines.
    if (!compact && (!sensitivity || ImGui::GetContentRegionAvail().y >= fs * 45))
        if (int q = draw_arch_diagram(ctx.doc.model->desc(), ctx.state, ImGui::GetContentRegionAvail().x); q >= 0) ctx.state.net_layer = q;
    const float row_h = ImGui::GetFrameHeightWithSpacing() + 2;
    const float table_h = std::min(row_h * float(ctx.doc.num_layers() + 1) + fs, ImGui::GetContentRegionAvail().y * (compact ? 0.34f : 0.45f));
    if (!chart_only) {
        layer_table(ctx, table_h, compact);
        size_line(ctx);
    }
    if (!compact && !sensitivity) {
        ImGui::PushTextWrapPos(0.0f);  // wrapped: at large fonts the hint is longer than the window
        ImGui::TextDisabled("%s", tr("Activations: each layer's float input over the first batch of 128 test images (float network). Click a row to plot it."));
        ImGui::PopTextWrapPos();
    }
    const ImVec2 rest = ImGui::GetContentRegionAvail();
    layer_plots(ctx, ImVec2(rest.x, std::max(rest.y, fs * (compact ? 3.0f : 8.0f))), compact);
}

}  // namespace

std::unique_ptr<PanelView> make_network_panel() { return std::make_unique<NetworkPanel>(); }

}  // namespace quantlab::ui
