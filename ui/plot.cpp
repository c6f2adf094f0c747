// plot.cpp: ImDrawList plot widgets (see plot.hpp).
// [SECTION] state of the plot being drawn
// [SECTION] begin / end: frame, grid, axes, ticks, legend, read-out
// [SECTION] items
// [SECTION] heat map, progress, colours
#include "ui/plot.hpp"

#include <imgui_internal.h>  // ImRect

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "ui/layout_probe.hpp"

namespace quantlab::ui::plot {

// [SECTION] state of the plot being drawn ------------------------------------------------------------

namespace {

struct LegendEntry {
    std::string label;
    ImU32 color;
};

struct ReadOut {
    std::string label;
    ImU32 color;
    std::string value;
};

struct PlotState {
    bool active = false;
    ImDrawList* dl = nullptr;
    ImRect frame, area;  // whole widget; the data area inside the axes
    Limits lim;
    int flags = 0;
    bool hovered = false;
    ImVec2 mouse;
    double mouse_x = 0, mouse_y = 0;  // mouse in data coordinates
    std::string id;
    ImGuiID gid = 0;
    std::vector<std::string> title_lines;  // the title, wrapped
    bool title_clipped = false;            // it needed more lines than it got
    std::string x_label, y_label;
    bool custom_x = false;
    std::vector<double> x_tick_values;
    std::vector<std::string> x_tick_labels, x_short;  // x_short: shortened labels (TickLabelMode::kShortened)
    TickLabelFit x_fit;
    Ticks y_ticks;                         // chosen by begin_plot, which sizes the left margin for their labels
    LegendPlacement placement;             // legend strip and data area (layout_probe.hpp)
    std::vector<LegendEntry> legend;
    std::vector<ReadOut> readout;
};

PlotState g;
// set_x_ticks() before begin_plot() parks its ticks here.
bool g_next_custom = false;
std::vector<double> g_next_values;
std::vector<std::string> g_next_labels;

// Each plot's legend entry widths last frame, by ImGui id: begin_plot reserves the legend strip from them.
std::unordered_map<ImGuiID, std::vector<float>> g_legend_widths;

float ui_scale() { return ImGui::GetFontSize() / 15.0f; }

// Splits `text` into lines at most `width` pixels wide (at spaces where there are any, else between
// characters, which is how Japanese wraps). Returns true when more than max_lines were needed (the last
// kept line then ends in "...").
bool wrap_lines(const char* text, float width, int max_lines, std::vector<std::string>* out) {
    out->clear();
    if (!text || !text[0]) return false;
    ImFont* font = ImGui::GetFont();
    const float fs = ImGui::GetFontSize();
    const char* s = text;
    const char* end = text + std::strlen(text);
    while (s < end) {
        const char* e = font->CalcWordWrapPositionA(fs / font->FontSize, s, end, std::max(width, fs * 2));
        if (e == s) e = s + 1;
        if (int(out->size()) == max_lines) {
            std::string& last = out->back();
            while (!last.empty() && ImGui::CalcTextSize((last + "...").c_str()).x > width) {
                size_t k = last.size() - 1;
                while (k > 0 && (static_cast<unsigned char>(last[k]) & 0xC0) == 0x80) --k;  // a whole UTF-8 character
                last.erase(k);
            }
            last += "...";
            return true;
        }
        std::string line(s, e);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out->push_back(line);
        s = e;
        while (s < end && (*s == ' ' || *s == '\n')) ++s;
    }
    return false;
}

// Width of `text` at `size` pixels (0: the current font size).
float text_w(const char* text, float size = 0) {
    ImFont* font = ImGui::GetFont();
    return font->CalcTextSizeA(size > 0 ? size : ImGui::GetFontSize(), FLT_MAX, 0.0f, text).x;
}

// `label` cut to whole UTF-8 characters until it is at most `px` wide at text size `size` (at least 2 characters).
std::string shorten(const std::string& label, float px, float size = 0) {
    std::string t = label;
    while (text_w(t.c_str(), size) > px) {
        size_t k = t.size() - 1;
        while (k > 0 && (static_cast<unsigned char>(t[k]) & 0xC0) == 0x80) --k;
        size_t chars = 0;
        for (size_t i = 0; i < k; ++i) chars += (static_cast<unsigned char>(t[i]) & 0xC0) != 0x80;
        if (chars < 2) break;
        t.erase(k);
    }
    return t;
}

// How `labels`, `spacing` pixels apart, fit below an axis with at most max_h pixels (layout_probe.hpp);
// fills `shortened` with the labels cut to the spacing.
// `size`: text size in pixels (0: the current font size).
TickLabelFit fit_labels(const std::vector<std::string>& labels, float spacing, float max_h, std::vector<std::string>* shortened,
                        float size = 0) {
    const float fs = size > 0 ? size : ImGui::GetFontSize();
    float widest = 0, widest_short = 0;
    shortened->clear();
    for (const std::string& l : labels) {
        widest = std::max(widest, text_w(l.c_str(), fs));
        shortened->push_back(shorten(l, spacing - fs * 0.3f, fs));
        widest_short = std::max(widest_short, text_w(shortened->back().c_str(), fs));
    }
    return fit_tick_labels(widest, widest_short, spacing, fs, max_h);
}

// Tick label i centred at x below y, as `fit` says.
void tick_label(ImDrawList* dl, const TickLabelFit& fit, size_t i, float x, float y, const std::string& full,
                const std::string& shortened, ImU32 color, float size = 0) {
    const float fs = ImGui::GetFontSize();
    const float px = size > 0 ? size : fs;
    switch (fit.mode) {
        case TickLabelMode::kHorizontal:
        case TickLabelMode::kShortened:
        case TickLabelMode::kSparse: {
            if (fit.mode == TickLabelMode::kSparse && i % size_t(fit.step) != 0) return;
            const std::string& t = fit.mode == TickLabelMode::kHorizontal ? full : shortened;
            dl->AddText(ImGui::GetFont(), px, ImVec2(std::floor(x - text_w(t.c_str(), px) * 0.5f), y), color, t.c_str());
            return;
        }
        case TickLabelMode::kRotated45: rotated_text(dl, ImVec2(x + fs * 0.3f, y), color, full.c_str(), -0.7854f, ImVec2(1, 0)); return;
        case TickLabelMode::kVertical: rotated_text(dl, ImVec2(x + fs * 0.5f, y), color, full.c_str(), -1.5708f, ImVec2(1, 0)); return;
    }
}

Rect to_rect(const ImRect& r) { return {r.Min.x, r.Min.y, r.Max.x, r.Max.y}; }

float to_px(double x) { return float(g.area.Min.x + (x - g.lim.x0) / (g.lim.x1 - g.lim.x0) * (g.area.Max.x - g.area.Min.x)); }
float to_py(double y) { return float(g.area.Max.y - (y - g.lim.y0) / (g.lim.y1 - g.lim.y0) * (g.area.Max.y - g.area.Min.y)); }
ImVec2 to_p(double x, double y) { return ImVec2(to_px(x), to_py(y)); }
}  // namespace
ImVec2 to_pixels(double x, double y) { return to_p(x, y); }
namespace {

bool listed(const char* label) { return label && label[0] && !(label[0] == '#' && label[1] == '#'); }

void add_legend(const char* label, ImU32 color) {
    if (!listed(label)) return;
    for (const LegendEntry& e : g.legend)
        if (e.label == label) return;
    g.legend.push_back({label, color});
}

void add_readout(const char* label, ImU32 color, const std::string& value) {
    if (listed(label)) g.readout.push_back({label, color, value});
}

void dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 color, float thickness) {
    const float dash = 6.0f * ui_scale(), gap = 4.0f * ui_scale();
    const float len = std::hypot(b.x - a.x, b.y - a.y);
    if (len <= 0) return;
    const ImVec2 d((b.x - a.x) / len, (b.y - a.y) / len);
    for (float t = 0; t < len; t += dash + gap) {
        const float e = std::min(t + dash, len);
        dl->AddLine(ImVec2(a.x + d.x * t, a.y + d.y * t), ImVec2(a.x + d.x * e, a.y + d.y * e), color, thickness);
    }
}

// Pixel centre for crisp 1-px lines.
float crisp(float v) { return std::floor(v) + 0.5f; }

}  // namespace

