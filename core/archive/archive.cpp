// archive.cpp: MD5, .tar.gz extraction with zlib, and the CIFAR-10 folder check (see archive.hpp).
// Native only (its own library, quantlab_archive, see core/CMakeLists.txt): Emscripten's zlib is a port,
// unavailable offline.
#if defined(__EMSCRIPTEN__)
#error "core/archive/archive.cpp needs zlib and is native-only: leave it out of the wasm build"
#endif
#include "core/archive/archive.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>
#include <utility>

namespace quantlab {
namespace {

namespace fs = std::filesystem;

// ---- MD5 (RFC 1321) ----
struct Md5 {
    uint32_t a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
    uint64_t length = 0;  // bytes
    uint8_t buffer[64];
    size_t fill = 0;

    static uint32_t rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

    void block(const uint8_t* p) {
        static const uint32_t kK[64] = {
            0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
            0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
            0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
            0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
            0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
            0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
            0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
            0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
        static const int kS[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                   5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                   4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                   6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
        uint32_t m[16];
        for (int i = 0; i < 16; ++i)
            m[i] = uint32_t(p[4 * i]) | (uint32_t(p[4 * i + 1]) << 8) | (uint32_t(p[4 * i + 2]) << 16) |
                   (uint32_t(p[4 * i + 3]) << 24);
        uint32_t A = a, B = b, C = c, D = d;
        for (int i = 0; i < 64; ++i) {
            uint32_t f;
            int g;
            if (i < 16) {
                f = (B & C) | (~B & D);
                g = i;
            } else if (i < 32) {
                f = (D & B) | (~D & C);
                g = (5 * i + 1) % 16;
            } else if (i < 48) {
                f = B ^ C ^ D;
                g = (3 * i + 5) % 16;
            } else {
                f = C ^ (B | ~D);
                g = (7 * i) % 16;
            }
            const uint32_t tmp = D;
            D = C;
            C = B;
            B = B + rotl(A + f + kK[i] + m[g], kS[i]);
            A = tmp;
        }
        a += A;
        b += B;
        c += C;
        d += D;
    }

    void update(const uint8_t* p, size_t n) {
        length += n;
        while (n > 0) {
            const size_t take = std::min(n, sizeof buffer - fill);
            std::memcpy(buffer + fill, p, take);
            fill += take;
            p += take;
            n -= take;
            if (fill == 64) {
                block(buffer);
                fill = 0;
            }
        }
    }

    std::string hex() {
        const uint64_t bits = length * 8;
        const uint8_t pad = 0x80;
        update(&pad, 1);
        const uint8_t zero = 0;
        while (fill != 56) update(&zero, 1);
        uint8_t len_le[8];
        for (int i = 0; i < 8; ++i) len_le[i] = uint8_t(bits >> (8 * i));
        update(len_le, 8);
        static const char* kHex = "0123456789abcdef";
        std::string s;
        for (uint32_t w : {a, b, c, d})
            for (int i = 0; i < 4; ++i) {
                const uint8_t byte = uint8_t(w >> (8 * i));
                s += kHex[byte >> 4];
                s += kHex[byte & 0xf];
            }
        return s;
    }
};

// ---- tar over gzip ----
constexpr size_t kBlock = 512;

class GzInput {
public:
    GzInput(gzFile f, std::string path) : f_(f), path_(std::move(path)) {}
    ~GzInput() {
        if (f_) gzclose(f_);
    }
    // Reads exactly n bytes; false with *err set on corrupt data, or with *eof_at_start when the
    // stream ended cleanly before the first byte.
    bool read(uint8_t* dst, size_t n, std::string* err, bool* eof_at_start = nullptr) {
        size_t got = 0;
        while (got < n) {
            const unsigned want = unsigned(std::min<size_t>(n - got, 1u << 20));
            const int r = gzread(f_, dst + got, want);
            if (r < 0 || (r == 0 && !gzeof(f_))) return gz_error(err);
            if (r == 0) {
                int errnum = Z_OK;
                gzerror(f_, &errnum);
                if (errnum != Z_OK) return gz_error(err);
                if (got == 0 && eof_at_start) {
                    *eof_at_start = true;
                    return false;
                }
                *err = "extract: " + path_ + ": archive ends in the middle of an entry (truncated download; "
                       "delete it and fetch again)";
                return false;
            }
            got += size_t(r);
        }
        return true;
    }
    // Reads to the end so zlib checks the gzip trailer (CRC and length) of the whole stream.
    bool drain(std::string* err) {
        std::vector<uint8_t> buf(1 << 16);
        for (;;) {
            const int r = gzread(f_, buf.data(), unsigned(buf.size()));
            if (r < 0) return gz_error(err);
            if (r == 0) {
                int errnum = Z_OK;
                gzerror(f_, &errnum);
                return errnum == Z_OK ? true : gz_error(err);
            }
        }
    }
    bool is_gzip() { return gzdirect(f_) == 0; }

private:
    gzFile f_;
    std::string path_;

    bool gz_error(std::string* err) {
        int errnum = Z_OK;
        const char* msg = gzerror(f_, &errnum);
        *err = "extract: " + path_ + ": gzip data is " +
               (errnum == Z_BUF_ERROR ? std::string("truncated") : "corrupt (" + std::string(msg ? msg : "?") + ")") +
               "; delete the download and fetch again";
        return false;
    }
};

std::string field(const uint8_t* p, size_t n) {
    size_t len = 0;
    while (len < n && p[len] != 0) ++len;
    return std::string(reinterpret_cast<const char*>(p), len);
}

bool octal(const uint8_t* p, size_t n, uint64_t* out) {
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == 0)) ++i;
    bool any = false;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
        if (v >> 60) return false;
        v = v * 8 + uint64_t(p[i] - '0');
        any = true;
    }
    for (; i < n; ++i)
        if (p[i] != ' ' && p[i] != 0) return false;
    *out = v;
    return any;
}

// Relative, no "..", "." only as harmless components: the name cannot leave dest_dir.
bool safe_name(const std::string& name) {
    if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos) return false;
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string::npos) end = name.size();
        if (name.compare(start, end - start, "..") == 0 && end - start == 2) return false;
        start = end + 1;
    }
    return true;
}

}  // namespace

