// tensor.hpp: the one tensor type of core: a shape and contiguous row-major float data.
// Deliberately minimal (no strides, no views): core's layouts are fixed (NCHW activations,
// OIHW conv weights, (out,in) linear weights) and the fast paths want plain arrays.
#pragma once
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace quantlab {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape& shape) {
    return std::accumulate(shape.begin(), shape.end(), int64_t{1}, [](int64_t a, int64_t b) { return a * b; });
}

inline std::string shape_str(const Shape& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + ")";
}

struct Tensor {
    Shape shape;
    std::vector<float> data;

    Tensor() = default;
    explicit Tensor(Shape s, float fill = 0.0f) : shape(std::move(s)), data(size_t(quantlab::numel(shape)), fill) {}
    Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}
    int64_t numel() const { return int64_t(data.size()); }
    int64_t dim(size_t i) const { return shape.at(i); }
};

}  // namespace quantlab
