#include "sim/plot/plot_data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/core/error.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace {

using json = nlohmann::ordered_json;

const json& need(const json& j, const std::string& key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw Error("result has no '" + where + key + "'");
  return j[key];
}

double number(const json& j, const std::string& key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_number()) throw Error("result: '" + where + key + "' is not a number");
  return v.get<double>();
}

const json& detail_section(const json& result, const std::string& name) {
  if (!result.contains(name)) {
    throw Error("result has no '" + name + "' section; rerun 'attnsim run' with --detail");
  }
  return result[name];
}

std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cell += '"', ++i;
      else if (c == '"') quoted = false;
      else cell += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cell), cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  cells.push_back(cell);
  return cells;
}

// Numbers and booleans as JSON writes them; strings bare; nested values as JSON text (never a number).
std::string cell_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump(); }

}  // namespace

std::vector<LevelSeries> traffic_series(const json& result) {
  const json& series = need(result, "series", "");
  const json& traffic = need(result, "traffic", "");
  const double step = number(series, "step_s", "series.");
  std::vector<LevelSeries> out;
  for (const auto& [level, t] : traffic.items()) {
    LevelSeries s;
    s.level = level;
    s.step_s = step;
    s.configured_bytes_per_s = number(t, "configured_bytes_per_s", "traffic." + level + ".");
    const json& v = need(series, level + "_bytes_per_s", "series.");
    for (const json& x : v) s.bytes_per_s.push_back(x.get<double>());
    out.push_back(std::move(s));
  }
  if (out.empty()) throw Error("result has no memory levels in 'traffic'");
  return out;
}

Roofline roofline(const json& result) {
  const json& t = need(result, "timing", "");
  Roofline r;
  const double latency_s = number(t, "latency_s", "timing."), kernel_s = number(t, "kernel_s", "timing.");
  const double executed_flops = number(t, "executed_tflops", "timing.") * 1e12 * latency_s;
  double util = -1;
  for (const char* k : kMatrixUtilizationKeys) {
    if (t.contains(k)) util = t[k].get<double>();
  }
  if (!(util > 0) || !(kernel_s > 0)) throw Error("result has no matrix-unit utilisation to place a roofline");
  r.peak_flops_per_s = executed_flops / (util * kernel_s);
  r.executed_flops_per_s = executed_flops / kernel_s;
  r.useful_flops_per_s = number(t, "achieved_tflops", "timing.") * 1e12 * latency_s / kernel_s;
  r.bound = t.value("bound", "");
  for (const auto& [level, l] : need(result, "traffic", "").items()) {
    const std::string where = "traffic." + level + ".";
    const double bytes = number(l, "read_bytes", where) + number(l, "write_bytes", where);
    r.levels.push_back({level, number(l, "configured_bytes_per_s", where), bytes > 0 ? executed_flops / bytes : 0});
  }
  return r;
}

MaskGrid mask_grid(const json& result) {
  const json& m = detail_section(result, "mask_grid");
  MaskGrid g;
  const json& c = need(m, "computed_percent", "mask_grid.");
  const json& p = need(m, "partial_percent", "mask_grid.");
  g.rows = static_cast<int64_t>(c.size());
  g.cols = g.rows > 0 ? static_cast<int64_t>(c[0].size()) : 0;
  if (p.size() != c.size()) throw Error("result: mask_grid.partial_percent and computed_percent differ in rows");
  for (size_t r = 0; r < c.size(); ++r) {
    if (static_cast<int64_t>(c[r].size()) != g.cols || p[r].size() != c[r].size()) {
      throw Error("result: mask_grid row " + std::to_string(r) + " has the wrong length");
    }
    for (size_t k = 0; k < c[r].size(); ++k) {
      g.computed_percent.push_back(c[r][k].get<int>());
      g.partial_percent.push_back(p[r][k].get<int>());
    }
  }
  g.q_blocks_per_cell = m.value("q_blocks_per_cell", int64_t{1});
  g.kv_blocks_per_cell = m.value("kv_blocks_per_cell", int64_t{1});
  g.note = m.value("note", "");
  return g;
}

