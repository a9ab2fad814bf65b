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
  const auto buckets = static_cast<size_t>(std::ceil(horizon_s / bucket_s)) + 1;
  bucket_bytes_.assign(buckets, 0.0);
  block_bytes_.assign(buckets / kBlock + 1, 0.0);
  super_bytes_.assign(buckets / (kBlock * kBlock) + 1, 0.0);
  last_bucket_.assign(static_cast<size_t>(keys), -1);
}

int64_t L2StackDistance::bucket_of(double t_s) const {
  return std::clamp<int64_t>(static_cast<int64_t>(t_s / bucket_s_), 0, static_cast<int64_t>(bucket_bytes_.size()) - 1);
}

void L2StackDistance::add(int64_t bucket, double bytes) {
  bucket_bytes_[static_cast<size_t>(bucket)] += bytes;
  block_bytes_[static_cast<size_t>(bucket / kBlock)] += bytes;
  super_bytes_[static_cast<size_t>(bucket / (kBlock * kBlock))] += bytes;
  newest_ = std::max(newest_, bucket);
}

double L2StackDistance::after(int64_t bucket, double cap) const {
  // From the newest bucket back to `bucket`'s: the newest block's buckets, the newest super-
  // block's blocks, whole super-blocks, then the first super-block's blocks and the first
  // block's buckets. Sums of whole bytes are exact in any order, so the grouping does not show;
  // a sampled replay's fractional shares can differ from a bucket-by-bucket sum in the last bits.
  double sum = 0;
  const int64_t first_block = bucket / kBlock, newest_block = newest_ / kBlock;
  if (first_block == newest_block) {
    for (int64_t b = bucket + 1; b <= newest_; ++b) sum += bucket_bytes_[static_cast<size_t>(b)];
    return std::max(0.0, sum);
  }
  for (int64_t b = newest_block * kBlock; b <= newest_; ++b) sum += bucket_bytes_[static_cast<size_t>(b)];
  const int64_t first_super = first_block / kBlock, newest_super = newest_block / kBlock;
  if (first_super == newest_super) {
    for (int64_t k = newest_block - 1; k > first_block; --k) {
      sum += block_bytes_[static_cast<size_t>(k)];
      if (sum > cap) return sum;
    }
  } else {
    for (int64_t k = newest_block - 1; k >= newest_super * kBlock; --k) {
      sum += block_bytes_[static_cast<size_t>(k)];
      if (sum > cap) return sum;
    }
    for (int64_t k = newest_super - 1; k > first_super; --k) {
      sum += super_bytes_[static_cast<size_t>(k)];
      if (sum > cap) return sum;
    }
    for (int64_t k = (first_super + 1) * kBlock - 1; k > first_block; --k) {
      sum += block_bytes_[static_cast<size_t>(k)];
      if (sum > cap) return sum;
    }
  }
  for (int64_t b = bucket + 1; b < (first_block + 1) * kBlock; ++b) sum += bucket_bytes_[static_cast<size_t>(b)];
  return std::max(0.0, sum);
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
    m = miss(after(last, p_.capacity_bytes + p_.ramp_bytes));
    add(last, -bytes);
  }
  add(b, bytes);
  last = b;
  return m;
}

double L2StackDistance::resident_fraction(double t_s) const {
  return 1.0 - miss(after(bucket_of(t_s), p_.capacity_bytes + p_.ramp_bytes));
}

}  // namespace attnsim
