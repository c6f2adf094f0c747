// frame_stats.cpp: see frame_stats.hpp.
#include "native/gui/frame_stats.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace quantlab::gui {

void FrameStats::add(double work_ms, double app_ms, bool busy, bool training) {
    all_.push_back(work_ms);
    if (busy) busy_.push_back(work_ms), app_busy_.push_back(app_ms);
    if (training) training_.push_back(work_ms), app_training_.push_back(app_ms);
}

FrameSummary FrameStats::summarize(std::vector<double> v) {
    FrameSummary s;
    s.n = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, size_t(double(v.size()) * 0.95))];
    s.max = v.back();
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    s.over_33ms = size_t(std::count_if(v.begin(), v.end(), [](double x) { return x > 33.0; }));
    return s;
}

namespace {
std::string one_json(const FrameSummary& s) {
    char b[256];
    std::snprintf(b, sizeof b, "{\"frames\":%zu,\"median_ms\":%.2f,\"p95_ms\":%.2f,\"max_ms\":%.2f,\"mean_ms\":%.2f,\"over_33ms\":%zu}", s.n,
                  s.median, s.p95, s.max, s.mean, s.over_33ms);
    return b;
}
std::string one_text(const char* what, const FrameSummary& s) {
    char b[256];
    std::snprintf(b, sizeof b, "%-18s frames %6zu  median %6.2f ms  p95 %6.2f ms  max %6.2f ms  (>33 ms: %zu)\n", what, s.n, s.median,
                  s.p95, s.max, s.over_33ms);
    return b;
}
}  // namespace

std::string FrameStats::json() const {
    return "{\"all\":" + one_json(all()) + ",\"evaluating\":" + one_json(busy()) + ",\"evaluating_app_only\":" + one_json(app_busy()) +
           ",\"training\":" + one_json(training()) + ",\"training_app_only\":" + one_json(app_training()) + "}";
}

std::string FrameStats::text() const {
    return "quantlab-gui frame work time (events -> swap, frame cap sleep excluded):\n" + one_text("all frames", all()) +
           one_text("while evaluating", busy()) + one_text("  app code only", app_busy()) + one_text("while training", training()) +
           one_text("  app code only", app_training());
}

}  // namespace quantlab::gui
