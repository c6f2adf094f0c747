// panel_eval.cpp: the evaluation view. Accuracy float vs quantized against bits (a sweep over all layers alike
// with the network's rule), per-class accuracy, the confusion matrix under quantization and its change from
// float, and a gallery of test images with predicted and true labels that marks the predictions quantization
// flipped. Everything fills in batch by batch while EvalService works; nothing here waits for it.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "ui/app_context.hpp"
#include "ui/gl_texture.hpp"
#include "ui/i18n.hpp"
#include "ui/layout_probe.hpp"
#include "ui/model_widgets.hpp"
#include "ui/plot.hpp"
#include "ui/plot_data.hpp"
#include "ui/theme.hpp"

namespace quantlab::ui {

namespace {

// Statistics over the first m images that both the float and the quantized runs have evaluated.
struct Compare {
    int64_t m = 0;
    std::vector<float> float_class, quant_class;    // per-class accuracy, percent
    std::vector<float> confusion_pct;               // quantized, row-normalised, percent
    std::vector<float> confusion_change;            // quantized - float counts
    std::vector<int64_t> confusion;                 // quantized counts (row = true class)
    int64_t broken = 0, fixed = 0, changed = 0;     // float right -> quantized wrong, the reverse, any change
};

Compare compare(const Cifar10& data, const EvalSnapshot* q, const EvalSnapshot* f, int k) {
    Compare c;
    c.float_class.assign(k, 0);
    c.quant_class.assign(k, 0);
    c.confusion_pct.assign(k * k, 0);
    c.confusion_change.assign(k * k, 0);
    if (!q) return c;
    const int64_t nq = int64_t(q->result.predictions.size());
    const int64_t nf = f ? int64_t(f->result.predictions.size()) : 0;
    c.m = f ? std::min(nq, nf) : nq;
    std::vector<int64_t> total(k, 0), qc(k, 0), fc(k, 0), conf(k * k, 0), fconf(k * k, 0);
    for (int64_t i = 0; i < c.m; ++i) {
        const int t = data.labels[size_t(i)];
        const int pq = q->result.predictions[size_t(i)];
        if (t >= k || pq >= k) continue;
        ++total[t];
        ++conf[t * k + pq];
        if (pq == t) ++qc[t];
        if (f) {
            const int pf = f->result.predictions[size_t(i)];
            if (pf >= k) continue;
            ++fconf[t * k + pf];
            if (pf == t) ++fc[t];
            if (pf != pq) ++c.changed;
            if (pf == t && pq != t) ++c.broken;
            if (pf != t && pq == t) ++c.fixed;
        }
    }
    for (int t = 0; t < k; ++t) {
        if (total[t]) {
            c.quant_class[t] = 100.0f * float(qc[t]) / float(total[t]);
            c.float_class[t] = 100.0f * float(fc[t]) / float(total[t]);
        }
        for (int p = 0; p < k; ++p) {
            c.confusion_pct[t * k + p] = total[t] ? 100.0f * float(conf[t * k + p]) / float(total[t]) : 0.0f;
            c.confusion_change[t * k + p] = float(conf[t * k + p] - fconf[t * k + p]);
        }
    }
    c.confusion = std::move(conf);
    return c;
}

class EvalPanel : public PanelView {
public:
    void draw(AppContext& ctx) override;

private:
    // compact: lines are scarce (presenter, small window): the less used settings go into a pop-up, the
    // progress bar is a thin line.
    void controls(AppContext& ctx, const EvalSnapshot* q, const EvalSnapshot* f, bool compact);
    void sweep_plot(AppContext& ctx, ImVec2 size, const EvalSnapshot* f);
    void class_plot(const Compare& c, ImVec2 size, bool have_float, int k);
    void gallery(AppContext& ctx, const EvalSnapshot* q, const EvalSnapshot* f, ImVec2 size);
    // tabs_shown: the caller already offers the choice of matrix (views 2 / 3).
    void matrices(AppContext& ctx, const Compare& cmp, ImVec2 size, bool tabs_shown = false);

