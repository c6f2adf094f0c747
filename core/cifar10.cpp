// cifar10.cpp: CIFAR-10 binary batch reading, normalization and data-folder lookup (see cifar10.hpp), and the
// same reading for CIFAR-100 (dataset.hpp): one reader, parameterized by the dataset's record layout.
#include "core/cifar10.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/dataset.hpp"

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

Status check_records(const uint8_t* data, int64_t count, uint64_t file_size, const DatasetInfo& ds, const std::string& name) {
    const size_t rec = size_t(ds.record_bytes());
    for (int64_t i = 0; i < count; ++i) {
        const uint8_t* r = data + size_t(i) * rec;
        const int label = r[ds.label_index];
        if (ds.id == Dataset::kCifar10 && label >= ds.classes)
            return Status::error("cifar10: " + name + ": record " + std::to_string(i) + " has label " +
                                 std::to_string(label) + ", expected 0..9 (not a CIFAR-10 batch; CIFAR-100 has "
                                 "two label bytes per record)");
        if (ds.id == Dataset::kCifar100 && (label >= ds.classes || r[0] >= ds.coarse_classes)) {
            std::string msg = "cifar100: " + name + ": record " + std::to_string(i) + " has coarse label " +
                              std::to_string(r[0]) + " and fine label " + std::to_string(label) +
                              ", expected 0..19 and 0..99";
            // A CIFAR-10 batch whose size happens to be a multiple of 3074 too: its pixels read as labels.
            if (file_size % uint64_t(kCifar10RecordBytes) == 0)
                msg += " (this looks like a CIFAR-10 batch: use --dataset cifar10)";
            return Status::error(msg);
        }
    }
    return Status::success();
}

Status size_check(uint64_t size, const DatasetInfo& ds, const std::string& name) {
    const uint64_t rec = uint64_t(ds.record_bytes());
    if (size != 0 && size % rec == 0) return Status::success();
    if (ds.id == Dataset::kCifar10)
        return Status::error("cifar10: " + name + ": file size " + std::to_string(size) +
                             " is not a non-zero multiple of the 3073-byte record (1 label + 3072 pixels); "
                             "truncated download or not a CIFAR-10 binary batch" +
                             std::string(size != 0 && size % uint64_t(dataset_info(Dataset::kCifar100).record_bytes()) == 0 ? " (its size fits CIFAR-100's 3074-byte record: use --dataset cifar100)" : ""));
    std::string msg = "cifar100: " + name + ": file size " + std::to_string(size) +
                      " is not a non-zero multiple of the 3074-byte record (1 coarse + 1 fine label + 3072 pixels): " +
                      std::to_string(size / rec) + " whole records and " + std::to_string(size % rec) + " bytes over";
    if (size != 0 && size % uint64_t(kCifar10RecordBytes) == 0)
        msg += "; its size is a multiple of CIFAR-10's 3073-byte record, so this looks like a CIFAR-10 file: "
               "use --dataset cifar10, or the CIFAR-100 binary version's train.bin / test.bin";
    else
        msg += "; truncated download or not a CIFAR-100 binary file";
    return Status::error(msg);
}

void split_records(const uint8_t* data, int64_t count, const DatasetInfo& ds, Cifar10* out) {
    const size_t base = out->labels.size(), rec = size_t(ds.record_bytes()), skip = size_t(ds.label_bytes);
    out->labels.resize(base + size_t(count));
    out->pixels.resize((base + size_t(count)) * size_t(kCifar10ImageBytes));
    for (int64_t i = 0; i < count; ++i) {
        const uint8_t* r = data + size_t(i) * rec;
        out->labels[base + size_t(i)] = r[ds.label_index];
        std::memcpy(out->pixels.data() + (base + size_t(i)) * size_t(kCifar10ImageBytes), r + skip, size_t(kCifar10ImageBytes));
    }
    out->count += count;
}