Colors& colors() {
    static Colors c = [] {
        Colors k{};
        k.frame_bg = IM_COL32(255, 255, 255, 255);
        k.plot_bg = IM_COL32(250, 250, 252, 255);
        k.axis = IM_COL32(60, 60, 70, 255);
        k.grid = IM_COL32(215, 218, 225, 255);
        k.text = IM_COL32(20, 20, 30, 255);
        k.text_dim = IM_COL32(90, 90, 100, 255);
        k.legend_bg = IM_COL32(255, 255, 255, 220);
        k.hover = IM_COL32(40, 40, 40, 140);
        const ImU32 pal[8] = {IM_COL32(0, 114, 178, 255),  IM_COL32(230, 159, 0, 255),  IM_COL32(0, 158, 115, 255),
                              IM_COL32(213, 94, 0, 255),   IM_COL32(204, 121, 167, 255), IM_COL32(86, 180, 233, 255),
                              IM_COL32(240, 228, 66, 255), IM_COL32(0, 0, 0, 255)};
        std::copy(pal, pal + 8, k.series);
        k.clip_shade = IM_COL32(213, 94, 0, 50);
        k.good = IM_COL32(0, 158, 115, 255);
        k.bad = IM_COL32(213, 40, 40, 255);
        k.warn = IM_COL32(230, 159, 0, 255);
        return k;
    }();
    return c;
}

Limits pad_limits(double x0, double x1, double y0, double y1, double pad_x, double pad_y) {
    if (!(x1 > x0)) x0 -= 0.5, x1 = x0 + 1;
    if (!(y1 > y0)) y0 -= 0.5, y1 = y0 + 1;
    const double dx = (x1 - x0) * pad_x, dy = (y1 - y0) * pad_y;
    return {x0 - dx, x1 + dx, y0 - dy, y1 + dy};
}

// [SECTION] begin / end ---------------------------------------------------------------------------------

