// Everything one simulation needs, loaded and cross-checked in one place:
// hardware, workload, kernel, pattern, block mask and trace. Used by the CLI,
// tests, benchmarks and (later) the GUI and sweeps.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "models/kernels/i_kernel.h"
#include "models/patterns/i_sparsity_pattern.h"
#include "sim/functional/inputs.h"
#include "sim/hw/hw_spec.h"
#include "sim/session/budget.h"
#include "sim/trace/trace.h"
#include "sim/workload/workload.h"

namespace attnsim {

struct SessionOptions {
  std::string hw;        // name or path
  std::string workload;  // path
  std::string kernel;    // overrides the workload's kernel; "" = workload's or default
  std::optional<uint64_t> seed;
  std::string q_npy, k_npy, v_npy;  // external inputs (all three or none)
  bool progress = true;
  int threads = 0;        // worker threads of data-dependent patterns; 0 = all cores
  ResourceBudget budget;  // host memory and time the run may use (refused up front when over)
};

struct Session {
  HwSpec hw;
  Workload workload;
  std::unique_ptr<IKernel> kernel;
  std::string dispatched_from;  // the kernel asked for, when it launched `kernel` for this shape
  std::unique_ptr<InputSource> inputs;
  std::unique_ptr<ISparsityPattern> pattern;
  std::shared_ptr<const BlockMask> mask;
  std::unique_ptr<Trace> trace;
  bool record_detail = false;  // timing models add "timeline" and "mask_grid" (sim/report/timeline.h)
};

Session prepare_session(const SessionOptions& options);
// Same, from already-parsed parts (tests, sweeps).
Session prepare_session(HwSpec hw, Workload workload, const std::string& kernel_name, bool progress = false,
                        const ResourceBudget& budget = {});

// Bytes of Q, K, V and O the layer needs resident in device memory.
double resident_bytes(const AttentionShape& shape);

}  // namespace attnsim
