// plot_data.hpp: the numbers behind the plot widgets, free of ImGui so that they are unit-tested: axis ticks,
// histogram bins, the quantizer's r -> r_hat staircase, its level grid and clipping range, the STE gradient.
// Drawing is plot.hpp's job.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/quantizer.hpp"

namespace quantlab::ui {

// "Nice" tick positions (1, 2 or 5 times a power of ten) inside [lo, hi], at most max_ticks of them (>= 2).
struct Ticks {
    std::vector<double> values;
    double step = 0;
    int decimals = 0;  // digits after the point that tell neighbouring ticks apart
};
Ticks nice_ticks(double lo, double hi, int max_ticks);
// A tick label: fixed with the ticks' decimals, or %g for very large/small magnitudes ("1e-05").
std::string format_tick(double value, const Ticks& ticks);
// A short number for read-outs: 4 significant digits ("0.01234", "56.6", "1.2e+05").
std::string format_number(double value);

// One cell of a confusion matrix: `count` images of class `truth` predicted as `predicted`.
struct Confusion {
    int truth = 0, predicted = 0;
    int64_t count = 0;
};
// The n largest non-zero off-diagonal cells of a k x k confusion matrix (counts, row = true class), largest
// first; equal counts in row-major order. What the evaluation panel lists when the matrix has too many cells
// to print (CIFAR-100).
std::vector<Confusion> top_confused(const std::vector<int64_t>& confusion, int k, int n);

struct Histogram {
    double lo = 0, hi = 1;          // bins split [lo, hi] evenly; the last bin includes hi
    std::vector<int64_t> counts;
    int64_t below = 0, above = 0;   // values outside [lo, hi] (not in any bin)
    double bin_width() const { return counts.empty() ? 0 : (hi - lo) / double(counts.size()); }
    double bin_center(size_t i) const { return lo + (double(i) + 0.5) * bin_width(); }
    int64_t max_count() const;
};
// Counts x[0..n) into `bins` equal bins over [lo, hi] (hi > lo, else a unit-wide range around lo).
Histogram histogram(const float* x, int64_t n, double lo, double hi, int bins);

struct MinMax {
    float min = 0, max = 0;
};
MinMax min_max(const float* x, int64_t n);  // {0,0} when n == 0; ignores NaN

// Channel c's slice of per-channel params as per-tensor params (c is clamped; per-tensor params pass through).
QuantParams channel_params(const QuantParams& p, int c);

// The representable real range [S (qmin - Z), S (qmax - Z)] of per-tensor params: values outside are clipped.
struct Interval {
    double lo = 0, hi = 0;
};
Interval representable_range(const QuantParams& p);

// The r -> r_hat function over [x0, x1] as a polyline of (x, y) vertices: a staircase with exact risers at
// the rounding boundaries (k + 1/2) S. With more than max_steps risers in view the function is sampled at
// 2 * max_steps points instead (16-bit staircases are indistinguishable from the identity at screen size).
struct Polyline {
    std::vector<float> x, y;
};
Polyline staircase(const QuantParams& p, double x0, double x1, int max_steps = 2048);

// The real values r_hat can take that lie in [x0, x1] (the level grid), at most max_levels of them
// (empty when there are more: the grid would be solid).
std::vector<float> level_grid(const QuantParams& p, double x0, double x1, int max_levels = 256);

// The STE's d r_hat / d r over [x0, x1] at n points, computed with core's ste_backward.
Polyline ste_gradient(const QuantParams& p, SteRule rule, double x0, double x1, int n = 512);

}  // namespace quantlab::ui
