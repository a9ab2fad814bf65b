// Sweep results as files: CSV and JSON (byte-identical whatever the number of
// processes or MPI ranks that computed the rows) and a speedup plot through gnuplot.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/sweep/sweep_spec.h"

namespace attnsim {

using SweepRows = std::vector<nlohmann::ordered_json>;  // ordered by point

// Columns: the union of every row's keys, in first-seen order.
std::vector<std::string> sweep_columns(const SweepRows& rows);
std::string sweep_csv(const SweepRows& rows);
std::string sweep_json(const SweepSpec& spec, const SweepRows& rows);

// Writes a PNG of speedup (or latency, without baselines) against spec.plot.x, one
// line per combination of the other parameters. Returns "" on success, else the
// one-line reason the plot was skipped (gnuplot missing or failing).
std::string sweep_plot(const SweepSpec& spec, const SweepRows& rows, const std::string& png_path);

}  // namespace attnsim
