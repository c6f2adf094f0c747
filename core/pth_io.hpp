// pth_io.hpp: reads PyTorch state_dicts saved with torch.save (the zip format of PyTorch >= 1.6), including
// ones saved from CUDA tensors, without LibTorch: zip_reader + pickle_reader, natively and in wasm.
// Accepts an OrderedDict/dict of tensors (or a checkpoint dict holding one under "state_dict",
// "model_state_dict" or "model"). Every tensor becomes float32; StateDict::dtypes keeps the stored type.
// Refuses non-contiguous tensors, out-of-range storage views and NaN/Inf weights. Does not write .pth.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/state_dict.hpp"
#include "core/status.hpp"

namespace quantlab {

Result<StateDict> read_pth(const std::string& path);
// name_for_messages names the source in errors (a path, or a dropped file's name in the browser).
Result<StateDict> read_pth_bytes(const uint8_t* data, size_t size, const std::string& name_for_messages);

}  // namespace quantlab
