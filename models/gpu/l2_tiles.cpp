#include "models/gpu/l2_tiles.h"

#include <limits>
#include <string>

#include "sim/core/error.h"

namespace attnsim {

L2Tiles::L2Tiles(int64_t streams, int64_t tiles_per_stream, double usable_bytes)
    : tiles_per_stream_(tiles_per_stream), usable_bytes_(usable_bytes) {
  const int64_t n = streams * tiles_per_stream;
  if (n > std::numeric_limits<int32_t>::max()) {
    throw Error("too many K/V tiles for the L2 model (" + std::to_string(n) + "); use a larger kv block");
  }
  slot_of_.assign(static_cast<size_t>(n), kAbsent);
  bytes_.assign(static_cast<size_t>(n), 0.0f);
}

void L2Tiles::evict_one() {
  // splitmix64: a fixed sequence, so the same run evicts the same tiles.
  uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const size_t slot = static_cast<size_t>(z % resident_.size());
  const int32_t victim = resident_[slot];
  resident_bytes_ -= bytes_[static_cast<size_t>(victim)];
  const int32_t moved = resident_.back();  // keeps resident_ dense
  resident_[slot] = moved;
  slot_of_[static_cast<size_t>(moved)] = static_cast<int32_t>(slot);
  slot_of_[static_cast<size_t>(victim)] = kAbsent;  // after the move: victim may be the last
  resident_.pop_back();
}

bool L2Tiles::access(int64_t stream, int64_t tile, double bytes) {
  const size_t i = static_cast<size_t>(stream * tiles_per_stream_ + tile);
  if (slot_of_[i] != kAbsent) {
    ++hits_;
    return true;
  }
  ++misses_;
  if (bytes > usable_bytes_) return false;  // streams past a cache too small to hold it
  while (resident_bytes_ + bytes > usable_bytes_) evict_one();
  slot_of_[i] = static_cast<int32_t>(resident_.size());
  resident_.push_back(static_cast<int32_t>(i));
  bytes_[i] = static_cast<float>(bytes);
  resident_bytes_ += bytes;
  return false;
}

}  // namespace attnsim
