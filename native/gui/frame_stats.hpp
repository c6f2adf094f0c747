// frame_stats.hpp: frame-time bookkeeping for quantlab-gui's --frame-stats and status file: the work time of
// each frame (events to swap, without the frame cap's sleep), split by whether evaluation was running, and
// the part of it spent in the app's own code (ui + GL command submission, i.e. without the swap, which on
// Mesa's software rasterizer under Xvfb is where the pixels are drawn).
#pragma once
#include <string>
#include <vector>

namespace quantlab::gui {

struct FrameSummary {
    size_t n = 0;
    double median = 0, p95 = 0, max = 0, mean = 0;
    size_t over_33ms = 0;
};

class FrameStats {
public:
    void add(double work_ms, double app_ms, bool busy);
    FrameSummary all() const { return summarize(all_); }
    FrameSummary busy() const { return summarize(busy_); }
    FrameSummary app_busy() const { return summarize(app_busy_); }
    // {"all": {...}, "evaluating": {...}, "evaluating_app_only": {...}} in milliseconds.
    std::string json() const;
    std::string text() const;

private:
    static FrameSummary summarize(std::vector<double> v);
    std::vector<double> all_, busy_, app_busy_;
};

}  // namespace quantlab::gui
