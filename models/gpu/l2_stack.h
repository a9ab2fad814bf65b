// LRU stack distance over time buckets, with a miss ramp around the capacity.
//
// An access's distance is the number of distinct bytes touched (hits included) since the same
// key's previous access; an LRU cache of capacity C misses it exactly when the distance
// exceeds C. Real caches (hashed sets, a few ways, not quite LRU) smear that edge, so the
// share of the access that misses is a linear ramp of width w around C:
//   miss(d) = clamp((d - (C - w/2)) / w, 0, 1).
// Bytes are kept per time bucket: each key's bytes sit in the bucket of its last access and
// move on each re-access, so the distance of an access is the sum over the buckets after its
// key's previous one. Buckets are grouped in blocks, and blocks in super-blocks, with running
// sums; a distance is summed from the present backwards and stops once it is past the ramp (a
// sure miss), so the cost follows the reuse distance (over 256 at a time), not the run's length. Accesses must come in time order
// (l2_replay.h sorts them); `horizon_s` bounds their times.
#pragma once

#include <cstdint>
#include <vector>

namespace attnsim {

struct L2StackParams {
  double capacity_bytes = 0;  // distance at which half of an access misses
  double ramp_bytes = 0;      // width of the ramp from no miss to all miss
  double ramp_start_bytes() const { return capacity_bytes - ramp_bytes / 2; }
};

class L2StackDistance {
 public:
  L2StackDistance(int64_t keys, L2StackParams p, double bucket_s, double horizon_s);
  // Key `key` of `bytes` touched at `t_s` (not before earlier calls); returns the share that misses.
  double access(int64_t key, double bytes, double t_s);
  // Bytes touched once at `t_s` (Q loads, O stores): they push older lines away.
  void fill(double bytes, double t_s) { add(bucket_of(t_s), bytes); }
  // Of bytes touched once at `t_s`, the share still resident after everything since.
  double resident_fraction(double t_s) const;

 private:
  static constexpr int64_t kBlock = 16;  // buckets per block, and blocks per super-block
  int64_t bucket_of(double t_s) const;
  void add(int64_t bucket, double bytes);
  // Bytes in buckets later than `bucket` (up to the newest), or more than `cap` once past it.
  double after(int64_t bucket, double cap) const;
  double miss(double distance) const;

  L2StackParams p_;
  double bucket_s_;
  std::vector<double> bucket_bytes_, block_bytes_, super_bytes_;
  int64_t newest_ = 0;
  std::vector<int64_t> last_bucket_;  // per key, -1 = never touched
};

}  // namespace attnsim
