#include "models/common/bandwidth_server.h"

#include <algorithm>
#include <cmath>

#include "sim/core/error.h"

namespace attnsim {

BandwidthServer::BandwidthServer(std::string name, double bytes_per_s, double bucket_s)
    : name_(std::move(name)), bytes_per_s_(bytes_per_s), bucket_s_(bucket_s), capacity_(bytes_per_s * bucket_s) {
  if (!(bytes_per_s > 0) || !(bucket_s > 0)) throw Error("bandwidth server '" + name_ + "' needs positive rates");
}

double BandwidthServer::transfer(double start_s, double bytes) {
  if (bytes <= 0) return start_s;
  total_bytes_ += bytes;
  size_t i = static_cast<size_t>(std::max(0.0, start_s) / bucket_s_);
  double remaining = bytes;
  double done_s = start_s;
  while (remaining > 0) {
    if (i >= used_.size()) {
      used_.resize(std::max(i + 1, used_.size() * 2 + 64), 0.0);
      block_used_.resize(used_.size() / kBlock + 1, 0.0);
    }
    // In the first bucket only the time after start_s is usable.
    const double bucket_start = static_cast<double>(i) * bucket_s_;
    const double usable = std::min(capacity_, capacity_ * (bucket_start + bucket_s_ - start_s) / bucket_s_);
    const double take = std::min(remaining, std::max(0.0, usable - used_[i]));
    if (take > 0) {
      used_[i] += take;
      block_used_[i / kBlock] += take;
      remaining -= take;
      done_s = std::max(start_s, bucket_start + bucket_s_ * used_[i] / capacity_);
    }
    if (remaining > 0) ++i;
  }
  return done_s;
}

void BandwidthServer::scale(double factor) {
  for (double& b : used_) b *= factor;
  for (double& b : block_used_) b *= factor;
  total_bytes_ *= factor;
}

double BandwidthServer::peak_bytes_per_s() const {
  double peak = 0;
  for (double u : used_) peak = std::max(peak, u);
  return peak / bucket_s_;
}

double BandwidthServer::utilization(double t_s, double window_s, double reference_bytes_per_s) const {
  const double lo = std::max(0.0, t_s - window_s);
  if (t_s <= lo) return 0.0;
  const size_t first = static_cast<size_t>(lo / bucket_s_);
  const size_t last = std::min(used_.size(), static_cast<size_t>(std::ceil(t_s / bucket_s_)));
  if (first >= last) return 0.0;
  // The two end buckets count by their share inside the window; the ones between whole, a
  // block at a time where a block lies wholly inside.
  auto share = [&](size_t i) {
    const double b0 = static_cast<double>(i) * bucket_s_;
    return used_[i] * std::max(0.0, std::min(t_s, b0 + bucket_s_) - std::max(lo, b0)) / bucket_s_;
  };
  double bytes = share(first);
  if (last - 1 > first) bytes += share(last - 1);
  size_t i = first + 1;
  for (; i < last - 1 && i % kBlock != 0; ++i) bytes += used_[i];
  for (; i + kBlock <= last - 1; i += kBlock) bytes += block_used_[i / kBlock];
  for (; i < last - 1; ++i) bytes += used_[i];
  return bytes / (reference_bytes_per_s * (t_s - lo));
}

}  // namespace attnsim
