#include "sim/io/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "sim/core/error.h"

namespace attnsim::io {
namespace {

constexpr uint32_t kSigLocal = 0x04034b50;
constexpr uint32_t kSigCentral = 0x02014b50;
constexpr uint32_t kSigEocd = 0x06054b50;
constexpr uint32_t kSigZip64Eocd = 0x06064b50;
constexpr uint32_t kSigZip64Locator = 0x07064b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;
// Deflate cannot expand data by more than ~1032:1; bigger claims are corrupt
// (and refusing them keeps a forged header from forcing a huge allocation).
constexpr uint64_t kMaxDeflateRatio = 1100;

// Bounds-checked little-endian reads over [bytes, bytes + n).
class Cursor {
 public:
  Cursor(const uint8_t* bytes, size_t n, const std::string& what) : p_(bytes), n_(n), what_(what) {}
  bool has(uint64_t off, uint64_t len) const { return off <= n_ && len <= n_ - off; }
  uint64_t get(uint64_t off, int width, const char* field) const {
    if (!has(off, static_cast<uint64_t>(width)))
      throw Error(what_ + ": corrupt zip archive: " + field + " lies past the end of the file (truncated?)");
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | p_[off + static_cast<uint64_t>(i)];
    return v;
  }
  uint16_t u16(uint64_t off, const char* field) const { return static_cast<uint16_t>(get(off, 2, field)); }
  uint32_t u32(uint64_t off, const char* field) const { return static_cast<uint32_t>(get(off, 4, field)); }
  uint64_t u64(uint64_t off, const char* field) const { return get(off, 8, field); }
  const uint8_t* at(uint64_t off) const { return p_ + off; }
  size_t size() const { return n_; }

 private:
  const uint8_t* p_;
  size_t n_;
  const std::string& what_;
};

std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 120)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

uint32_t crc32_of(const std::vector<uint8_t>& d) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t off = 0;
  while (off < d.size()) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(d.size() - off, 1u << 30));
    crc = crc32(crc, d.data() + off, chunk);
    off += chunk;
  }
  return static_cast<uint32_t>(crc);
}

void inflate_raw(const uint8_t* src, uint64_t src_len, std::vector<uint8_t>& dst, const std::string& where) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(where + ": zlib inflateInit2 failed");
  uint64_t in_off = 0, out_off = 0;
  uint8_t probe = 0;  // one spare byte: output beyond the declared size means corruption
  bool probing = false;
  int rc = Z_OK;
  for (;;) {
    if (zs.avail_in == 0 && in_off < src_len) {
      const uInt chunk = static_cast<uInt>(std::min<uint64_t>(src_len - in_off, 1u << 30));
      zs.next_in = const_cast<Bytef*>(src + in_off);
      zs.avail_in = chunk;
      in_off += chunk;
    }
    if (zs.avail_out == 0) {
      if (out_off < dst.size()) {
        const uInt chunk = static_cast<uInt>(std::min<uint64_t>(dst.size() - out_off, 1u << 30));
        zs.next_out = dst.data() + out_off;
        zs.avail_out = chunk;
        out_off += chunk;
      } else if (!probing) {
        probing = true;
        zs.next_out = &probe;
        zs.avail_out = 1;
      } else {
        rc = Z_DATA_ERROR;
        break;
      }
    }
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && !(zs.avail_in == 0 && in_off >= src_len)) continue;  // refill and retry
    if (rc != Z_OK) break;
  }
  const uint64_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != dst.size())
    throw Error(where + ": corrupt deflate data (does not inflate to the declared " +
                std::to_string(dst.size()) + " bytes); the archive is damaged, re-create it");
}

}  // namespace

