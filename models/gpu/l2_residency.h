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

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace attnsim {

class L2Residency {
 public:
  L2Residency(int64_t streams, int64_t tiles_per_stream, double usable_bytes);
  // A K/V tile of `bytes` read when `ahead_bytes` more will have been filled than now;
  // returns the bytes that miss (and fill the cache).
  double access(int64_t stream, int64_t tile, double bytes, double ahead_bytes = 0) {
    double& mark = last_mark_[static_cast<size_t>(stream * tiles_per_stream_ + tile)];
    return step(mark, bytes, ahead_bytes, filled_bytes_, hits_, misses_);
  }
  // A chunk's tiles `blocks[0..n)` (last to first if `descending`) of `bytes_of(block)` each,
  // read `interval_s` apart while the cache fills at `fill_rate` bytes/s: access() for each in
  // turn (the k-th `fill_rate * k * interval_s` ahead), on local counters. Adds every tile's
  // bytes to `all_bytes`; returns the bytes that miss.
  template <class BytesOf>
  double access_chunk(int64_t stream, const uint32_t* blocks, uint32_t n, bool descending, double fill_rate,
                      double interval_s, const BytesOf& bytes_of, double& all_bytes) {
    double* marks = last_mark_.data() + stream * tiles_per_stream_;
    double filled = filled_bytes_, hits = hits_, misses = misses_, miss_bytes = 0, all = all_bytes;
    for (uint32_t k = 0; k < n; ++k) {
      const uint32_t block = blocks[descending ? n - 1 - k : k];
      const double b = bytes_of(block);
      all += b;
      miss_bytes += step(marks[block], b, fill_rate * k * interval_s, filled, hits, misses);
    }
    filled_bytes_ = filled;
    hits_ = hits;
    misses_ = misses;
    all_bytes = all;
    return miss_bytes;
  }
  // Bytes entering the cache that no K/V access will re-read (Q loads, O stores).
  void fill(double bytes) { filled_bytes_ += bytes; }
  // Of bytes filled when the fill counter read `mark`, the fraction still resident now.
  double resident_fraction(double mark) const;
  double filled_bytes() const { return filled_bytes_; }
  double hits() const { return hits_; }  // expected tile accesses that hit
  double misses() const { return misses_; }

 private:
  // One tile access against counters passed in (the members, or a chunk's local copies).
  double step(double& mark, double bytes, double ahead_bytes, double& filled, double& hits, double& misses) const {
    double miss = 1.0;
    if (mark >= 0 && bytes <= usable_bytes_) {
      // Seen before: survived the fills since, counted at the time of this access. A tile
      // announced further ahead by another CTA than this access is still resident.
      const double evicting = filled + ahead_bytes - std::max(mark, usable_bytes_);
      miss = evicting <= 0 ? 0.0 : 1.0 - std::exp(-evicting / usable_bytes_);
    }
    hits += 1.0 - miss;
    misses += miss;
    mark = std::max(mark, filled + ahead_bytes);
    filled += miss * bytes;
    return miss * bytes;
  }

  int64_t tiles_per_stream_;
  double usable_bytes_;
  double filled_bytes_ = 0;
  std::vector<double> last_mark_;  // per tile: fill counter at its last access, or -1 (never)
  double hits_ = 0, misses_ = 0;
};

}  // namespace attnsim
