// safetensors_io.hpp: QuantLab's weight file format, the safetensors layout (8-byte little-endian header
// length, a JSON header, then raw little-endian tensor data), readable by Python's
// safetensors.torch.load_file. Reads F32/F64/F16/BF16 and integer dtypes into float32 StateDicts and
// writes F32, or I64 for tensors whose recorded dtype is I64. Refuses NaN/Inf weights both ways.
// Saving is atomic: a failed save never destroys the previous file. No memory mapping (wasm has none).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab {

constexpr uint64_t kSafetensorsMaxHeader = 100ull * 1000 * 1000;  // the limit Python's reader applies

Result<StateDict> read_safetensors(const std::string& path);
// name_for_messages names the source in errors (a path, or a dropped file's name in the browser).
// Tensor order (StateDict::names) is the order of the data offsets, i.e. the order they were written in.
Result<StateDict> read_safetensors_bytes(const uint8_t* data, size_t size, const std::string& name_for_messages);

// The file image: tensors in sd.names order, contiguous, header padded with spaces to a multiple of 8,
// "__metadata__" from sd.metadata (omitted when empty).
Result<std::vector<uint8_t>> write_safetensors_bytes(const StateDict& sd);
// Writes path + ".tmp", then renames it over path.
Status write_safetensors(const std::string& path, const StateDict& sd);

}  // namespace quantlab
