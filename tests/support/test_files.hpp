// test_files.hpp: small helpers the unit tests share to read golden binary files and the test data, and to
// make scratch folders.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace quantlab::test {

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// A little-endian float32 file (the golden files are written on x86 / by numpy '<f4').
inline std::vector<float> read_f32(const std::string& path) {
    const std::vector<uint8_t> b = read_bytes(path);
    std::vector<float> out(b.size() / 4);
    for (size_t i = 0; i < out.size(); ++i) {
        const uint32_t u = uint32_t(b[4 * i]) | uint32_t(b[4 * i + 1]) << 8 | uint32_t(b[4 * i + 2]) << 16 | uint32_t(b[4 * i + 3]) << 24;
        __builtin_memcpy(&out[i], &u, 4);
    }
    return out;
}

inline std::string golden(const std::string& name) { return std::string(QUANTLAB_GOLDEN_DIR) + "/" + name; }

// An empty folder TMP/<suite>_<pid>/<name>: per process, so parallel test runs do not share files.
inline std::filesystem::path scratch_dir(const std::string& suite, const std::string& name) {
    const std::filesystem::path p = std::filesystem::temp_directory_path() / (suite + "_" + std::to_string(::getpid())) / name;
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p;
}

}  // namespace quantlab::test
