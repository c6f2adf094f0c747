// panel_quantizer.cpp: the quantizer lab. Pick a tensor (the notebook's 1,000 sorted randn values, a layer's
// weights, or a layer's recorded input activations), set bits / range rule / symmetric / per-channel, and see
// the r → r_hat staircase, the quantization error, the histogram with the level grid and clipped tails,
// the formulas with live S, Z, qmin, qmax and levels, and the STE gradient beneath the staircase.
// All numbers come from core's quantizer (compute_params, fake_quant, quant_error, ste_backward).
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/quant_params_fast.hpp"
#include "ui/app_context.hpp"
#include "ui/i18n.hpp"
#include "ui/plot.hpp"
#include "ui/tensor_source.hpp"

namespace quantlab::ui {

namespace {

class QuantizerPanel : public PanelView {
public:
    void draw(AppContext& ctx) override;

private:
    void update(AppContext& ctx);
    void controls(AppContext& ctx, float width);
    void formulas(AppContext& ctx);
    void stair_plot(ImVec2 size);
    void ste_plot(ImVec2 size);
    void hist_plot(ImVec2 size);
    void err_plot(ImVec2 size);

    // The tensor and everything derived from it, recomputed only when an input changes.
    uint64_t generation_ = ~uint64_t(0);
    const ForwardTrace* trace_ = nullptr;
    LabSource source_ = LabSource::kSynthetic;
    int layer_ = -1, channel_ = -1;
    QuantSpec spec_;
    SteRule ste_ = SteRule::kIdentity;
    bool valid_ = false;

