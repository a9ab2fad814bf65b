// A traffic time series in fixed buckets where each transfer is spread evenly over its own
// interval. The buckets a transfer covers whole get the same bytes, so they go into a
// difference array (two entries, whatever the interval's length) and are summed once at the
// end; only the two end buckets are added directly.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace attnsim {

class SpreadSeries {
 public:
  explicit SpreadSeries(double bucket_s) : bucket_s_(bucket_s) {}

  // `bytes` spread evenly over [t0_s, t1_s].
  void add(double t0_s, double t1_s, double bytes) {
    const size_t first = static_cast<size_t>(t0_s / bucket_s_);
    const size_t last = std::max(first, static_cast<size_t>(t1_s / bucket_s_));
    if (last + 1 >= direct_.size()) {
      direct_.resize(last + 1024, 0.0);
      step_.resize(last + 1024, 0.0);
    }
    if (first == last) {
      direct_[first] += bytes;
      return;
    }
    const double per_s = bytes / std::max(t1_s - t0_s, 1e-15);
    direct_[first] += per_s * (static_cast<double>(first + 1) * bucket_s_ - t0_s);
    direct_[last] += per_s * std::max(0.0, t1_s - static_cast<double>(last) * bucket_s_);
    if (last > first + 1) {  // whole buckets first + 1 .. last - 1
      step_[first + 1] += per_s * bucket_s_;
      step_[last] -= per_s * bucket_s_;
    }
  }

  // Bytes per bucket.
  std::vector<double> buckets() const {
    std::vector<double> out(direct_.size());
    double level = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      level += step_[i];
      out[i] = std::max(0.0, direct_[i] + level);  // the running level's rounding can leave -0.000...
    }
    return out;
  }

  void clear() {
    direct_.clear();
    step_.clear();
  }

 private:
  double bucket_s_;
  std::vector<double> direct_, step_;
};

}  // namespace attnsim