uint32_t mask_cell_rgb(int computed_percent, int partial_percent) {
  constexpr double skipped[3] = {232, 232, 232}, full[3] = {31, 78, 161}, partial[3] = {240, 130, 20};
  const double c = std::clamp(computed_percent, 0, 100) / 100.0;
  const double p = std::min(c, std::clamp(partial_percent, 0, 100) / 100.0);
  uint32_t rgb = 0;
  for (int i = 0; i < 3; ++i) {
    const double v = skipped[i] * (1 - c) + full[i] * (c - p) + partial[i] * p;
    rgb = rgb << 8 | static_cast<uint32_t>(std::lround(v));
  }
  return rgb;
}

Timeline timeline(const json& result) {
  const json& t = detail_section(result, "timeline");
  Timeline tl;
  tl.lane_kind = t.value("lane_kind", "lane");
  tl.lanes = t.value("lanes", int64_t{0});
  tl.slots_per_lane = std::max<int64_t>(1, t.value("slots_per_lane", int64_t{1}));
  tl.units = t.value("units", int64_t{0});
  tl.units_per_record = t.value("units_per_record", int64_t{1});
  tl.per_unit_times = t.value("per_unit_times", true);
  tl.note = t.value("note", "");
  tl.kernel_s = number(need(result, "timing", ""), "kernel_s", "timing.");
  for (const json& r : need(t, "records", "timeline.")) {
    if (!r.is_array() || r.size() < 6) throw Error("result: timeline.records must be arrays of 7 numbers");
    tl.bars.push_back({r[0].get<int64_t>(), r[1].get<int64_t>(), r[2].get<int64_t>(), r[5].get<int64_t>(),
                       r[3].get<double>() * 1e-9, r[4].get<double>() * 1e-9});
  }
  return tl;
}

int PointTable::column(const std::string& name) const {
  std::string all;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
    all += (i ? ", " : "") + columns[i];
  }
  throw Error("no column '" + name + "' in the points (columns: " + all + ")");
}

PointTable read_point_table(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot read (does the file exist?)");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  PointTable t;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw Error(path + ": empty; expected CSV with a header row or JSON points");
  if (text[first] == '[' || text[first] == '{') {
    json doc;
    try {
      doc = json::parse(text);
    } catch (const json::parse_error& e) {
      throw Error(path + ": not valid JSON (" + std::string(e.what()).substr(0, 120) + ")");
    }
    const json& pts = !doc.is_object() ? doc : doc.contains("points") ? doc["points"] : doc.contains("rows") ? doc["rows"] : json();
    if (!pts.is_array()) throw Error(path + ": JSON points must be an array of objects, or an object with \"points\" or \"rows\"");
    for (const json& p : pts) {
      if (!p.is_object()) throw Error(path + ": every point must be an object of column: value");
      for (const auto& [k, v] : p.items()) {
        if (std::find(t.columns.begin(), t.columns.end(), k) == t.columns.end()) t.columns.push_back(k);
      }
    }
    for (const json& p : pts) {
      std::vector<std::string> row;
      for (const std::string& c : t.columns) row.push_back(p.contains(c) ? cell_text(p[c]) : "");
      t.rows.push_back(std::move(row));
    }
  } else {
    std::istringstream in(text);
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
      std::vector<std::string> cells = csv_cells(line);
      if (t.columns.empty()) {
        t.columns = cells;
        continue;
      }
      if (cells.size() != t.columns.size()) {
        throw Error(path + ":" + std::to_string(line_no) + ": " + std::to_string(cells.size()) + " cells, the header has " +
                    std::to_string(t.columns.size()));
      }
      t.rows.push_back(std::move(cells));
    }
  }
  if (t.rows.empty()) throw Error(path + ": no points (expected a header row and at least one point)");
  return t;
}

std::string run_title(const json& result) {
  if (!result.contains("workload")) return "attnsim run";
  const json& w = result["workload"];
  return w.value("name", "run") + " on " + w.value("hardware", "?") + " (" + w.value("kernel", "?") + ")";
}

json read_result_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot read (does the file exist?)");
  try {
    json j = json::parse(f);
    if (!j.is_object()) throw Error(path + ": not a result document (expected a JSON object from 'attnsim run --json')");
    return j;
  } catch (const json::parse_error&) {
    throw Error(path + ": not valid JSON (expected the output of 'attnsim run --json')");
  }
}

}  // namespace attnsim