bool begin_plot(const char* id, const char* title, ImVec2 size, const Limits& limits, const char* x_label,
                const char* y_label, int flags) {
    IM_ASSERT(!g.active && "begin_plot: plots do not nest; call end_plot() first");
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (size.x <= 0) size.x = std::max(avail.x + size.x, 50.0f);
    if (size.y <= 0) size.y = std::max(avail.y + size.y, 50.0f);
    const ImVec2 pos = ImGui::GetCursorScreenPos();
    const ImGuiID gid = ImGui::GetID(id);
    ImGui::InvisibleButton(id, size);
    if (!ImGui::IsItemVisible()) return false;

    g = PlotState();
    if (g_next_custom) {
        g.custom_x = true;
        g.x_tick_values.swap(g_next_values);
        g.x_tick_labels.swap(g_next_labels);
        g_next_custom = false;
    }
    g.active = true;
    g.id = id;
    g.gid = gid;
    g.flags = flags;
    g.dl = ImGui::GetWindowDrawList();
    g.frame = ImRect(pos, ImVec2(pos.x + size.x, pos.y + size.y));
    g.lim = limits;
    if (!(g.lim.x1 > g.lim.x0)) g.lim.x1 = g.lim.x0 + 1;
    if (!(g.lim.y1 > g.lim.y0)) g.lim.y1 = g.lim.y0 + 1;
    g.hovered = ImGui::IsItemHovered() && !(flags & kNoHover);
    g.x_label = x_label ? x_label : "";
    g.y_label = y_label ? y_label : "";

    // Top: the title, wrapped beside the y axis' label (at most 3 lines); then the legend strip (below).
    const float fs = ImGui::GetFontSize();
    const float ylw = g.y_label.empty() ? 0 : ImGui::CalcTextSize(g.y_label.c_str()).x + fs;
    g.title_clipped = wrap_lines(title ? title : "", size.x - fs * 0.4f - ylw, 3, &g.title_lines);
    const int title_rows = std::max(int(g.title_lines.size()), g.y_label.empty() ? 0 : 1);
    const float top = title_rows == 0 ? fs * 0.6f : fs * (0.35f + 1.1f * float(title_rows));
    // Left: the y tick labels' widest text. Bottom: the x tick labels (fitted below) and the x label.
    const Ticks yt = nice_ticks(g.lim.y0, g.lim.y1, std::max(2, int((size.y - 3 * fs) / (fs * 2.2f))));
    g.y_ticks = yt;
    float yw = 0;
    for (double v : yt.values) yw = std::max(yw, ImGui::CalcTextSize((format_tick(v, yt) + ((flags & kYPercent) ? "%" : "")).c_str()).x);
    const float left = yw + fs * 0.8f, right = fs * 0.8f;
    float ticks_h = fs * 1.3f;
    if (g.custom_x && g.x_tick_values.size() >= 2) {
        const double span = std::fabs(g.x_tick_values[1] - g.x_tick_values[0]) / (g.lim.x1 - g.lim.x0);
        const float spacing = float(span) * (size.x - left - right);
        g.x_fit = fit_labels(g.x_tick_labels, spacing, size.y * 0.3f, &g.x_short);
        ticks_h = g.x_fit.height + fs * 0.4f;
    }
    // A plot too low for its axis title as well (presenter mode in a short window, a lesson card below) keeps
    // the data: the x label goes (the tab or title says what x is).
    if (!g.x_label.empty() && size.y - top - ticks_h - fs * 1.35f < fs * 2.5f) g.x_label.clear();
    const float bottom = ticks_h + (g.x_label.empty() ? fs * 0.2f : fs * 1.35f);
    // The legend strip sits between title and data, sized by the entries this plot had last frame (items
    // arrive after begin_plot); end_plot notes a change, and the next frame is laid out with it.
    const Rect region{std::floor(pos.x + left), std::floor(pos.y + top), std::floor(pos.x + size.x - right),
                      std::floor(pos.y + size.y - bottom)};
    std::vector<float> widths;
    if (!(flags & kNoLegend)) widths = g_legend_widths[gid];
    g.placement = place_legend(region, widths, std::floor(fs * 1.2f), std::floor(fs * 0.3f), fs * 3.0f);
    g.area = ImRect(ImVec2(g.placement.area.x0, g.placement.area.y0), ImVec2(g.placement.area.x1, g.placement.area.y1));
    if (g.area.GetWidth() < 10 || g.area.GetHeight() < 10) g.area = ImRect(pos, ImVec2(pos.x + size.x, pos.y + size.y));
    g.mouse = ImGui::GetIO().MousePos;
    g.mouse_x = g.lim.x0 + (g.mouse.x - g.area.Min.x) / g.area.GetWidth() * (g.lim.x1 - g.lim.x0);
    g.mouse_y = g.lim.y0 + (g.area.Max.y - g.mouse.y) / g.area.GetHeight() * (g.lim.y1 - g.lim.y0);
    g.hovered = g.hovered && g.area.Contains(g.mouse);

    // Background now; grid, axes and labels in end_plot on a lower channel so they sit under the items.
    g.dl->ChannelsSplit(3);
    g.dl->ChannelsSetCurrent(0);
    g.dl->AddRectFilled(g.area.Min, g.area.Max, colors().plot_bg);
    g.dl->ChannelsSetCurrent(1);
    g.dl->PushClipRect(g.area.Min, g.area.Max, true);
    return true;
}

void set_x_ticks(const std::vector<double>& values, const std::vector<std::string>& labels) {
    g_next_custom = true;
    g_next_values = values;
    g_next_labels = labels;
}

void rotated_text(ImDrawList* dl, ImVec2 pivot, ImU32 color, const char* text, float angle, ImVec2 align) {
    const ImVec2 ts = ImGui::CalcTextSize(text);
    const ImVec2 at(pivot.x - ts.x * align.x, pivot.y - ts.y * align.y);
    // The text is laid out level and then turned: glyphs that lie outside the clip rect only before turning
    // (left of a window's edge, say) must not be dropped, so the clip rect also covers the level text.
    const ImVec2 cmin = dl->GetClipRectMin(), cmax = dl->GetClipRectMax();
    dl->PushClipRect(ImVec2(std::min(cmin.x, at.x), std::min(cmin.y, at.y)),
                     ImVec2(std::max(cmax.x, at.x + ts.x), std::max(cmax.y, at.y + ts.y)), false);
    const int v0 = dl->VtxBuffer.Size;
    dl->AddText(at, color, text);
    const float c = std::cos(angle), sn = std::sin(angle);
    for (int i = v0; i < dl->VtxBuffer.Size; ++i) {
        ImVec2& v = dl->VtxBuffer[i].pos;
        const float dx = v.x - pivot.x, dy = v.y - pivot.y;
        v = ImVec2(pivot.x + c * dx - sn * dy, pivot.y + sn * dx + c * dy);
    }
    dl->PopClipRect();
}

