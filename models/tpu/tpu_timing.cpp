// Registers the TPU timing model with `attnsim run`: simulates the trace on the
// TensorCores and reports the same sections as the GPU model (timing, traffic, series).
#include <algorithm>

#include "models/tpu/tpu_params.h"
#include "models/tpu/tpu_sim.h"
#include "sim/report/timeline.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace {

// Which resource limited the run: the busiest of MXU, vector unit and HBM, unless the
// fixed per-step bookkeeping (or nothing at all) keeps every one of them under half busy.
std::string classify_bound(const TpuSimResult& r) {
  const double cores = r.cores;
  const double t_mxu = r.mxu_busy_s / cores, t_vpu = r.vpu_busy_s / cores, t_fixed = r.overhead_s / cores + r.launch_s;
  const LevelTraffic& hbm = r.levels.back();
  const double t_mem = (hbm.read_bytes + hbm.write_bytes) / hbm.bandwidth_bytes_per_s;
  const double busiest = std::max({t_mxu, t_vpu, t_mem});
  if (t_fixed > busiest || busiest < 0.5 * r.latency_s) return "latency";
  if (busiest == t_mxu) return "compute";
  if (busiest == t_vpu) return "vector";
  return "memory";
}

void simulate(const Session& ses, nlohmann::ordered_json& result) {
  const KernelSpec& k = ses.kernel->spec();
  TpuSimResult r = simulate_tpu(*ses.trace, ses.hw, k);
  const bool host_bound = k.host_dispatch_s > r.latency_s;
  r.latency_s = std::max(r.latency_s, k.host_dispatch_s);
  const double clock = ses.hw.clock_hz;
  const double useful = result["work"]["useful_flops"].get<double>();
  const double peak = ses.hw.peak_flops(k.mma_path, ses.workload.shape.dtype);
  const double vpu_capacity_s = r.cores * r.kernel_s;
  nlohmann::ordered_json t;
  t["latency_s"] = r.latency_s;
  t["latency_us"] = r.latency_s * 1e6;
  t["latency_cycles"] = r.latency_s * clock;
  t["kernel_s"] = r.kernel_s;
  t["launch_overhead_s"] = r.launch_s;
  t["clock_hz"] = clock;
  t["achieved_tflops"] = useful / r.latency_s / 1e12;
  t["executed_tflops"] = r.mxu_flops / r.latency_s / 1e12;
  t["mxu_utilization"] = r.mxu_flops / (peak * r.kernel_s);  // executed FLOPs over the chip's MXU peak
  t["mxu_busy_fraction"] = r.mxu_busy_s / vpu_capacity_s;    // cycles the MXUs were occupied, fill/drain included
  t["vpu_utilization"] = r.vpu_busy_s / vpu_capacity_s;
  t["step_overhead_fraction"] = r.overhead_s / vpu_capacity_s;
  t["dma_exposed_fraction"] = r.dma_wait_s / vpu_capacity_s;  // cores waiting for their step's input blocks
  t["tensorcores"] = r.cores;
  t["grid_steps"] = r.grid_steps;
  t["computed_steps"] = r.computed_steps;
  t["skipped_steps"] = r.skipped_steps;
  double busiest = 0, total = 0;
  for (double b : r.core_busy_s) busiest = std::max(busiest, b), total += b;
  t["core_balance"] = busiest > 0 ? total / (r.cores * busiest) : 1.0;
  t["bound"] = host_bound ? "host" : classify_bound(r);
  result["timing"] = t;
  add_traffic_sections(r.levels, r.kernel_s, r.series_step_s, result);
  add_busy_timeline(ses, r.core_busy_s, "TensorCore", result);  // only when asked (--detail, --trace)
}

const Registrar<TimingEntry> kRegister("tpu", TimingEntry{"SystemC TPU model: TensorCores, MXUs, VPU, VMEM, HBM DMA",
                                                          simulate});

}  // namespace
}  // namespace attnsim
