// train_curves.cpp: see train_curves.hpp.
#include "ui/train_curves.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#define STB_IMAGE_WRITE_STATIC  // private copy: native/gui/main.cpp has its own
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <stb/stb_easy_font.h>

#include "core/format.hpp"
#include "ui/plot_data.hpp"

namespace quantlab::ui {

namespace {

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string num(double v, const char* f = "%.6g") { return printf_number(f, v); }

std::string label_of(const std::vector<std::string>& labels, size_t i, const TrainRun& r) {
    return i < labels.size() ? labels[i] : "#" + std::to_string(r.id);
}

}  // namespace

// stb_easy_font has glyphs for ' '..'~' only and indexes its table with (byte - 32) unchecked: a UTF-8 byte (a
// Japanese run label) would read outside the table and draw garbage. The PNG's own words are English whatever the
// UI language (they are not passed through tr()); other text keeps its ASCII and shows one '?' per other character.
std::string printable_ascii(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const unsigned char ch = static_cast<unsigned char>(s[i]);
        if (ch >= 0x20 && ch < 0x7f) out += char(ch);
        else if ((ch & 0xc0) != 0x80) out += '?';  // a control byte, or the lead byte of a UTF-8 character
    }
    return out;
}

namespace {

// ---- the rasteriser ----

struct Canvas {
    RgbaImage& im;
    void fill(int x0, int y0, int x1, int y1, uint32_t c) {  // [x0, x1) x [y0, y1)
        x0 = std::max(x0, 0), y0 = std::max(y0, 0), x1 = std::min(x1, im.width), y1 = std::min(y1, im.height);
        for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) {
                uint8_t* p = &im.rgba[(size_t(y) * size_t(im.width) + size_t(x)) * 4];
                p[0] = uint8_t(c), p[1] = uint8_t(c >> 8), p[2] = uint8_t(c >> 16), p[3] = 255;
            }
    }
    // A line `thick` pixels wide: squares stamped at half-pixel steps along it.
    void line(double xa, double ya, double xb, double yb, uint32_t c, int thick) {
        const int n = int(std::ceil(std::max(std::fabs(xb - xa), std::fabs(yb - ya)) * 2)) + 1;
        const int lo = thick / 2;
        for (int i = 0; i <= n; ++i) {
            const double t = n ? double(i) / n : 0;
            const int x = int(std::lround(xa + (xb - xa) * t)), y = int(std::lround(ya + (yb - ya) * t));
            fill(x - lo, y - lo, x - lo + thick, y - lo + thick, c);
        }
    }
    // ASCII text with its top-left at (x, y), stb_easy_font's glyphs scaled by `scale` (printable_ascii first).
    void text(int x, int y, const std::string& s, uint32_t c, int scale) {
        std::vector<char> buf(s.size() * 270 + 64);
        std::string t = printable_ascii(s);
        const int quads = stb_easy_font_print(0, 0, t.data(), nullptr, buf.data(), int(buf.size()));
        for (int q = 0; q < quads; ++q) {
            const float* v0 = reinterpret_cast<const float*>(buf.data() + size_t(q) * 64);
            const float* v2 = reinterpret_cast<const float*>(buf.data() + size_t(q) * 64 + 32);
            fill(x + int(v0[0] * scale), y + int(v0[1] * scale), x + int(v2[0] * scale), y + int(v2[1] * scale), c);
        }
    }
    static int text_width(const std::string& s, int scale) {
        std::string t = printable_ascii(s);
        return stb_easy_font_width(t.data()) * scale;
    }
};

constexpr uint32_t kInk = 0xff202020, kGrid = 0xffe0e0e0, kFrame = 0xff909090;