std::vector<ZipEntry> read_zip(const uint8_t* bytes, size_t n, const std::string& what) {
  Cursor c(bytes, n, what);
  // Locate the end-of-central-directory record (it may be followed by a comment).
  size_t eocd = std::numeric_limits<size_t>::max();
  if (n >= kEocdSize) {
    const size_t lowest = n - kEocdSize > 0xFFFF ? n - kEocdSize - 0xFFFF : 0;
    for (size_t pos = n - kEocdSize + 1; pos-- > lowest;) {
      if (c.u32(pos, "signature") == kSigEocd && pos + kEocdSize + c.u16(pos + 20, "comment length") <= n) {
        eocd = pos;
        break;
      }
    }
  }
  if (eocd == std::numeric_limits<size_t>::max()) {
    const bool npy = n >= 6 && bytes[0] == 0x93 && std::equal(bytes + 1, bytes + 6, "NUMPY");
    throw Error(what + ": not a .npz (zip) archive: no end-of-central-directory record found" +
                (npy ? " (this is a .npy file; read it with read_npy)"
                     : "; create it with np.savez or np.savez_compressed"));
  }
  uint64_t disk = c.u16(eocd + 4, "disk number"), cd_disk = c.u16(eocd + 6, "central directory disk");
  uint64_t count = c.u16(eocd + 10, "entry count");
  uint64_t cd_size = c.u32(eocd + 12, "central directory size");
  uint64_t cd_off = c.u32(eocd + 16, "central directory offset");
  if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF) {
    if (eocd < 20 || c.u32(eocd - 20, "ZIP64 locator") != kSigZip64Locator)
      throw Error(what + ": corrupt zip archive: ZIP64 values without a ZIP64 end-of-central-directory locator");
    const uint64_t z = c.u64(eocd - 20 + 8, "ZIP64 record offset");
    if (c.u32(z, "ZIP64 record") != kSigZip64Eocd)
      throw Error(what + ": corrupt zip archive: bad ZIP64 end-of-central-directory signature");
    disk = c.u32(z + 16, "ZIP64 disk number");
    cd_disk = c.u32(z + 20, "ZIP64 central directory disk");
    count = c.u64(z + 32, "ZIP64 entry count");
    cd_size = c.u64(z + 40, "ZIP64 central directory size");
    cd_off = c.u64(z + 48, "ZIP64 central directory offset");
  }
  if (disk != 0 || cd_disk != 0)
    throw Error(what + ": multi-part (split/spanned) zip archives are not supported; re-create it as one file");
  if (!c.has(cd_off, cd_size) || count > cd_size / kCentralSize)
    throw Error(what + ": corrupt zip archive: central directory (" + std::to_string(count) +
                " entries) lies outside the file (truncated?)");

  std::vector<ZipEntry> out;
  uint64_t pos = cd_off;
  for (uint64_t i = 0; i < count; ++i) {
    if (c.u32(pos, "central directory entry") != kSigCentral)
      throw Error(what + ": corrupt zip archive: bad central directory entry signature (entry " +
                  std::to_string(i) + ")");
    const uint16_t flags = c.u16(pos + 8, "flags"), method = c.u16(pos + 10, "method");
    const uint32_t crc = c.u32(pos + 16, "CRC");
    uint64_t csize = c.u32(pos + 20, "compressed size"), usize = c.u32(pos + 24, "size");
    const uint16_t name_len = c.u16(pos + 28, "name length"), extra_len = c.u16(pos + 30, "extra length");
    const uint16_t comment_len = c.u16(pos + 32, "comment length");
    uint64_t local = c.u32(pos + 42, "local header offset");
    const uint64_t name_at = pos + kCentralSize, extra_at = name_at + name_len;
    if (!c.has(name_at, uint64_t{name_len} + extra_len + comment_len))
      throw Error(what + ": corrupt zip archive: central directory entry " + std::to_string(i) + " is truncated");
    ZipEntry e;
    e.name.assign(reinterpret_cast<const char*>(c.at(name_at)), name_len);
    const std::string where = what + ": entry '" + printable(e.name) + "'";
    // ZIP64 extended information: the 64-bit values appear only for fields saturated above.
    for (uint64_t x = extra_at; x + 4 <= extra_at + extra_len;) {
      const uint16_t id = c.u16(x, "extra id"), len = c.u16(x + 2, "extra length");
      uint64_t f = x + 4;
      const uint64_t end = f + len;
      if (end > extra_at + extra_len) throw Error(where + ": corrupt zip extra field (overruns its entry)");
      if (id == 0x0001) {
        auto take = [&](uint64_t& v) {
          if (f + 8 > end) throw Error(where + ": corrupt ZIP64 extra field (too short)");
          v = c.u64(f, "ZIP64 field");
          f += 8;
        };
        if (usize == 0xFFFFFFFF) take(usize);
        if (csize == 0xFFFFFFFF) take(csize);
        if (local == 0xFFFFFFFF) take(local);
      }
      x = end;
    }
    pos = extra_at + extra_len + comment_len;
    if (!e.name.empty() && e.name.back() == '/') continue;  // directory entry
    if (flags & 0x1) throw Error(where + " is encrypted; encrypted archives are not supported");
    if (method != 0 && method != 8)
      throw Error(where + " uses compression method " + std::to_string(method) +
                  "; only stored (0) and deflate (8) are supported: re-save with np.savez or np.savez_compressed");
    if (usize > kMaxEntryBytes)
      throw Error(where + " claims " + std::to_string(usize) + " uncompressed bytes, over the 8 GiB limit");
    if (c.u32(local, "local header") != kSigLocal)
      throw Error(where + ": corrupt zip archive: bad local header signature");
    const uint64_t data_at = local + kLocalSize + c.u16(local + 26, "local name length") +
                             c.u16(local + 28, "local extra length");
    if (!c.has(data_at, csize))
      throw Error(where + ": compressed data runs past the end of the file (truncated archive?)");
    if (method == 0) {
      if (csize != usize) throw Error(where + ": corrupt zip archive: stored entry with differing sizes");
      e.data.assign(c.at(data_at), c.at(data_at) + csize);
    } else {
      if (usize > csize * kMaxDeflateRatio + 1024)
        throw Error(where + ": corrupt zip archive: declared size " + std::to_string(usize) +
                    " is impossible for " + std::to_string(csize) + " deflated bytes");
      e.data.resize(usize);
      inflate_raw(c.at(data_at), csize, e.data, where);
    }
    if (crc32_of(e.data) != crc)
      throw Error(where + ": CRC-32 mismatch (the archive is corrupted; re-create or re-download it)");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace attnsim::io
