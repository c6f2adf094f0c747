// safetensors_io.cpp: safetensors reader and writer (see safetensors_io.hpp). nlohmann::json is used
// with exceptions caught here: nothing escapes core. Every size and offset is checked before use.
#include "core/safetensors_io.hpp"

#include "core/file_io.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

namespace quantlab {
namespace {

using Json = nlohmann::ordered_json;


// A non-negative integer that fits in int64 (JSON numbers may be negative, fractional or huge).
bool json_index(const Json& j, int64_t* out) {
    if (j.is_number_unsigned()) {
        const uint64_t v = j.get<uint64_t>();
        if (v > uint64_t(std::numeric_limits<int64_t>::max())) return false;
        *out = int64_t(v);
        return true;
    }
    if (j.is_number_integer()) {
        const int64_t v = j.get<int64_t>();
        if (v < 0) return false;
        *out = v;
        return true;
    }
    return false;
}

struct Pending {
    std::string name, dtype;
    Shape shape;
    int64_t begin = 0, end = 0;
};

Result<StateDict> parse(const uint8_t* data, size_t size, const std::string& name) {
    const std::string who = "safetensors: " + name + ": ";
    if (data == nullptr || size < 8)
        return Status::error(who + "file is " + std::to_string(size) +
                             " bytes, expected at least the 8-byte header length (empty or truncated file)");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
    if (n > kSafetensorsMaxHeader)
        return Status::error(who + "header length " + std::to_string(n) + " exceeds the 100 MB limit (not a "
                             "safetensors file)");
    if (n > size - 8)
        return Status::error(who + "header length " + std::to_string(n) + " exceeds file size " + std::to_string(size) +
                             " (truncated or not a safetensors file)");
    if (n < 2 || data[8] != '{')
        return Status::error(who + "header does not start with '{' (expected a JSON object; not a safetensors file)");
    const Json header = Json::parse(data + 8, data + 8 + n, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded() || !header.is_object())
        return Status::error(who + "header is not a valid JSON object (corrupt or not a safetensors file)");
    const uint8_t* body = data + 8 + n;
    const uint64_t body_size = size - 8 - n;

    StateDict sd;
    std::vector<Pending> pending;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& key = it.key();
        const Json& v = it.value();
        if (key == "__metadata__") {
            if (!v.is_object()) return Status::error(who + "__metadata__ is not an object of strings");
            for (auto m = v.begin(); m != v.end(); ++m) {
                if (!m.value().is_string())
                    return Status::error(who + "__metadata__ value for '" + m.key() + "' is not a string (the format "
                                         "allows only string -> string)");
                sd.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        const std::string twho = who + "tensor '" + key + "': ";
        if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
            return Status::error(twho + "expected an object with dtype, shape and data_offsets");
        const Json& jd = v["dtype"];
        const Json& js = v["shape"];
        const Json& jo = v["data_offsets"];
        if (!jd.is_string()) return Status::error(twho + "dtype is not a string");
        Pending p;
        p.name = key;
        p.dtype = jd.get<std::string>();
        const size_t item = dtype_item_size(p.dtype);
        if (item == 0)
            return Status::error(twho + "dtype " + p.dtype + " is not supported (expected F32, F64, F16, BF16, I64, "
                                 "I32, I16, I8, U8 or BOOL)");
        if (!js.is_array() || js.size() > 64) return Status::error(twho + "shape is not an array of at most 64 dims");
        int64_t numel = 1;
        for (const Json& d : js) {
            int64_t dim;
            if (!json_index(d, &dim)) return Status::error(twho + "shape holds a value that is not a non-negative integer");
            p.shape.push_back(dim);
            if (dim > 0 && numel > std::numeric_limits<int64_t>::max() / dim)
                return Status::error(twho + "shape " + shape_str(p.shape) + " overflows");
            numel *= dim;
        }
        if (!jo.is_array() || jo.size() != 2 || !json_index(jo[0], &p.begin) || !json_index(jo[1], &p.end))
            return Status::error(twho + "data_offsets is not [begin, end] of non-negative integers");
        if (p.begin > p.end)
            return Status::error(twho + "data_offsets [" + std::to_string(p.begin) + ", " + std::to_string(p.end) +
                                 "] end before they begin (corrupt header)");
        if (uint64_t(p.end) > body_size)
            return Status::error(twho + "data_offsets end " + std::to_string(p.end) + " exceeds the " +
                                 std::to_string(body_size) + " data bytes after the header (truncated file)");
        if (uint64_t(numel) > uint64_t(p.end - p.begin) / item || uint64_t(p.end - p.begin) != uint64_t(numel) * item)
            return Status::error(twho + "shape " + shape_str(p.shape) + " of " + p.dtype + " needs " +
                                 (uint64_t(numel) > uint64_t(std::numeric_limits<int64_t>::max()) / item
                                      ? std::string("more")
                                      : std::to_string(uint64_t(numel) * item)) +
                                 " bytes but data_offsets span " + std::to_string(p.end - p.begin) + " (corrupt header)");
        pending.push_back(std::move(p));
    }
    // File order = data order; this is the order we wrote them in (names order).
    std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) { return a.begin < b.begin; });
    for (Pending& p : pending) {
        Tensor t;
        t.shape = p.shape;
        t.data.resize(size_t(numel(p.shape)));
        decode_elements(p.dtype, body + p.begin, t.data.size(), t.data.data());
        if (dtype_is_float(p.dtype)) {
            const int64_t bad = first_non_finite(t);
            if (bad >= 0)
                return Status::error(who + "tensor '" + p.name + "': element " + std::to_string(bad) + " is " +
                                     (std::isnan(t.data[size_t(bad)]) ? "NaN" : "Inf") +
                                     ", expected finite weights (the training run diverged; use an earlier file)");
        }
        sd.set(p.name, std::move(t), p.dtype);
    }
    return sd;
}

void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

}  // namespace

