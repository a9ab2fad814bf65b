// Runs n independent jobs on up to `jobs` forked processes and returns each job's output,
// in job order. SystemC keeps one simulation context per process, so simulations run in
// parallel only as processes. Worker w takes jobs w, w + jobs, ...; outputs come back through
// temporary files, so the result never depends on the number of workers. A job's output may
// be any text (newlines included); jobs <= 1 runs everything in this process. A job that
// throws stops the map: the error of the lowest such job is rethrown as an Error.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace attnsim {

// Worker processes when the user names none: one per core, but no more than the available
// memory holds at `bytes_per_worker` each (a 128k validation case holds ~0.3 GB: 128 workers on a
// wide machine would need ~40 GB). At least one.
int default_workers(double bytes_per_worker);
// What one simulation worker may need: its largest usual case (128k prefill) peaks at ~0.3 GB.
constexpr double kBytesPerSimulationWorker = 0.5e9;
// The same rule on given numbers (testable): cores, available bytes.
int default_workers(unsigned cores, double available_bytes, double bytes_per_worker);

// `what` names the caller in errors ("sweep", "validate"); also thrown when a worker dies.
std::vector<std::string> forked_map(size_t n, int jobs, const std::function<std::string(size_t)>& job,
                                    const std::string& what);

}  // namespace attnsim
