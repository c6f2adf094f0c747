// plot_data.cpp: ticks, histograms and quantizer curves (see plot_data.hpp).
#include "ui/plot_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace quantlab::ui {

Ticks nice_ticks(double lo, double hi, int max_ticks) {
    Ticks t;
    max_ticks = std::max(max_ticks, 2);
    if (!std::isfinite(lo) || !std::isfinite(hi)) return t;
    if (hi < lo) std::swap(lo, hi);
    if (hi - lo <= 0) {
        t.values = {lo};
        t.step = 0;
        t.decimals = lo == std::floor(lo) ? 0 : 3;
        return t;
    }
    const double raw = (hi - lo) / double(max_ticks - 1);
    const double p10 = std::pow(10.0, std::floor(std::log10(raw)));
    double step = p10 * 10;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * p10 >= raw * (1 - 1e-9)) {
            step = m * p10;
            break;
        }
    // Relative epsilon so that a tick sitting on an end (0.6 / 0.2 = 2.9999999) is kept.
    const double eps = step * 1e-9;
    const double first = std::ceil((lo - eps) / step);
    const double last = std::floor((hi + eps) / step);
    for (double i = first; i <= last && t.values.size() < size_t(max_ticks) + 1; i += 1) {
        double v = i * step;
        if (std::fabs(v) < eps) v = 0;  // no "-0"
        t.values.push_back(v);
    }
    t.step = step;
    t.decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
    return t;
}

std::string format_tick(double value, const Ticks& ticks) {
    char buf[32];
    const double mag = std::max(std::fabs(value), ticks.step);
    if (mag != 0 && (mag >= 1e6 || (ticks.step != 0 && ticks.step < 1e-4))) std::snprintf(buf, sizeof buf, "%.3g", value);
    else std::snprintf(buf, sizeof buf, "%.*f", std::min(ticks.decimals, 8), value);
    return buf;
}

std::vector<Confusion> top_confused(const std::vector<int64_t>& confusion, int k, int n) {
    std::vector<Confusion> all;
    for (int t = 0; t < k; ++t)
        for (int p = 0; p < k; ++p) {
            const size_t i = size_t(t) * size_t(k) + size_t(p);
            if (t != p && i < confusion.size() && confusion[i] > 0) all.push_back({t, p, confusion[i]});
        }
    std::stable_sort(all.begin(), all.end(), [](const Confusion& a, const Confusion& b) { return a.count > b.count; });
    if (int(all.size()) > n) all.resize(size_t(std::max(n, 0)));
    return all;
}

std::string format_number(double value) {
    char buf[32];
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    if (value != 0 && (std::fabs(value) >= 1e5 || std::fabs(value) < 1e-3)) std::snprintf(buf, sizeof buf, "%.3e", value);
    else std::snprintf(buf, sizeof buf, "%.4g", value);
    return buf;
}

int64_t Histogram::max_count() const {
    int64_t m = 0;
    for (int64_t c : counts) m = std::max(m, c);
    return m;
}

Histogram histogram(const float* x, int64_t n, double lo, double hi, int bins) {
    Histogram h;
    bins = std::max(bins, 1);
    if (!(hi > lo)) {
        lo -= 0.5;
        hi = lo + 1.0;
    }
    h.lo = lo;
    h.hi = hi;
    h.counts.assign(size_t(bins), 0);
    const double inv = double(bins) / (hi - lo);
    for (int64_t i = 0; i < n; ++i) {
        const double v = x[i];
        if (!(v >= lo)) {
            if (v < lo) ++h.below;  // NaN counts nowhere
            continue;
        }
        if (v > hi) {
            ++h.above;
            continue;
        }
        int64_t b = int64_t((v - lo) * inv);
        if (b >= bins) b = bins - 1;  // v == hi
        ++h.counts[size_t(b)];
    }
    return h;
}

