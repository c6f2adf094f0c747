// scratch.hpp: grow-only working buffers, shared by the kernels and the forward pass.
#pragma once
#include <cstdint>
#include <vector>

namespace quantlab {

// v's storage for at least n elements. v only ever grows, so a buffer kept between calls (per thread) is
// allocated and zero-filled once, not on every call.
template <class T>
T* scratch(std::vector<T>& v, int64_t n) {
    if (int64_t(v.size()) < n) v.resize(size_t(n));
    return v.data();
}

}  // namespace quantlab
