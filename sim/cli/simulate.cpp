#include "sim/cli/simulate.h"

#include "sim/core/progress.h"
#include "sim/core/sanitizer.h"
#include "sim/report/report.h"
#include "sim/timing/timing_model.h"

namespace attnsim {

CheckOptions session_check_options(const SessionOptions& so, const Session& ses, int64_t sample_rows) {
  CheckOptions co = budgeted_check_options(so);
  co.precision = ses.workload.shape.dtype == Dtype::fp32 ? Precision::fp32 : Precision::bf16;
  co.sample_rows = sample_rows;
  co.seed = ses.workload.seed;
  return co;
}

nlohmann::ordered_json simulate_session(const Session& ses, bool progress) {
  nlohmann::ordered_json result;
  result["workload"] = workload_json(ses);
  result["mask"] = mask_json(compute_stats(*ses.mask));
  result["work"] = work_json(ses);
  // A kernel that runs on an attached unit (SparseCore) is timed by that unit's model.
  const std::string& unit = ses.kernel->spec().runs_on;
  if (const TimingEntry* timing = find_timing_model(unit.empty() ? ses.hw.arch : unit)) {
    Progress p("simulating timing", progress);
    timing->simulate(ses, result);
    resync_sanitizer_stack();  // SystemC switched stacks (see sim/core/sanitizer.h)
  } else {
    result["timing"] = {{"status", "no timing model registered for arch '" + ses.hw.arch + "'"}};
  }
  return result;
}

void add_check(const Session& ses, const CheckOptions& co, bool progress, nlohmann::ordered_json& result) {
  Progress p("functional check", progress);
  result["check"] = check_json(run_check(*ses.trace, *ses.pattern, *ses.inputs, co));
}

}  // namespace attnsim
