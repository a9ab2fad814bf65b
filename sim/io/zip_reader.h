// Minimal, bounds-checked ZIP reader for .npz archives: stored (0) and deflate (8)
// entries, CRC-32 verification, ZIP64 sizes/offsets. Everything is read from an
// in-memory buffer; every failure throws attnsim::Error with a one-line message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attnsim::io {

struct ZipEntry {
  std::string name;           // path inside the archive, as stored
  std::vector<uint8_t> data;  // uncompressed contents (CRC already verified)
};

// Largest uncompressed entry accepted (8 GiB); larger claims are refused before allocating.
inline constexpr uint64_t kMaxEntryBytes = uint64_t{8} << 30;

// Decodes every file entry of the archive (directory entries are skipped), in
// central-directory order. 'what' names the archive in error messages.
std::vector<ZipEntry> read_zip(const uint8_t* bytes, size_t n, const std::string& what);

}  // namespace attnsim::io