void draw_panel(Canvas& cv, const CurvePanel& p, const std::string& title, const std::string& xlabel, int s) {
    const Ticks xt = nice_ticks(p.xlo, p.xhi, 7), yt = nice_ticks(p.ylo, p.yhi, 5);
    for (double v : yt.values) {
        cv.fill(p.x0, p.py(v), p.x1, p.py(v) + 1, kGrid);
        const std::string l = format_tick(v, yt);
        cv.text(p.x0 - 6 * s - Canvas::text_width(l, s), p.py(v) - 3 * s, l, kInk, s);
    }
    for (double v : xt.values) {
        cv.fill(p.px(v), p.y0, p.px(v) + 1, p.y1, kGrid);
        const std::string l = format_tick(v, xt);
        cv.text(p.px(v) - Canvas::text_width(l, s) / 2, p.y1 + 5 * s, l, kInk, s);
    }
    cv.fill(p.x0, p.y0, p.x1, p.y0 + 1, kFrame);
    cv.fill(p.x0, p.y1, p.x1 + 1, p.y1 + 1, kFrame);
    cv.fill(p.x0, p.y0, p.x0 + 1, p.y1, kFrame);
    cv.fill(p.x1, p.y0, p.x1 + 1, p.y1, kFrame);
    cv.text(p.x0, p.y0 - 12 * s, title, kInk, s);
    cv.text(p.x1 - Canvas::text_width(xlabel, s), p.y1 + 16 * s, xlabel, kInk, s);
}

int scale_for(int height) { return height >= 600 ? 2 : 1; }

}  // namespace

const char* train_axis_name(TrainAxis axis) {
    switch (axis) {
        case TrainAxis::kEpoch: return "epoch";
        case TrainAxis::kStep: return "step";
        case TrainAxis::kSeconds: return "seconds";
    }
    return "?";
}

double axis_value(const TrainPoint& p, TrainAxis axis) {
    switch (axis) {
        case TrainAxis::kEpoch: return p.epoch;
        case TrainAxis::kStep: return double(p.step);
        case TrainAxis::kSeconds: return p.seconds;
    }
    return p.epoch;
}

std::string curves_csv(const std::vector<TrainRun>& runs, const std::vector<std::string>& labels) {
    std::string out = "run,label,epoch,step,seconds,loss,val_accuracy,test_accuracy,images_per_s\n";
    for (size_t i = 0; i < runs.size(); ++i)
        for (const TrainPoint& p : runs[i].points)
            out += std::to_string(runs[i].id) + "," + csv_field(label_of(labels, i, runs[i])) + "," + num(p.epoch) + "," + std::to_string(p.step) +
                   "," + num(p.seconds, "%.3f") + "," + (p.loss >= 0 ? num(p.loss) : "") + "," +
                   (p.val_accuracy >= 0 ? num(p.val_accuracy, "%.2f") : "") + "," + (p.test_accuracy >= 0 ? num(p.test_accuracy, "%.2f") : "") +
                   "," + num(p.images_per_s, "%.1f") + "\n";
    return out;
}

std::string results_csv(const std::vector<TrainRun>& runs, const std::vector<std::string>& labels) {
    std::string out = "run,label,state,epochs,points,epoch,step,seconds,loss,last_val_accuracy,best_val_accuracy,images_per_s,message\n";
    for (size_t i = 0; i < runs.size(); ++i) {
        const TrainRun& r = runs[i];
        double last = -1, best = -1;
        double last_loss = -1;  // the page's last point may carry a test accuracy only
        for (const TrainPoint& p : r.points) {
            if (p.val_accuracy >= 0) last = p.val_accuracy, best = std::max(best, p.val_accuracy);
            if (p.loss >= 0) last_loss = p.loss;
        }
        const TrainPoint end = r.points.empty() ? TrainPoint{} : r.points.back();
        out += std::to_string(r.id) + "," + csv_field(label_of(labels, i, r)) + "," + train_state_name(r.state) + "," + std::to_string(r.config.epochs) +
               "," + std::to_string(r.points.size()) + "," + num(end.epoch) + "," + std::to_string(end.step) + "," + num(end.seconds, "%.3f") +
               "," + (last_loss >= 0 ? num(last_loss) : "") + "," + (last >= 0 ? num(last, "%.2f") : "") + "," +
               (best >= 0 ? num(best, "%.2f") : "") + "," + num(end.images_per_s, "%.1f") + "," + csv_field(r.message) + "\n";
    }
    return out;
}

