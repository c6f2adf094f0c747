// file_io.hpp: reading a whole file into memory with a size cap, shared by every core reader (weights,
// data). The readers then parse bytes, which is also what the browser hands them.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace quantlab {

constexpr int64_t kMaxWeightsFileBytes = int64_t(1) << 30;  // far above any model QuantLab trains

// `who` prefixes messages ("pth", "safetensors", "weights"). Files over max_bytes are refused unread.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, const std::string& who, int64_t max_bytes = kMaxWeightsFileBytes);

}  // namespace quantlab