MinMax min_max(const float* x, int64_t n) {
    MinMax m;
    bool first = true;
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (v != v) continue;
        if (first) {
            m.min = m.max = v;
            first = false;
        } else {
            m.min = std::min(m.min, v);
            m.max = std::max(m.max, v);
        }
    }
    return m;
}

QuantParams channel_params(const QuantParams& p, int c) {
    if (!p.per_channel()) return p;
    const size_t i = size_t(std::clamp<int>(c, 0, int(p.scale.size()) - 1));
    QuantParams q;
    q.bits = p.bits;
    q.symmetric = p.symmetric;
    q.codes = p.codes;
    q.range = p.range;
    q.scale = {p.scale[i]};
    q.zero_point = {p.zero_point[i]};
    if (i < p.alpha.size()) q.alpha = {p.alpha[i]};
    if (i < p.beta.size()) q.beta = {p.beta[i]};
    return q;
}

Interval representable_range(const QuantParams& p) {
    if (p.scale.empty()) return {};
    const double s = p.scale[0];
    const double z = p.zero_point.empty() ? 0 : p.zero_point[0];
    return {s * (double(p.range.qmin) - z), s * (double(p.range.qmax) - z)};
}

Polyline staircase(const QuantParams& p, double x0, double x1, int max_steps) {
    Polyline out;
    if (p.scale.empty() || !(x1 > x0)) return out;
    const float s = p.scale[0];
    const int32_t z = p.zero_point.empty() ? 0 : p.zero_point[0];
    auto f = [&](double x) { return dequantize_value(quantize_value(float(x), s, z, p.range), s, z); };
    // Risers sit at t = x / S = k + 1/2 for codes k + Z and k + Z + 1 both inside [qmin, qmax].
    const double kmin = std::max(double(p.range.qmin - z), std::ceil(x0 / s - 0.5));
    const double kmax = std::min(double(p.range.qmax - z) - 1, std::floor(x1 / s - 0.5));
    const double risers = kmax - kmin + 1;
    if (risers > max_steps) {
        const int n = 2 * max_steps;
        for (int i = 0; i < n; ++i) {
            const double x = x0 + (x1 - x0) * double(i) / double(n - 1);
            out.x.push_back(float(x));
            out.y.push_back(f(x));
        }
        return out;
    }
    out.x.push_back(float(x0));
    out.y.push_back(f(x0));
    for (double k = kmin; k <= kmax; k += 1) {
        const double b = (k + 0.5) * s;
        if (b <= x0 || b >= x1) continue;
        out.x.push_back(float(b));
        out.y.push_back(float(s * k));
        out.x.push_back(float(b));
        out.y.push_back(float(s * (k + 1)));
    }
    out.x.push_back(float(x1));
    out.y.push_back(f(x1));
    return out;
}

std::vector<float> level_grid(const QuantParams& p, double x0, double x1, int max_levels) {
    std::vector<float> out;
    if (p.scale.empty()) return out;
    const double s = p.scale[0];
    const double z = p.zero_point.empty() ? 0 : p.zero_point[0];
    const double qlo = std::max(double(p.range.qmin), std::ceil(x0 / s + z));
    const double qhi = std::min(double(p.range.qmax), std::floor(x1 / s + z));
    if (qhi - qlo + 1 > max_levels) return out;
    for (double q = qlo; q <= qhi; q += 1) out.push_back(float(s * (q - z)));
    return out;
}

Polyline ste_gradient(const QuantParams& p, SteRule rule, double x0, double x1, int n) {
    Polyline out;
    if (p.scale.empty() || n < 2) return out;
    out.x.resize(size_t(n));
    for (int i = 0; i < n; ++i) out.x[size_t(i)] = float(x0 + (x1 - x0) * double(i) / double(n - 1));
    std::vector<float> ones(size_t(n), 1.0f);
    out.y.resize(size_t(n));
    ste_backward(out.x.data(), ones.data(), out.y.data(), n, p, rule);
    return out;
}

}  // namespace quantlab::ui
