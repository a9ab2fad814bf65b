#include "sim/sweep/sweep_output.h"

#include "sim/core/error.h"
#include "sim/core/units.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace attnsim {
namespace {

std::string cell(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v.get<double>());
    return buf;
  }
  return v.dump();
}

// A cell as a number: plain numbers as they are, quantities ("1TB/s", "256KiB") in SI units.
double number_of(const nlohmann::ordered_json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return 0;
  const std::string text = v.get<std::string>();
  try {
    size_t used = 0;
    const double x = std::stod(text, &used);
    if (used == text.size()) return x;
  } catch (const std::exception&) {
    return 0;
  }
  for (UnitKind k : {UnitKind::bandwidth, UnitKind::bytes, UnitKind::frequency, UnitKind::time, UnitKind::power,
                     UnitKind::area}) {
    try {
      return parse_quantity(text, k);
    } catch (const Error&) {
    }
  }
  return 0;
}

}  // namespace

std::vector<std::string> sweep_columns(const SweepRows& rows) {
  std::vector<std::string> cols;
  for (const auto& r : rows) {
    for (const auto& [k, v] : r.items()) {
      if (std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
    }
  }
  return cols;
}

std::string sweep_csv(const SweepRows& rows) {
  const std::vector<std::string> cols = sweep_columns(rows);
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + cols[i];
  out += "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < cols.size(); ++i) out += (i ? "," : "") + (r.contains(cols[i]) ? cell(r[cols[i]]) : "");
    out += "\n";
  }
  return out;
}

std::string sweep_json(const SweepSpec& spec, const SweepRows& rows) {
  nlohmann::ordered_json j;
  j["sweep"] = spec.name;
  j["hw"] = spec.hw;
  j["workload"] = spec.workload;
  j["kernel"] = spec.kernel;
  j["baselines"] = spec.baselines;
  j["parameters"] = spec.parameters;
  j["rows"] = rows;
  return j.dump(1) + "\n";
}

std::string sweep_plot(const SweepSpec& spec, const SweepRows& rows, const std::string& png_path) {
  if (rows.empty()) return "no rows to plot";
  const bool speedup = rows.front().contains("speedup");
  const std::string y = speedup ? "speedup" : "latency_us";
  // One series per combination of the other parameters that take more than one value.
  std::vector<std::string> varying;
  for (const std::string& p : spec.parameters) {
    if (p == spec.plot.x) continue;
    for (const auto& r : rows) {
      if (r[p] != rows.front()[p]) {
        varying.push_back(p);
        break;
      }
    }
  }
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  std::vector<std::string> order;
  for (const auto& r : rows) {
    std::string key;
    for (const std::string& p : varying) {
      key += (key.empty() ? "" : ", ") + p.substr(p.rfind('.') + 1) + "=" + r[p].get<std::string>();
    }
    if (!series.count(key)) order.push_back(key);
    series[key].emplace_back(number_of(r[spec.plot.x]), number_of(r[y]));
  }
  // Many series: a wider picture, so the key below the plot fits two columns.
  const int width = order.size() > 12 ? 1500 : 1000;
  const int height = 520 + 18 * static_cast<int>((order.size() + 1) / 2);
  std::string script = "set terminal pngcairo size " + std::to_string(width) + "," + std::to_string(height) +
                       " noenhanced font ',10'\n";
  script += "set output '" + png_path + "'\n";
  script += "set title '" + spec.name + "'\nset xlabel '" + spec.plot.x + " (SI units)'\nset ylabel '" +
            (speedup ? "speedup over the best baseline kernel" : "latency (us)") + "'\nset grid\nset key below horizontal maxcols 2\n";
  if (spec.plot.log_x) script += "set logscale x\n";
  if (spec.plot.log_y) script += "set logscale y\n";
  if (speedup) script += "set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2\n";
  std::string plot = "plot ";
  for (size_t i = 0; i < order.size(); ++i) {
    script += "$s" + std::to_string(i) + " << EOD\n";
    for (const auto& [x, v] : series[order[i]]) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g %.9g\n", x, v);
      script += buf;
    }
    script += "EOD\n";
    plot += (i ? ", " : "") + std::string("$s") + std::to_string(i) + " with linespoints title '" +
            (order[i].empty() ? y : order[i]) + "'";
  }
  script += plot + "\n";
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return "plot skipped: gnuplot not found (install gnuplot-nox); the CSV and JSON are written";
  }
  FILE* gp = popen("gnuplot 2>/dev/null", "w");
  if (!gp) return "plot skipped: cannot start gnuplot";
  std::fwrite(script.data(), 1, script.size(), gp);
  const int rc = pclose(gp);
  if (rc != 0) return "plot skipped: gnuplot not found or failed (install gnuplot-nox); the CSV and JSON are written";
  return "";
}

}  // namespace attnsim