    RgbaTexture texture_;
    std::vector<int64_t> tex_indices_;   // images in the texture, in its slot order
    uint64_t tex_generation_ = ~uint64_t(0);
    float header_h_ = 0;                 // the gallery's controls, last frame
};

void EvalPanel::controls(AppContext& ctx, const EvalSnapshot* q, const EvalSnapshot* f, bool compact) {
    UiState& s = ctx.state;
    const float fs = ImGui::GetFontSize();
    int b = uniform_bits(s);
    const bool mixed = b == 0;
    if (mixed) b = s.weight_bits.empty() ? 8 : s.weight_bits.front();
    if (bits_control(mixed ? tr("bits, all layers (now mixed)") : tr("bits, all layers"), &b, fs * 11)) {
        std::fill(s.weight_bits.begin(), s.weight_bits.end(), b);
        std::fill(s.act_bits.begin(), s.act_bits.end(), b);
    }
    if (compact) {
        same_line_if_fits(ImGui::CalcTextSize(tr("activations")).x + ImGui::CalcTextSize(tr("kernels")).x + fs * 3, fs * 1.5f);
        char label[128];
        std::snprintf(label, sizeof label, "%s, %s...###evalopts", tr("activations"), tr("kernels"));
        if (ImGui::Button(label)) ImGui::OpenPopup("##evalopts");
    }
    const bool options = !compact || ImGui::BeginPopup("##evalopts");
    int mode = int(s.act_mode);
    const char* modes[] = {tr("dynamic (per batch)"), tr("static (calibrated)")};
    if (options) {
    if (!compact) same_line_if_fits(fs * 12 + ImGui::CalcTextSize(tr("activations")).x + fs, fs * 1.5f);
    ImGui::SetNextItemWidth(fs * 12);
    if (ImGui::Combo(tr("activations"), &mode, modes, 2)) s.act_mode = ActMode(mode);
    int be = s.backend == Backend::kInteger ? 1 : s.backend == Backend::kReference ? 2 : 0;
    const char* backends[] = {tr("fast float"), tr("integer"), tr("reference")};
    if (!compact) same_line_if_fits(fs * 10 + ImGui::CalcTextSize(tr("kernels")).x + fs, fs * 1.5f);
    ImGui::SetNextItemWidth(fs * 10);
    if (ImGui::Combo(tr("kernels"), &be, backends, 3)) s.backend = be == 1 ? Backend::kInteger : be == 2 ? Backend::kReference : Backend::kFast;
    if (compact) ImGui::EndPopup();
    }

    // The headline: the setting and its accuracy, large ("W4A4: 56.60 %"); float, change and progress beside it.
    const plot::Colors& c = plot::colors();
    char text[256];
    std::string bits = bits_summary(s);
    if (!bits.empty() && bits[0] >= '0' && bits[0] <= '9') bits = "W" + bits + "A" + bits;
    if (q) std::snprintf(text, sizeof text, "%s: %.2f %%", bits.c_str(), q->result.accuracy());
    else std::snprintf(text, sizeof text, "%s: ...", bits.c_str());
    const float line_y = ImGui::GetCursorPosY();
    ImGui::PushFont(headline_font());
    const ImVec2 h0 = ImGui::GetCursorScreenPos();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(c.series[0]), "%s", text);
    const ImVec2 hs = ImGui::GetItemRectSize();
    layout_probe().add_headline({"eval", ImGui::GetFontSize(), {h0.x, h0.y, h0.x + hs.x, h0.y + hs.y}});
    ImGui::PopFont();
    // The rest on the headline's baseline when it fits there, else on the next line.
    auto beside = [&](const char* t) {
        same_line_if_fits(ImGui::CalcTextSize(t).x, fs * 1.5f);
        if (ImGui::GetCursorPosY() <= line_y + 0.5f) ImGui::SetCursorPosY(line_y + (hs.y - fs) * 0.72f);
    };
    if (q) std::snprintf(text, sizeof text, "(%lld / %lld)", (long long)q->result.correct, (long long)q->result.evaluated);
    else text[0] = 0;
    if (text[0]) {
        beside(text);
        ImGui::TextUnformatted(text);
    }
    if (f && f->done) std::snprintf(text, sizeof text, "%s: %.2f %%", tr("float"), f->result.accuracy());
    else std::snprintf(text, sizeof text, "%s: ...", tr("float"));
    beside(text);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(c.series[1]), "%s", text);
    if (q && f && f->done) {
        std::snprintf(text, sizeof text, "%s %+.2f", tr("change"), q->result.accuracy() - f->result.accuracy());
        beside(text);
        ImGui::TextUnformatted(text);
    }
    const float frac = q ? float(q->fraction()) : 0.0f;
    if (q && !q->error.empty()) {
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(c.bad), "%s", q->error.c_str());
    } else {
        std::snprintf(text, sizeof text, "%lld / %lld %s", (long long)(q ? q->result.evaluated : 0), (long long)ctx.doc.data->count, tr("images"));
        if (q && q->done && q->seconds > 0) {
            char t2[64];
            std::snprintf(t2, sizeof t2, ", %.0f %s", double(q->result.evaluated) / q->seconds, tr("img/s"));
            std::strncat(text, t2, sizeof text - std::strlen(text) - 1);
        }
        if (compact) {
            plot::progress(frac, "", ImVec2(-1, std::max(4.0f, std::floor(fs * 0.3f))));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text);
        } else {
            plot::progress(frac, text, ImVec2(-1, 0));
        }
    }
}