// Appends one file's first max_images records (all when < 0) to *out.
Status append_batch(const std::string& path, int64_t max_images, const DatasetInfo& ds, Cifar10* out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        const std::string why = std::strerror(errno);
        const std::string dir = fs::path(path).parent_path().string();
        std::string hint = kFetchHint;
        if (ds.id != Dataset::kCifar10)
            hint = std::string("hint: run `quantlab data fetch --dataset ") + ds.name + "`, or point --data DIR at a folder holding the " +
                   ds.title + " binary version (" + ds.folder + ")";
        return Status::error(std::string(ds.name) + ": " + path + ": cannot open (" + why + "); " +
                             folder_listing(dir.empty() ? "." : dir) + "; " + hint);
    }
    uint64_t size = 0;
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long end = std::ftell(f);
        size = end > 0 ? uint64_t(end) : 0;
    }
    std::fseek(f, 0, SEEK_SET);
    Status st = size_check(size, ds, path);
    if (!st) {
        std::fclose(f);
        return st;
    }
    int64_t count = int64_t(size / uint64_t(ds.record_bytes()));
    if (max_images >= 0) count = std::min(count, max_images);
    std::vector<uint8_t> bytes(size_t(count * ds.record_bytes()));
    const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    if (got != bytes.size())
        return Status::error(std::string(ds.name) + ": " + path + ": read " + std::to_string(got) + " of " +
                             std::to_string(bytes.size()) + " bytes (file changed or read error)");
    st = check_records(bytes.data(), count, size, ds, path);
    if (!st) return st;
    split_records(bytes.data(), count, ds, out);
    return Status::success();
}

}  // namespace

Result<Cifar10> read_dataset_bytes(const uint8_t* data, size_t size, Dataset d, const std::string& name, int64_t max_images) {
    const DatasetInfo& ds = dataset_info(d);
    Status st = size_check(data ? size : 0, ds, name);
    if (!st) return st;
    int64_t count = int64_t(size / size_t(ds.record_bytes()));
    if (max_images >= 0) count = std::min(count, max_images);
    st = check_records(data, count, size, ds, name);
    if (!st) return st;
    Cifar10 out;
    split_records(data, count, ds, &out);
    return out;
}

Result<int64_t> check_dataset_bytes(const uint8_t* data, size_t size, Dataset d, const std::string& name) {
    const DatasetInfo& ds = dataset_info(d);
    Status st = size_check(data ? size : 0, ds, name);
    if (!st) return st;
    const int64_t count = int64_t(size / size_t(ds.record_bytes()));
    st = check_records(data, count, size, ds, name);
    if (!st) return st;
    return count;
}

Result<Cifar10> read_dataset_file(const std::string& path, Dataset d, int64_t max_images) {
    Cifar10 out;
    Status st = append_batch(path, max_images, dataset_info(d), &out);
    if (!st) return st;
    return out;
}

Result<Cifar10> read_dataset_test(const std::string& dir, Dataset d, int64_t max_images) {
    return read_dataset_file(join(dir, dataset_info(d).test_file), d, max_images);
}

Result<Cifar10> read_dataset_train(const std::string& dir, Dataset d) {
    const DatasetInfo& ds = dataset_info(d);
    Cifar10 out;
    out.labels.reserve(size_t(ds.train_images));
    out.pixels.reserve(size_t(ds.train_images * kCifar10ImageBytes));
    for (const std::string& name : ds.train_files) {
        Status st = append_batch(join(dir, name), -1, ds, &out);
        if (!st) return st;
    }
    return out;
}

Result<Cifar10> read_cifar10_bytes(const uint8_t* data, size_t size, const std::string& name, int64_t max_images) {
    return read_dataset_bytes(data, size, Dataset::kCifar10, name, max_images);
}

Result<Cifar10> read_cifar10_batch(const std::string& path, int64_t max_images) {
    return read_dataset_file(path, Dataset::kCifar10, max_images);
}

Result<Cifar10> read_cifar10_test(const std::string& dir, int64_t max_images) {
    return read_dataset_test(dir, Dataset::kCifar10, max_images);
}

Result<Cifar10> read_cifar10_train(const std::string& dir) { return read_dataset_train(dir, Dataset::kCifar10); }

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
