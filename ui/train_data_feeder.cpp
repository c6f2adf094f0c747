// train_data_feeder.cpp: see train_data_feeder.hpp. The reader thread calls the trainer's hooks itself: they
// take the trainer's own lock, as the UI thread's calls do.
#include "ui/train_data_feeder.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "core/dataset.hpp"
#include "core/file_io.hpp"
#include "ui/i18n.hpp"

namespace quantlab::ui {

namespace {

// Appends the file's bytes to out.
Status append_file(const std::string& path, std::vector<uint8_t>* out) {
    Result<std::vector<uint8_t>> bytes = read_file_bytes(path, "training images");
    if (!bytes.ok()) return Status::error("cannot read " + path + ": " + bytes.message());
    out->insert(out->end(), bytes.value.begin(), bytes.value.end());
    return Status::success();
}

}  // namespace

bool is_train_batch_name(const std::string& path) {
    std::string n = std::filesystem::path(path).filename().string();
    for (char& ch : n) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    const std::string head = "data_batch_", tail = ".bin";
    if (n.size() <= head.size() + tail.size() || n.compare(0, head.size(), head) || n.compare(n.size() - tail.size(), tail.size(), tail))
        return false;
    for (size_t i = head.size(); i < n.size() - tail.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(n[i]))) return false;
    return true;
}

Result<TrainBatches> read_batch_files(std::vector<std::string> paths) {
    auto file_name = [](const std::string& p) { return std::filesystem::path(p).filename().string(); };
    std::sort(paths.begin(), paths.end(), [&](const std::string& a, const std::string& b) { return file_name(a) < file_name(b); });
    TrainBatches out;
    for (const std::string& p : paths) {
        if (Status s = append_file(p, &out.bytes); !s) return s;
        out.name += (out.name.empty() ? "" : " + ") + file_name(p);
    }
    return out;
}

Result<TrainBatches> read_train_batches(const std::string& dir, const std::string& source) {
    const std::vector<std::string>& files = dataset_info(Dataset::kCifar10).train_files;  // data_batch_1..5.bin
    TrainBatches out;
    std::vector<std::string> found;
    for (const std::string& f : files) {
        const std::string path = (std::filesystem::path(dir) / f).string();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) continue;
        if (out.bytes.empty()) out.bytes.reserve(size_t(dataset_info(Dataset::kCifar10).train_images * kCifar10RecordBytes));
        if (Status s = append_file(path, &out.bytes); !s) return s;
        found.push_back(f);
    }
    if (found.empty())
        return Status::error("no CIFAR-10 training images in " + dir + " (" + source + "): data_batch_1.bin .. data_batch_5.bin are missing. " +
                             "Fix: run `quantlab data fetch` (downloads them into the per-user cache), or start quantlab-gui with --data DIR "
                             "(or QUANTLAB_DATA=DIR) naming the cifar-10-batches-bin folder.");
    std::string names;
    if (found.size() == files.size()) {
        names = "data_batch_1.." + std::to_string(files.size()) + ".bin";
    } else {
        for (size_t i = 0; i < found.size(); ++i) names += (i ? ", " : "") + found[i];
    }
    out.name = tr_format("%s in %s", names.c_str(), dir.c_str());
    return out;
}

TrainDataFeeder::TrainDataFeeder(CoreTrainer* trainer, std::string dir, std::string source)
    : trainer_(trainer), dir_(std::move(dir)), source_(std::move(source)) {}

TrainDataFeeder::~TrainDataFeeder() {
    if (reader_.joinable()) reader_.join();
}

void TrainDataFeeder::poll() {
    if (reading_ || !trainer_->wants_train_data()) return;
    if (reader_.joinable()) reader_.join();  // the last read, long done
    reading_ = true;
    reader_ = std::thread([this] {
        Result<TrainBatches> b = read_train_batches(dir_, source_);
        if (b.ok()) trainer_->set_train_data(b.value.name, b.value.bytes);  // bad records: it fails the runs itself
        else trainer_->train_data_failed(b.message());
        reading_ = false;
    });
}

}  // namespace quantlab::ui
