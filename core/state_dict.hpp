// state_dict.hpp: a named set of tensors in insertion order, as PyTorch's state_dict holds them, plus the
// element-type conversions the weight readers share (safetensors dtype names: "F32", "I64", ...).
// Every tensor is held as float32 in core; `dtypes` remembers what the file stored so a writer can put
// integer tensors (bn*.num_batches_tracked) back as I64. Not a file format itself: see pth_io, safetensors_io.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace quantlab {

struct StateDict {
    std::vector<std::string> names;                // insertion (file) order
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> dtypes;     // name -> dtype stored in the file: "F32", "I64", ...
    std::map<std::string, std::string> metadata;   // safetensors __metadata__ (string -> string)

    const Tensor* find(const std::string& name) const {
        auto it = tensors.find(name);
        return it == tensors.end() ? nullptr : &it->second;
    }
    Tensor* find(const std::string& name) {
        auto it = tensors.find(name);
        return it == tensors.end() ? nullptr : &it->second;
    }
    // The dtype recorded for `name`, "F32" when none was recorded.
    std::string dtype(const std::string& name) const {
        auto it = dtypes.find(name);
        return it == dtypes.end() ? std::string("F32") : it->second;
    }
    // Adds or replaces a tensor; a new name goes to the end of `names`.
    void set(const std::string& name, Tensor t, const std::string& stored_dtype = "F32") {
        if (tensors.find(name) == tensors.end()) names.push_back(name);
        tensors[name] = std::move(t);
        dtypes[name] = stored_dtype;
    }
    size_t size() const { return names.size(); }
};

// ---- element types shared by the .pth and safetensors readers ----

// Bytes per element of a safetensors dtype name, 0 for a name core cannot read.
inline size_t dtype_item_size(const std::string& dtype) {
    if (dtype == "F64" || dtype == "I64") return 8;
    if (dtype == "F32" || dtype == "I32") return 4;
    if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
    if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
    return 0;
}

inline bool dtype_is_float(const std::string& dtype) {
    return dtype == "F64" || dtype == "F32" || dtype == "F16" || dtype == "BF16";
}

inline float half_to_float(uint16_t h) {
    // IEEE binary16 -> binary32, subnormals included; exact (every half is a float).
    const uint32_t sign = uint32_t(h >> 15) << 31;
    const uint32_t exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: value = mant * 2^-24, exact in float
            float v = float(mant) * (1.0f / 16777216.0f);
            std::memcpy(&bits, &v, 4);
            bits |= sign;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Decodes `count` little-endian elements of `dtype` (dtype_item_size(dtype) != 0) into float.
// Assembles bytes explicitly so the result does not depend on the host's byte order.
inline void decode_elements(const std::string& dtype, const uint8_t* src, size_t count, float* dst) {
    auto u16 = [](const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); };
    auto u32 = [](const uint8_t* p) {
        return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
    };
    auto u64 = [&](const uint8_t* p) { return uint64_t(u32(p)) | (uint64_t(u32(p + 4)) << 32); };
    // The dtype test is done once, outside the element loop: these loops run over ~1M weights.
    if (dtype == "F32") {
        for (size_t i = 0; i < count; ++i) {
            uint32_t b = u32(src + 4 * i);
            std::memcpy(dst + i, &b, 4);
        }
    } else if (dtype == "F64") {
        for (size_t i = 0; i < count; ++i) {
            uint64_t b = u64(src + 8 * i);
            double d;
            std::memcpy(&d, &b, 8);
            dst[i] = float(d);
        }
    } else if (dtype == "F16") {
        for (size_t i = 0; i < count; ++i) dst[i] = half_to_float(u16(src + 2 * i));
    } else if (dtype == "BF16") {
        for (size_t i = 0; i < count; ++i) {
            uint32_t b = uint32_t(u16(src + 2 * i)) << 16;
            std::memcpy(dst + i, &b, 4);
        }
    } else if (dtype == "I64") {
        for (size_t i = 0; i < count; ++i) dst[i] = float(int64_t(u64(src + 8 * i)));
    } else if (dtype == "I32") {
        for (size_t i = 0; i < count; ++i) dst[i] = float(int32_t(u32(src + 4 * i)));
    } else if (dtype == "I16") {
        for (size_t i = 0; i < count; ++i) dst[i] = float(int16_t(u16(src + 2 * i)));
    } else if (dtype == "I8") {
        for (size_t i = 0; i < count; ++i) dst[i] = float(int8_t(src[i]));
    } else if (dtype == "U8") {
        for (size_t i = 0; i < count; ++i) dst[i] = float(src[i]);
    } else if (dtype == "BOOL") {
        for (size_t i = 0; i < count; ++i) dst[i] = src[i] ? 1.0f : 0.0f;
    } else {
        for (size_t i = 0; i < count; ++i) dst[i] = 0.0f;
    }
}

// Index of the first NaN or Inf in `t`, -1 when every value is finite.
inline int64_t first_non_finite(const Tensor& t) {
    for (size_t i = 0; i < t.data.size(); ++i)
        if (!std::isfinite(t.data[i])) return int64_t(i);
    return -1;
}

}  // namespace quantlab