uint32_t RgbaImage::pixel(int x, int y) const {
    const uint8_t* p = &rgba[(size_t(y) * size_t(width) + size_t(x)) * 4];
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

int CurvePanel::px(double x) const { return x0 + int(std::lround((x - xlo) / (xhi - xlo) * (x1 - x0))); }
int CurvePanel::py(double y) const { return y1 - int(std::lround((y - ylo) / (yhi - ylo) * (y1 - y0))); }

CurvesLayout curves_layout(const std::vector<TrainRun>& runs, TrainAxis axis, int width, int height) {
    const int s = scale_for(height);
    double xmax = 0, lmax = 0;
    for (const TrainRun& r : runs)
        for (const TrainPoint& p : r.points) xmax = std::max(xmax, axis_value(p, axis)), lmax = std::max(lmax, p.loss);  // loss < 0: none
    if (!(xmax > 0)) xmax = 1;
    if (!(lmax > 0.1)) lmax = 0.1;
    const int left = 52 * s, right = width - 14 * s, top = 18 * s, gap = 42 * s, bottom = height - 30 * s;
    const int h = (bottom - top - gap) / 2;
    CurvesLayout l;
    l.loss = CurvePanel{left, top, right, top + h, 0, xmax, 0, lmax * 1.05};
    l.val = CurvePanel{left, top + h + gap, right, top + 2 * h + gap, 0, xmax, 0, 100};
    return l;
}

RgbaImage render_curves(const std::vector<TrainRun>& runs, const std::vector<std::string>& labels, const std::vector<uint32_t>& colours,
                        TrainAxis axis, int width, int height) {
    RgbaImage im;
    im.width = std::max(width, 64);
    im.height = std::max(height, 64);
    im.rgba.assign(size_t(im.width) * size_t(im.height) * 4, 255);
    Canvas cv{im};
    const int s = scale_for(im.height);
    const CurvesLayout l = curves_layout(runs, axis, im.width, im.height);
    const std::string xlabel = axis == TrainAxis::kEpoch ? "epoch" : axis == TrainAxis::kStep ? "optimizer step" : "wall time (s)";
    draw_panel(cv, l.loss, "training loss", xlabel, s);
    draw_panel(cv, l.val, "validation accuracy (%)", xlabel, s);
    for (size_t i = 0; i < runs.size(); ++i) {
        const uint32_t c = i < colours.size() ? colours[i] | 0xff000000u : kInk;
        const std::vector<TrainPoint>& pts = runs[i].points;
        const TrainPoint* prev = nullptr;
        for (const TrainPoint& p : pts) {
            if (p.loss < 0) continue;  // a point with an accuracy only
            if (prev) cv.line(l.loss.px(axis_value(*prev, axis)), l.loss.py(prev->loss), l.loss.px(axis_value(p, axis)), l.loss.py(p.loss), c, 2 * s);
            prev = &p;
        }
        prev = nullptr;
        for (const TrainPoint& p : pts) {
            if (p.val_accuracy < 0) continue;
            const int x = l.val.px(axis_value(p, axis)), y = l.val.py(p.val_accuracy);
            if (prev) cv.line(l.val.px(axis_value(*prev, axis)), l.val.py(prev->val_accuracy), x, y, c, 2 * s);
            cv.fill(x - 2 * s, y - 2 * s, x + 2 * s + 1, y + 2 * s + 1, c);
            prev = &p;
        }
        // The legend: top right of the loss panel, one line per run.
        const std::string name = label_of(labels, i, runs[i]);
        const int ly = l.loss.y0 + 6 * s + int(i) * 12 * s, lx = l.loss.x1 - 8 * s - Canvas::text_width(name, s) - 14 * s;
        cv.fill(lx, ly, lx + 9 * s, ly + 7 * s, c);
        cv.text(lx + 14 * s, ly, name, kInk, s);
    }
    return im;
}

Status write_text_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary);
        if (!(f << text) || !f.flush()) return Status::error("cannot write " + path);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Status::error("cannot write " + path + ": " + ec.message());
    return Status::success();
}

Status write_png(const std::string& path, const RgbaImage& image) {
    const std::string tmp = path + ".tmp";
    if (!stbi_write_png(tmp.c_str(), image.width, image.height, 4, image.rgba.data(), image.width * 4))
        return Status::error("cannot write " + path + " (PNG)");
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) return Status::error("cannot write " + path + ": " + ec.message());
    return Status::success();
}

}  // namespace quantlab::ui
