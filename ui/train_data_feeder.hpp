// train_data_feeder.hpp: the desktop app's training images for core's trainer (ui/core_trainer.hpp,
// `quantlab-gui --engine core`). The trainer asks (wants_train_data) when its first run starts; the feeder then
// reads the CIFAR-10 folder's data_batch_1..5.bin (those present, in order) on a thread of its own, so frames go
// on while 150 MB are read, and hands the bytes over (set_train_data) or says what was missing
// (train_data_failed). The page does the same in glue.js (a fetch). Batches dropped on the window take their
// place, as on the page (is_train_batch_name, read_batch_files). LibTorch's trainer reads its own data. ImGui-free.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/status.hpp"
#include "ui/core_trainer.hpp"

namespace quantlab::ui {

struct TrainBatches {
    std::vector<uint8_t> bytes;  // the files' records, concatenated
    std::string name;            // for the panel and messages: "data_batch_1..5.bin in DIR" (or the files found)
};

// dir's CIFAR-10 training files, data_batch_1..5.bin, those present, concatenated in order. Fails naming the
// folder (and `source`, how it was chosen) when none is there or one cannot be read; the records themselves are
// checked by whoever parses the bytes (set_train_data).
Result<TrainBatches> read_train_batches(const std::string& dir, const std::string& source);

// A CIFAR-10 training batch by its file name, data_batch_<digits>.bin (any case), as the page tells them apart
// (web/glue.js): dropped on the window with core's trainer, they are its training images.
bool is_train_batch_name(const std::string& path);
// The files, concatenated in file-name order; name: their file names joined by " + ". Fails naming a file that
// cannot be read.
Result<TrainBatches> read_batch_files(std::vector<std::string> paths);

class TrainDataFeeder {
public:
    // trainer must outlive the feeder. dir: the CIFAR-10 folder (choose_test_set's), source: how it was chosen.
    TrainDataFeeder(CoreTrainer* trainer, std::string dir, std::string source);
    ~TrainDataFeeder();  // waits for a read in progress (it ends by itself: a second or two)
    TrainDataFeeder(const TrainDataFeeder&) = delete;
    TrainDataFeeder& operator=(const TrainDataFeeder&) = delete;

    // Call once a frame: starts a read when the trainer wants images and none is under way. After a failure the
    // next run that asks reads again (the folder may have been filled meanwhile).
    void poll();

private:
    CoreTrainer* trainer_;
    std::string dir_, source_;
    std::thread reader_;
    std::atomic<bool> reading_{false};
};

}  // namespace quantlab::ui