void end_plot() {
    IM_ASSERT(g.active && "end_plot: no begin_plot() returned true");
    ImDrawList* dl = g.dl;
    const Colors& c = colors();
    const float fs = ImGui::GetFontSize();
    dl->PopClipRect();

    dl->ChannelsSetCurrent(0);
    // Grid and tick labels: begin_plot's ticks (the left margin fits their labels); every k-th where the data area came out lower
    // than it estimated and the labels would touch.
    const Ticks& yt = g.y_ticks;
    const float tick_px = yt.step > 0 ? float(yt.step / (g.lim.y1 - g.lim.y0)) * g.area.GetHeight() : 0.0f;
    const int every = tick_px > 0 ? std::max(1, int(std::ceil(fs * 1.2f / tick_px))) : 1;
    for (size_t i = 0; i < yt.values.size(); ++i) {
        const double v = yt.values[i];
        const float y = crisp(to_py(v));
        if (y < g.area.Min.y - 0.5f || y > g.area.Max.y + 0.5f) continue;
        dl->AddLine(ImVec2(g.area.Min.x, y), ImVec2(g.area.Max.x, y), c.grid, 1.0f);
        if (i % size_t(every) != 0) continue;
        const std::string t = format_tick(v, yt) + ((g.flags & kYPercent) ? "%" : "");
        const ImVec2 ts = ImGui::CalcTextSize(t.c_str());
        dl->AddText(ImVec2(g.area.Min.x - ts.x - fs * 0.35f, y - ts.y * 0.5f), c.text_dim, t.c_str());
    }
    std::vector<double> xv;
    std::vector<std::string> xl;
    if (g.custom_x) {
        xv = g.x_tick_values;
        xl = g.x_tick_labels;
    } else {
        // Room for the widest label decides how many x ticks fit.
        Ticks xt = nice_ticks(g.lim.x0, g.lim.x1, 8);
        float widest = 0;
        for (double v : xt.values) widest = std::max(widest, ImGui::CalcTextSize(format_tick(v, xt).c_str()).x);
        const int fit = std::max(2, int(g.area.GetWidth() / (widest + fs * 1.5f)));
        if (fit < int(xt.values.size())) xt = nice_ticks(g.lim.x0, g.lim.x1, fit);
        for (double v : xt.values) {
            xv.push_back(v);
            xl.push_back(format_tick(v, xt));
        }
    }
    for (size_t i = 0; i < xv.size(); ++i) {
        const float x = crisp(to_px(xv[i]));
        if (x < g.area.Min.x - 0.5f || x > g.area.Max.x + 0.5f) continue;
        dl->AddLine(ImVec2(x, g.area.Min.y), ImVec2(x, g.area.Max.y), c.grid, 1.0f);
        if (i < xl.size()) {
            const TickLabelFit fit = g.custom_x ? g.x_fit : TickLabelFit{};
            tick_label(dl, fit, i, x, g.area.Max.y + fs * 0.3f, xl[i], i < g.x_short.size() ? g.x_short[i] : xl[i], c.text_dim);
        }
    }

    dl->ChannelsSetCurrent(2);
    // Axes (left and bottom), the zero line when in view.
    dl->AddLine(ImVec2(crisp(g.area.Min.x), g.area.Min.y), ImVec2(crisp(g.area.Min.x), g.area.Max.y + 1), c.axis, 1.0f);
    dl->AddLine(ImVec2(g.area.Min.x, crisp(g.area.Max.y)), ImVec2(g.area.Max.x, crisp(g.area.Max.y)), c.axis, 1.0f);
    for (size_t i = 0; i < g.title_lines.size(); ++i)
        dl->AddText(ImVec2(g.frame.Min.x + fs * 0.2f, g.frame.Min.y + fs * (0.1f + 1.1f * float(i))), c.text, g.title_lines[i].c_str());
    if (!g.y_label.empty()) {
        const ImVec2 ts = ImGui::CalcTextSize(g.y_label.c_str());
        const float x = std::max(g.frame.Min.x + fs * 0.2f, g.area.Max.x - ts.x);
        dl->AddText(ImVec2(x, g.frame.Min.y + fs * 0.1f), c.text_dim, g.y_label.c_str());
    }
    if (!g.x_label.empty()) {
        const ImVec2 ts = ImGui::CalcTextSize(g.x_label.c_str());
        dl->AddText(ImVec2(g.area.GetCenter().x - ts.x * 0.5f, g.frame.Max.y - fs * 1.3f), c.text_dim, g.x_label.c_str());
    }

    // Legend: in the strip begin_plot reserved above the data area (layout_probe.hpp's place_legend).
    std::vector<float> widths;
    const float sw = fs * 1.2f, pad = fs * 0.35f;
    if (!(g.flags & kNoLegend))
        for (const LegendEntry& e : g.legend) widths.push_back(std::ceil(sw + pad + ImGui::CalcTextSize(e.label.c_str()).x));
    std::vector<float>& reserved = g_legend_widths[g.gid];
    if (widths != reserved) {
        reserved = widths;
        layout_probe().note_unsettled();
    }
    const std::vector<Rect>& slots = g.placement.entries;
    for (size_t i = 0; i < g.legend.size() && i < slots.size() && !(g.flags & kNoLegend); ++i) {
        const Rect& r = slots[i];
        dl->PushClipRect(ImVec2(r.x0, r.y0), ImVec2(r.x1, r.y1), true);
        const float y = r.y0 + (r.height() - fs) * 0.5f;
        dl->AddRectFilled(ImVec2(r.x0, y + fs * 0.3f), ImVec2(r.x0 + sw, y + fs * 0.7f), g.legend[i].color);
        dl->AddText(ImVec2(r.x0 + sw + pad, y), c.text, g.legend[i].label.c_str());
        dl->PopClipRect();
    }
    layout_probe().add_plot({g.id.rfind("##", 0) == 0 ? g.id.substr(2) : g.id, to_rect(g.frame), to_rect(g.area),
                             g.placement.legend, g.title_clipped});

    // Hover read-out: crosshair and a tooltip with x and each item's value there.
    if (g.hovered) {
        dl->AddLine(ImVec2(crisp(g.mouse.x), g.area.Min.y), ImVec2(crisp(g.mouse.x), g.area.Max.y), c.hover, 1.0f);
        dl->AddLine(ImVec2(g.area.Min.x, crisp(g.mouse.y)), ImVec2(g.area.Max.x, crisp(g.mouse.y)), c.hover, 1.0f);
        ImGui::BeginTooltip();
        ImGui::Text("x = %s   y = %s", format_number(g.mouse_x).c_str(), format_number(g.mouse_y).c_str());
        for (const ReadOut& r : g.readout) {
            ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(r.color), "%s", r.label.c_str());
            ImGui::SameLine();
            ImGui::TextUnformatted(r.value.c_str());
        }
        ImGui::EndTooltip();
    }
    dl->ChannelsMerge();
    g.active = false;
}

// [SECTION] items -----------------------------------------------------------------------------------------

