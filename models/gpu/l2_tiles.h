// L2 residency of K/V tiles, so that CTAs of one head reuse what another just
// fetched. The H100's L2 does not behave like an LRU: a cyclic re-read of 64 MiB
// and 96 MiB still hits ~85% and ~57% of the time (validation/h100/data/micro/
// l2_bandwidth.jsonl), close to random replacement's capacity/footprint. So a
// miss evicts a pseudo-randomly chosen resident tile (a fixed-seed generator keeps
// runs byte-identical). O(1) per access, no hashing.
#pragma once

#include <cstdint>
#include <cstddef>
#include <vector>

namespace attnsim {

class L2Tiles {
 public:
  L2Tiles(int64_t streams, int64_t tiles_per_stream, double usable_bytes);
  // Returns true on a hit; a miss fills `bytes`, evicting random residents until it fits.
  bool access(int64_t stream, int64_t tile, double bytes);
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  static constexpr int32_t kAbsent = -1;
  void evict_one();

  int64_t tiles_per_stream_;
  double usable_bytes_;
  double resident_bytes_ = 0;
  std::vector<int32_t> slot_of_;    // per tile: index in resident_, or kAbsent
  std::vector<int32_t> resident_;   // tiles now in the cache
  std::vector<float> bytes_;        // per tile, while resident
  uint64_t rng_state_ = 0x9e3779b97f4a7c15ULL;
  int64_t hits_ = 0, misses_ = 0;
};

}  // namespace attnsim
