// `attnsim plot`: result and sweep JSON -> gnuplot script -> PNG. The script carries its
// data inline (datablocks), so it is one deterministic, self-contained file that
// `--script` can save for editing. gnuplot (Debian: gnuplot-nox, `make deps-plot`) is
// needed only to render; without it the command fails with one line saying so.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/plot/plot_data.h"

namespace attnsim {

enum class PlotKind { traffic, roofline, mask, timeline, sweep };
PlotKind parse_plot_kind(const std::string& name);  // throws listing the kinds

struct PlotOptions {
  int width_px = 1000, height_px = 600;
  std::string title;       // "" = from the result
  // Sweep curves: x and y columns, one curve per value of `series` ("" = one curve).
  std::string x, y, series;
  bool log_x = false, log_y = false;
};

// The gnuplot script drawing `kind` from a result document (traffic, roofline, mask,
// timeline) into png_path.
std::string result_plot_script(PlotKind kind, const nlohmann::ordered_json& result, const PlotOptions& o,
                               const std::string& png_path);
// The gnuplot script drawing sweep curves from a point table into png_path.
std::string sweep_plot_script(const PointTable& points, const PlotOptions& o, const std::string& png_path);

// The gnuplot binary: $ATTNSIM_GNUPLOT, else `gnuplot` on PATH; "" when there is none.
std::string find_gnuplot();
// Runs the script (which writes png_path); throws one line with gnuplot's first complaint.
void run_gnuplot(const std::string& script, const std::string& work_prefix);

}  // namespace attnsim
