// What the charts draw, read from a result document (`attnsim run --json [--detail]`) or a
// table of sweep points. `attnsim plot` and the GUI both read through here, so they show
// the same numbers; every reader throws attnsim::Error naming what is missing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace attnsim {

// Colours shared by the plots and the GUI (0xRRGGBB): memory levels innermost first, and
// the alternating colours of successive waves of work units.
inline constexpr uint32_t kLevelRgb[] = {0x1f77b4, 0xd62728, 0x2ca02c, 0x9467bd, 0x8c564b};
inline constexpr uint32_t kWaveRgb[] = {0x4e79a7, 0xf28e2b, 0x59a14f, 0xe15759, 0x76b7b2, 0xedc948};

// Bandwidth over time at one memory level ("series" and "traffic" sections).
struct LevelSeries {
  std::string level;
  double step_s = 0;
  std::vector<double> bytes_per_s;     // average over [i step, (i + 1) step)
  double configured_bytes_per_s = 0;   // the level's peak as configured (x efficiency for DRAM)
};
std::vector<LevelSeries> traffic_series(const nlohmann::ordered_json& result);

// Hierarchical roofline: the matrix-unit peak, and per level its bandwidth ceiling and where
// the run sits (executed FLOPs over that level's bytes; FLOP/s over the kernel time).
struct RooflineLevel {
  std::string level;
  double bytes_per_s = 0;            // ceiling slope
  double intensity_flop_per_byte = 0;
};
struct Roofline {
  double peak_flops_per_s = 0;       // from the matrix-unit utilisation (executed / (peak x kernel time))
  double executed_flops_per_s = 0;
  double useful_flops_per_s = 0;
  std::string bound;
  std::vector<RooflineLevel> levels;  // innermost first; the last is device memory
};
Roofline roofline(const nlohmann::ordered_json& result);

// "mask_grid" (sim/report/timeline.h): percent computed / partial per cell.
struct MaskGrid {
  int64_t rows = 0, cols = 0;
  int64_t q_blocks_per_cell = 1, kv_blocks_per_cell = 1;
  std::vector<int> computed_percent, partial_percent;  // row-major
  std::string note;
};
MaskGrid mask_grid(const nlohmann::ordered_json& result);
// A cell's colour, 0xRRGGBB: grey skipped, blue computed without and orange with an element
// mask, blended by the cell's fractions (downsampled cells mix them).
uint32_t mask_cell_rgb(int computed_percent, int partial_percent);

// "timeline": one bar per record on its (lane, slot) track.
struct TimelineBar {
  int64_t unit, lane, slot, units;
  double start_s, end_s;
};
struct Timeline {
  std::string lane_kind;
  int64_t lanes = 0, slots_per_lane = 1, units = 0, units_per_record = 1;
  bool per_unit_times = true;
  double kernel_s = 0;
  std::string note;
  std::vector<TimelineBar> bars;
};
Timeline timeline(const nlohmann::ordered_json& result);

// A table of sweep points: CSV with a header row, or JSON (an array of flat objects, or an
// object whose "points" or "rows" is one). Cells keep their text.
struct PointTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  int column(const std::string& name) const;  // throws listing the columns
};
PointTable read_point_table(const std::string& path);

// "workload on hardware", for titles.
std::string run_title(const nlohmann::ordered_json& result);

// Parses a result file: one clear error for a missing file or malformed JSON.
nlohmann::ordered_json read_result_file(const std::string& path);

}  // namespace attnsim
