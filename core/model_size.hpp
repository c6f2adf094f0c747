// model_size.hpp: how many bytes a network's parameters take when its conv/linear weights are stored at b bits,
// per layer and in total, against float32 (the class_03 notebook's motivation for quantization: a smaller model).
// What counts (docs/DESIGN.md, "Model size"):
//   - a conv/linear weight at b bits takes ceil(values * b / 8) bytes (codes packed tightly; 32 = float32, 4 bytes
//     a value); the scale and zero point per tensor or channel are not counted (a few bytes per layer);
//   - biases and batch-norm parameters (weight, bias, running mean and variance) stay float32, 4 bytes a value:
//     they are added to accumulators in int32/float and are under 0.3 % of the notebook net's values;
//   - num_batches_tracked (a training counter, not a weight) is not counted.
// The notebook's net: 257,214 values, float32 1,028,856 B; at 4 bits 131,036 B (7.9x smaller).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/network.hpp"

namespace quantlab {

struct LayerSize {
    std::string name;          // the conv/linear layer ("conv1")
    int64_t weights = 0;       // values in its weight tensor
    int64_t bias = 0;          // values in its bias (float32)
    int bits = 32;             // the weight's bit width (32 = float)
    int64_t bytes = 0;         // packed weight + float32 bias
    int64_t float_bytes = 0;   // everything float32
};

struct ModelSize {
    std::vector<LayerSize> layers;  // one per conv/linear layer, in network order
    int64_t other_values = 0;       // batch-norm parameters and running statistics (float32)
    int64_t bytes = 0;              // total at the given bits
    int64_t float_bytes = 0;        // total as float32
    double ratio() const { return bytes > 0 ? double(float_bytes) / double(bytes) : 0.0; }  // "7.9x smaller"
};

// Bytes of `values` weights at `bits` (1..16 packed, 32 = float32).
int64_t packed_bytes(int64_t values, int bits);

// The sizes with layer q's weight at weight_bits[q]; a list shorter than the layers repeats its last entry
// (one entry: every layer alike; empty: float).
ModelSize model_size(const NetworkDesc& net, const std::vector<int>& weight_bits);

// "131 KB", "1.03 MB", "840 B": decimal units (1 KB = 1000 B), three significant digits.
std::string format_bytes(int64_t bytes);

}  // namespace quantlab
