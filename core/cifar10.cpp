// cifar10.cpp: CIFAR-10 binary batch reading, normalization and data-folder lookup (see cifar10.hpp).
#include "core/cifar10.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace quantlab {

const std::array<const char*, 10> kCifar10Classes = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                     "dog",      "frog",       "horse", "ship", "truck"};

namespace {

namespace fs = std::filesystem;

const char* kFetchHint =
    "hint: run `quantlab data fetch`, or point --data DIR or QUANTLAB_DATA at a folder holding the CIFAR-10 "
    "binary version (data_batch_1..5.bin, test_batch.bin)";

// "a, b, c" (at most 12 names) or why the folder cannot be listed.
std::string folder_listing(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return "the folder " + dir + " does not exist";
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    if (ec) return "the folder " + dir + " cannot be listed (" + ec.message() + ")";
    if (names.empty()) return "the folder " + dir + " is empty";
    std::sort(names.begin(), names.end());
    std::string s = "the folder " + dir + " holds: ";
    for (size_t i = 0; i < names.size() && i < 12; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > 12) s += ", ... (" + std::to_string(names.size()) + " entries)";
    return s;
}

std::string join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

Status check_records(const uint8_t* data, int64_t count, const std::string& name) {
    for (int64_t i = 0; i < count; ++i) {
        const uint8_t label = data[size_t(i * kCifar10RecordBytes)];
        if (label >= kCifar10NumClasses)
            return Status::error("cifar10: " + name + ": record " + std::to_string(i) + " has label " +
                                 std::to_string(label) + ", expected 0..9 (not a CIFAR-10 batch; CIFAR-100 has "
                                 "two label bytes per record)");
    }
    return Status::success();
}

Status size_check(uint64_t size, const std::string& name) {
    if (size == 0 || size % uint64_t(kCifar10RecordBytes) != 0)
        return Status::error("cifar10: " + name + ": file size " + std::to_string(size) +
                             " is not a non-zero multiple of the 3073-byte record (1 label + 3072 pixels); "
                             "truncated download or not a CIFAR-10 binary batch");
    return Status::success();
}

void split_records(const uint8_t* data, int64_t count, Cifar10* out) {
    const size_t base = out->labels.size();
    out->labels.resize(base + size_t(count));
    out->pixels.resize((base + size_t(count)) * size_t(kCifar10ImageBytes));
    for (int64_t i = 0; i < count; ++i) {
        const uint8_t* rec = data + size_t(i * kCifar10RecordBytes);
        out->labels[base + size_t(i)] = rec[0];
        std::memcpy(out->pixels.data() + (base + size_t(i)) * size_t(kCifar10ImageBytes), rec + 1, size_t(kCifar10ImageBytes));
    }
    out->count += count;
}

// Appends one batch file's first max_images records (all when < 0) to *out.
Status append_batch(const std::string& path, int64_t max_images, Cifar10* out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        const std::string why = std::strerror(errno);
        const std::string dir = fs::path(path).parent_path().string();
        return Status::error("cifar10: " + path + ": cannot open (" + why + "); " + folder_listing(dir.empty() ? "." : dir) +
                             "; " + kFetchHint);
    }
    uint64_t size = 0;
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long end = std::ftell(f);
        size = end > 0 ? uint64_t(end) : 0;
    }
    std::fseek(f, 0, SEEK_SET);
    Status st = size_check(size, path);
    if (!st) {
        std::fclose(f);
        return st;
    }
    int64_t count = int64_t(size / uint64_t(kCifar10RecordBytes));
    if (max_images >= 0) count = std::min(count, max_images);
    std::vector<uint8_t> bytes(size_t(count * kCifar10RecordBytes));
    const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    if (got != bytes.size())
        return Status::error("cifar10: " + path + ": read " + std::to_string(got) + " of " +
                             std::to_string(bytes.size()) + " bytes (file changed or read error)");
    st = check_records(bytes.data(), count, path);
    if (!st) return st;
    split_records(bytes.data(), count, out);
    return Status::success();
}

}  // namespace

Result<Cifar10> read_cifar10_bytes(const uint8_t* data, size_t size, const std::string& name, int64_t max_images) {
    Status st = size_check(data ? size : 0, name);
    if (!st) return st;
    int64_t count = int64_t(size / size_t(kCifar10RecordBytes));
    if (max_images >= 0) count = std::min(count, max_images);
    st = check_records(data, count, name);
    if (!st) return st;
    Cifar10 out;
    split_records(data, count, &out);
    return out;
}

Result<Cifar10> read_cifar10_batch(const std::string& path, int64_t max_images) {
    Cifar10 out;
    Status st = append_batch(path, max_images, &out);
    if (!st) return st;
    return out;
}

Result<Cifar10> read_cifar10_test(const std::string& dir, int64_t max_images) {
    return read_cifar10_batch(join(dir, "test_batch.bin"), max_images);
}

Result<Cifar10> read_cifar10_train(const std::string& dir) {
    Cifar10 out;
    out.labels.reserve(size_t(5 * kCifar10BatchImages));
    out.pixels.reserve(size_t(5 * kCifar10BatchImages * kCifar10ImageBytes));
    for (int b = 1; b <= 5; ++b) {
        Status st = append_batch(join(dir, "data_batch_" + std::to_string(b) + ".bin"), -1, &out);
        if (!st) return st;
    }
    return out;
}

void normalize_images(const Cifar10& data, int64_t first, int64_t n, float* out_nchw) {
    for (int64_t i = 0; i < n; ++i) {
        const int64_t img = first + i;
        if (img < 0 || img >= data.count) continue;
        const uint8_t* src = data.pixels.data() + size_t(img * kCifar10ImageBytes);
        float* dst = out_nchw + size_t(i * kCifar10ImageBytes);
        // Same float32 operations, in the same order, as ToTensor (p / 255) then Normalize ((x - 0.5) / 0.5),
        // so the inputs match PyTorch's bit for bit.
        for (int64_t k = 0; k < kCifar10ImageBytes; ++k) dst[k] = (float(src[k]) / 255.0f - 0.5f) / 0.5f;
    }
}

std::string default_data_cache_dir() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    std::string base;
    if (xdg && xdg[0] == '/') {
        base = xdg;
    } else {
        const char* home = std::getenv("HOME");
        base = home && home[0] ? join(home, ".cache") : std::string(".cache");
    }
    return join(join(base, "quantlab"), "cifar-10-batches-bin");
}

std::string find_data_dir(const std::string& cli_dir) {
    if (!cli_dir.empty()) return cli_dir;
    const char* env = std::getenv("QUANTLAB_DATA");
    if (env && env[0]) return env;
    return default_data_cache_dir();
}

TestSetChoice choose_test_set(const std::string& cli_dir) {
    TestSetChoice c;
    c.dir = find_data_dir(cli_dir);
    const char* env = std::getenv("QUANTLAB_DATA");
    c.explicit_dir = !cli_dir.empty() || (env && env[0]);
    c.source = !cli_dir.empty() ? "given with --data" : c.explicit_dir ? "from $QUANTLAB_DATA" : "the per-user cache";
    std::error_code ec;
    c.use_dir = c.explicit_dir || fs::is_regular_file(fs::path(c.dir) / "test_batch.bin", ec);
    return c;
}

}  // namespace quantlab
