// Runs sweep points on several processes of this machine (sim/core/forked_map.h: SystemC
// allows one simulation per process), in point order whatever the number of workers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/session/budget.h"
#include "sim/sweep/sweep_output.h"

namespace attnsim {

struct PointResult {
  size_t point = 0;
  std::string row_json;  // one line; empty when the point failed
  std::string error;     // the one-line error of a failed point
};

// Rows (or errors) of `points`, in that order. jobs <= 1 runs in this process.
// Each point's runs get `budget` (sim/session/budget.h): a point over it fails with the estimate.
std::vector<PointResult> run_points(const SweepSpec& spec, const std::vector<size_t>& points, int jobs,
                                    const ResourceBudget& budget = {});

// One line per point ("<point>\t+<row>" or "<point>\t!<error>"), for files and MPI messages.
std::string encode_results(const std::vector<PointResult>& results);
std::vector<PointResult> decode_results(const std::string& text);

// Parses results back into rows; throws the first failed point's error (by point order).
SweepRows rows_of(std::vector<PointResult> results);

}  // namespace attnsim
