// zip_reader.cpp: central-directory ZIP parsing for stored entries (see zip_reader.hpp).
// Every offset read from the file is checked against the buffer size before it is used; sizes come
// from the central directory because torch.save writes zeros in the local headers (flag bit 3).
#include "core/zip_reader.hpp"

#include <algorithm>
#include <array>

namespace quantlab {
namespace {

constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kEocd64Sig = 0x06064b50;
constexpr uint32_t kEocd64LocatorSig = 0x07064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kMaxComment = 0xffff;
constexpr size_t kMaxEntries = 1 << 20;  // a state_dict has hundreds; bounds memory on hostile input

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
uint64_t rd64(const uint8_t* p) { return uint64_t(rd32(p)) | (uint64_t(rd32(p + 4)) << 32); }

const std::array<uint32_t, 256>& crc_table() {
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    return table;
}

std::string hex32(uint32_t v) {
    char buf[16];
    static const char* kHex = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) buf[i] = kHex[(v >> (28 - 4 * i)) & 0xf];
    return std::string(buf, 8);
}

}  // namespace

uint32_t crc32_bytes(const uint8_t* data, size_t size) {
    const auto& t = crc_table();
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < size; ++i) c = t[(c ^ data[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

Result<ZipReader> ZipReader::open(const uint8_t* data, size_t size, const std::string& name) {
    const std::string who = "zip: " + name + ": ";
    if (data == nullptr || size < kEocdSize)
        return Status::error(who + "file is " + std::to_string(size) +
                             " bytes, smaller than the 22-byte end-of-central-directory record (empty or "
                             "truncated file, or not a zip archive)");

    // The EOCD is the last thing in the file, followed only by a comment of at most 64 KiB.
    size_t eocd = size_t(-1);
    const size_t lowest = size - kEocdSize > kMaxComment ? size - kEocdSize - kMaxComment : 0;
    for (size_t pos = size - kEocdSize + 1; pos-- > lowest;) {
        if (rd32(data + pos) == kEocdSig && pos + kEocdSize + rd16(data + pos + 20) == size) {
            eocd = pos;
            break;
        }
    }
    if (eocd == size_t(-1)) {
        const bool legacy = size >= 2 && data[0] == 0x80 && data[1] <= 5;
        return Status::error(who + "no end-of-central-directory record found (expected a zip archive as "
                             "torch.save writes since PyTorch 1.6" +
                             std::string(legacy ? "; this looks like the legacy pickle-only format: re-save it "
                                                  "with a recent torch.save" : "; the file is truncated or not a "
                                                  "zip/.pth file") + ")");
    }
    const uint8_t* e = data + eocd;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0)
        return Status::error(who + "multi-disk archives are not supported (disk number " +
                             std::to_string(rd16(e + 4)) + ")");
    uint64_t count = rd16(e + 10);
    uint64_t cd_size = rd32(e + 12);
    uint64_t cd_offset = rd32(e + 16);

    // ZIP64: PyTorch always writes a ZIP64 EOCD and locator just before the classic EOCD. Use its values
    // when the classic ones are saturated (0xffff / 0xffffffff) or when it is present at all.
    if (eocd >= 20 && rd32(data + eocd - 20) == kEocd64LocatorSig) {
        const uint64_t rec = rd64(data + eocd - 20 + 8);
        if (rec > eocd - 20 || eocd - 20 - rec < 56 || rd32(data + rec) != kEocd64Sig)
            return Status::error(who + "ZIP64 end-of-central-directory locator points at offset " +
                                 std::to_string(rec) + ", where no ZIP64 record is (corrupt archive)");
        count = rd64(data + rec + 32);
        cd_size = rd64(data + rec + 40);
        cd_offset = rd64(data + rec + 48);
    } else if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
        return Status::error(who + "the end-of-central-directory record asks for ZIP64 values but no ZIP64 "
                             "locator precedes it (corrupt archive)");
    }
    if (cd_offset > eocd || cd_size > eocd - cd_offset)
        return Status::error(who + "central directory at offset " + std::to_string(cd_offset) + " of " +
                             std::to_string(cd_size) + " bytes runs past the end-of-central-directory record at " +
                             std::to_string(eocd) + " (truncated or corrupt archive)");
    // Each central entry takes at least 46 bytes: a count larger than that allows is a lie.
    if (count > kMaxEntries || count > cd_size / 46)
        return Status::error(who + "central directory claims " + std::to_string(count) + " entries but holds " +
                             std::to_string(cd_size) + " bytes (at most " + std::to_string(cd_size / 46) +
                             " entries fit; corrupt archive)");

    ZipReader z;
    z.data_ = data;
    z.size_ = size;
    z.name_ = name;
    z.entries_.reserve(size_t(count));
    size_t pos = size_t(cd_offset);
    const size_t cd_end = size_t(cd_offset + cd_size);
    for (uint64_t i = 0; i < count; ++i) {
        if (cd_end - pos < 46 || rd32(data + pos) != kCentralSig)
            return Status::error(who + "central directory entry " + std::to_string(i) + " at offset " +
                                 std::to_string(pos) + " has no valid signature (corrupt archive)");
        const uint8_t* c = data + pos;
        ZipEntry ent;
        ent.flags = rd16(c + 8);
        ent.method = rd16(c + 10);
        ent.crc32 = rd32(c + 16);
        ent.compressed_size = rd32(c + 20);
        ent.uncompressed_size = rd32(c + 24);
        const size_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
        ent.local_header_offset = rd32(c + 42);
        if (cd_end - pos - 46 < name_len + extra_len + comment_len)
            return Status::error(who + "central directory entry " + std::to_string(i) +
                                 " runs past the end of the central directory (corrupt archive)");
        ent.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
        // ZIP64 extended information: present, in this order, only for the saturated fields.
        const uint8_t* x = c + 46 + name_len;
        const uint8_t* x_end = x + extra_len;
        while (x_end - x >= 4) {
            const uint16_t id = rd16(x), len = rd16(x + 2);
            if (size_t(x_end - x - 4) < len) break;
            if (id == 0x0001) {
                const uint8_t* f = x + 4;
                size_t left = len;
                auto take = [&](uint64_t& field) {
                    if (field != 0xffffffffu) return true;
                    if (left < 8) return false;
                    field = rd64(f);
                    f += 8;
                    left -= 8;
                    return true;
                };
                if (!take(ent.uncompressed_size) || !take(ent.compressed_size) || !take(ent.local_header_offset))
                    return Status::error(who + "entry '" + ent.name + "': ZIP64 extra field too short (corrupt archive)");
            }
            x += 4 + len;
        }
        z.index_.emplace(ent.name, z.entries_.size());
        z.entries_.push_back(std::move(ent));
        pos += 46 + name_len + extra_len + comment_len;
    }
    return z;
}

const ZipEntry* ZipReader::find(const std::string& entry_name) const {
    auto it = index_.find(entry_name);
    return it == index_.end() ? nullptr : &entries_[it->second];
}

Result<ByteSpan> ZipReader::read(const ZipEntry& e) const {
    const std::string who = "zip: " + name_ + ": entry '" + e.name + "': ";
    if (e.flags & 1) return Status::error(who + "is encrypted, which is not supported");
    if (e.method != 0)
        return Status::error(who + "compression method " + std::to_string(e.method) +
                             ", expected 0 (stored); torch.save writes stored entries, so this archive was "
                             "re-packed by another tool: re-save it with torch.save");
    if (e.compressed_size != e.uncompressed_size)
        return Status::error(who + "stored entry with compressed size " + std::to_string(e.compressed_size) +
                             " != uncompressed size " + std::to_string(e.uncompressed_size) + " (corrupt archive)");
    if (e.local_header_offset > size_ || size_ - e.local_header_offset < 30)
        return Status::error(who + "local header offset " + std::to_string(e.local_header_offset) +
                             " is outside the " + std::to_string(size_) + "-byte file (truncated or corrupt archive)");
    const uint8_t* l = data_ + e.local_header_offset;
    if (rd32(l) != kLocalSig)
        return Status::error(who + "no local header signature at offset " + std::to_string(e.local_header_offset) +
                             " (corrupt archive)");
    // The local header's own name/extra lengths decide where data starts (PyTorch pads with an extra
    // field so tensor data is 64-byte aligned; the central copy of the extra field differs).
    const uint64_t start = e.local_header_offset + 30 + uint64_t(rd16(l + 26)) + rd16(l + 28);
    if (start > size_ || size_ - start < e.compressed_size)
        return Status::error(who + "data of " + std::to_string(e.compressed_size) + " bytes at offset " +
                             std::to_string(start) + " runs past the end of the " + std::to_string(size_) +
                             "-byte file (truncated archive)");
    ByteSpan span{data_ + start, size_t(e.compressed_size)};
    const uint32_t crc = crc32_bytes(span.data, span.size);
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
    // Fuzz builds only: a mutated byte would almost always fail the CRC and hide the parsers behind it.
    const bool crc_ok = true;
#else
    const bool crc_ok = crc == e.crc32;
#endif
    if (!crc_ok)
        return Status::error(who + "CRC-32 " + hex32(crc) + " does not match the recorded " + hex32(e.crc32) +
                             " (the file is corrupt: download or copy it again)");
    return span;
}

}  // namespace quantlab
