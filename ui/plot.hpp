// plot.hpp: small plot widgets drawn with ImGui's ImDrawList. ImPlot is in no registry this project can
// reach, so QuantLab draws its own: line, staircase (a line through plot_data's vertices), histogram, bars,
// shaded spans, level grids, and a heat map; with axes, nice ticks, labels, a legend and a hover read-out.
// Sizes follow the current font size, so plots stay crisp at presenter font scales 1-3 (fonts are rebaked
// at each scale, never magnified). The numbers behind them (ticks, bins, staircases) are in plot_data.hpp.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "ui/plot_data.hpp"

namespace quantlab::ui::plot {

// Colours the widgets use; theme.cpp fills them for the normal and the high-contrast theme.
struct Colors {
    ImU32 frame_bg, plot_bg, axis, grid, text, text_dim, legend_bg, hover;
    ImU32 series[8];           // colour-blind-safe palette (Okabe-Ito order)
    ImU32 clip_shade;          // clipped tails
    ImU32 good, bad, warn;     // correct / wrong / changed
};
Colors& colors();

enum Flags {
    kNone = 0,
    kNoLegend = 1 << 0,
    kLegendLeft = 1 << 1,      // (legends sit in a strip above the data now, always left-aligned)
    kYPercent = 1 << 2,        // y tick labels with a % sign
    kNoHover = 1 << 3,
};

struct Limits {
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
};
// Limits that hold [lo, hi] with a margin of `pad` (a fraction of the span) on both sides.
Limits pad_limits(double x0, double x1, double y0, double y1, double pad_x = 0.04, double pad_y = 0.08);

// Begins a plot occupying `size` (x <= 0: the available width). When it returns true, add items and then
// call end_plot(); when it returns false (scrolled out of view) call nothing else. Plots do not nest.
bool begin_plot(const char* id, const char* title, ImVec2 size, const Limits& limits, const char* x_label,
                const char* y_label, int flags = kNone);
// Replaces the automatic x ticks of the NEXT begin_plot() with these positions and labels (categorical axes:
// bits, classes). Call it before begin_plot(): labels too wide for their spacing are turned, shortened or
// thinned out so that none overlap (layout_probe.hpp's fit_tick_labels), and the plot keeps room for them.
void set_x_ticks(const std::vector<double>& values, const std::vector<std::string>& labels);
void end_plot();

// Text rotated by `angle` radians (negative: counter-clockwise on screen) around `pivot`; `align` picks the
// point of the unrotated text box that sits on the pivot ((1,0): its top-right corner).
void rotated_text(ImDrawList* dl, ImVec2 pivot, ImU32 color, const char* text, float angle, ImVec2 align);

// Items, in data coordinates. A label starting with "##" stays out of the legend and the read-out.
void line(const char* label, const float* x, const float* y, int n, ImU32 color, float thickness = 2.0f, bool dashed = false);
void line(const char* label, const Polyline& p, ImU32 color, float thickness = 2.0f, bool dashed = false);
void markers(const char* label, const float* x, const float* y, int n, ImU32 color, float radius = 3.5f);
void histogram(const char* label, const Histogram& h, ImU32 color, bool filled = true);
// Bars at x = i + offset (i = 0..n-1), `width` in x units, from 0 to values[i].
void bars(const char* label, const float* values, int n, float offset, float width, ImU32 color);
// Vertical stems from 0 to y[i] at x[i] (a quantized tensor's mass per level).
void stems(const char* label, const float* x, const float* y, int n, ImU32 color, float thickness = 2.0f);
void vspan(double x0, double x1, ImU32 color);                  // full-height shaded band
void vlines(const float* x, int n, ImU32 color, float thickness = 1.0f);
void hline(double y, ImU32 color, float thickness = 1.0f, bool dashed = false);
void vline(double x, ImU32 color, float thickness = 1.0f, bool dashed = false);
void text(double x, double y, const char* text, ImU32 color, ImVec2 align = ImVec2(0, 1));
// Where data point (x, y) is on screen, in the plot begun last (for clickable points).
ImVec2 to_pixels(double x, double y);

// How a heat map colours its cells. kSequential: one hue, light to dark over [vmin, vmax] (a confusion matrix in
// percent). kChange: a confusion matrix's change, coloured by what it means: more on the diagonal (right
// answers) or less off it is better (green), the reverse worse (red), deeper with the size of the change.
enum class HeatStyle { kSequential, kChange };
ImU32 heat_color(HeatStyle style, float v, float vmin, float vmax, bool diagonal);

// A rows x cols heat map of values[r * cols + c], each cell printed with `format` when it fits; the diagonal
// outlined when square; row labels left, column labels below (horizontal, shortened, turned or sparse: never
// overlapping, layout_probe.hpp's fit_tick_labels); the title wrapped; a colour legend on its own line under
// the title: a gradient from legend_lo to legend_hi (kSequential) or swatches "good colour legend_lo", "bad
// colour legend_hi" (kChange). Hover shows the cell. Recorded in layout_probe() (cells = data, colour legend).
void heat_map(const char* id, const char* title, const float* values, int rows, int cols, float vmin, float vmax,
              const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels, ImVec2 size,
              HeatStyle style, const char* format, const char* x_label, const char* y_label, const char* legend_lo,
              const char* legend_hi);
// Whether a heat map of that size leaves every cell room for `widest_value` (e.g. "100"): when not, show one
// large matrix instead of two small ones. x_label: heat_map's (its place depends on its width).
bool heat_map_numbers_fit(int rows, int cols, const std::vector<std::string>& row_labels, const std::vector<std::string>& col_labels,
                          ImVec2 size, const char* widest_value, const char* x_label);

// A horizontal bar showing fraction in [0, 1] with a centred text (ImGui's ProgressBar, themed).
void progress(float fraction, const char* text, ImVec2 size);

// Colour helpers.
ImU32 with_alpha(ImU32 color, float alpha);
ImU32 sequential(float t);           // t in [0,1]: light to dark blue
ImU32 diverging(float t);            // t in [-1,1]: blue - white - red
ImU32 contrast_text(ImU32 background);

}  // namespace quantlab::ui::plot
