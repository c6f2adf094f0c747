// layout_probe.cpp: legend strips, tick-label fitting and the per-frame layout record (see layout_probe.hpp).
#include "ui/layout_probe.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace quantlab::ui {

LegendPlacement place_legend(const Rect& region, const std::vector<float>& entry_widths, float line_h, float gap,
                             float min_area_h) {
    LegendPlacement p;
    p.area = region;
    if (entry_widths.empty() || region.empty() || !(line_h > 0)) return p;
    const float width = region.width();
    const float max_strip = std::max(0.0f, region.height() - std::max(0.0f, min_area_h) - gap);
    // Rows as full as they go; a spacing of one line height between entries of a row.
    const float sep = line_h;
    float x = 0;
    int row = 0;
    for (float w : entry_widths) {
        w = std::min(std::max(w, 0.0f), width);
        if (x > 0 && x + w > width) {
            ++row;
            x = 0;
        }
        if (float(row + 1) * line_h > max_strip) break;  // no room for another row: the rest are dropped
        const float y = region.y0 + float(row) * line_h;
        p.entries.push_back({region.x0 + x, y, region.x0 + x + w, y + line_h});
        x += w + sep;
    }
    if (p.entries.empty()) return p;
    p.rows = int(std::lround((p.entries.back().y1 - region.y0) / line_h));
    float right = region.x0;
    for (const Rect& e : p.entries) right = std::max(right, e.x1);
    p.legend = {region.x0, region.y0, right, region.y0 + float(p.rows) * line_h};
    p.area = {region.x0, std::min(region.y1, p.legend.y1 + gap), region.x1, region.y1};
    return p;
}

TickLabelFit fit_tick_labels(float widest, float widest_short, float spacing, float line_h, float max_height) {
    TickLabelFit f;
    const float room = spacing - line_h * 0.3f;  // a little air between neighbours
    if (widest <= room) {
        f.height = line_h;
        return f;
    }
    // Rotated by angle a, neighbours are spacing * sin(a) apart across the text: they need a line height.
    if (spacing * 0.7071f >= line_h * 1.05f && widest * 0.7071f + line_h <= max_height) {
        f.mode = TickLabelMode::kRotated45;
        f.height = widest * 0.7071f + line_h * 0.75f;
        return f;
    }
    if (widest_short <= room) {
        f.mode = TickLabelMode::kShortened;
        f.height = line_h;
        return f;
    }
    if (spacing >= line_h * 1.05f && widest + line_h * 0.3f <= max_height) {
        f.mode = TickLabelMode::kVertical;
        f.height = widest + line_h * 0.3f;
        return f;
    }
    // Every step-th label, each with the room of `step` ticks.
    f.mode = TickLabelMode::kSparse;
    const float need = widest_short + line_h * 0.3f;
    f.step = std::max(2, int(std::ceil(need / std::max(spacing, 1.0f))));
    f.height = line_h;
    return f;
}

void LayoutProbe::begin_frame() {
    plots_.clear();
    headlines_.clear();
    unsettled_ = false;
}

namespace {
void put_rect(std::string& out, const Rect& r) {
    if (r.empty()) {
        out += "null";
        return;
    }
    char buf[128];
    std::snprintf(buf, sizeof buf, "[%.1f,%.1f,%.1f,%.1f]", double(r.x0), double(r.y0), double(r.x1), double(r.y1));
    out += buf;
}
void put_string(std::string& out, const std::string& s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    }
    out += '"';
}
}  // namespace

std::string LayoutProbe::to_json() const {
    std::string out = "{\"plots\":[";
    for (size_t i = 0; i < plots_.size(); ++i) {
        const Plot& p = plots_[i];
        out += i ? ",{\"id\":" : "{\"id\":";
        put_string(out, p.id);
        out += ",\"frame\":";
        put_rect(out, p.frame);
        out += ",\"area\":";
        put_rect(out, p.area);
        out += ",\"legend\":";
        put_rect(out, p.legend);
        out += p.title_clipped ? ",\"title_clipped\":true}" : ",\"title_clipped\":false}";
    }
    out += "],\"headlines\":[";
    for (size_t i = 0; i < headlines_.size(); ++i) {
        const Text& t = headlines_[i];
        out += i ? ",{\"id\":" : "{\"id\":";
        put_string(out, t.id);
        char buf[48];
        std::snprintf(buf, sizeof buf, ",\"height\":%.1f,\"box\":", double(t.height));
        out += buf;
        put_rect(out, t.box);
        out += '}';
    }
    out += "],\"unsettled\":";
    out += unsettled_ ? "true}" : "false}";
    return out;
}

LayoutProbe& layout_probe() {
    static LayoutProbe probe;
    return probe;
}

}  // namespace quantlab::ui