    std::vector<float> synthetic_ = notebook_randn_sorted(1000, 100);
    std::string tensor_name_;
    Shape shape_;
    std::vector<float> values_;          // the whole tensor
    Status status_;
    QuantParams params_;                 // all channels
    QuantParams view_params_;            // the channel on show (= params_ per-tensor)
    QuantError error_;
    int64_t view_begin_ = 0, view_size_ = 0;  // the values on show: one channel or all
    double x0_ = -1, x1_ = 1;
    Histogram hist_;
    Polyline stair_, err_curve_, ste_curve_;
    std::vector<float> levels_;
    Interval repr_;
};

void QuantizerPanel::update(AppContext& ctx) {
    UiState& s = ctx.state;
    const ForwardTrace* trace = ctx.trace.get();
    const bool same_tensor = generation_ == ctx.doc.generation && source_ == s.lab_source && layer_ == s.lab_layer &&
                             (s.lab_source != LabSource::kActivation || trace_ == trace);
    if (same_tensor && valid_ && spec_ == s.lab_spec && ste_ == s.lab_ste && channel_ == s.lab_channel) return;

    if (!same_tensor) {
        values_.clear();
        shape_.clear();
        const int n = ctx.doc.num_layers();
        const int q = std::clamp(s.lab_layer, 0, std::max(n - 1, 0));
        if (s.lab_source == LabSource::kSynthetic || !ctx.doc.model || n == 0) {
            values_ = synthetic_;
            shape_ = {int64_t(values_.size())};
            tensor_name_ = tr("notebook: torch.manual_seed(100); torch.randn(1000).sort()");
        } else if (s.lab_source == LabSource::kWeight) {
            const Tensor& w = ctx.doc.model->layer_weight(q);  // the float model: its own weights
            values_ = w.data;
            shape_ = w.shape;
            tensor_name_ = ctx.doc.layer_names[size_t(q)] + ".weight " + shape_str(w.shape);
        } else if (trace && size_t(q) < trace->inputs.size()) {
            values_ = trace->inputs[size_t(q)].data;
            shape_ = trace->inputs[size_t(q)].shape;
            tensor_name_ = ctx.doc.layer_names[size_t(q)] + " " + tr("input") + " " + shape_str(shape_) + ", " + tr("first batch");
        } else {
            tensor_name_ = tr("recording activations...");
        }
        generation_ = ctx.doc.generation;
        source_ = s.lab_source;
        layer_ = s.lab_layer;
        trace_ = trace;
    }
    spec_ = s.lab_spec;
    ste_ = s.lab_ste;
    channel_ = s.lab_channel;
    valid_ = false;
    if (values_.empty()) return;

    // Per-channel only makes sense along a weight's output channels.
    QuantSpec spec = spec_;
    if (s.lab_source != LabSource::kWeight || shape_.size() < 2) spec.per_channel = false;
    Result<QuantParams> p = compute_params_fast(values_.data(), shape_, spec);
    status_ = p.status;
    if (!p.ok()) return;
    params_ = p.value;
    std::vector<float> fq(values_.size());
    fake_quant(values_.data(), fq.data(), int64_t(values_.size()), params_);
    error_ = quant_error(values_.data(), fq.data(), int64_t(values_.size()), params_);

    const int channels = params_.per_channel() ? int(params_.scale.size()) : 1;
    const int c = std::clamp(s.lab_channel, 0, channels - 1);
    view_params_ = channel_params(params_, c);
    const int64_t per = int64_t(values_.size()) / channels;
    view_begin_ = per * c;
    view_size_ = per;

    const MinMax mm = min_max(values_.data() + view_begin_, view_size_);
    repr_ = representable_range(view_params_);
    double lo = std::min<double>(mm.min, repr_.lo), hi = std::max<double>(mm.max, repr_.hi);
    if (!(hi > lo)) lo -= 1, hi += 1;
    const double pad = (hi - lo) * 0.06;
    x0_ = lo - pad;
    x1_ = hi + pad;
    const int bins = std::clamp(int(std::sqrt(double(view_size_)) * 1.5), 30, 120);
    hist_ = histogram(values_.data() + view_begin_, view_size_, x0_, x1_, bins);
    stair_ = staircase(view_params_, x0_, x1_);
    levels_ = level_grid(view_params_, x0_, x1_, 160);
    ste_curve_ = ste_gradient(view_params_, ste_, x0_, x1_, 600);
    // The error r_hat - r as a function of r: a sawtooth of height S inside the range, ramps where it clips.
    err_curve_ = Polyline();
    const int ne = 1200;
    for (int i = 0; i < ne; ++i) {
        const double x = x0_ + (x1_ - x0_) * double(i) / double(ne - 1);
        const float xf = float(x);
        const float r = dequantize_value(quantize_value(xf, view_params_.scale[0], view_params_.zero_point[0], view_params_.range),
                                         view_params_.scale[0], view_params_.zero_point[0]);
        err_curve_.x.push_back(xf);
        err_curve_.y.push_back(r - xf);
    }
    valid_ = true;
}

void QuantizerPanel::controls(AppContext& ctx, float width) {
    UiState& s = ctx.state;
    const int n = ctx.doc.num_layers();
    ImGui::TextUnformatted(tr("Tensor"));
    int src = int(s.lab_source);
    ImGui::RadioButton(tr("synthetic randn (notebook)"), &src, int(LabSource::kSynthetic));
    ImGui::RadioButton(tr("layer weights"), &src, int(LabSource::kWeight));
    ImGui::RadioButton(tr("layer input activations"), &src, int(LabSource::kActivation));
    s.lab_source = LabSource(src);
    if (s.lab_source != LabSource::kSynthetic && n > 0) {
        int q = std::clamp(s.lab_layer, 0, n - 1);
        ImGui::SetNextItemWidth(width);
        if (ImGui::BeginCombo(tr("layer"), ctx.doc.layer_names[size_t(q)].c_str())) {
            for (int i = 0; i < n; ++i)
                if (ImGui::Selectable(ctx.doc.layer_names[size_t(i)].c_str(), i == q)) s.lab_layer = i;
            ImGui::EndCombo();
        }
    }
    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted(tr("Quantizer"));
    ImGui::SetNextItemWidth(width);
    ImGui::SliderInt(tr("bits"), &s.lab_spec.bits, kMinBits, kMaxBits, "b = %d");
    rule_controls(&s.lab_spec, width);
    ImGui::Checkbox(tr("symmetric (Z = 0)"), &s.lab_spec.symmetric);
    codes_control(&s.lab_spec, width);
    ImGui::PushTextWrapPos(0.0f);  // the panel's edge
    ImGui::TextDisabled("%s", tr("narrow: the notebook's code, S = max|r| / (2^(b-1) - 1); full: its printed "
                                 "S = (β - α) / (2^b - 1), as PyTorch"));
    ImGui::PopTextWrapPos();
    const bool can_pc = s.lab_source == LabSource::kWeight;
    if (!can_pc) ImGui::BeginDisabled();
    ImGui::Checkbox(tr("per-channel (weights)"), &s.lab_spec.per_channel);
    if (!can_pc) ImGui::EndDisabled();
    if (valid_ && params_.per_channel()) {
        ImGui::SetNextItemWidth(width);
        ImGui::SliderInt(tr("channel"), &s.lab_channel, 0, int(params_.scale.size()) - 1);
    }
    ImGui::TextUnformatted(tr("STE backward"));
    int ste = int(s.lab_ste);
    ImGui::RadioButton(tr("identity (notebook)"), &ste, int(SteRule::kIdentity));
    ImGui::SameLine();
    ImGui::RadioButton(tr("clipped"), &ste, int(SteRule::kClipped));
    s.lab_ste = SteRule(ste);
    ImGui::Spacing();
    if (ImGui::Button(tr("Use these settings for the network"))) {
        std::fill(s.weight_bits.begin(), s.weight_bits.end(), s.lab_spec.bits);
        std::fill(s.act_bits.begin(), s.act_bits.end(), s.lab_spec.bits);
        set_network_rule(s, s.lab_spec);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr("Copies bits and rule to every layer (Network and Evaluation panels)"));
}

void QuantizerPanel::formulas(AppContext& ctx) {
    (void)ctx;
    // Every line wraps at the column's edge (large fonts, Japanese) instead of running under the next column.
    ImGui::PushTextWrapPos(0.0f);
    struct PopWrap {
        ~PopWrap() { ImGui::PopTextWrapPos(); }
    } pop_wrap;
    const plot::Colors& c = plot::colors();
    const ImVec4 accent = ImGui::ColorConvertU32ToFloat4(c.series[0]);
    ImGui::TextColored(accent, "%s", tr("Formulas (PyTorch / ONNX sign)"));
    ImGui::TextUnformatted("q = clamp(round(r / S) + Z, qmin, qmax)");
    ImGui::TextUnformatted("r_hat = S * (q - Z)");
    if (!valid_) return;
    const QuantParams& p = view_params_;
    const float S = p.scale[0];
    const int Z = p.zero_point[0];
    const int b = p.bits;
    if (p.symmetric && p.codes == SymmetricCodes::kFull) {
        ImGui::TextWrapped("S = 2 max(|α|, |β|) / (2^b - 1) = %s", format_number(S).c_str());
    } else if (p.symmetric) {
        ImGui::TextWrapped("S = max(|α|, |β|) / (2^(b-1) - 1) = %s", format_number(S).c_str());
    } else {
        ImGui::TextWrapped("S = (β - α) / (2^b - 1) = %s", format_number(S).c_str());
    }
    if (!p.alpha.empty() && !p.beta.empty())
        ImGui::Text("α = %s,  β = %s", format_number(p.alpha[0]).c_str(), format_number(p.beta[0]).c_str());
    ImGui::Text("Z = %d,  qmin = %d,  qmax = %d,  %s = %lld", Z, p.range.qmin, p.range.qmax, tr("levels"),
                (long long)p.range.levels());
    ImGui::Text("b = %d:  %s [%s, %s]", b, tr("representable"), format_number(repr_.lo).c_str(), format_number(repr_.hi).c_str());
    ImGui::Spacing();
    ImGui::TextColored(accent, "%s", tr("The notebook's sign"));
    ImGui::TextUnformatted("Q(r) = Int(r / S) - Z',   r_hat = S (Q(r) + Z')");
    ImGui::Text("Z' = -Z = %d", -Z);
    ImGui::Spacing();
    ImGui::TextColored(accent, "%s", tr("Error over the whole tensor"));
    ImGui::Text("MSE = %s", format_number(error_.mse).c_str());
    ImGui::Text("SQNR = %s dB", std::isinf(error_.sqnr_db) ? "inf" : format_number(error_.sqnr_db).c_str());
    ImGui::Text("%s = %.2f %%", tr("clipped"), 100.0 * error_.clipped_fraction);
    ImGui::Text("%s = %s", tr("max |error|"), format_number(error_.max_abs_error).c_str());
}

void QuantizerPanel::stair_plot(ImVec2 size) {
    const plot::Colors& c = plot::colors();
    const double ylo = std::min<double>(stair_.y.empty() ? -1 : *std::min_element(stair_.y.begin(), stair_.y.end()), x0_);
    const double yhi = std::max<double>(stair_.y.empty() ? 1 : *std::max_element(stair_.y.begin(), stair_.y.end()), x1_);
    plot::Limits lim{x0_, x1_, ylo, yhi};
    char title[128];
    std::snprintf(title, sizeof title, "%s  (b = %d)", tr("r → r_hat"), view_params_.bits);
    if (!plot::begin_plot("##stair", title, size, lim, "r", "r_hat")) return;
    if (repr_.lo > x0_) plot::vspan(x0_, repr_.lo, c.clip_shade);
    if (repr_.hi < x1_) plot::vspan(repr_.hi, x1_, c.clip_shade);
    const float ix[2] = {float(x0_), float(x1_)}, iy[2] = {float(x0_), float(x1_)};
    plot::line(tr("identity r_hat = r"), ix, iy, 2, c.grid == c.axis ? c.text_dim : plot::with_alpha(c.text_dim, 0.6f), 1.0f, true);
    plot::line(tr("quantized r_hat"), stair_, c.series[0], 2.2f);
    if (source_ == LabSource::kSynthetic) {
        // The notebook's plt.plot(r, hat_r): the 1,000 sorted samples as dots on the staircase.
        std::vector<float> yh(static_cast<size_t>(view_size_));
        fake_quant(values_.data() + view_begin_, yh.data(), view_size_, view_params_);
        std::vector<float> xs(values_.begin() + view_begin_, values_.begin() + view_begin_ + view_size_);
        std::vector<float> xd, yd;
        for (size_t i = 0; i < xs.size(); i += 10) xd.push_back(xs[i]), yd.push_back(yh[i]);
        plot::markers(tr("samples (every 10th)"), xd.data(), yd.data(), int(xd.size()), plot::with_alpha(c.series[3], 0.8f), 2.2f);
    }
    plot::end_plot();
}

void QuantizerPanel::ste_plot(ImVec2 size) {
    const plot::Colors& c = plot::colors();
    plot::Limits gl{x0_, x1_, -0.1, 1.15};
    if (!plot::begin_plot("##ste", tr("STE: d r_hat / d r used in backward"), size, gl, "r", nullptr)) return;
    if (repr_.lo > x0_) plot::vspan(x0_, repr_.lo, c.clip_shade);
    if (repr_.hi < x1_) plot::vspan(repr_.hi, x1_, c.clip_shade);
    plot::line(ste_ == SteRule::kIdentity ? tr("identity: 1 everywhere") : tr("clipped: 0 outside the range"), ste_curve_, c.series[2], 2.5f);
    plot::end_plot();
}

void QuantizerPanel::hist_plot(ImVec2 size) {
    const plot::Colors& c = plot::colors();
    const double ymax = std::max<double>(1, double(hist_.max_count())) * 1.12;
    plot::Limits lim{x0_, x1_, 0, ymax};
    char title[160];
    std::snprintf(title, sizeof title, "%s (%lld %s)", tr("histogram of r"), (long long)view_size_, tr("values"));
    if (!plot::begin_plot("##hist", title, size, lim, "r", tr("count"))) return;
    if (repr_.lo > x0_) plot::vspan(x0_, repr_.lo, c.clip_shade);
    if (repr_.hi < x1_) plot::vspan(repr_.hi, x1_, c.clip_shade);
    plot::vlines(levels_.data(), int(levels_.size()), plot::with_alpha(c.series[0], 0.35f), 1.0f);
    plot::histogram(tr("r"), hist_, c.series[1]);
    plot::vline(repr_.lo, c.series[3], 1.5f, true);
    plot::vline(repr_.hi, c.series[3], 1.5f, true);
    if (!levels_.empty()) plot::line(tr("levels r_hat"), nullptr, nullptr, 0, plot::with_alpha(c.series[0], 0.6f));
    if (repr_.lo > x0_ || repr_.hi < x1_) plot::line(tr("clipped tails"), nullptr, nullptr, 0, c.series[3]);
    if (hist_.below + hist_.above > 0) {
        char t[64];
        std::snprintf(t, sizeof t, "%lld %s", (long long)(hist_.below + hist_.above), tr("outside"));
        plot::text(x1_, ymax, t, c.text_dim, ImVec2(1, 0));
    }
    plot::end_plot();
}

void QuantizerPanel::err_plot(ImVec2 size) {
    const plot::Colors& c = plot::colors();
    const double s = view_params_.scale[0];
    double emax = s * 0.75;
    for (float e : err_curve_.y) emax = std::max(emax, double(std::fabs(e)));
    plot::Limits el{x0_, x1_, -emax * 1.1, emax * 1.1};
    if (!plot::begin_plot("##err", tr("quantization error r_hat - r"), size, el, "r", nullptr)) return;
    if (repr_.lo > x0_) plot::vspan(x0_, repr_.lo, c.clip_shade);
    if (repr_.hi < x1_) plot::vspan(repr_.hi, x1_, c.clip_shade);
    plot::hline(s * 0.5, c.text_dim, 1.0f, true);
    plot::hline(-s * 0.5, c.text_dim, 1.0f, true);
    plot::line(tr("r_hat - r"), err_curve_, c.series[4], 1.8f);
    plot::line(tr("± S/2"), nullptr, nullptr, 0, c.text_dim);
    plot::end_plot();
}

void QuantizerPanel::draw(AppContext& ctx) {
    update(ctx);
    const float fs = ImGui::GetFontSize();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float sp = ImGui::GetStyle().ItemSpacing.x, spy = ImGui::GetStyle().ItemSpacing.y;

    // Small window or large fonts (presenter): one part at a time, each as large as the panel: the settings
    // and formulas, or one plot with the bits beside it. View 0 settings, 1 staircase, 2 histogram, 3 error, 4 STE.
    if (avail.x < fs * 56 || avail.y < fs * 26) {
        UiState& s = ctx.state;
        s.panel_view = std::clamp(s.panel_view, 0, 4);
        view_tabs("##labtabs", {tr("Quantizer"), tr("r → r_hat"), tr("histogram"), tr("error"), "STE"}, &s.panel_view);
        if (s.panel_view == 0) {
            const float col_w = std::floor((ImGui::GetContentRegionAvail().x - sp) * 0.5f);
            ImGui::BeginChild("##lab_controls", ImVec2(col_w, 0), false);
            controls(ctx, std::max(col_w - fs * 9.0f, fs * 6));
            ImGui::EndChild();
            ImGui::SameLine(0, sp);
            ImGui::BeginChild("##lab_formulas", ImVec2(0, 0), false);
            formulas(ctx);
            ImGui::EndChild();
            return;
        }
        ImGui::SetNextItemWidth(fs * 10);
        ImGui::SliderInt(tr("bits"), &s.lab_spec.bits, kMinBits, kMaxBits, "b = %d");
        same_line_if_fits(ImGui::CalcTextSize(tensor_name_.c_str()).x, fs * 1.5f);
        text_fitted(tensor_name_.c_str(), true);
        if (!status_.ok()) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(plot::colors().bad), "%s", status_.message.c_str());
        if (!valid_) return;
        const ImVec2 area = ImGui::GetContentRegionAvail();
        switch (s.panel_view) {
            case 1: stair_plot(area); break;
            case 2: hist_plot(area); break;
            case 3: err_plot(area); break;
            default: ste_plot(area); break;
        }
        return;
    }

