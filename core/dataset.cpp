// dataset.cpp: the two datasets' facts (files, sizes, archive and MD5, class names) and the data folder of
// each (see dataset.hpp). The record reading itself is cifar10.cpp's, parameterized by the record layout.
#include "core/dataset.hpp"

#include <array>
#include <filesystem>

#include "core/enum_names.hpp"

namespace quantlab {

namespace {

constexpr EnumName<Dataset> kDatasetNames[] = {{Dataset::kCifar10, "cifar10"}, {Dataset::kCifar100, "cifar100"}};

// fine_label_names.txt of the CIFAR-100 binary version, in label order.
const std::array<const char*, 100> kCifar100Classes = {
    "apple",        "aquarium_fish", "baby",     "bear",       "beaver",    "bed",         "bee",        "beetle",
    "bicycle",      "bottle",        "bowl",     "boy",        "bridge",    "bus",         "butterfly",  "camel",
    "can",          "castle",        "caterpillar", "cattle",  "chair",     "chimpanzee",  "clock",      "cloud",
    "cockroach",    "couch",         "crab",     "crocodile",  "cup",       "dinosaur",    "dolphin",    "elephant",
    "flatfish",     "forest",        "fox",      "girl",       "hamster",   "house",       "kangaroo",   "keyboard",
    "lamp",         "lawn_mower",    "leopard",  "lion",       "lizard",    "lobster",     "man",        "maple_tree",
    "motorcycle",   "mountain",      "mouse",    "mushroom",   "oak_tree",  "orange",      "orchid",     "otter",
    "palm_tree",    "pear",          "pickup_truck", "pine_tree", "plain",  "plate",       "poppy",      "porcupine",
    "possum",       "rabbit",        "raccoon",  "ray",        "road",      "rocket",      "rose",       "sea",
    "seal",         "shark",         "shrew",    "skunk",      "skyscraper", "snail",      "snake",      "spider",
    "squirrel",     "streetcar",     "sunflower", "sweet_pepper", "table",  "tank",        "telephone",  "television",
    "tiger",        "tractor",       "train",    "trout",      "tulip",     "turtle",      "wardrobe",   "whale",
    "willow_tree",  "wolf",          "woman",    "worm"};

}  // namespace

const DatasetInfo& dataset_info(Dataset d) {
    // MD5s as published next to the archives on https://www.cs.toronto.edu/~kriz/cifar.html.
    static const DatasetInfo cifar10{Dataset::kCifar10, "cifar10", "CIFAR-10", "cifar-10-batches-bin", 10, 1, 0, 0,
                                     {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
                                     "test_batch.bin", 50000, 10000,
                                     "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"};
    static const DatasetInfo cifar100{Dataset::kCifar100, "cifar100", "CIFAR-100", "cifar-100-binary", 100, 2, 1, 20,
                                      {"train.bin"}, "test.bin", 50000, 10000,
                                      "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8"};
    return d == Dataset::kCifar100 ? cifar100 : cifar10;
}

const char* dataset_name(Dataset d) { return enum_name(kDatasetNames, d); }

Result<Dataset> parse_dataset(const std::string& name) {
    return enum_from_name(kDatasetNames, name, "dataset: unknown '" + name + "', expected cifar10 or cifar100");
}

std::string dataset_class_name(Dataset d, int c) {
    if (c >= 0 && d == Dataset::kCifar10 && c < kCifar10NumClasses) return kCifar10Classes[size_t(c)];
    if (c >= 0 && d == Dataset::kCifar100 && c < int(kCifar100Classes.size())) return kCifar100Classes[size_t(c)];
    return std::to_string(c);
}

std::string default_dataset_cache_dir(Dataset d) {
    // default_data_cache_dir() is CIFAR-10's folder inside the quantlab cache: its sibling for the others.
    return (std::filesystem::path(default_data_cache_dir()).parent_path() / dataset_info(d).folder).string();
}

std::string find_dataset_dir(const std::string& cli_dir, Dataset d) {
    if (d == Dataset::kCifar10) return find_data_dir(cli_dir);
    return cli_dir.empty() ? default_dataset_cache_dir(d) : cli_dir;
}

}  // namespace quantlab