std::string md5_hex(const uint8_t* data, size_t size) {
    Md5 m;
    m.update(data, size);
    return m.hex();
}

Result<std::string> md5_file(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return Status::error("md5: " + path + ": cannot open (" + std::strerror(errno) + ")");
    Md5 m;
    std::vector<uint8_t> buf(1 << 16);
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) m.update(buf.data(), n);
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) return Status::error("md5: " + path + ": read error (" + std::strerror(errno) + ")");
    return m.hex();
}

Status extract_tar_gz(const std::string& archive_path, const std::string& dest_dir, const std::string& allowed_prefix) {
    const std::string who = "extract: " + archive_path + ": ";
    gzFile gz = gzopen(archive_path.c_str(), "rb");
    if (!gz) return Status::error(who + "cannot open (" + std::strerror(errno) + ")");
    GzInput in(gz, archive_path);
    std::string err;
    uint8_t header[kBlock];
    bool eof = false;
    if (!in.read(header, kBlock, &err, &eof))
        return Status::error(eof ? who + "empty archive (expected a .tar.gz)" : err);
    if (!in.is_gzip()) return Status::error(who + "not gzip data (expected a .tar.gz; the download may be an HTML error page)");
    std::error_code ec;
    fs::create_directories(dest_dir, ec);
    if (ec) return Status::error(who + "cannot create " + dest_dir + " (" + ec.message() + ")");

    std::vector<uint8_t> buf(1 << 16);
    int64_t index = 0;
    for (;; ++index) {
        if (index > 0) {
            eof = false;
            if (!in.read(header, kBlock, &err, &eof))
                return Status::error(eof ? who + "no end-of-archive marker after entry " + std::to_string(index) +
                                               " (truncated archive; delete it and fetch again)"
                                         : err);
        }
        bool zero = true;
        for (uint8_t byte : header) zero = zero && byte == 0;
        if (zero) break;  // end-of-archive marker

        uint64_t stored_sum = 0, size = 0;
        uint64_t sum = 0;
        for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? uint8_t(' ') : header[i];
        if (!octal(header + 148, 8, &stored_sum) || stored_sum != sum)
            return Status::error(who + "tar header " + std::to_string(index) + " has a bad checksum (corrupt archive, or "
                                 "not a tar inside the gzip)");
        if (header[124] & 0x80)
            return Status::error(who + "entry " + std::to_string(index) + " uses a base-256 size (over 8 GB), not supported");
        if (!octal(header + 124, 12, &size))
            return Status::error(who + "entry " + std::to_string(index) + " has an unreadable size field (corrupt archive)");
        std::string name = field(header, 100);
        if (std::memcmp(header + 257, "ustar", 5) == 0) {
            const std::string prefix = field(header + 345, 155);
            if (!prefix.empty()) name = prefix + "/" + name;
        }
        const char type = char(header[156]);
        if (type == 'L' || type == 'K')
            return Status::error(who + "entry " + std::to_string(index) + " uses GNU long names, not supported");
        if (!safe_name(name))
            return Status::error(who + "entry '" + name + "' has an absolute path or '..' and could write outside " +
                                 dest_dir + "; the archive was refused");
        const bool wanted = name.compare(0, allowed_prefix.size(), allowed_prefix) == 0;
        const uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;

        if (wanted && type == '5') {
            fs::create_directories(fs::path(dest_dir) / name, ec);
            if (ec) return Status::error(who + "cannot create folder " + dest_dir + "/" + name + " (" + ec.message() + ")");
        }
        if (!wanted || (type != '0' && type != '\0')) {  // skipped: other names, folders, links, pax headers
            for (uint64_t left = padded; left > 0;) {
                const size_t n = size_t(std::min<uint64_t>(left, buf.size()));
                if (!in.read(buf.data(), n, &err)) return Status::error(err);
                left -= n;
            }
            continue;
        }
        const fs::path target = fs::path(dest_dir) / name;
        fs::create_directories(target.parent_path(), ec);
        if (ec) return Status::error(who + "cannot create " + target.parent_path().string() + " (" + ec.message() + ")");
        const std::string part = target.string() + ".part";
        std::FILE* out = std::fopen(part.c_str(), "wb");
        if (!out) return Status::error(who + "cannot create " + part + " (" + std::strerror(errno) + ")");
        bool ok = true;
        for (uint64_t left = padded; left > 0 && ok;) {
            const size_t n = size_t(std::min<uint64_t>(left, buf.size()));
            if (!in.read(buf.data(), n, &err)) {
                ok = false;
                break;
            }
            const uint64_t done = padded - left;
            const size_t data_bytes = done >= size ? 0 : size_t(std::min<uint64_t>(n, size - done));
            if (data_bytes > 0 && std::fwrite(buf.data(), 1, data_bytes, out) != data_bytes) {
                err = who + "writing " + part + " failed (" + std::strerror(errno) + "; disk full?)";
                ok = false;
            }
            left -= n;
        }
        if (std::fclose(out) != 0 && ok) {
            err = who + "writing " + part + " failed (" + std::strerror(errno) + ")";
            ok = false;
        }
        if (ok && std::rename(part.c_str(), target.string().c_str()) != 0) {
            err = who + "cannot rename " + part + " to " + target.string() + " (" + std::strerror(errno) + ")";
            ok = false;
        }
        if (!ok) {
            std::remove(part.c_str());
            return Status::error(err);
        }
    }
    if (!in.drain(&err)) return Status::error(err);
    return Status::success();
}

