// dataset.hpp: which labelled image set a run uses: CIFAR-10 (10 classes) or CIFAR-100 (100 fine classes).
// Both binary versions hold 32x32 RGB records that differ only in their label bytes (CIFAR-10: one label;
// CIFAR-100: a coarse and a fine label), so one reader (cifar10.cpp) serves both with a record layout, and both
// return the same Cifar10 struct (for CIFAR-100 its labels are the fine labels, 0..99). The class count sizes
// the network's last layer in the trainer and is checked against a weights file in eval.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/cifar10.hpp"
#include "core/status.hpp"

namespace quantlab {

enum class Dataset { kCifar10, kCifar100 };

struct DatasetInfo {
    Dataset id;
    const char* name;          // "cifar10", "cifar100": the --dataset value and the "dataset" metadata
    const char* title;         // "CIFAR-10"
    const char* folder;        // the archive's top folder: cifar-10-batches-bin, cifar-100-binary
    int classes;               // 10, 100
    int label_bytes;           // label bytes before the 3072 pixel bytes of a record: 1, 2
    int label_index;           // which of them is the class: 0 (CIFAR-10's only one), 1 (CIFAR-100's fine label)
    int coarse_classes;        // CIFAR-100's 20 superclasses (label byte 0); 0 for CIFAR-10
    std::vector<std::string> train_files;  // data_batch_1..5.bin, train.bin
    const char* test_file;     // test_batch.bin, test.bin
    int64_t train_images, test_images;  // 50,000 and 10,000 for both
    const char* archive_url;   // the official binary archive
    const char* archive_md5;   // its MD5 as published on https://www.cs.toronto.edu/~kriz/cifar.html
    int64_t record_bytes() const { return label_bytes + kCifar10ImageBytes; }  // 3073, 3074
};

const DatasetInfo& dataset_info(Dataset d);
const char* dataset_name(Dataset d);
// "cifar10" or "cifar100"; anything else is an error naming the value and the allowed names.
Result<Dataset> parse_dataset(const std::string& name);
// Class c's name: CIFAR-10's kCifar10Classes, CIFAR-100's fine_label_names.txt ("apple", ..., "worm");
// the number as text when c is out of range.
std::string dataset_class_name(Dataset d, int c);

// One binary file of `d` (a CIFAR-10 batch, CIFAR-100's train.bin or test.bin). max_images >= 0 reads only
// the first max_images records (the whole file is still size-checked). Errors name the file: a size that is
// not a non-zero multiple of the record (with the sizes; for CIFAR-100 a file whose size fits CIFAR-10's
// 3073-byte record says it looks like CIFAR-10), and a label out of range (with the record and the label).
Result<Cifar10> read_dataset_file(const std::string& path, Dataset d, int64_t max_images = -1);
Result<Cifar10> read_dataset_bytes(const uint8_t* data, size_t size, Dataset d, const std::string& name_for_messages,
                                   int64_t max_images = -1);
// The same checks without a copy of the images: the number of records, or read_dataset_bytes' error.
Result<int64_t> check_dataset_bytes(const uint8_t* data, size_t size, Dataset d, const std::string& name_for_messages);
// dir/<test_file>, and the training files concatenated.
Result<Cifar10> read_dataset_test(const std::string& dir, Dataset d, int64_t max_images = -1);
Result<Cifar10> read_dataset_train(const std::string& dir, Dataset d);

// The data folder of `d`: --data DIR when given, else (CIFAR-10 only) $QUANTLAB_DATA when set, else the per-user
// cache ($XDG_CACHE_HOME or ~/.cache)/quantlab/<folder>. $QUANTLAB_DATA names the CIFAR-10 folder (find_data_dir),
// so it never stands in for CIFAR-100's.
std::string find_dataset_dir(const std::string& cli_dir, Dataset d);
std::string default_dataset_cache_dir(Dataset d);

}  // namespace quantlab
