#include "sim/plot/gnuplot.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/core/error.h"

namespace attnsim {
namespace {

using json = nlohmann::ordered_json;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A gnuplot double-quoted string.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out + "\"";
}

std::string hex_rgb(uint32_t rgb) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%06x", rgb & 0xffffff);
  return buf;
}


std::string header(const PlotOptions& o, const std::string& png_path, const std::string& title) {
  std::ostringstream s;
  s << "# attnsim plot: render with 'gnuplot THIS_FILE'\n"
    << "set terminal pngcairo size " << o.width_px << "," << o.height_px << " font \"DejaVu Sans,10\" noenhanced\n"
    << "set output " << quoted(png_path) << "\n"
    << "set title " << quoted(o.title.empty() ? title : o.title) << "\n"
    << "set grid\nset key outside right top\n";
  return s.str();
}

std::string traffic_script(const json& result, const PlotOptions& o, const std::string& png) {
  const std::vector<LevelSeries> levels = traffic_series(result);
  size_t n = 0;
  for (const LevelSeries& l : levels) n = std::max(n, l.bytes_per_s.size());
  std::ostringstream s;
  s << header(o, png, "memory traffic over time: " + run_title(result));
  s << "set xlabel \"time (us)\"\nset ylabel \"bandwidth (GB/s)\"\nset yrange [0:*]\n";
  // One row per step start, plus a closing row at the end of the last step.
  s << "$traffic << EOD\n";
  for (size_t i = 0; i <= n; ++i) {
    s << num(static_cast<double>(i) * levels[0].step_s * 1e6);
    for (const LevelSeries& l : levels) {
      const double v = i < l.bytes_per_s.size() ? l.bytes_per_s[i] : (l.bytes_per_s.empty() ? 0 : l.bytes_per_s.back());
      s << " " << num(v / 1e9);
    }
    s << "\n";
  }
  s << "EOD\nplot ";
  for (size_t k = 0; k < levels.size(); ++k) {
    const std::string colour = hex_rgb(kLevelRgb[k % 5]);
    s << (k ? ", \\\n     " : "") << "$traffic using 1:" << k + 2 << " with steps lw 2 lc rgb \"" << colour
      << "\" title " << quoted(levels[k].level) << ", \\\n     "
      << num(levels[k].configured_bytes_per_s / 1e9) << " with lines dt 2 lw 1 lc rgb \"" << colour << "\" title "
      << quoted(levels[k].level + " peak");
  }
  s << "\n";
  return s.str();
}

std::string roofline_script(const json& result, const PlotOptions& o, const std::string& png) {
  const Roofline r = roofline(result);
  std::ostringstream s;
  s << header(o, png, "roofline: " + run_title(result) + " (" + r.bound + "-bound)");
  double lo = 1e30, hi = 0;
  for (const RooflineLevel& l : r.levels) {
    if (l.intensity_flop_per_byte > 0) lo = std::min(lo, l.intensity_flop_per_byte), hi = std::max(hi, l.intensity_flop_per_byte);
    const double ridge = r.peak_flops_per_s / l.bytes_per_s;
    lo = std::min(lo, ridge), hi = std::max(hi, ridge);
  }
  const double x0 = std::pow(10, std::floor(std::log10(lo)) - 1), x1 = std::pow(10, std::ceil(std::log10(hi)) + 1);
  s << "set logscale xy\nset xlabel \"arithmetic intensity (executed FLOP per byte moved at the level)\"\n"
    << "set ylabel \"TFLOP/s\"\nset xrange [" << num(x0) << ":" << num(x1) << "]\n"
    << "set yrange [" << num(r.peak_flops_per_s / 1e12 / 1e4) << ":" << num(r.peak_flops_per_s / 1e12 * 3) << "]\n"
    << "set samples 4000\npeak = " << num(r.peak_flops_per_s / 1e12) << "\n";
  s << "$points << EOD\n";
  for (const RooflineLevel& l : r.levels) s << num(l.intensity_flop_per_byte) << " " << num(r.executed_flops_per_s / 1e12) << "\n";
  s << "EOD\nplot peak with lines lw 2 lc rgb \"black\" title \"matrix peak " << num(r.peak_flops_per_s / 1e12) << " TFLOP/s\"";
  for (size_t k = 0; k < r.levels.size(); ++k) {
    const RooflineLevel& l = r.levels[k];
    const std::string colour = hex_rgb(kLevelRgb[k % 5]);
    s << ", \\\n     (x * " << num(l.bytes_per_s / 1e12) << " < peak ? x * " << num(l.bytes_per_s / 1e12)
      << " : 1/0) with lines dt 2 lw 2 lc rgb \"" << colour << "\" title " << quoted(l.level + " " + num(l.bytes_per_s / 1e9) + " GB/s")
      << ", \\\n     $points every ::" << k << "::" << k << " using 1:2 with points pt 7 ps 2 lc rgb \"" << colour
      << "\" title " << quoted("run vs " + l.level);
  }
  s << "\n";
  return s.str();
}

