#include "sim/report/timeline.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace attnsim {
namespace {

// Picoseconds are below any modelled latency; rounding keeps the JSON short and stable.
double ns_rounded(double s) { return std::round(s * 1e12) / 1e3; }

struct Placed {
  LaneRecord r;
  uint32_t slot;
};

// Per lane, each record goes to the lowest slot free at its start (interval partitioning),
// so records on one (lane, slot) track never overlap: the trace's slices nest properly.
std::vector<Placed> place(std::vector<LaneRecord> records, int64_t* slots_per_lane) {
  std::sort(records.begin(), records.end(), [](const LaneRecord& a, const LaneRecord& b) {
    if (a.lane != b.lane) return a.lane < b.lane;
    if (a.start_s != b.start_s) return a.start_s < b.start_s;
    return a.unit < b.unit;
  });
  std::vector<Placed> out;
  out.reserve(records.size());
  std::vector<double> slot_free_s;
  uint32_t lane = UINT32_MAX;
  *slots_per_lane = 0;
  for (const LaneRecord& r : records) {
    if (r.lane != lane) lane = r.lane, slot_free_s.clear();
    size_t s = 0;
    while (s < slot_free_s.size() && slot_free_s[s] > r.start_s) ++s;
    if (s == slot_free_s.size()) slot_free_s.push_back(0);
    slot_free_s[s] = r.end_s;
    *slots_per_lane = std::max<int64_t>(*slots_per_lane, static_cast<int64_t>(slot_free_s.size()));
    out.push_back({r, static_cast<uint32_t>(s)});
  }
  // Track order (lane, slot), then time: what the trace and the views walk.
  std::stable_sort(out.begin(), out.end(), [](const Placed& a, const Placed& b) {
    return a.r.lane != b.r.lane ? a.r.lane < b.r.lane : a.slot < b.slot;
  });
  return out;
}

}  // namespace

nlohmann::ordered_json timeline_json(std::vector<LaneRecord> records, const std::string& lane_kind, int64_t lanes,
                                     int64_t max_records) {
  const int64_t units = static_cast<int64_t>(records.size());
  int64_t slots = 0;
  const std::vector<Placed> placed = place(std::move(records), &slots);
  const int64_t per = std::max<int64_t>(1, (units + max_records - 1) / max_records);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t i = 0; i < placed.size();) {
    // Merge up to `per` consecutive records of one track; never across tracks.
    size_t j = i;
    double busy_s = 0;
    while (j < placed.size() && j - i < static_cast<size_t>(per) && placed[j].r.lane == placed[i].r.lane &&
           placed[j].slot == placed[i].slot) {
      busy_s += placed[j].r.end_s - placed[j].r.start_s;
      ++j;
    }
    const LaneRecord& a = placed[i].r;
    rows.push_back({a.unit, a.lane, placed[i].slot, ns_rounded(a.start_s), ns_rounded(placed[j - 1].r.end_s),
                    static_cast<int64_t>(j - i), ns_rounded(busy_s)});
    i = j;
  }
  nlohmann::ordered_json t;
  t["lane_kind"] = lane_kind;
  t["lanes"] = lanes;
  t["slots_per_lane"] = slots;
  t["units"] = units;
  t["units_per_record"] = per;
  t["per_unit_times"] = true;
  t["note"] = per > 1 ? "aggregated: up to " + std::to_string(per) + " consecutive units of a track per record, to stay within " +
                            std::to_string(max_records) + " records"
                      : "one record per work unit";
  t["columns"] = {"unit", "lane", "slot", "start_ns", "end_ns", "units", "busy_ns"};
  t["records"] = std::move(rows);
  return t;
}

nlohmann::ordered_json mask_grid_json(const BlockMask& mask, int64_t max_cells) {
  const BlockGeometry& g = mask.geometry();
  const int64_t qb = g.q_blocks(), kb = g.kv_blocks();
  const int64_t q_per = std::max<int64_t>(1, (qb + max_cells - 1) / max_cells);
  const int64_t k_per = std::max<int64_t>(1, (kb + max_cells - 1) / max_cells);
  const int64_t rows = (qb + q_per - 1) / q_per, cols = (kb + k_per - 1) / k_per;
  std::vector<int64_t> computed(static_cast<size_t>(rows * cols), 0), partial(computed.size(), 0);
  for (int64_t q = 0; q < qb; ++q) {
    const BlockRow row = mask.row(0, 0, q);
    for (uint32_t i = 0; i < row.size; ++i) {
      const size_t cell = static_cast<size_t>((q / q_per) * cols + row.kv_block[i] / k_per);
      ++computed[cell];
      partial[cell] += row.partial[i] != 0;
    }
  }
  nlohmann::ordered_json c = nlohmann::ordered_json::array(), p = nlohmann::ordered_json::array();
  for (int64_t r = 0; r < rows; ++r) {
    nlohmann::ordered_json cr = nlohmann::ordered_json::array(), pr = nlohmann::ordered_json::array();
    for (int64_t k = 0; k < cols; ++k) {
      // Blocks in this cell (edge cells hold fewer).
      const int64_t n = (std::min(qb, (r + 1) * q_per) - r * q_per) * (std::min(kb, (k + 1) * k_per) - k * k_per);
      const size_t cell = static_cast<size_t>(r * cols + k);
      // Percent, rounded so that any computed block shows (a cell with 1 of 64 is not "skipped").
      auto pct = [n](int64_t x) { return x == 0 ? 0 : std::max<int64_t>(1, (100 * x + n / 2) / n); };
      cr.push_back(pct(computed[cell]));
      pr.push_back(pct(partial[cell]));
    }
    c.push_back(std::move(cr));
    p.push_back(std::move(pr));
  }
  nlohmann::ordered_json m;
  m["batch"] = 0;
  m["head"] = 0;
  m["q_blocks"] = qb;
  m["kv_blocks"] = kb;
  m["q_blocks_per_cell"] = q_per;
  m["kv_blocks_per_cell"] = k_per;
  m["note"] = q_per * k_per > 1 ? "downsampled: each cell covers " + std::to_string(q_per) + " x " +
                                      std::to_string(k_per) + " blocks"
                                : "one cell per block";
  m["computed_percent"] = std::move(c);
  m["partial_percent"] = std::move(p);
  return m;
}

void add_busy_timeline(const Session& ses, const std::vector<double>& busy_s, const char* lane_kind,
                       nlohmann::ordered_json& result) {
  if (!ses.record_detail) return;
  std::vector<LaneRecord> r;
  for (size_t i = 0; i < busy_s.size(); ++i) r.push_back({0, static_cast<uint32_t>(i), 0.0, busy_s[i]});
  nlohmann::ordered_json t = timeline_json(std::move(r), lane_kind, static_cast<int64_t>(busy_s.size()));
  t["units"] = ses.trace->totals().units;
  t["per_unit_times"] = false;
  t["note"] = "busy time per lane only: this timing model does not record per-unit times";
  result["timeline"] = std::move(t);
  result["mask_grid"] = mask_grid_json(*ses.mask);
}

}  // namespace attnsim