void EvalPanel::sweep_plot(AppContext& ctx, ImVec2 size, const EvalSnapshot* f) {
    const plot::Colors& c = plot::colors();
    const std::vector<int>& bits = sweep_bits();
    std::vector<float> x, y, xp, yp;
    for (size_t i = 0; i < bits.size() && i < ctx.sweep_keys.size(); ++i) {
        std::shared_ptr<const EvalSnapshot> s = ctx.eval.get(ctx.sweep_keys[i]);
        if (!s || s->result.evaluated == 0) continue;
        (s->done ? x : xp).push_back(float(i));
        (s->done ? y : yp).push_back(float(s->result.accuracy()));
    }
    std::vector<double> tv;
    std::vector<std::string> tl;
    for (size_t i = 0; i < bits.size(); ++i) tv.push_back(double(i)), tl.push_back(std::to_string(bits[i]));
    plot::Limits lim{-0.4, double(bits.size()) - 0.6, 0, 100};
    char title[160];
    std::snprintf(title, sizeof title, "%s (%s, %s)", tr("accuracy vs bits"), range_rule_name(ctx.state.quant.rule),
                  act_mode_name(ctx.state.act_mode));
    plot::set_x_ticks(tv, tl);
    if (!plot::begin_plot("##sweep", title, size, lim, tr("bits (weights = activations, every layer)"), "%", plot::kYPercent)) return;
    plot::hline(10.0, c.text_dim, 1.0f, true);  // chance
    if (f && f->done) plot::hline(f->result.accuracy(), c.series[1], 2.0f, true);
    if (f && f->done) plot::line(tr("float"), nullptr, nullptr, 0, c.series[1]);
    plot::line(tr("quantized"), x.data(), y.data(), int(x.size()), c.series[0], 2.2f);
    plot::markers("##done", x.data(), y.data(), int(x.size()), c.series[0], 4.0f);
    plot::markers(xp.empty() ? "##inprogress" : tr("in progress"), xp.data(), yp.data(), int(xp.size()), plot::with_alpha(c.series[0], 0.4f), 4.0f);
    const int ub = uniform_bits(ctx.state);
    for (size_t i = 0; i < bits.size(); ++i)
        if (bits[i] == ub) plot::vline(double(i), c.series[3], 1.5f);
    // PTQ of the float model and the QAT models on the same axis (the README's PTQ vs QAT table, live).
    if (ctx.doc.models) overlay_plot_items(*ctx.doc.models, ctx.eval, bits, ctx.state.backend);
    plot::text(lim.x1, 10.0, tr("chance"), c.text_dim, ImVec2(1, 1));
    plot::end_plot();
}

