#include "models/gpu/l2_stack.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "sim/core/error.h"

namespace attnsim {

L2StackDistance::L2StackDistance(int64_t keys, L2StackParams p, double bucket_s, double horizon_s)
    : p_(p), bucket_s_(bucket_s) {
  if (keys > std::numeric_limits<int32_t>::max()) {
    throw Error("too many K/V tiles for the L2 model (" + std::to_string(keys) + "); use a larger kv block");
  }
  fenwick_.assign(static_cast<size_t>(std::ceil(horizon_s / bucket_s)) + 2, 0.0);
  last_bucket_.assign(static_cast<size_t>(keys), -1);
}

int64_t L2StackDistance::bucket_of(double t_s) const {
  return std::clamp<int64_t>(static_cast<int64_t>(t_s / bucket_s_), 0, static_cast<int64_t>(fenwick_.size()) - 2);
}

void L2StackDistance::add(int64_t bucket, double bytes) {
  total_ += bytes;
  for (size_t i = static_cast<size_t>(bucket) + 1; i < fenwick_.size(); i += i & (~i + 1)) fenwick_[i] += bytes;
}

double L2StackDistance::after(int64_t bucket) const {
  double upto = 0;  // bytes in buckets [0, bucket]
  for (size_t i = static_cast<size_t>(bucket) + 1; i > 0; i -= i & (~i + 1)) upto += fenwick_[i];
  return std::max(0.0, total_ - upto);
}

double L2StackDistance::miss(double d) const {
  if (p_.ramp_bytes <= 0) return d < p_.capacity_bytes ? 0.0 : 1.0;
  return std::clamp((d - p_.ramp_start_bytes()) / p_.ramp_bytes, 0.0, 1.0);
}

double L2StackDistance::access(int64_t key, double bytes, double t_s) {
  int64_t& last = last_bucket_[static_cast<size_t>(key)];
  const int64_t b = bucket_of(t_s);
  if (last >= b) return 0.0;  // touched in this bucket already: resident, and stays put
  double m = 1.0;
  if (last >= 0) {
    m = miss(after(last));
    add(last, -bytes);
  }
  add(b, bytes);
  last = b;
  return m;
}

double L2StackDistance::resident_fraction(double t_s) const { return 1.0 - miss(after(bucket_of(t_s))); }

}  // namespace attnsim
