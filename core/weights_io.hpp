// weights_io.hpp: one entry point for weight files whatever their format: a torch.save zip (.pth) or
// safetensors, told apart by their first bytes rather than by the file name (dropped files get renamed).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab {

Result<StateDict> read_weights(const std::string& path);
Result<StateDict> read_weights_bytes(const uint8_t* data, size_t size, const std::string& name_for_messages);

}  // namespace quantlab
