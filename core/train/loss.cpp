// loss.cpp: softmax cross-entropy and its gradient (loss.hpp).
#include "core/train/loss.hpp"

#include <cmath>
#include <string>

namespace quantlab {

template <class T>
Result<double> softmax_cross_entropy(const T* logits, const int32_t* labels, int64_t n, int64_t classes, T* grad) {
    if (n < 1 || classes < 1) return Status::error("train: cross-entropy needs at least 1 image and 1 class");
    for (int64_t b = 0; b < n; ++b)
        if (labels[b] < 0 || labels[b] >= classes)
            return Status::error("train: label " + std::to_string(labels[b]) + " of image " + std::to_string(b) +
                                 " is outside 0.." + std::to_string(classes - 1));
    double total = 0;
    for (int64_t b = 0; b < n; ++b) {
        const T* z = logits + b * classes;
        double mx = double(z[0]);
        for (int64_t k = 1; k < classes; ++k) mx = std::fmax(mx, double(z[k]));
        double se = 0;
        for (int64_t k = 0; k < classes; ++k) se += std::exp(double(z[k]) - mx);
        const double lse = mx + std::log(se);
        total += lse - double(z[labels[b]]);
        if (grad)
            for (int64_t k = 0; k < classes; ++k)
                grad[b * classes + k] = T((std::exp(double(z[k]) - lse) - (k == labels[b] ? 1.0 : 0.0)) / double(n));
    }
    return total / double(n);
}

template Result<double> softmax_cross_entropy<float>(const float*, const int32_t*, int64_t, int64_t, float*);
template Result<double> softmax_cross_entropy<double>(const double*, const int32_t*, int64_t, int64_t, double*);

}  // namespace quantlab
