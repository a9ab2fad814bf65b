// A shared bandwidth resource (HBM, L2) as a sequence of time buckets, each able
// to carry bandwidth x bucket bytes. A transfer fills buckets from its start time
// on; its completion is where its last byte lands. Because capacity is reserved
// per bucket, requests may arrive out of time order (temporal decoupling) and
// still share the bandwidth fairly. The filled buckets are the traffic time series.
#pragma once

#include <string>
#include <vector>

namespace attnsim {

class BandwidthServer {
 public:
  BandwidthServer(std::string name, double bytes_per_s, double bucket_s);

  // Moves `bytes` starting no earlier than start_s; returns the completion time (s).
  double transfer(double start_s, double bytes);

  const std::string& name() const { return name_; }
  double bytes_per_s() const { return bytes_per_s_; }
  double bucket_s() const { return bucket_s_; }
  double total_bytes() const { return total_bytes_; }
  const std::vector<double>& bucket_bytes() const { return used_; }
  double peak_bytes_per_s() const;  // busiest bucket
  // Scales every bucket (a correction of the carried bytes that keeps their timing).
  void scale(double factor);
  // Bytes carried in [t_s - window_s, t_s) over what `reference_bytes_per_s` could carry then.
  double utilization(double t_s, double window_s, double reference_bytes_per_s) const;

 private:
  std::string name_;
  double bytes_per_s_;
  double bucket_s_;
  double capacity_;  // bytes per bucket
  double total_bytes_ = 0;
  std::vector<double> used_;
  // Sums of kBlock buckets, so that a utilization window over many buckets costs its blocks.
  static constexpr size_t kBlock = 16;
  std::vector<double> block_used_;
};

}  // namespace attnsim