void line(const char* label, const float* x, const float* y, int n, ImU32 color, float thickness, bool dashed) {
    add_legend(label, color);
    if (n <= 0) return;
    const float t = thickness * ui_scale();
    // Draw only the part in view, decimated to about one vertex per pixel column band (keeps 10^5 points cheap).
    std::vector<ImVec2> pts;
    pts.reserve(size_t(std::min(n, 8192)));
    const int stride = std::max(1, n / 8192);
    for (int i = 0; i < n; i += stride) pts.push_back(to_p(x[i], y[i]));
    if ((n - 1) % stride != 0) pts.push_back(to_p(x[n - 1], y[n - 1]));
    if (dashed) {
        for (size_t i = 1; i < pts.size(); ++i) dashed_line(g.dl, pts[i - 1], pts[i], color, t);
    } else if (pts.size() >= 2) {
        g.dl->AddPolyline(pts.data(), int(pts.size()), color, 0, t);
    }
    if (g.hovered && listed(label)) {
        // The curves here are functions of x: with x ascending, interpolate on the segment under the mouse
        // (a staircase's riser takes the upper step); otherwise the vertex nearest in x.
        const bool ascending = std::is_sorted(x, x + n);
        if (ascending && n >= 2 && g.mouse_x >= x[0] && g.mouse_x <= x[n - 1]) {
            const int i = int(std::upper_bound(x, x + n, float(g.mouse_x)) - x);
            const int b = std::clamp(i, 1, n - 1), a = b - 1;
            const double t = x[b] > x[a] ? (g.mouse_x - x[a]) / double(x[b] - x[a]) : 1.0;
            const double yv = y[a] + (y[b] - y[a]) * std::clamp(t, 0.0, 1.0);
            g.dl->AddCircleFilled(to_p(g.mouse_x, yv), 3.5f * ui_scale(), color);
            add_readout(label, color, format_number(yv));
        } else {
            int best = 0;
            double bd = 1e300;
            for (int i = 0; i < n; ++i) {
                const double d = std::fabs(double(x[i]) - g.mouse_x);
                if (d < bd) bd = d, best = i;
            }
            g.dl->AddCircleFilled(to_p(x[best], y[best]), 3.5f * ui_scale(), color);
            add_readout(label, color, format_number(y[best]) + "  (x = " + format_number(x[best]) + ")");
        }
    }
}

void line(const char* label, const Polyline& p, ImU32 color, float thickness, bool dashed) {
    line(label, p.x.data(), p.y.data(), int(std::min(p.x.size(), p.y.size())), color, thickness, dashed);
}

void markers(const char* label, const float* x, const float* y, int n, ImU32 color, float radius) {
    add_legend(label, color);
    for (int i = 0; i < n; ++i) g.dl->AddCircleFilled(to_p(x[i], y[i]), radius * ui_scale(), color);
}

void histogram(const char* label, const Histogram& h, ImU32 color, bool filled) {
    add_legend(label, color);
    const double w = h.bin_width();
    const float y0 = to_py(std::max(0.0, g.lim.y0));
    std::vector<ImVec2> outline;
    outline.reserve(h.counts.size() * 2 + 2);
    outline.push_back(ImVec2(to_px(h.lo), y0));
    for (size_t i = 0; i < h.counts.size(); ++i) {
        const float xa = to_px(h.lo + w * double(i)), xb = to_px(h.lo + w * double(i + 1));
        const float y = to_py(double(h.counts[i]));
        if (filled && h.counts[i] > 0) g.dl->AddRectFilled(ImVec2(xa, y), ImVec2(std::max(xb, xa + 1), y0), with_alpha(color, 0.45f));
        outline.push_back(ImVec2(xa, y));
        outline.push_back(ImVec2(xb, y));
    }
    outline.push_back(ImVec2(to_px(h.hi), y0));
    g.dl->AddPolyline(outline.data(), int(outline.size()), color, 0, (filled ? 1.0f : 1.6f) * ui_scale());
    if (g.hovered && listed(label) && w > 0) {
        const double b = std::floor((g.mouse_x - h.lo) / w);
        if (b >= 0 && b < double(h.counts.size()))
            add_readout(label, color, std::to_string(h.counts[size_t(b)]) + " in [" + format_number(h.lo + w * b) + ", " +
                                          format_number(h.lo + w * (b + 1)) + ")");
    }
}

void bars(const char* label, const float* values, int n, float offset, float width, ImU32 color) {
    add_legend(label, color);
    const float y0 = to_py(std::max(0.0, g.lim.y0));
    for (int i = 0; i < n; ++i) {
        const float xa = to_px(i + offset - width * 0.5f), xb = to_px(i + offset + width * 0.5f);
        const float y = to_py(values[i]);
        g.dl->AddRectFilled(ImVec2(xa, std::min(y, y0)), ImVec2(xb, std::max(y, y0)), color);
    }
    if (g.hovered && listed(label)) {
        const int i = int(std::floor(g.mouse_x + 0.5));
        if (i >= 0 && i < n) add_readout(label, color, format_number(values[i]));
    }
}

void stems(const char* label, const float* x, const float* y, int n, ImU32 color, float thickness) {
    add_legend(label, color);
    const float y0 = to_py(std::max(0.0, g.lim.y0));
    const float t = thickness * ui_scale();
    for (int i = 0; i < n; ++i) {
        const float px = to_px(x[i]);
        g.dl->AddLine(ImVec2(px, y0), ImVec2(px, to_py(y[i])), color, t);
        g.dl->AddCircleFilled(ImVec2(px, to_py(y[i])), t * 1.3f, color);
    }
    if (g.hovered && listed(label) && n > 0) {
        int best = 0;
        for (int i = 1; i < n; ++i)
            if (std::fabs(x[i] - g.mouse_x) < std::fabs(x[best] - g.mouse_x)) best = i;
        add_readout(label, color, format_number(y[best]) + "  (x = " + format_number(x[best]) + ")");
    }
}

void vspan(double x0, double x1, ImU32 color) {
    g.dl->AddRectFilled(ImVec2(to_px(x0), g.area.Min.y), ImVec2(to_px(x1), g.area.Max.y), color);
}

void vlines(const float* x, int n, ImU32 color, float thickness) {
    for (int i = 0; i < n; ++i) {
        const float px = crisp(to_px(x[i]));
        g.dl->AddLine(ImVec2(px, g.area.Min.y), ImVec2(px, g.area.Max.y), color, thickness);
    }
}

void hline(double y, ImU32 color, float thickness, bool dashed) {
    const float py = crisp(to_py(y));
    const float t = thickness * ui_scale();
    if (dashed) dashed_line(g.dl, ImVec2(g.area.Min.x, py), ImVec2(g.area.Max.x, py), color, t);
    else g.dl->AddLine(ImVec2(g.area.Min.x, py), ImVec2(g.area.Max.x, py), color, t);
}

void vline(double x, ImU32 color, float thickness, bool dashed) {
    const float px = crisp(to_px(x));
    const float t = thickness * ui_scale();
    if (dashed) dashed_line(g.dl, ImVec2(px, g.area.Min.y), ImVec2(px, g.area.Max.y), color, t);
    else g.dl->AddLine(ImVec2(px, g.area.Min.y), ImVec2(px, g.area.Max.y), color, t);
}

