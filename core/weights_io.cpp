// weights_io.cpp: format sniffing for weight files.
#include "core/weights_io.hpp"

#include <fstream>
#include <iterator>
#include <vector>

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
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) return Status::error("weights: " + path + ": cannot open the file (does it exist?)");
    const std::streamoff size = f.tellg();
    constexpr std::streamoff kMaxBytes = std::streamoff(1) << 30;  // far above any model this tool trains
    if (size < 0 || size > kMaxBytes)
        return Status::error("weights: " + path + ": " + std::to_string(size) + " bytes, more than the 1 GiB QuantLab accepts for a weights file");
    f.seekg(0);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return read_weights_bytes(bytes.data(), bytes.size(), path);
}

}  // namespace quantlab