void EvalPanel::class_plot(const Compare& c, ImVec2 size, bool have_float, int classes) {
    const plot::Colors& col = plot::colors();
    plot::Limits lim{-0.6, double(classes) - 0.4, 0, 100};
    std::vector<double> tv;
    std::vector<std::string> tl;
    // 100 classes: the labels are thinned out where they would overlap (set_x_ticks); hover a bar for its class.
    for (int k = 0; k < classes; ++k) tv.push_back(k), tl.push_back(class_label(classes, k));
    plot::set_x_ticks(tv, tl);
    if (!plot::begin_plot("##classes", tr("per-class accuracy"), size, lim, nullptr, "%", plot::kYPercent | plot::kLegendLeft)) return;
    if (have_float) plot::bars(tr("float"), c.float_class.data(), classes, -0.2f, 0.38f, col.series[1]);
    plot::bars(tr("quantized"), c.quant_class.data(), classes, have_float ? 0.2f : 0.0f, 0.38f, col.series[0]);
    plot::end_plot();
}

void EvalPanel::gallery(AppContext& ctx, const EvalSnapshot* q, const EvalSnapshot* f, ImVec2 size) {
    UiState& s = ctx.state;
    const Cifar10& data = *ctx.doc.data;
    const plot::Colors& c = plot::colors();
    const float fs = ImGui::GetFontSize();
    // Presenter mode: larger thumbnails (the images are 32 x 32: 4.6 lines of text is about 4.6x at 2x fonts).
    const bool presenter = s.font_scale > 1.0f;
    const float cell_w = std::floor(fs * (presenter ? 5.0f : 4.6f));
    float img = std::floor(std::min(cell_w - 6, fs * (presenter ? 4.6f : 4.0f)));
    // Where not even one row of that size fits under the controls (presenter at 720 px, a lesson card below),
    // smaller thumbnails rather than a row cut by the window.
    const float room = size.y - header_h_ - fs * 0.2f - ImGui::GetStyle().ItemSpacing.y;
    if (header_h_ > 0 && room < img + fs * 2.5f) img = std::max(std::floor(fs * 1.5f), std::floor(room - fs * 2.5f));
    const float cell_h = img + fs * 2.5f;
    const float sp = ImGui::GetStyle().ItemSpacing.x;

    // Which images: all in file order, or only those whose prediction changed.
    std::vector<int64_t> list;
    const int64_t nq = q ? int64_t(q->result.predictions.size()) : 0;
    const int64_t nf = f ? int64_t(f->result.predictions.size()) : 0;
    if (s.gallery_flipped_only) {
        for (int64_t i = 0; i < std::min(nq, nf); ++i)
            if (q->result.predictions[size_t(i)] != f->result.predictions[size_t(i)]) list.push_back(i);
    }
    const int64_t count = s.gallery_flipped_only ? int64_t(list.size()) : data.count;

    const float top_y = ImGui::GetCursorPosY();
    ImGui::Checkbox(tr("only flipped predictions"), &s.gallery_flipped_only);
    same_line_if_fits(fs * 8);
    const int cols = std::max(1, int((size.x + sp) / (cell_w + sp)));
    // Rows from the height the controls above took last frame (they wrap at large fonts).
    const int rows = std::max(1, int((size.y - header_h_ - fs * 0.2f) / (cell_h + ImGui::GetStyle().ItemSpacing.y)));
    const int per_page = std::min(cols * rows, 64);
    const int pages = std::max<int>(1, int((count + per_page - 1) / per_page));
    s.gallery_page = std::clamp(s.gallery_page, 0, pages - 1);
    if (ImGui::ArrowButton("##prev", ImGuiDir_Left)) s.gallery_page = std::max(0, s.gallery_page - 1);
    ImGui::SameLine();
    ImGui::Text("%s %d / %d", tr("page"), s.gallery_page + 1, pages);
    ImGui::SameLine();
    if (ImGui::ArrowButton("##next", ImGuiDir_Right)) s.gallery_page = std::min(pages - 1, s.gallery_page + 1);
    // The frame colours' legend: wraps to further lines rather than running off the panel.
    same_line_if_fits(ImGui::CalcTextSize(tr("frame:")).x, fs);
    ImGui::TextUnformatted(tr("frame:"));
    const std::pair<ImU32, const char*> keys[] = {{c.bad, tr("broken by quantization")}, {c.good, tr("fixed by it")}, {c.warn, tr("other change")}};
    for (const auto& [color, label] : keys) {
        same_line_if_fits(ImGui::CalcTextSize(label).x);
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(color), "%s", label);
    }

    const float header_h = ImGui::GetCursorPosY() - top_y;
    if (std::fabs(header_h - header_h_) > 0.5f) layout_probe().note_unsettled();  // rows per page change next frame
    header_h_ = header_h;
    std::vector<int64_t> page;
    for (int64_t j = int64_t(s.gallery_page) * per_page; j < std::min<int64_t>(count, int64_t(s.gallery_page + 1) * per_page); ++j)
        page.push_back(s.gallery_flipped_only ? list[size_t(j)] : j);
    if (page.empty()) {
        ImGui::TextDisabled("%s", s.gallery_flipped_only ? tr("No prediction changed (yet).") : tr("No images."));
        return;
    }
    // The page's images in one texture, 8 per row.
    if (page != tex_indices_ || tex_generation_ != ctx.doc.generation) {
        const int tw = 8 * 32, th = int((page.size() + 7) / 8) * 32;
        std::vector<uint8_t> rgba(size_t(tw) * size_t(th) * 4, 255);
        for (size_t k = 0; k < page.size(); ++k) {
            const uint8_t* px = data.pixels.data() + size_t(page[k]) * size_t(kCifar10ImageBytes);
            const int ox = int(k % 8) * 32, oy = int(k / 8) * 32;
            for (int y = 0; y < 32; ++y)
                for (int x = 0; x < 32; ++x) {
                    uint8_t* d = &rgba[(size_t(oy + y) * size_t(tw) + size_t(ox + x)) * 4];
                    d[0] = px[y * 32 + x];
                    d[1] = px[1024 + y * 32 + x];
                    d[2] = px[2048 + y * 32 + x];
                    d[3] = 255;
                }
        }
        texture_.upload(rgba.data(), tw, th);
        tex_indices_ = page;
        tex_generation_ = ctx.doc.generation;
    }
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float tw = float(texture_.width()), th = float(texture_.height());
    for (size_t k = 0; k < page.size(); ++k) {
        const int64_t i = page[k];
        if (k % size_t(cols) != 0) ImGui::SameLine(0, sp);
        ImGui::BeginGroup();
        const ImVec2 p = ImGui::GetCursorScreenPos();
        ImGui::Dummy(ImVec2(cell_w, cell_h));
        const int truth = data.labels[size_t(i)];
        const int pq = i < nq ? q->result.predictions[size_t(i)] : -1;
        const int pf = i < nf ? f->result.predictions[size_t(i)] : -1;
        ImU32 border = 0;
        if (pq >= 0 && pf >= 0 && pq != pf) border = (pf == truth) ? c.bad : (pq == truth) ? c.good : c.warn;
        const ImVec2 a(p.x + (cell_w - img) * 0.5f, p.y + 2);
        const float u0 = float(k % 8) * 32 / tw, v0 = float(k / 8) * 32 / th;
        dl->AddImage(texture_.id(), a, ImVec2(a.x + img, a.y + img), ImVec2(u0, v0), ImVec2(u0 + 32 / tw, v0 + 32 / th));
        if (border) dl->AddRect(ImVec2(a.x - 2, a.y - 2), ImVec2(a.x + img + 2, a.y + img + 2), border, 0, 0, 3.0f * ctx.scale);
        // Line 1: the quantized prediction (green when right, red when wrong); line 2: the truth.
        const int nc = ctx.doc.num_classes();
        const std::string pred_s = pq >= 0 ? class_label(nc, pq) : "...";
        const char* pred = pred_s.c_str();
        const ImU32 pc = pq < 0 ? c.text_dim : (pq == truth ? c.good : c.bad);
        const ImVec2 t1 = ImGui::CalcTextSize(pred);
        dl->AddText(ImVec2(p.x + (cell_w - t1.x) * 0.5f, a.y + img + 3), pc, pred);
        std::string t = "(" + class_label(nc, truth) + ")";
        const ImVec2 t2 = ImGui::CalcTextSize(t.c_str());
        dl->AddText(ImVec2(p.x + (cell_w - t2.x) * 0.5f, a.y + img + 3 + fs * 1.05f), c.text_dim, t.c_str());
        ImGui::EndGroup();
        if (ImGui::IsItemHovered()) {
            ImGui::BeginTooltip();
            ImGui::Text("#%lld  %s: %s", (long long)i, tr("true"), class_label(nc, truth).c_str());
            ImGui::Text("%s: %s", tr("quantized"), pred);
            ImGui::Text("%s: %s", tr("float"), pf >= 0 ? class_label(nc, pf).c_str() : "...");
            ImGui::EndTooltip();
        }
    }
}