void text(double x, double y, const char* str, ImU32 color, ImVec2 align) {
    const ImVec2 ts = ImGui::CalcTextSize(str);
    const ImVec2 p = to_p(x, y);
    g.dl->AddText(ImVec2(p.x - ts.x * align.x, p.y - ts.y * align.y), color, str);
}

// [SECTION] heat map, progress, colours ----------------------------------------------------------------

namespace {
struct HeatLayout {
    float left, top, bottom, cell, cellh;
    TickLabelFit cols_fit;
    std::vector<std::string> cols_short;
    float cols_px = 0;  // column labels' text size (0: body), smaller where cells are lower than a line
    float x_label_px = 0;      // the x label's text size (0: body)
    bool x_label_corner = false;  // the x label sits left of the column labels (under the row labels), not below them
};

// Margins and cell size of a heat map in `size`: title lines, colour legend, row labels left, column labels below.
HeatLayout heat_layout(int rows, int cols, const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                       ImVec2 size, int title_lines, bool has_x_label, bool has_y_label, bool legend_line = true,
                       float label_px = 0, const char* x_label = nullptr) {
    HeatLayout h;
    const float fs = ImGui::GetFontSize();
    const float lp = label_px > 0 ? label_px : fs;  // the labels' text size
    float lw = 0;
    for (const std::string& l : row_labels) lw = std::max(lw, ImGui::GetFont()->CalcTextSizeA(lp, FLT_MAX, 0.0f, l.c_str()).x);
    h.top = fs * (0.2f + 1.1f * float(title_lines)) + (legend_line ? fs * 1.5f : fs * 0.3f);  // title, colour legend's line
    h.left = lw + fs * 0.5f + (has_y_label ? fs * 1.3f : 0);
    h.cols_px = label_px;
    h.x_label_px = label_px;
    // Small labels: the x label goes into the corner under the row labels when it fits there (a line saved).
    h.x_label_corner = label_px > 0 && has_x_label && x_label &&
                       ImGui::GetFont()->CalcTextSizeA(lp, FLT_MAX, 0.0f, x_label).x + fs * 0.6f <= h.left;
    const float x_label_h = has_x_label && !h.x_label_corner ? lp * 1.3f : 0;
    const float cw = std::floor((size.x - h.left - fs * 0.3f) / float(cols));
    // The column labels' room depends on the cell width, which the height left under them may narrow (cells
    // stay near square): fit, size the cells, and fit again to the final width (labels only get less room,
    // so this settles in a few rounds; the last fit is for the final cells).
    // Turned labels may take height only while every row keeps a line of text (the cells' numbers come first).
    const float label_room = std::min(size.y * 0.3f, size.y - h.top - x_label_h - fs * 0.4f - float(rows) * lp);
    float cell = cw;
    for (int round = 0; round < 4; ++round) {
        h.cols_fit = fit_labels(col_labels, std::max(cell, 1.0f), std::max(label_room, lp), &h.cols_short, label_px);
        h.bottom = h.cols_fit.height + lp * 0.4f + x_label_h;
        const float ch = std::floor((size.y - h.top - h.bottom) / float(rows));
        // Wider than tall where the height is short (a large font in a small window): room for the numbers
        // and for column labels written out horizontally.
        h.cell = std::max(4.0f, std::min(cw, ch * 3.0f));
        h.cellh = std::max(4.0f, std::min(ch, h.cell));
        if (h.cell >= cell) return h;
        cell = h.cell;
    }
    // Not settled: fit the labels to the final cells within the height already reserved.
    h.cols_fit = fit_labels(col_labels, h.cell, h.cols_fit.height, &h.cols_short, label_px);
    return h;
}

// The layout with labels at body size, or, where that leaves cells lower than a line of text (a large font in a
// short window), with every label at the numbers' smallest size (0.6 of body text) and the x label in the
// corner, when that gives the rows more height: the numbers come before the labels' size.
HeatLayout heat_layout_fit(int rows, int cols, const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                           ImVec2 size, int title_lines, const char* x_label, bool has_y_label, bool legend_line = true) {
    const bool has_x = x_label && x_label[0];
    const float fs = ImGui::GetFontSize();
    const HeatLayout body = heat_layout(rows, cols, row_labels, col_labels, size, title_lines, has_x, has_y_label, legend_line);
    if (body.cellh >= fs) return body;
    const HeatLayout small = heat_layout(rows, cols, row_labels, col_labels, size, title_lines, has_x, has_y_label, legend_line,
                                         std::floor(fs * 0.6f), x_label);
    return small.cellh > body.cellh ? small : body;
}

// Cells lower than a line of text write their numbers and labels smaller (down to 0.6 of body text): the size.
float heat_small_px(const HeatLayout& h) {
    const float fs = ImGui::GetFontSize();
    return std::floor(std::clamp(h.cellh - 2.0f, fs * 0.6f, fs));
}

ImU32 lerp_color(ImU32 a, ImU32 b, float t) {
    t = std::clamp(t, 0.0f, 1.0f);
    auto ch = [&](int shift) {
        const float x = float((a >> shift) & 0xff), y = float((b >> shift) & 0xff);
        return ImU32(x + (y - x) * t + 0.5f) << shift;
    };
    return ch(IM_COL32_R_SHIFT) | ch(IM_COL32_G_SHIFT) | ch(IM_COL32_B_SHIFT) | (ImU32(255) << IM_COL32_A_SHIFT);
}
}  // namespace

bool heat_map_numbers_fit(int rows, int cols, const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                          ImVec2 size, const char* widest_value, const char* x_label) {
    const HeatLayout h = heat_layout_fit(rows, cols, row_labels, col_labels, size, 1, x_label, true);
    const ImVec2 ts = ImGui::CalcTextSize(widest_value);  // two matrices side by side only with numbers at body size
    return h.cell >= ts.x + 3 && h.cellh >= ts.y;
}

