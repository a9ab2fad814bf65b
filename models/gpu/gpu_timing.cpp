// Registers the GPU timing model with `attnsim run`: simulates the trace and
// reports latency, throughput, traffic per level, utilisation and the bound.
#include <algorithm>

#include "models/gpu/gpu_params.h"
#include "models/gpu/gpu_sim.h"
#include "sim/report/timeline.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace {

// Which resource limited the run: the largest of the ideal times, unless the
// fixed latencies or the tail of unequal CTAs dominate.
std::string classify_bound(const GpuSimResult& r, const HwSpec& hw, const KernelSpec& k, Dtype dt) {
  const GpuParams& gpu = hw.params<GpuParams>();
  const double t_tc = r.padded_mma_flops / (hw.peak_flops(k.mma_path, dt) * k.mma_efficiency);
  const double t_sfu = r.exp_ops / (hw.exp_per_clock_per_unit * gpu.exp_issue_fraction * hw.units * hw.clock_hz);
  double t_mem = 0;
  for (const LevelTraffic& l : r.levels) {
    t_mem = std::max(t_mem, (l.read_bytes + l.write_bytes) / l.bandwidth_bytes_per_s);
  }
  const double busiest = std::max({t_tc, t_sfu, t_mem});
  const double mean_busy = r.sm_busy_s / hw.units;
  double max_busy = 0;
  for (double b : r.sm_busy_each_s) max_busy = std::max(max_busy, b);
  // Latency-bound: no resource is half busy, and the kernel is either a few launches long or has
  // fewer CTAs than SMs (not enough parallel work for anything but fixed latencies to show).
  const bool short_kernel = r.kernel_s < 4 * r.launch_s || r.ctas < hw.units;
  if (r.latency_s > 0 && busiest < 0.5 * r.latency_s && short_kernel) return "latency";
  if (max_busy > 0 && mean_busy < 0.7 * max_busy && busiest < 0.7 * r.kernel_s) return "imbalance";
  if (busiest == t_tc) return "compute";
  if (busiest == t_sfu) return "sfu";
  return "memory";
}

void simulate(const Session& ses, nlohmann::ordered_json& result) {
  const KernelSpec& k = ses.kernel->spec();
  GpuSimResult r = simulate_gpu(*ses.trace, ses.hw, k);
  // Calls issued back to back cannot finish faster than the host can issue them.
  const bool host_bound = k.host_dispatch_s > r.latency_s;
  r.latency_s = std::max(r.latency_s, k.host_dispatch_s);
  const double clock = ses.hw.clock_hz;
  const double useful = result["work"]["useful_flops"].get<double>();
  const double peak = ses.hw.peak_flops(k.mma_path, ses.workload.shape.dtype);
  const GpuParams& gpu = ses.hw.params<GpuParams>();
  nlohmann::ordered_json t;
  t["latency_s"] = r.latency_s;
  t["latency_us"] = r.latency_s * 1e6;
  t["latency_cycles"] = r.latency_s * clock;
  t["kernel_s"] = r.kernel_s;
  t["launch_overhead_s"] = r.launch_s;
  t["clock_hz"] = clock;
  t["achieved_tflops"] = useful / r.latency_s / 1e12;
  t["executed_tflops"] = r.padded_mma_flops / r.latency_s / 1e12;
  t["tensor_core_utilization"] = r.padded_mma_flops / (peak * r.kernel_s);
  t["sfu_utilization"] =
      r.exp_ops / (ses.hw.exp_per_clock_per_unit * gpu.exp_issue_fraction * ses.hw.units * clock * r.kernel_s);
  t["sm_occupancy"] = r.sm_busy_s / (ses.hw.units * r.kernel_s);
  t["ctas"] = r.ctas;
  t["cta_slots"] = r.slots;
  t["waves"] = r.waves;
  t["l2_dirty_at_end_bytes"] = r.l2_dirty_end_bytes;  // written back after the kernel, not in its DRAM bytes
  t["l2_hit_rate"] = r.l2_hits + r.l2_misses > 0 ? r.l2_hits / (r.l2_hits + r.l2_misses) : 0.0;
  t["bound"] = host_bound ? "host" : classify_bound(r, ses.hw, k, ses.workload.shape.dtype);
  result["timing"] = t;
  add_traffic_sections(r.levels, r.kernel_s, r.series_step_s, result);
  add_unit_timeline(ses, r.cta_records, "SM", ses.hw.units, result);  // only when asked (--detail, --trace)
}

const Registrar<TimingEntry> kRegister("gpu", TimingEntry{"SystemC GPU model: SMs, tensor cores, SFU, SMEM, L2, HBM",
                                                          simulate});

}  // namespace
}  // namespace attnsim