// The two confusion matrices side by side when both keep their numbers at that size; else one large matrix
// and buttons to pick it (state.panel_view: 2 quantized, 3 change vs float).
void EvalPanel::matrices(AppContext& ctx, const Compare& cmp, ImVec2 size, bool tabs_shown) {
    UiState& s = ctx.state;
    const float sp = ImGui::GetStyle().ItemSpacing.x;
    const int k = ctx.doc.num_classes();
    std::vector<std::string> names;
    for (int c = 0; c < k; ++c) names.push_back(class_label(k, c));
    // Many classes (CIFAR-100): one matrix at a time, a heat map whose cells are too small for numbers (hover
    // one to read it), and the most confused pairs written out above it.
    const bool both = k <= kCifar10NumClasses && plot::heat_map_numbers_fit(k, k, names, names, ImVec2((size.x - sp) * 0.5f, size.y), "100", tr("predicted"));
    if (k > kCifar10NumClasses) {
        std::string line = std::string(tr("most confused (true -> predicted, images):"));
        for (const Confusion& c : top_confused(cmp.confusion, k, 5))
            line += "  " + names[size_t(c.truth)] + " -> " + names[size_t(c.predicted)] + " " + std::to_string(c.count);
        ImGui::TextWrapped("%s", line.c_str());
        size.y -= ImGui::GetItemRectSize().y + ImGui::GetStyle().ItemSpacing.y;
    }
    int which = s.panel_view == 3 ? 1 : 0;
    if (!both && !tabs_shown) {
        const float y0 = ImGui::GetCursorPosY();
        if (view_tabs("##matrix", {tr("confusion, quantized"), tr("change vs float, images")}, &which)) s.panel_view = 2 + which;
        size.y -= ImGui::GetCursorPosY() - y0;
    }
    char title[192];
    const float w = both ? (size.x - sp) * 0.5f : size.x;
    if (both || which == 0) {
        std::snprintf(title, sizeof title, "%s (%s, %% %s)", tr("confusion, quantized"), bits_summary(s).c_str(), tr("of row"));
        plot::heat_map("##conf", title, cmp.confusion_pct.data(), k, k, 0.0f, 100.0f, names, names, ImVec2(w, size.y),
                       plot::HeatStyle::kSequential, "%.0f", tr("predicted"), tr("true"), "0 %", "100 %");
    }
    if (both) ImGui::SameLine(0, sp);
    if (both || which == 1) {
        float maxchg = 1;
        for (float v : cmp.confusion_change) maxchg = std::max(maxchg, std::fabs(v));
        std::snprintf(title, sizeof title, "%s (%lld %s, %lld %s)", tr("change vs float, images"), (long long)cmp.broken,
                      tr("broken"), (long long)cmp.fixed, tr("fixed"));
        plot::heat_map("##chg", title, cmp.confusion_change.data(), k, k, -maxchg, maxchg, names, names, ImVec2(w, size.y),
                       plot::HeatStyle::kChange, "%+.0f", tr("predicted"), tr("true"), tr("better"), tr("worse"));
    }
}

