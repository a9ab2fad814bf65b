// The optional "timeline" and "mask_grid" result sections (`attnsim run --detail` or
// `--trace`): when each work unit ran on which SM / TensorCore, and a downsampled picture
// of the block mask. The GUI, `attnsim plot` and the trace export draw from them; the
// default result JSON stays without them (golden and determinism tests compare it).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/mask/block_mask.h"
#include "sim/session/session.h"

namespace attnsim {

// One work unit on one lane (an SM or a TensorCore), in kernel time (0 = first unit starts).
struct LaneRecord {
  uint32_t unit;
  uint32_t lane;
  double start_s;
  double end_s;
};

// Records kept in the timeline section before consecutive ones on a track are merged: a
// 128k run has ~10^5 CTAs per batch; 65,536 records keep the section under ~4 MB and the
// Perfetto trace under ~10 MB (docs/gui.md, "Trace export").
inline constexpr int64_t kMaxTimelineRecords = 65536;

// The "timeline" section: records placed on tracks (a lane's resident-unit slots, assigned
// greedily in start order), merged `units_per_record` at a time when over max_records.
nlohmann::ordered_json timeline_json(std::vector<LaneRecord> records, const std::string& lane_kind, int64_t lanes,
                                     int64_t max_records = kMaxTimelineRecords);

// The "mask_grid" section: batch 0, head 0 of the mask, at most max_cells per side; each
// cell holds the percentage of its blocks computed (full or partial) and partial.
nlohmann::ordered_json mask_grid_json(const BlockMask& mask, int64_t max_cells = 128);

// For timing models: adds "timeline" and "mask_grid" to result when the session asked for
// them. Records need unit, sm (the lane), start_s and end_s (the GPU model's CtaRecord).
template <class Records>
void add_unit_timeline(const Session& ses, const Records& records, const char* lane_kind, int64_t lanes,
                       nlohmann::ordered_json& result) {
  if (!ses.record_detail) return;
  std::vector<LaneRecord> r;
  r.reserve(records.size());
  for (const auto& c : records) r.push_back({c.unit, c.sm, c.start_s, c.end_s});
  result["timeline"] = timeline_json(std::move(r), lane_kind, lanes);
  result["mask_grid"] = mask_grid_json(*ses.mask);
}

// For models that only report busy time per lane (the TPU model today): one bar per lane
// from 0 to its busy time, with the note that per-unit times are not recorded.
void add_busy_timeline(const Session& ses, const std::vector<double>& busy_s, const char* lane_kind,
                       nlohmann::ordered_json& result);

}  // namespace attnsim
