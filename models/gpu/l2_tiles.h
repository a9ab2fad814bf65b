// L2 residency of K/V tiles, so that CTAs of one head reuse what another just
// fetched. Each (batch, KV head) stream keeps, per KV block, the value of a
// global "bytes filled" counter at its last touch; a tile is resident while fewer
// than the usable L2 capacity of bytes have been filled since (LRU by stack
// distance in filled bytes). O(1) per access, no hashing.
#pragma once

#include <cstdint>
#include <cstddef>
#include <vector>

namespace attnsim {

class L2Tiles {
 public:
  L2Tiles(int64_t streams, int64_t tiles_per_stream, double usable_bytes);
  // Returns true on a hit; a miss fills `bytes` into the cache.
  bool access(int64_t stream, int64_t tile, double bytes);
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  int64_t tiles_per_stream_;
  double usable_bytes_;
  double filled_ = 0;
  std::vector<double> touched_;  // fill counter at last touch; < 0 = never
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace attnsim
