// layout_probe.hpp: the geometry that keeps plots legible at every window size and font scale, and a record
// of what one frame actually placed. place_legend puts a plot's legend in a strip above its data area (so a
// legend never covers data); fit_tick_labels picks how category labels fit their spacing without overlap.
// LayoutProbe collects, per frame, each plot's data and legend rectangles and each headline's pixel height;
// the page hands it to tests as window.quantlab.layout(). Plain C++, no ImGui: unit-tested.
#pragma once
#include <string>
#include <vector>

namespace quantlab::ui {

// An axis-aligned rectangle in screen pixels, [x0, x1) x [y0, y1).
struct Rect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    float width() const { return x1 - x0; }
    float height() const { return y1 - y0; }
    bool empty() const { return !(x1 > x0 && y1 > y0); }
    // True when the two share area (touching edges do not count).
    bool overlaps(const Rect& o) const { return !empty() && !o.empty() && x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
    bool contains(const Rect& o) const { return o.x0 >= x0 && o.x1 <= x1 && o.y0 >= y0 && o.y1 <= y1; }
};

// Where a legend and the data area go inside `region` (the plot frame less title and axis margins).
struct LegendPlacement {
    Rect legend;                 // empty when there are no entries
    Rect area;                   // the data area: region below the legend strip
    std::vector<Rect> entries;   // one box per entry (swatch + label), inside `legend`
    int rows = 0;
};

// Lays the entries (each `entry_widths[i]` pixels wide, swatch included, and `line_h` tall) left to right in
// rows as wide as the region, wrapping where needed, in a strip at the top of `region`; the data area is what
// is left below it, `gap` pixels lower. An entry wider than the region gets a row of its own and is clipped to
// it. When the strip would leave less than `min_area_h` for data, entries that do not fit are dropped
// (placement.entries is shorter than entry_widths). The legend never overlaps the area.
LegendPlacement place_legend(const Rect& region, const std::vector<float>& entry_widths, float line_h, float gap,
                             float min_area_h);

// How category tick labels fit: horizontal, horizontal shortened, at 45 degrees, upright (90 degrees), or only
// every `step`-th label, horizontal. Chosen so that no two labels overlap.
enum class TickLabelMode { kHorizontal, kShortened, kRotated45, kVertical, kSparse };
struct TickLabelFit {
    TickLabelMode mode = TickLabelMode::kHorizontal;
    int step = 1;        // kSparse: draw labels 0, step, 2 step, ...
    float height = 0;    // pixels the labels need below the axis
};
// widest: widest full label; widest_short: widest shortened label (<= widest; equal when labels cannot be
// shortened); spacing: pixels between neighbouring ticks; line_h: text height; max_height: room below the axis.
TickLabelFit fit_tick_labels(float widest, float widest_short, float spacing, float line_h, float max_height);

// What one frame drew: tests read it (window.quantlab.layout()) to check legends and headlines.
class LayoutProbe {
public:
    struct Plot {
        std::string id;
        Rect frame, area, legend;  // legend empty when the plot has none
        bool title_clipped = false;
    };
    struct Text {
        std::string id;
        float height = 0;          // the font's pixel height
        Rect box;
    };
    void begin_frame();
    void add_plot(const Plot& p) { plots_.push_back(p); }
    void add_headline(const Text& t) { headlines_.push_back(t); }
    // A plot whose legend strip this frame differs from the one it reserved (the legend is known only after
    // its items): the next frame is laid out again, so front ends should draw one more.
    void note_unsettled() { unsettled_ = true; }
    bool unsettled() const { return unsettled_; }
    const std::vector<Plot>& plots() const { return plots_; }
    const std::vector<Text>& headlines() const { return headlines_; }
    // {"plots":[{"id":..,"frame":[x0,y0,x1,y1],"area":[..],"legend":[..]|null}],"headlines":[{"id","height","box"}],
    //  "unsettled":bool}
    std::string to_json() const;

private:
    std::vector<Plot> plots_;
    std::vector<Text> headlines_;
    bool unsettled_ = false;
};
// The probe the running UI writes to (one per process: one UI).
LayoutProbe& layout_probe();

}  // namespace quantlab::ui
