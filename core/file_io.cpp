// file_io.cpp: whole-file reads with a size check before allocating.
#include "core/file_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace quantlab {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, const std::string& who, int64_t max_bytes) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Status::error(who + ": " + path + ": cannot open (" + std::strerror(errno) + "); check the path");
    int64_t size = -1;
    if (std::fseek(f, 0, SEEK_END) == 0) size = int64_t(std::ftell(f));
    std::rewind(f);
    if (size > max_bytes) {
        std::fclose(f);
        return Status::error(who + ": " + path + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                             " this reader accepts (not a QuantLab file?)");
    }
    std::vector<uint8_t> bytes;
    if (size > 0) bytes.reserve(size_t(size));
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        bytes.insert(bytes.end(), buf, buf + n);
        if (int64_t(bytes.size()) > max_bytes) break;  // the file grew while we read it
    }
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return Status::error(who + ": " + path + ": read error (" + std::strerror(errno) + ")");
    if (int64_t(bytes.size()) > max_bytes) return Status::error(who + ": " + path + ": larger than " + std::to_string(max_bytes) + " bytes");
    return bytes;
}

}  // namespace quantlab