std::string mask_script(const json& result, const PlotOptions& o, const std::string& png) {
  const MaskGrid g = mask_grid(result);
  std::ostringstream s;
  s << header(o, png, "block mask (batch 0, head 0): " + run_title(result));
  s << "set xlabel " << quoted("KV block" + std::string(g.kv_blocks_per_cell > 1 ? " (" + g.note + ")" : "")) << "\n"
    << "set ylabel \"query block\"\nset yrange [*:*] reverse\nset size ratio -1\nunset grid\nunset key\n"
    << "set xrange [" << num(-0.5 * g.kv_blocks_per_cell) << ":" << num((g.cols - 0.5) * g.kv_blocks_per_cell) << "]\n"
    << "set yrange [" << num((g.rows - 0.5) * g.q_blocks_per_cell) << ":" << num(-0.5 * g.q_blocks_per_cell) << "]\n"
    << "set label 1 \"blue: computed   orange: computed with an element mask   grey: skipped\" at screen 0.02, screen 0.03\n";
  s << "$mask << EOD\n";
  for (int64_t r = 0; r < g.rows; ++r) {
    for (int64_t k = 0; k < g.cols; ++k) {
      const size_t i = static_cast<size_t>(r * g.cols + k);
      const uint32_t rgb = mask_cell_rgb(g.computed_percent[i], g.partial_percent[i]);
      s << k * g.kv_blocks_per_cell << " " << r * g.q_blocks_per_cell << " " << (rgb >> 16) << " " << (rgb >> 8 & 255) << " "
        << (rgb & 255) << "\n";
    }
  }
  s << "EOD\nplot $mask using 1:2:3:4:5 with rgbimage\n";
  return s.str();
}

std::string timeline_script(const json& result, const PlotOptions& o, const std::string& png) {
  const Timeline t = timeline(result);
  std::ostringstream s;
  std::string title = "per-" + t.lane_kind + " timeline: " + run_title(result);
  s << header(o, png, title);
  const int64_t tracks = std::max<int64_t>(1, t.lanes * t.slots_per_lane);
  std::string note = t.note;
  if (t.per_unit_times) note += "; colours: waves of " + std::to_string(tracks) + " units";
  s << "set xlabel " << quoted("time (us) - " + note) << "\nset ylabel " << quoted(t.lane_kind)
    << "\nunset key\nset xrange [0:" << num(t.kernel_s * 1e6) << "]\nset yrange [" << num(t.lanes) << ":-0.5]\n";
  s << "$bars << EOD\n";
  const double h = 0.9 / static_cast<double>(t.slots_per_lane);
  for (const TimelineBar& b : t.bars) {
    const double y = static_cast<double>(b.lane) + (static_cast<double>(b.slot) + 0.5) * h - 0.45;
    const uint32_t colour = kWaveRgb[static_cast<size_t>(b.unit / tracks) % 6];
    s << num((b.start_s + b.end_s) * 0.5e6) << " " << num(y) << " " << num((b.end_s - b.start_s) * 0.5e6) << " "
      << num(h * 0.45) << " " << colour << "\n";
  }
  s << "EOD\nplot $bars using 1:2:3:4:5 with boxxyerror fs solid 1.0 noborder lc rgb variable\n";
  return s.str();
}

bool parse_number(const std::string& text, double* v) {
  if (text.empty()) return false;
  char* end = nullptr;
  *v = std::strtod(text.c_str(), &end);
  return end && *end == '\0' && std::isfinite(*v);
}

}  // namespace

PlotKind parse_plot_kind(const std::string& name) {
  static const std::map<std::string, PlotKind> kinds = {{"traffic", PlotKind::traffic},
                                                        {"roofline", PlotKind::roofline},
                                                        {"mask", PlotKind::mask},
                                                        {"timeline", PlotKind::timeline},
                                                        {"sweep", PlotKind::sweep}};
  auto it = kinds.find(name);
  if (it == kinds.end()) throw Error("--kind: unknown plot '" + name + "' (kinds: mask, roofline, sweep, timeline, traffic)");
  return it->second;
}

