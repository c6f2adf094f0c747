// zip_reader.hpp: a minimal ZIP reader over bytes already in memory, enough for torch.save archives.
// Reads the central directory (ZIP64 records included, as PyTorch always writes them) and hands out the
// bytes of *stored* (method 0) entries after checking their CRC-32. It does not inflate compressed
// entries, handle encryption or multi-disk archives, and never writes. It does not copy the buffer: the
// bytes passed to open() must outlive the ZipReader and every ByteSpan it returns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.hpp"

namespace quantlab {

struct ByteSpan {
    const uint8_t* data = nullptr;
    size_t size = 0;
};

struct ZipEntry {
    std::string name;
    uint16_t method = 0;            // 0 = stored; anything else is refused by read()
    uint16_t flags = 0;
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
};

uint32_t crc32_bytes(const uint8_t* data, size_t size);

class ZipReader {
public:
    // Parses the end-of-central-directory record and the central directory of data[0, size).
    // name_for_messages names the file in error messages (a path, or "dropped file").
    static Result<ZipReader> open(const uint8_t* data, size_t size, const std::string& name_for_messages);

    const std::vector<ZipEntry>& entries() const { return entries_; }
    // The entry with exactly this name, nullptr when absent.
    const ZipEntry* find(const std::string& name) const;
    // The bytes of a stored entry, after checking its local header, bounds and CRC-32.
    Result<ByteSpan> read(const ZipEntry& entry) const;
    const std::string& name() const { return name_; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    std::string name_;
    std::vector<ZipEntry> entries_;
    std::unordered_map<std::string, size_t> index_;  // name -> first entry with it (a state_dict looks up each storage)
};

}  // namespace quantlab
