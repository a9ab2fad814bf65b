// L2 residency of K/V tiles, so that CTAs of one head reuse what another fetched.
//
// The H100's L2 behaves like random replacement, not LRU: a cyclic re-read of 64 MiB and
// 96 MiB still hits ~85% and ~57% of the time (validation/h100/data/micro/l2_bandwidth.jsonl).
// Under random replacement a resident line survives each fill of b bytes into a full cache
// of C bytes with probability 1 - b/C, so after F bytes of fills it is still there with
// probability exp(-F/C) (Che's characteristic-time approximation, exact in the large-cache
// limit). This class keeps that expectation per tile instead of drawing evictions: each tile
// remembers the cache's fill counter at its last access, and an access misses the fraction
// 1 - exp(-F_between/C). Fills count every byte that enters L2 (K/V misses, Q loads, O
// stores), and fills made before the cache is full evict nothing. No random numbers, O(1)
// per access, and accesses can be placed ahead of the caller's clock (`ahead_bytes`), so a
// CTA that announces a chunk of tiles at once still sees each one at its own time.
#pragma once

#include <cstdint>
#include <vector>

namespace attnsim {

class L2Residency {
 public:
  L2Residency(int64_t streams, int64_t tiles_per_stream, double usable_bytes);
  // A K/V tile of `bytes` read when `ahead_bytes` more will have been filled than now;
  // returns the bytes that miss (and fill the cache).
  double access(int64_t stream, int64_t tile, double bytes, double ahead_bytes = 0);
  // Bytes entering the cache that no K/V access will re-read (Q loads, O stores).
  void fill(double bytes) { filled_bytes_ += bytes; }
  // Of bytes filled when the fill counter read `mark`, the fraction still resident now.
  double resident_fraction(double mark) const;
  double filled_bytes() const { return filled_bytes_; }
  double hits() const { return hits_; }  // expected tile accesses that hit
  double misses() const { return misses_; }

 private:
  int64_t tiles_per_stream_;
  double usable_bytes_;
  double filled_bytes_ = 0;
  std::vector<double> last_mark_;  // per tile: fill counter at its last access, or -1 (never)
  double hits_ = 0, misses_ = 0;
};

}  // namespace attnsim