void EvalPanel::draw(AppContext& ctx) {
    std::shared_ptr<const EvalSnapshot> q = ctx.eval.get(ctx.current_key);
    std::shared_ptr<const EvalSnapshot> f = ctx.eval.get(ctx.float_key);
    const float sp = ImGui::GetStyle().ItemSpacing.x, spy = ImGui::GetStyle().ItemSpacing.y;
    const float fs = ImGui::GetFontSize();
    // A dashboard when everything fits at this font size (about 62 x 36 lines of text); else one part at a time.
    const ImVec2 panel = ImGui::GetContentRegionAvail();
    const bool one_at_a_time = panel.x < fs * 62 || panel.y < fs * 36;
    controls(ctx, q.get(), f.get(), one_at_a_time);
    ImGui::Separator();
    const int classes = ctx.doc.num_classes();
    const Compare cmp = compare(*ctx.doc.data, q.get(), f.get(), classes);
    if (classes != dataset_info(ctx.doc.dataset).classes) {
        // A 100-class model on CIFAR-10's images (or the reverse): the numbers below mean nothing; say what to open.
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(plot::colors().bad));
        ImGui::TextWrapped(tr("This model has %d classes but the test images are %s (%d classes): open the matching test set "
                              "(CIFAR-100: test.bin of cifar-100-binary; quantlab-gui --data DIR)."),
                           classes, dataset_info(ctx.doc.dataset).title, dataset_info(ctx.doc.dataset).classes);
        ImGui::PopStyleColor();
    }
    ImVec2 avail = ImGui::GetContentRegionAvail();

    if (one_at_a_time) {
        UiState& s = ctx.state;
        // Views: 0 accuracy vs bits, 1 per class, 2 confusion (quantized), 3 its change from float, 4 gallery.
        s.panel_view = std::clamp(s.panel_view, 0, 4);
        view_tabs("##evaltabs", {tr("accuracy vs bits"), tr("per class"), tr("confusion"), tr("change"), tr("gallery")}, &s.panel_view);
        avail = ImGui::GetContentRegionAvail();
        switch (s.panel_view) {
            case 0: sweep_plot(ctx, avail, f.get()); break;
            case 1: class_plot(cmp, avail, f && cmp.m > 0, classes); break;
            case 2: case 3: matrices(ctx, cmp, avail, true); break;
            default: gallery(ctx, q.get(), f.get(), avail); break;
        }
        return;
    }

    const float left_w = std::floor(avail.x * 0.36f);
    ImGui::BeginGroup();
    sweep_plot(ctx, ImVec2(left_w, (avail.y - spy) * 0.5f), f.get());
    class_plot(cmp, ImVec2(left_w, (avail.y - spy) * 0.5f), f && cmp.m > 0, classes);
    ImGui::EndGroup();
    ImGui::SameLine(0, sp);

    ImGui::BeginGroup();
    const float right_w = avail.x - left_w - sp;
    const int k = ctx.doc.num_classes();
    std::vector<std::string> names;
    for (int c = 0; c < k; ++c) names.push_back(class_label(k, c));
    if (k <= kCifar10NumClasses && plot::heat_map_numbers_fit(k, k, names, names, ImVec2((right_w - sp) * 0.5f, std::floor(avail.y * 0.5f)), "100", tr("predicted"))) {
        matrices(ctx, cmp, ImVec2(right_w, std::floor(avail.y * 0.5f)));
        ImGui::Dummy(ImVec2(0, fs * 0.2f));
        gallery(ctx, q.get(), f.get(), ImVec2(right_w, ImGui::GetContentRegionAvail().y));
    } else {
        // The matrices need the whole column to keep their numbers: they and the gallery take turns
        // (views 2 quantized, 3 change vs float, 4 gallery).
        UiState& s = ctx.state;
        int tab = s.panel_view == 3 ? 1 : s.panel_view == 4 ? 2 : 0;
        ImGui::PushID("##right");
        if (view_tabs("##righttabs", {tr("confusion, quantized"), tr("change vs float, images"), tr("gallery")}, &tab)) s.panel_view = 2 + tab;
        ImGui::PopID();
        const ImVec2 rest(right_w, ImGui::GetContentRegionAvail().y);
        if (tab == 2) gallery(ctx, q.get(), f.get(), rest);
        else matrices(ctx, cmp, rest, true);
    }
    ImGui::EndGroup();
}

}  // namespace

std::unique_ptr<PanelView> make_eval_panel() { return std::make_unique<EvalPanel>(); }

}  // namespace quantlab::ui