Status verify_cifar10_dir(const std::string& dir) { return verify_dataset_dir(dir, Dataset::kCifar10); }

Status verify_dataset_dir(const std::string& dir, Dataset d) {
    const DatasetInfo& ds = dataset_info(d);
    std::vector<std::pair<std::string, uintmax_t>> expected;
    const uintmax_t per_train_file = uintmax_t(ds.train_images / int64_t(ds.train_files.size()) * ds.record_bytes());
    for (const std::string& name : ds.train_files) expected.emplace_back(name, per_train_file);
    expected.emplace_back(ds.test_file, uintmax_t(ds.test_images * ds.record_bytes()));
    std::string problems;
    for (const auto& [name, want] : expected) {
        std::error_code ec;
        const uintmax_t size = fs::file_size(fs::path(dir) / name, ec);
        if (ec)
            problems += std::string(problems.empty() ? "" : "; ") + name + " missing";
        else if (size != want)
            problems += std::string(problems.empty() ? "" : "; ") + name + " has " + std::to_string(size) +
                        " bytes, expected " + std::to_string(want);
    }
    if (problems.empty()) return Status::success();
    const std::string fetch = d == Dataset::kCifar10 ? "quantlab data fetch" : std::string("quantlab data fetch --dataset ") + ds.name;
    const std::string where = d == Dataset::kCifar10 ? "--data / QUANTLAB_DATA" : "--data";  // QUANTLAB_DATA is CIFAR-10's
    return Status::error(std::string(ds.name) + ": " + dir + ": " + problems + "; hint: run `" + fetch + "` again, or point " + where +
                         " at a complete copy");
}

}  // namespace quantlab