ImU32 heat_color(HeatStyle style, float v, float vmin, float vmax, bool diagonal) {
    const Colors& c = colors();
    if (style == HeatStyle::kSequential) return sequential(vmax > vmin ? (v - vmin) / (vmax - vmin) : 0.0f);
    // A change of a confusion matrix: more on the diagonal (right answers) is better, more off it worse.
    const float span = std::max(std::fabs(vmin), std::fabs(vmax));
    const float t = span > 0 ? std::fabs(v) / span : 0.0f;
    if (v == 0) return c.plot_bg;
    const bool better = diagonal ? v > 0 : v < 0;
    return lerp_color(c.plot_bg, better ? c.good : c.bad, 0.25f + 0.75f * std::sqrt(t));
}

void heat_map(const char* id, const char* title, const float* values, int rows, int cols, float vmin, float vmax,
              const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels, ImVec2 size,
              HeatStyle style, const char* format, const char* x_label, const char* y_label, const char* legend_lo,
              const char* legend_hi) {
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (size.x <= 0) size.x = std::max(avail.x + size.x, 50.0f);
    if (size.y <= 0) size.y = std::max(avail.y + size.y, 50.0f);
    const ImVec2 pos = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton(id, size);
    if (!ImGui::IsItemVisible() || rows <= 0 || cols <= 0) return;
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const Colors& c = colors();
    const float fs = ImGui::GetFontSize();
    const char* lo = legend_lo ? legend_lo : "";
    const char* hi = legend_hi ? legend_hi : "";
    const float sw = fs * 1.2f, bar_w = fs * 5.0f;
    const float legend_w = style == HeatStyle::kSequential
                               ? ImGui::CalcTextSize(lo).x + ImGui::CalcTextSize(hi).x + bar_w + fs * 0.6f
                               : ImGui::CalcTextSize(lo).x + ImGui::CalcTextSize(hi).x + sw * 2 + fs * 1.6f;
    // The colour legend at the end of a one-line title when both fit there, else on a line of its own.
    const bool legend_beside = title && ImGui::CalcTextSize(title).x + fs * 1.5f + legend_w <= size.x;
    std::vector<std::string> title_lines;
    const bool clipped = wrap_lines(title, size.x - fs * 0.2f, 2, &title_lines);
    const bool has_x = x_label && x_label[0], has_y = y_label && y_label[0];
    HeatLayout h = heat_layout_fit(rows, cols, row_labels, col_labels, size, int(title_lines.size()), x_label, has_y, !legend_beside);
    const float small = heat_small_px(h);
    if (small < fs && h.cols_px == 0 && h.cols_fit.mode != TickLabelMode::kHorizontal) {
        // Column labels shortened or thinned out at body size: written out in full at the cells' smaller size
        // when that fits (the height reserved for them does not grow).
        std::vector<std::string> short_small;
        const TickLabelFit f = fit_labels(col_labels, h.cell, h.cols_fit.height, &short_small, small);
        if (f.mode == TickLabelMode::kHorizontal || (f.mode == TickLabelMode::kShortened && h.cols_fit.mode == TickLabelMode::kSparse)) {
            h.cols_fit = f;
            h.cols_fit.height = std::max(f.height, small);
            h.cols_short = short_small;
            h.cols_px = small;
        }
    }
    const float cell = h.cell, cellh = h.cellh;
    const ImVec2 o(std::floor(pos.x + h.left), std::floor(pos.y + h.top));
    const ImRect cells(o, ImVec2(o.x + cell * float(cols), o.y + cellh * float(rows)));
    for (size_t i = 0; i < title_lines.size(); ++i)
        dl->AddText(ImVec2(pos.x, pos.y + fs * (0.1f + 1.1f * float(i))), c.text, title_lines[i].c_str());

    // Colour legend, on its own line between title and cells: a gradient from lo to hi, or better / worse swatches.
    Rect legend;
    {
        const float y = legend_beside ? pos.y + fs * 0.1f : o.y - fs * 1.35f;
        float x = legend_beside ? std::floor(pos.x + size.x - legend_w) : o.x;
        if (style == HeatStyle::kSequential) {
            dl->AddText(ImVec2(x, y), c.text_dim, lo);
            x += ImGui::CalcTextSize(lo).x + fs * 0.3f;
            const int steps = 12;
            const float bw = bar_w;
            for (int k = 0; k < steps; ++k)
                dl->AddRectFilled(ImVec2(x + bw * float(k) / steps, y + fs * 0.2f), ImVec2(x + bw * float(k + 1) / steps, y + fs * 0.85f),
                                  sequential(float(k) / float(steps - 1)));
            x += bw + fs * 0.3f;
            dl->AddText(ImVec2(x, y), c.text_dim, hi);
            x += ImGui::CalcTextSize(hi).x;
        } else {
            dl->AddRectFilled(ImVec2(x, y + fs * 0.2f), ImVec2(x + sw, y + fs * 0.85f), c.good);
            x += sw + fs * 0.3f;
            dl->AddText(ImVec2(x, y), c.text_dim, lo);
            x += ImGui::CalcTextSize(lo).x + fs;
            dl->AddRectFilled(ImVec2(x, y + fs * 0.2f), ImVec2(x + sw, y + fs * 0.85f), c.bad);
            x += sw + fs * 0.3f;
            dl->AddText(ImVec2(x, y), c.text_dim, hi);
            x += ImGui::CalcTextSize(hi).x;
        }
        legend = {legend_beside ? std::floor(pos.x + size.x - legend_w) : o.x, y, x, y + fs * 1.05f};
    }
    if (has_y)
        rotated_text(dl, ImVec2(pos.x + fs * 0.1f, o.y + cellh * float(rows) * 0.5f), c.text_dim, y_label, -1.5708f, ImVec2(0.5f, 0));
    int hr = -1, hc = -1;
    const ImVec2 m = ImGui::GetIO().MousePos;
    const float outline = std::max(2.0f, std::min(fs * 0.14f, cellh * 0.08f));  // thin in short cells: the number stays clear
    // Cells lower than a line of text (large fonts in a small window) keep their numbers and row labels in a
    // smaller size, down to 0.6 of the body text, rather than going blank.
    ImFont* font = ImGui::GetFont();
    for (int r = 0; r < rows; ++r) {
        for (int col = 0; col < cols; ++col) {
            const float v = values[r * cols + col];
            const ImU32 fill = heat_color(style, v, vmin, vmax, r == col);
            const ImVec2 a(o.x + cell * float(col), o.y + cellh * float(r));
            const ImVec2 b(a.x + cell - 1, a.y + cellh - 1);
            dl->AddRectFilled(a, b, fill);
            if (hovered && m.x >= a.x && m.x < b.x + 1 && m.y >= a.y && m.y < b.y + 1) hr = r, hc = col;
            char buf[32];
            std::snprintf(buf, sizeof buf, format, double(v));
            if (style == HeatStyle::kChange && v == 0) std::snprintf(buf, sizeof buf, "%s", "0");
            const ImVec2 ts = font->CalcTextSizeA(small, FLT_MAX, 0.0f, buf);
            if (ts.x < cell - 2 && ts.y <= cellh)
                dl->AddText(font, small, ImVec2(a.x + (cell - ts.x) * 0.5f, a.y + (cellh - ts.y) * 0.5f), contrast_text(fill), buf);
        }
        // Rows lower than even the smaller text: label every step-th row only.
        const int step = std::max(1, int(std::ceil(small * 0.95f / cellh)));
        if (size_t(r) < row_labels.size() && r % step == 0) {
            const char* l = row_labels[size_t(r)].c_str();
            const ImVec2 ts = font->CalcTextSizeA(small, FLT_MAX, 0.0f, l);
            dl->AddText(font, small, ImVec2(o.x - ts.x - fs * 0.3f, o.y + cellh * float(r) + (cellh - ts.y) * 0.5f), c.text_dim, l);
        }
    }
    // The diagonal (right answers) outlined, so it reads as one line through the matrix.
    if (rows == cols)
        for (int r = 0; r < rows; ++r) {
            const ImVec2 a(o.x + cell * float(r), o.y + cellh * float(r));
            dl->AddRect(ImVec2(a.x + outline * 0.5f - 0.5f, a.y + outline * 0.5f - 0.5f),
                        ImVec2(a.x + cell - outline * 0.5f - 0.5f, a.y + cellh - outline * 0.5f - 0.5f), c.series[1], 0, 0, outline);
        }
    const float ly = cells.Max.y + fs * 0.25f;
    for (int col = 0; col < cols && size_t(col) < col_labels.size(); ++col)
        tick_label(dl, h.cols_fit, size_t(col), o.x + cell * (float(col) + 0.5f), ly, col_labels[size_t(col)],
                   size_t(col) < h.cols_short.size() ? h.cols_short[size_t(col)] : col_labels[size_t(col)], c.text_dim, h.cols_px);
    if (has_x) {
        const float xp = h.x_label_px > 0 ? h.x_label_px : fs;
        const ImVec2 ts = font->CalcTextSizeA(xp, FLT_MAX, 0.0f, x_label);
        const ImVec2 at = h.x_label_corner ? ImVec2(o.x - ts.x - fs * 0.3f, ly)
                                           : ImVec2(o.x + (cell * float(cols) - ts.x) * 0.5f, ly + h.cols_fit.height + fs * 0.1f);
        dl->AddText(font, xp, at, c.text_dim, x_label);
    }
    layout_probe().add_plot({std::string(id).rfind("##", 0) == 0 ? std::string(id).substr(2) : std::string(id),
                             {pos.x, pos.y, pos.x + size.x, pos.y + size.y}, to_rect(cells), legend, clipped});
    if (hr >= 0) {
        const ImVec2 a(o.x + cell * float(hc), o.y + cellh * float(hr));
        dl->AddRect(a, ImVec2(a.x + cell - 1, a.y + cellh - 1), c.hover, 0, 0, 2.0f);
        char buf[32];
        std::snprintf(buf, sizeof buf, format, double(values[hr * cols + hc]));
        ImGui::BeginTooltip();
        ImGui::Text("%s: %s\n%s: %s\n%s", y_label ? y_label : "row", size_t(hr) < row_labels.size() ? row_labels[size_t(hr)].c_str() : "",
                    x_label ? x_label : "column", size_t(hc) < col_labels.size() ? col_labels[size_t(hc)].c_str() : "", buf);
        ImGui::EndTooltip();
    }
}