Result<StateDict> read_safetensors_bytes(const uint8_t* data, size_t size, const std::string& name) {
    try {
        return parse(data, size, name);
    } catch (const std::exception& e) {  // nlohmann type errors or bad_alloc: reported, never propagated
        return Status::error("safetensors: " + name + ": " + e.what());
    }
}

Result<StateDict> read_safetensors(const std::string& path) {
    auto bytes = read_file_bytes(path, "safetensors");
    if (!bytes.ok()) return bytes.status;
    return read_safetensors_bytes(bytes.value.data(), bytes.value.size(), path);
}

Result<std::vector<uint8_t>> write_safetensors_bytes(const StateDict& sd) {
    const std::string who = "safetensors: write: ";
    try {
        Json header = Json::object();
        if (!sd.metadata.empty()) {
            Json meta = Json::object();
            for (const auto& kv : sd.metadata) meta[kv.first] = kv.second;
            header["__metadata__"] = meta;
        }
        uint64_t offset = 0;
        for (const std::string& name : sd.names) {
            const Tensor* t = sd.find(name);
            if (!t) return Status::error(who + "'" + name + "' is listed in names but has no tensor");
            if (name.empty() || name == "__metadata__" || header.contains(name))
                return Status::error(who + "tensor name '" + name + "' is empty, reserved or repeated");
            if (numel(t->shape) != t->numel())
                return Status::error(who + "tensor '" + name + "': shape " + shape_str(t->shape) + " holds " +
                                     std::to_string(numel(t->shape)) + " elements but the data has " +
                                     std::to_string(t->numel()));
            const bool i64 = sd.dtype(name) == "I64";
            for (size_t i = 0; i < t->data.size(); ++i) {
                const float v = t->data[i];
                if (!std::isfinite(v) || (i64 && (v != std::nearbyint(v) || std::fabs(v) >= 9.2e18f)))
                    return Status::error(who + "tensor '" + name + "': element " + std::to_string(i) + " is " +
                                         std::to_string(v) + ", expected " +
                                         (i64 ? "an integer (dtype I64)" : "a finite value") + "; nothing was written");
            }
            const uint64_t bytes = uint64_t(t->data.size()) * (i64 ? 8 : 4);
            header[name] = {{"dtype", i64 ? "I64" : "F32"}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
            offset += bytes;
        }
        std::string text = header.dump();
        // Padding to a multiple of 8 keeps every tensor 8-byte aligned, as the format asks.
        text.append((8 - text.size() % 8) % 8, ' ');
        std::vector<uint8_t> out;
        out.reserve(8 + text.size() + size_t(offset));
        put_le(out, text.size(), 8);
        out.insert(out.end(), text.begin(), text.end());
        for (const std::string& name : sd.names) {
            const Tensor& t = *sd.find(name);
            const bool i64 = sd.dtype(name) == "I64";
            for (float v : t.data) {
                if (i64) {
                    put_le(out, uint64_t(int64_t(v)), 8);
                } else {
                    uint32_t bits;
                    std::memcpy(&bits, &v, 4);
                    put_le(out, bits, 4);
                }
            }
        }
        return out;
    } catch (const std::exception& e) {
        return Status::error(who + e.what());
    }
}

Status write_safetensors(const std::string& path, const StateDict& sd) {
    auto bytes = write_safetensors_bytes(sd);
    if (!bytes.ok()) return Status::error(bytes.message() + " (to " + path + ")");
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        return Status::error("safetensors: " + tmp + ": cannot create (" + std::strerror(errno) +
                             "); check that the folder exists and is writable");
    const size_t n = std::fwrite(bytes.value.data(), 1, bytes.value.size(), f);
    const bool write_ok = n == bytes.value.size() && std::fflush(f) == 0;
    const int write_errno = errno;
    const bool close_ok = std::fclose(f) == 0;
    if (!write_ok || !close_ok) {
        std::remove(tmp.c_str());
        return Status::error("safetensors: " + tmp + ": writing " + std::to_string(bytes.value.size()) + " bytes failed (" +
                             std::strerror(write_ok ? errno : write_errno) + "; disk full?); " + path + " was left as it was");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        std::remove(tmp.c_str());
        return Status::error("safetensors: " + path + ": cannot replace it with " + tmp + " (" + std::strerror(e) +
                             "); the previous file was left as it was");
    }
    return Status::success();
}

}  // namespace quantlab
