// train_curves.hpp: the training panel's curves as data, free of ImGui so that they are unit-tested: the x axis
// a curve is drawn against (epochs, optimizer steps or wall time), the runs' curves and results as CSV, and the
// curves as a PNG. The PNG is drawn by a small software rasteriser from the points themselves (not read back from
// the framebuffer): it works the same in every build, at any window size, and needs no GL context; its text is
// stb_easy_font's. What it draws: the loss (top) and the validation accuracy (bottom) against the chosen axis, a
// legend, ticks with their values, on white.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "ui/trainer_hooks.hpp"

namespace quantlab::ui {

enum class TrainAxis { kEpoch, kStep, kSeconds };
const char* train_axis_name(TrainAxis axis);  // the CSV/axis word: "epoch", "step", "seconds"
double axis_value(const TrainPoint& p, TrainAxis axis);

// One row per point of every run: run,label,epoch,step,seconds,loss,val_accuracy,images_per_s (val_accuracy
// empty where not measured). labels[i] names runs[i] (what the panel's legend says).
std::string curves_csv(const std::vector<TrainRun>& runs, const std::vector<std::string>& labels);
// One row per run: run,label,state,epochs,points,epoch,step,seconds,loss,last_val_accuracy,best_val_accuracy,
// images_per_s,message (the last point's values; the message holds the test accuracy of a finished run).
std::string results_csv(const std::vector<TrainRun>& runs, const std::vector<std::string>& labels);

struct RgbaImage {
    int width = 0, height = 0;
    std::vector<uint8_t> rgba;  // row-major, top row first
    uint32_t pixel(int x, int y) const;  // 0xAABBGGRR (ImU32's order)
};

// Where a panel's data lands in the image: x0..x1 (pixels) spans [xlo, xhi], y1..y0 (bottom to top) [ylo, yhi].
struct CurvePanel {
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
    int px(double x) const;
    int py(double y) const;
};
struct CurvesLayout {
    CurvePanel loss, val;
};
// The layout render_curves uses for these runs, axis and size.
CurvesLayout curves_layout(const std::vector<TrainRun>& runs, TrainAxis axis, int width, int height);

// The curves of runs[i] (colours[i], ImU32 0xAABBGGRR; labels[i] in the legend) against `axis`. Hidden runs:
// leave them out of `runs`.
RgbaImage render_curves(const std::vector<TrainRun>& runs, const std::vector<std::string>& labels, const std::vector<uint32_t>& colours,
                        TrainAxis axis, int width, int height);

// Text the PNG can draw: printable ASCII kept, every other character (UTF-8 sequence or control byte) one '?'.
// render_curves passes all its text through it; its titles and axis words are English in every UI language.
std::string printable_ascii(const std::string& s);

// Writes the image as PNG (stb_image_write) through a temp file and a rename; errors name the path.
Status write_png(const std::string& path, const RgbaImage& image);
// Writes text to path (temp file + rename); errors name the path.
Status write_text_file(const std::string& path, const std::string& text);

}  // namespace quantlab::ui