std::string result_plot_script(PlotKind kind, const json& result, const PlotOptions& o, const std::string& png_path) {
  switch (kind) {
    case PlotKind::traffic: return traffic_script(result, o, png_path);
    case PlotKind::roofline: return roofline_script(result, o, png_path);
    case PlotKind::mask: return mask_script(result, o, png_path);
    case PlotKind::timeline: return timeline_script(result, o, png_path);
    case PlotKind::sweep: break;
  }
  throw Error("--kind sweep reads a table of points, not a result");
}

std::string sweep_plot_script(const PointTable& points, const PlotOptions& o, const std::string& png_path) {
  if (o.x.empty() || o.y.empty()) throw Error("--kind sweep needs --x COLUMN and --y COLUMN");
  const int xc = points.column(o.x), yc = points.column(o.y);
  const int sc = o.series.empty() ? -1 : points.column(o.series);
  // Curves in order of first appearance; points sorted by x within a curve.
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  for (size_t r = 0; r < points.rows.size(); ++r) {
    double x = 0, y = 0;
    const auto& row = points.rows[r];
    if (!parse_number(row[static_cast<size_t>(xc)], &x) || !parse_number(row[static_cast<size_t>(yc)], &y)) {
      throw Error("point " + std::to_string(r + 1) + ": '" + o.x + "' and '" + o.y + "' must be numbers, got '" +
                  row[static_cast<size_t>(xc)] + "', '" + row[static_cast<size_t>(yc)] + "'");
    }
    if ((o.log_x && x <= 0) || (o.log_y && y <= 0)) {
      throw Error("point " + std::to_string(r + 1) + ": a log axis needs positive values");
    }
    const std::string name = sc < 0 ? o.y : row[static_cast<size_t>(sc)];
    if (!curves.count(name)) names.push_back(name);
    curves[name].push_back({x, y});
  }
  std::ostringstream s;
  s << header(o, png_path, o.y + " vs " + o.x);
  s << "set xlabel " << quoted(o.x) << "\nset ylabel " << quoted(o.y) << "\n";
  if (o.log_x) s << "set logscale x\n";
  if (o.log_y) s << "set logscale y\n";
  for (size_t k = 0; k < names.size(); ++k) {
    auto& c = curves[names[k]];
    std::stable_sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    s << "$curve" << k << " << EOD\n";
    for (const auto& [x, y] : c) s << num(x) << " " << num(y) << "\n";
    s << "EOD\n";
  }
  s << "plot ";
  for (size_t k = 0; k < names.size(); ++k) {
    s << (k ? ", \\\n     " : "") << "$curve" << k << " using 1:2 with linespoints lw 2 pt 7 lc rgb \""
      << hex_rgb(kWaveRgb[k % 6]) << "\" title " << quoted(sc < 0 ? o.y : o.series + " = " + names[k]);
  }
  s << "\n";
  return s.str();
}

std::string find_gnuplot() {
  if (const char* env = std::getenv("ATTNSIM_GNUPLOT")) return ::access(env, X_OK) == 0 ? env : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string p = (dir.empty() ? "." : dir) + "/gnuplot";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

void run_gnuplot(const std::string& script, const std::string& work_prefix) {
  const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    throw Error("plot needs gnuplot to render PNGs and none was found (install it with 'make deps-plot' or "
                "'apt-get install gnuplot-nox'; --script FILE writes the script without it)");
  }
  const std::string gp = work_prefix + ".gp", err = work_prefix + ".err";
  {
    std::ofstream f(gp, std::ios::binary);
    if (!f) throw Error(gp + ": cannot write (does the directory exist?)");
    f << script;
  }
  auto q = [](const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  const int status = std::system((q(gnuplot) + " " + q(gp) + " </dev/null >/dev/null 2>" + q(err)).c_str());
  std::string complaint;
  {
    std::ifstream f(err);
    for (std::string line; std::getline(f, line);) {
      if (line.find_first_not_of(" \t^") == std::string::npos) continue;
      if (complaint.empty() || line.find("line") != std::string::npos) complaint = line;
      if (line.find("line") != std::string::npos) break;
    }
  }
  std::error_code ec;
  std::filesystem::remove(gp, ec);
  std::filesystem::remove(err, ec);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error("gnuplot failed: " + (complaint.empty() ? "exit status " + std::to_string(status) : complaint));
  }
}

}  // namespace attnsim
