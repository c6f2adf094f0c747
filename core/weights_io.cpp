// weights_io.cpp: format sniffing for weight files.
#include "core/weights_io.hpp"

#include <vector>

#include "core/file_io.hpp"
#include "core/pth_io.hpp"
#include "core/safetensors_io.hpp"

namespace quantlab {

Result<StateDict> read_weights_bytes(const uint8_t* data, size_t size, const std::string& name) {
    if (size >= 4 && data[0] == 'P' && data[1] == 'K' && data[2] == 3 && data[3] == 4) return read_pth_bytes(data, size, name);
    if (size >= 9 && data[8] == '{') return read_safetensors_bytes(data, size, name);
    if (size >= 2 && data[0] == 0x80)
        return Status::error("weights: " + name + ": a legacy (pre-1.6) torch.save file; re-save it with torch.save(..., _use_new_zipfile_serialization=True)");
    return Status::error("weights: " + name + ": not a .pth (zip) or .safetensors file (first bytes match neither format)");
}

Result<StateDict> read_weights(const std::string& path) {
    Result<std::vector<uint8_t>> bytes = read_file_bytes(path, "weights");
    if (!bytes.ok()) return bytes.status;
    return read_weights_bytes(bytes.value.data(), bytes.value.size(), path);
}

}  // namespace quantlab
