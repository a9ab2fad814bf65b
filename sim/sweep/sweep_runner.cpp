#include "sim/sweep/sweep_runner.h"

#include <algorithm>
#include <sstream>

#include "sim/core/error.h"
#include "sim/core/forked_map.h"
#include "sim/sweep/sweep_point.h"

namespace attnsim {
namespace {

PointResult run_one(const SweepSpec& spec, size_t p, const ResourceBudget& budget) {
  PointResult r;
  r.point = p;
  try {
    r.row_json = run_point(spec, p, budget).dump();
  } catch (const Error& e) {
    r.error = e.what();
  } catch (const std::exception& e) {
    r.error = std::string("internal error: ") + e.what();
  }
  return r;
}

}  // namespace

std::vector<PointResult> run_points(const SweepSpec& spec, const std::vector<size_t>& points, int jobs,
                                    const ResourceBudget& budget) {
  const std::vector<std::string> encoded = forked_map(
      points.size(), jobs, [&](size_t i) { return encode_results({run_one(spec, points[i], budget)}); }, "sweep");
  std::vector<PointResult> out;
  for (const std::string& e : encoded) {
    std::vector<PointResult> one = decode_results(e);
    if (one.size() != 1) throw Error("sweep: a worker returned no result for a point");
    out.push_back(std::move(one.front()));
  }
  return out;
}

std::string encode_results(const std::vector<PointResult>& rs) {
  std::string s;
  for (const PointResult& r : rs) s += std::to_string(r.point) + '\t' + (r.error.empty() ? "+" + r.row_json : "!" + r.error) + '\n';
  return s;
}

std::vector<PointResult> decode_results(const std::string& text) {
  std::vector<PointResult> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || tab + 1 >= line.size()) continue;
    PointResult r;
    r.point = std::stoull(line.substr(0, tab));
    (line[tab + 1] == '+' ? r.row_json : r.error) = line.substr(tab + 2);
    out.push_back(std::move(r));
  }
  return out;
}

SweepRows rows_of(std::vector<PointResult> results) {
  std::sort(results.begin(), results.end(), [](const PointResult& a, const PointResult& b) { return a.point < b.point; });
  SweepRows rows;
  for (const PointResult& r : results) {
    if (!r.error.empty()) throw Error(r.error);
    rows.push_back(nlohmann::ordered_json::parse(r.row_json));
  }
  return rows;
}

}  // namespace attnsim
