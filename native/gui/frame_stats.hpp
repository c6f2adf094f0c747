// frame_stats.hpp: frame-time bookkeeping for quantlab-gui's --frame-stats and status file: the work time of
// each frame (events to swap, without the frame cap's sleep), split by whether evaluation or training was
// running (training happens on another thread, so these frames show what it costs the UI thread), and
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
    void add(double work_ms, double app_ms, bool busy, bool training = false);
    FrameSummary all() const { return summarize(all_); }
    FrameSummary busy() const { return summarize(busy_); }
    FrameSummary app_busy() const { return summarize(app_busy_); }
    FrameSummary training() const { return summarize(training_); }
    FrameSummary app_training() const { return summarize(app_training_); }
    // {"all": {...}, "evaluating": {...}, "evaluating_app_only": {...}, "training": {...},
    //  "training_app_only": {...}} in milliseconds.
    std::string json() const;
    std::string text() const;

private:
    static FrameSummary summarize(std::vector<double> v);
    std::vector<double> all_, busy_, app_busy_, training_, app_training_;
};

}  // namespace quantlab::gui