    const float left_w = std::clamp(fs * 22.0f, 280.0f, avail.x * 0.36f);
    ImGui::BeginChild("##lab_controls", ImVec2(left_w, 0), false);
    controls(ctx, left_w - fs * 7.5f);
    ImGui::Separator();
    formulas(ctx);
    ImGui::EndChild();
    ImGui::SameLine();

    ImGui::BeginChild("##lab_plots", ImVec2(0, 0), false);
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextUnformatted(tensor_name_.c_str());
    ImGui::PopTextWrapPos();
    if (!status_.ok()) ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(plot::colors().bad), "%s", status_.message.c_str());
    if (!valid_) {
        ImGui::EndChild();
        return;
    }
    const ImVec2 area = ImGui::GetContentRegionAvail();
    const float col_w = (area.x - sp) * 0.5f;
    const float ste_h = std::max(fs * 7.0f, area.y * 0.28f);
    const float top_h = area.y - ste_h - spy;
    const float half_h = (area.y - spy) * 0.5f;
    // Column 1: the staircase, and the STE gradient beneath it on the same x axis. Column 2: histogram with
    // level grid and clipped tails; the error curve.
    ImGui::BeginGroup();
    stair_plot(ImVec2(col_w, top_h));
    ste_plot(ImVec2(col_w, ste_h));
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    hist_plot(ImVec2(0, half_h));
    err_plot(ImVec2(0, half_h));
    ImGui::EndGroup();
    ImGui::EndChild();
}

}  // namespace

std::unique_ptr<PanelView> make_quantizer_panel() { return std::make_unique<QuantizerPanel>(); }

}  // namespace quantlab::ui
