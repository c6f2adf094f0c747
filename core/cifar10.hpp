// cifar10.hpp: the CIFAR-10 binary version (data_batch_1..5.bin, test_batch.bin): records of one label
// byte and 3072 pixel bytes (R, G, B planes of 32x32, row-major), and the ToTensor + Normalize(0.5, 0.5)
// preprocessing the notebook applies. Also where the data folder is looked for. It does not download or
// augment: fetching lives in archive/archive.hpp and the native front end, augmentation in the trainer.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace quantlab {

constexpr int64_t kCifar10Side = 32;
constexpr int64_t kCifar10ImageBytes = 3 * 32 * 32;              // 3072
constexpr int64_t kCifar10RecordBytes = 1 + kCifar10ImageBytes;  // 3073
constexpr int64_t kCifar10BatchImages = 10000;                   // per official batch file
constexpr int kCifar10NumClasses = 10;
extern const std::array<const char*, 10> kCifar10Classes;  // airplane, automobile, ..., truck

struct Cifar10 {
    int64_t count = 0;
    std::vector<uint8_t> labels;  // count, each 0..9
    std::vector<uint8_t> pixels;  // count * 3072, CHW planes as in the file
};

// One batch file. max_images >= 0 reads only the first max_images records (the whole file is still
// size-checked). The file size must be a non-zero multiple of 3073.
Result<Cifar10> read_cifar10_batch(const std::string& path, int64_t max_images = -1);
// The same from bytes already in memory (a fetched or dropped file); name_for_messages names it.
Result<Cifar10> read_cifar10_bytes(const uint8_t* data, size_t size, const std::string& name_for_messages,
                                   int64_t max_images = -1);
// dir/test_batch.bin (10,000 images).
Result<Cifar10> read_cifar10_test(const std::string& dir, int64_t max_images = -1);
// dir/data_batch_1.bin .. data_batch_5.bin concatenated (50,000 images).
Result<Cifar10> read_cifar10_train(const std::string& dir);

// Images first .. first+n-1 as float32 NCHW, (n,3,32,32), x = (p/255 - 0.5)/0.5 in float32 exactly as
// torchvision's ToTensor + Normalize((0.5,)*3, (0.5,)*3) computes it. out_nchw must hold n*3072 floats.
// Only images inside [0, data.count) are written: a range past the end leaves those slots untouched.
void normalize_images(const Cifar10& data, int64_t first, int64_t n, float* out_nchw);

// The data folder: --data DIR when given, else $QUANTLAB_DATA when set, else the per-user cache
// ($XDG_CACHE_HOME or ~/.cache)/quantlab/cifar-10-batches-bin. An explicitly given folder is returned even
// when it does not exist, so the error names the folder the user asked for; otherwise the cache path.
std::string find_data_dir(const std::string& cli_dir);
// The per-user cache folder above (whether or not it exists).
std::string default_data_cache_dir();

// Which test set an evaluation uses, chosen in one place for `quantlab eval`/`sweep` and the desktop app:
// the folder of find_data_dir when it was given (--data, $QUANTLAB_DATA: used even when it is bad, so the
// caller reports that folder) or when the cache holds test_batch.bin; else the bundled 1,000-image sample.
struct TestSetChoice {
    std::string dir;            // find_data_dir's answer (where test_batch.bin is, or was looked for)
    bool use_dir = false;       // read dir/test_batch.bin; false: the bundled sample
    bool explicit_dir = false;  // given with --data or $QUANTLAB_DATA (a bad folder is then an error, not the sample)
    std::string source;         // how dir was chosen: "given with --data", "from $QUANTLAB_DATA", "the per-user cache"
};
TestSetChoice choose_test_set(const std::string& cli_dir);

}  // namespace quantlab