void progress(float fraction, const char* str, ImVec2 size) {
    ImGui::PushStyleColor(ImGuiCol_PlotHistogram, ImGui::ColorConvertU32ToFloat4(colors().series[0]));
    ImGui::ProgressBar(std::clamp(fraction, 0.0f, 1.0f), size, str);
    ImGui::PopStyleColor();
}

ImU32 with_alpha(ImU32 color, float alpha) {
    const ImU32 a = ImU32(std::clamp(alpha, 0.0f, 1.0f) * float((color >> IM_COL32_A_SHIFT) & 0xff));
    return (color & ~IM_COL32_A_MASK) | (a << IM_COL32_A_SHIFT);
}

namespace {
ImU32 lerp_stops(const float (*stops)[3], int n, float t) {
    t = std::clamp(t, 0.0f, 1.0f) * float(n - 1);
    const int i = std::min(int(t), n - 2);
    const float f = t - float(i);
    float rgb[3];
    for (int k = 0; k < 3; ++k) rgb[k] = stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f;
    return IM_COL32(int(rgb[0]), int(rgb[1]), int(rgb[2]), 255);
}
}  // namespace

ImU32 sequential(float t) {
    // One hue, light to dark (ColorBrewer Blues): more is darker, legible projected or printed in grey; the
    // confusion matrix outlines its diagonal on top of it.
    static const float v[5][3] = {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
    return lerp_stops(v, 5, t);
}

ImU32 diverging(float t) {
    static const float v[5][3] = {{33, 102, 172}, {146, 197, 222}, {247, 247, 247}, {244, 165, 130}, {178, 24, 43}};
    return lerp_stops(v, 5, (std::clamp(t, -1.0f, 1.0f) + 1.0f) * 0.5f);
}

ImU32 contrast_text(ImU32 bg) {
    const float r = float((bg >> IM_COL32_R_SHIFT) & 0xff), gr = float((bg >> IM_COL32_G_SHIFT) & 0xff),
                b = float((bg >> IM_COL32_B_SHIFT) & 0xff);
    return (0.299f * r + 0.587f * gr + 0.114f * b) > 140 ? IM_COL32(0, 0, 0, 255) : IM_COL32(255, 255, 255, 255);
}

}  // namespace quantlab::ui::plot
