// tensor_error.hpp: how far a tensor is from its reference, for the tests that compare a faster path or another
// engine against a reference: max |a - b| over the reference's largest magnitude.
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace quantlab::test {

inline double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, std::fabs(double(x)));
    return m;
}

// max |a - b| / max |b| (b: the reference; the plain max |a - b| when b is all zero), or relative to `scale`
// when given. Infinite when the sizes differ, so a tolerance check fails.
inline double rel_err(const std::vector<float>& a, const std::vector<float>& b, double scale = 0) {
    if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
    double err = 0;
    for (size_t i = 0; i < a.size(); ++i) err = std::max(err, std::fabs(double(a[i]) - double(b[i])));
    if (scale == 0) scale = max_abs(b);
    return scale > 0 ? err / scale : err;
}

}  // namespace quantlab::test
