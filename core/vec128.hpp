// vec128.hpp: 128-bit vectors through the GCC/Clang vector extensions (SSE2 natively, v128 in wasm), for the loops
// that spell their lanes out (the MSE range search, the training max pool): one set of names, not one per file.
#pragma once
#include <cstdint>

namespace quantlab {

typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));
typedef double D2 __attribute__((vector_size(16)));

}  // namespace quantlab
