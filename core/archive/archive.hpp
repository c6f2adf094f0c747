// archive.hpp: the file-level half of `quantlab data fetch`: MD5 of a download, extraction of the
// official cifar-10-binary.tar.gz, and a check that a data folder is complete. Native only: it needs zlib,
// so it is its own library (quantlab_archive, core/CMakeLists.txt) that the wasm build leaves out, and nothing
// else in core depends on it. It does not download (the native front end runs curl). MD5 is written here
// because Debian packages no small header-only MD5 worth a dependency; it is a checksum for the published
// archive, not a security measure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dataset.hpp"
#include "core/status.hpp"

namespace quantlab {

// The archives' URLs, MD5s and file sizes are the datasets' facts: dataset_info() in core/dataset.hpp.

// Lower-case hex MD5 (RFC 1321) of bytes in memory.
std::string md5_hex(const uint8_t* data, size_t size);
// Lower-case hex MD5 of a file, read in chunks.
Result<std::string> md5_file(const std::string& path);

// Extracts the regular files of a .tar.gz whose names start with allowed_prefix into dest_dir (keeping
// their names, so dest_dir/cifar-10-batches-bin/... ; an empty prefix allows every name). Other entries
// are skipped; links and devices are never created. The whole archive is refused when any entry name is
// absolute or contains "..", when the input is not gzip or the gzip data is corrupt or truncated, or when
// a tar header is bad. Each file is written as name.part and renamed when complete. Check md5_file against
// dataset_info(d).archive_md5 first: gzip's own CRC is only checked at the end of the stream, after the files.
Status extract_tar_gz(const std::string& archive_path, const std::string& dest_dir,
                      const std::string& allowed_prefix = "cifar-10-batches-bin/");

// Every expected file (data_batch_1..5.bin, test_batch.bin) is present in dir with 30,730,000 bytes.
Status verify_cifar10_dir(const std::string& dir);
// The same for either dataset (dataset.hpp): its training files and test file with the official sizes
// (records x record bytes; CIFAR-100: train.bin 153,700,000 and test.bin 30,740,000 bytes).
Status verify_dataset_dir(const std::string& dir, Dataset d);

}  // namespace quantlab
