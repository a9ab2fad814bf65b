#include "models/common/level_traffic.h"

#include <algorithm>
#include <cmath>

namespace attnsim {

void add_traffic_sections(const std::vector<LevelTraffic>& levels, double kernel_s, double series_step_s,
                          nlohmann::ordered_json& result) {
  nlohmann::ordered_json traffic;
  for (const LevelTraffic& l : levels) {
    const double bytes = l.read_bytes + l.write_bytes;
    traffic[l.name] = {{"read_bytes", l.read_bytes},
                       {"write_bytes", l.write_bytes},
                       {"avg_bytes_per_s", bytes / kernel_s},
                       {"peak_bytes_per_s", l.peak_bytes_per_s},
                       {"configured_bytes_per_s", l.bandwidth_bytes_per_s},
                       {"utilization", bytes / kernel_s / l.bandwidth_bytes_per_s}};
  }
  result["traffic"] = traffic;
  nlohmann::ordered_json series;
  series["step_s"] = series_step_s;
  for (const LevelTraffic& l : levels) series[l.name + "_bytes_per_s"] = l.series_bytes_per_s;
  result["series"] = series;
}

std::vector<double> downsample_series(const std::vector<double>& bucket_bytes, double bucket_s, int64_t max_points,
                                      double end_s, double* step_s) {
  const size_t used = std::min(bucket_bytes.size(), static_cast<size_t>(std::ceil(end_s / bucket_s)) + 1);
  const size_t points = static_cast<size_t>(max_points);
  const size_t group = std::max<size_t>(1, (used + points - 1) / points);
  *step_s = bucket_s * static_cast<double>(group);
  std::vector<double> out;
  for (size_t i = 0; i < used; i += group) {
    double sum = 0;
    for (size_t j = i; j < std::min(used, i + group); ++j) sum += bucket_bytes[j];
    out.push_back(sum / *step_s);
  }
  return out;
}

}  // namespace attnsim
