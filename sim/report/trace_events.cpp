#include "sim/report/trace_events.h"

#include <cmath>
#include <sstream>

#include "sim/core/error.h"

namespace attnsim {
namespace {

using json = nlohmann::ordered_json;

// Trace Event Format times are microseconds; keep picoseconds (the timeline's resolution).
double us_from_ns(double ns) { return std::round(ns * 1e3) / 1e6; }
double us_from_s(double s) { return std::round(s * 1e12) / 1e6; }

constexpr int kSummaryPid = 0;  // kernel span and bandwidth counters
constexpr int kLanePid = 1;     // one thread track per (lane, slot)

json meta(const char* what, int pid, int tid, const json& args) {
  return {{"name", what}, {"ph", "M"}, {"pid", pid}, {"tid", tid}, {"args", args}};
}

std::string lane_label(const std::string& kind, int64_t lane, int64_t slot, int64_t slots) {
  std::string s = kind + " " + std::to_string(lane);
  return slots > 1 ? s + " slot " + std::to_string(slot) : s;
}

}  // namespace

std::string trace_event_json(const json& result) {
  if (!result.contains("timing") || !result["timing"].contains("kernel_s")) {
    throw Error("--trace needs a timing model: this hardware's architecture has none");
  }
  const json& tl = result.contains("timeline") ? result["timeline"] : json::object();
  const double kernel_s = result["timing"]["kernel_s"].get<double>();
  std::vector<json> events;
  const json& wl = result.contains("workload") ? result["workload"] : json::object();
  const std::string title = wl.value("name", "run") + " on " + wl.value("hardware", "?");
  events.push_back(meta("process_name", kSummaryPid, 0, {{"name", "attnsim: " + title}}));
  events.push_back(meta("process_sort_index", kSummaryPid, 0, {{"sort_index", 0}}));
  events.push_back(meta("thread_name", kSummaryPid, 0, {{"name", "kernel"}}));
  if (!tl.empty()) {
    const std::string kind = tl["lane_kind"].get<std::string>();
    const int64_t per = tl["units_per_record"].get<int64_t>(), slots = tl["slots_per_lane"].get<int64_t>();
    std::string label = kind + "s";
    if (per > 1) label += " (aggregated: up to " + std::to_string(per) + " units per slice)";
    if (!tl["per_unit_times"].get<bool>()) label += " (busy time only)";
    events.push_back(meta("process_name", kLanePid, 0, {{"name", label}}));
    events.push_back(meta("process_sort_index", kLanePid, 0, {{"sort_index", 1}}));
    // Thread names, in track order (records come sorted by lane, slot).
    int64_t last_tid = -1;
    for (const json& r : tl["records"]) {
      const int64_t lane = r[1].get<int64_t>(), slot = r[2].get<int64_t>(), tid = lane * slots + slot + 1;
      if (tid == last_tid) continue;
      last_tid = tid;
      events.push_back(meta("thread_name", kLanePid, static_cast<int>(tid), {{"name", lane_label(kind, lane, slot, slots)}}));
      events.push_back(meta("thread_sort_index", kLanePid, static_cast<int>(tid), {{"sort_index", tid}}));
    }
  }
  events.push_back({{"name", "kernel"}, {"ph", "X"}, {"ts", 0.0}, {"dur", us_from_s(kernel_s)}, {"pid", kSummaryPid},
                    {"tid", 0}, {"args", {{"latency_us", result["timing"].value("latency_us", 0.0)},
                                          {"bound", result["timing"].value("bound", "")}}}});
  if (!tl.empty()) {
    const int64_t slots = tl["slots_per_lane"].get<int64_t>();
    const bool per_unit = tl["per_unit_times"].get<bool>();
    for (const json& r : tl["records"]) {
      const int64_t unit = r[0].get<int64_t>(), n = r[5].get<int64_t>();
      const double start = r[3].get<double>(), end = r[4].get<double>();
      std::string name = !per_unit ? "busy" : n == 1 ? "unit " + std::to_string(unit)
                                                     : "units " + std::to_string(unit) + "+ (" + std::to_string(n) + ")";
      json args = {{"first_unit", unit}, {"units", n}, {"busy_us", us_from_ns(r[6].get<double>())}};
      if (!per_unit) args = {{"busy_us", us_from_ns(r[6].get<double>())}};
      events.push_back({{"name", name}, {"ph", "X"}, {"ts", us_from_ns(start)}, {"dur", us_from_ns(end - start)},
                        {"pid", kLanePid}, {"tid", r[1].get<int64_t>() * slots + r[2].get<int64_t>() + 1},
                        {"args", args}});
    }
  }
  // Bandwidth counters: each series value is the average over its step; a last 0 closes it.
  if (result.contains("series") && result.contains("traffic")) {
    const double step_s = result["series"]["step_s"].get<double>();
    for (const auto& [level, t] : result["traffic"].items()) {
      const std::string key = level + "_bytes_per_s";
      if (!result["series"].contains(key)) continue;
      const json& s = result["series"][key];
      const std::string name = level + " bandwidth (GB/s, peak " +
                               std::to_string(static_cast<int64_t>(std::round(t.value("configured_bytes_per_s", 0.0) / 1e9))) + ")";
      for (size_t i = 0; i <= s.size(); ++i) {
        const double gbps = i < s.size() ? std::round(s[i].get<double>() / 1e6) / 1e3 : 0.0;
        events.push_back({{"name", name}, {"ph", "C"}, {"ts", us_from_s(step_s * static_cast<double>(i))},
                          {"pid", kSummaryPid}, {"tid", 0}, {"args", {{"GB/s", gbps}}}});
      }
    }
  }
  std::ostringstream out;
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":";
  json other = {{"generator", "attnsim run --trace"}, {"workload", title},
                {"timeline", tl.empty() ? "none" : tl["note"].get<std::string>()}};
  out << other.dump() << ",\n\"traceEvents\":[\n";
  for (size_t i = 0; i < events.size(); ++i) out << events[i].dump() << (i + 1 < events.size() ? ",\n" : "\n");
  out << "]}\n";
  return out.str();
}

}  // namespace attnsim
