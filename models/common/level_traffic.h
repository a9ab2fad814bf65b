// What one memory level carried in a timed run, and how the timing models report it:
// the "traffic" and "series" sections of the result, the same for every architecture.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnsim {

struct LevelTraffic {
  std::string name;
  double read_bytes = 0;
  double write_bytes = 0;
  double peak_bytes_per_s = 0;
  double bandwidth_bytes_per_s = 0;        // configured peak (x efficiency for dram), all instances
  std::vector<double> series_bytes_per_s;  // average bandwidth per series step
};

// Adds result["traffic"] (bytes, average/peak/configured bandwidth, utilisation per level) and
// result["series"] (step and per-level bandwidth series).
void add_traffic_sections(const std::vector<LevelTraffic>& levels, double kernel_s, double series_step_s,
                          nlohmann::ordered_json& result);

// A bucketed byte series (BandwidthServer::bucket_bytes) as at most `max_points` average
// bandwidths up to `end_s`; *step_s receives the step of the returned series.
std::vector<double> downsample_series(const std::vector<double>& bucket_bytes, double bucket_s, int64_t max_points,
                                      double end_s, double* step_s);

}  // namespace attnsim
