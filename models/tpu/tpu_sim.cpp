#include "models/tpu/tpu_sim.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <systemc>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <tuple>

#include "models/common/systemc_context.h"
#include "models/common/bandwidth_server.h"
#include "models/tpu/tpu_core.h"
#include "sim/core/error.h"
#include "sim/core/sanitizer.h"
#include "sim/core/units.h"

namespace attnsim {
namespace {

using sc_core::SC_SEC;
using sc_core::sc_time;

// Everything fixed for one run, shared by the cores.
struct Ctx {
  const Trace* trace;
  const TpuParams* tpu;
  const TpuKernelParams* kp;
  const KernelSpec* spec;
  CoreRates rates;
  double clock_hz = 0;
  double dtype_bytes = 2;
  double hbm_latency_s = 0;
  int64_t grid_width = 0;  // KV grid steps per row
  int64_t buffers = 2;     // VMEM buffers per input
  std::map<std::tuple<int64_t, int64_t, bool>, StepCost> costs;

  const StepCost& cost(int64_t rows, int64_t cols, bool masked) {
    auto key = std::make_tuple(rows, cols, masked);
    auto it = costs.find(key);
    if (it != costs.end()) return it->second;
    StepShape s{rows, cols, trace->shape().head_dim, dtype_bytes, masked};
    return costs.emplace(key, step_cost(*tpu, *kp, *spec, rates, s)).first->second;
  }
};

SC_MODULE(TensorCore) {
  Ctx& ctx;
  std::vector<const WorkUnit*> units;
  BandwidthServer& hbm;
  BandwidthServer vmem;
  TpuSimResult& out;
  double hbm_read = 0, hbm_write = 0, vmem_read = 0, vmem_write = 0, end_s = 0, busy_s = 0;
  tlm_utils::tlm_quantumkeeper qk;

  SC_HAS_PROCESS(TensorCore);
  TensorCore(sc_core::sc_module_name name, Ctx& c, BandwidthServer& shared_hbm, double vmem_bytes_per_s, double bucket_s,
             TpuSimResult& o)
      : sc_module(name), ctx(c), hbm(shared_hbm), vmem(std::string(name) + ".vmem", vmem_bytes_per_s, bucket_s), out(o) {
    SC_THREAD(run);
  }

  double now_s() { return qk.get_current_time().to_seconds(); }
  void advance_to(double t_s) {
    const double now = now_s();
    if (t_s > now) qk.inc(sc_time(t_s - now, SC_SEC));
    if (qk.need_sync()) qk.sync();
  }
  // HBM -> VMEM (or back): both servers carry the bytes; the later completion counts.
  double dma(double t_s, double bytes, bool to_vmem) {
    (to_vmem ? hbm_read : hbm_write) += bytes;
    (to_vmem ? vmem_write : vmem_read) += bytes;
    return std::max(hbm.transfer(t_s, bytes), vmem.transfer(t_s, bytes)) + ctx.hbm_latency_s;
  }

  void run() {
    qk.reset();
    const Trace& tr = *ctx.trace;
    const BlockGeometry& g = tr.mask().geometry();
    const double d = static_cast<double>(tr.shape().head_dim);
    const double clk = ctx.clock_hz;
    // ring[i % B] = end of step i - B: when that step's VMEM buffer is free for step i's DMA.
    std::vector<double> ring(static_cast<size_t>(ctx.buffers), 0.0);
    int64_t i = 0;
    double prev_end = 0, out_done = 0;
    for (const WorkUnit* u : units) {
      const BlockRow row = tr.mask().row(u->mask_row);
      const int64_t rows = tr.unit_q_rows(*u) * u->heads;
      const int64_t computed = u->entry_end - u->entry_begin;
      const int64_t steps = std::max<int64_t>(computed, ctx.grid_width);
      for (int64_t j = 0; j < steps; ++j, ++i) {
        double& slot = ring[static_cast<size_t>(i % ctx.buffers)];
        const double issue = slot;
        const bool skipped = j >= computed;
        double in_bytes = 0;
        int64_t cols = 0;
        bool masked = false;
        if (!skipped) {
          const uint32_t e = u->entry_begin + static_cast<uint32_t>(j);
          cols = g.kv_cols_in(row.kv_block[e]);
          masked = row.partial[e] != 0 || ctx.kp->masks_every_block;
          in_bytes = 2.0 * static_cast<double>(cols) * d * ctx.dtype_bytes;  // K and V blocks
        }
        if (j == 0) in_bytes += static_cast<double>(rows) * d * ctx.dtype_bytes;  // Q block of the row
        const double dma_done = in_bytes > 0 ? dma(issue, in_bytes, true) : issue;
        const double start = std::max(prev_end, dma_done);
        out.dma_wait_s += std::max(0.0, dma_done - prev_end);
        double end = start + ctx.kp->grid_step_overhead_cycles / clk;
        if (!skipped) {
          const StepCost& c = ctx.cost(rows, cols, masked);
          vmem_read += c.vmem_bytes;
          end = std::max(start + c.compute_cycles / clk, vmem.transfer(start, c.vmem_bytes));
          out.mxu_busy_s += c.mxu_cycles / clk;
          out.vpu_busy_s += c.vpu_cycles / clk;
          out.mxu_flops += c.mxu_flops;
          out.exp_ops += static_cast<double>(rows * cols);
          ++out.computed_steps;
        } else {
          ++out.skipped_steps;
        }
        out.overhead_s += ctx.kp->grid_step_overhead_cycles / clk;
        if (j == steps - 1) {
          // Two output buffers: the previous row's write-back must have left before this one's.
          end = std::max(end, out_done);
          out_done = dma(end, static_cast<double>(rows) * d * ctx.dtype_bytes, false);
        }
        busy_s += end - start;
        slot = end;
        prev_end = end;
        advance_to(end);
      }
    }
    out.grid_steps += i;
    end_s = std::max(prev_end, out_done);
    qk.sync();
  }
};

constexpr int64_t kSeriesPoints = 256;  // points per traffic series in the report

// A grid step holds its Q, K and V blocks and its output block `buffers` times over (the
// pipeline's double buffering), plus the f32 output accumulator and the running max and sum.
void check_vmem_fits(const Trace& trace, const HwSpec& hw, const KernelSpec& kernel, const MemoryLevel& vmem,
                     int64_t buffers) {
  const AttentionShape& s = trace.shape();
  const BlockGeometry& g = trace.mask().geometry();
  const double rows = static_cast<double>(std::min(g.q_block, s.q_len) * (trace.tiling().pack_gqa ? s.group_size() : 1));
  const double cols = static_cast<double>(std::min(g.kv_block, s.kv_len));
  const double d = static_cast<double>(s.head_dim), eb = dtype_bytes(s.dtype);
  const double bytes = static_cast<double>(buffers) * (2 * rows * d + 2 * cols * d) * eb + rows * d * 4 + 2 * rows * 4;
  if (bytes > vmem.capacity_bytes) {
    throw Error(kernel.name + ": a grid step's " + std::to_string(buffers) + "-deep buffered blocks need " +
                format_bytes(bytes) + " of " + vmem.name + ", " + hw.name + " has " + format_bytes(vmem.capacity_bytes) +
                " per core; use smaller q/kv blocks in the kernel config");
  }
}

}  // namespace

TpuSimResult simulate_tpu(const Trace& trace, const HwSpec& hw, const KernelSpec& kernel) {
  const TpuParams& tpu = hw.params<TpuParams>();
  const AttentionShape& s = trace.shape();
  auto rate = hw.matrix_path(kernel.mma_path).flops_per_clock_per_unit;
  if (!rate.count(s.dtype)) {
    throw Error(hw.name + ": matrix path '" + kernel.mma_path + "' has no " + dtype_name(s.dtype) + " rate");
  }
  const MemoryLevel* vmem = hw.find_level(MemoryKind::scratchpad);
  if (!vmem) throw Error(hw.name + ": the TPU model needs a 'kind: scratchpad' level (VMEM)");
  const MemoryLevel& hbm = hw.dram();
  Ctx ctx{&trace, &tpu, &kernel.params<TpuKernelParams>(), &kernel, {}, hw.clock_hz, static_cast<double>(dtype_bytes(s.dtype)), 0, 0, 0, {}};
  ctx.rates.exp_per_cycle = hw.exp_per_clock_per_unit;
  ctx.rates.vector_ops_per_cycle = hw.vector_flops_per_clock_per_unit;
  ctx.rates.rate_scale = rate.at(s.dtype) / (2.0 * tpu.mxu_rows * tpu.mxu_cols * tpu.mxus_per_core);
  ctx.hbm_latency_s = hbm.latency_cycles / hw.clock_hz;
  ctx.buffers = static_cast<int64_t>(kernel.pipeline_stages);
  check_vmem_fits(trace, hw, kernel, *vmem, ctx.buffers);
  int64_t longest = 0;
  for (const WorkUnit& u : trace.units()) longest = std::max<int64_t>(longest, u.entry_end - u.entry_begin);
  ctx.grid_width = ctx.kp->kv_grid == KvGrid::compressed ? longest : trace.mask().geometry().kv_blocks();

  // Bucket and quantum sizes follow a roofline estimate of the run.
  const TraceTotals totals = trace.totals();
  const double hbm_bytes_per_s = hbm.bandwidth_bytes_per_s * tpu.hbm_efficiency;
  const double est_s = std::max({totals.mma_flops / hw.peak_flops(kernel.mma_path, s.dtype),
                                 (totals.kv_bytes_streamed + totals.q_bytes + totals.out_bytes) / hbm_bytes_per_s, 1e-6});
  const double bucket_s = std::clamp(est_s / 4000.0, 1e-9, 1e-5);
  fresh_systemc_context();
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(std::clamp(est_s / 500.0, 1e-8, 5e-5), SC_SEC));

  TpuSimResult out;
  out.cores = tpu.cores_per_chip;
  out.launch_s = tpu.launch_overhead_s;
  BandwidthServer hbm_server(hbm.name, hbm_bytes_per_s, bucket_s);
  std::vector<std::unique_ptr<TensorCore>> cores;
  for (int c = 0; c < out.cores; ++c) {
    cores.push_back(std::make_unique<TensorCore>(("core" + std::to_string(c)).c_str(), ctx, hbm_server,
                                                 vmem->bandwidth_bytes_per_s, bucket_s, out));
  }
  // Megacore: the parallel (batch x head) grid dimension is cut into contiguous halves.
  const int64_t heads_per_unit = trace.tiling().pack_gqa ? s.group_size() : 1;
  const int64_t heads = s.q_heads / heads_per_unit, groups = s.batch * heads;
  for (const WorkUnit& u : trace.units()) {
    const int64_t group = static_cast<int64_t>(u.batch) * heads + u.q_head / heads_per_unit;
    cores[static_cast<size_t>(group * out.cores / groups)]->units.push_back(&u);
  }
  sc_core::sc_start();
  resync_sanitizer_stack();  // SystemC ran on coroutine stacks; tell ASan the real one (no-op otherwise)

  LevelTraffic v{vmem->name, 0, 0, 0, vmem->bandwidth_bytes_per_s * out.cores, {}};
  LevelTraffic h{hbm.name, 0, 0, hbm_server.peak_bytes_per_s(), hbm_bytes_per_s, {}};
  std::vector<double> vmem_buckets;
  for (const auto& c : cores) {
    out.kernel_s = std::max(out.kernel_s, c->end_s);
    out.core_busy_s.push_back(c->busy_s);
    v.read_bytes += c->vmem_read, v.write_bytes += c->vmem_write;
    h.read_bytes += c->hbm_read, h.write_bytes += c->hbm_write;
    const auto& b = c->vmem.bucket_bytes();
    if (b.size() > vmem_buckets.size()) vmem_buckets.resize(b.size(), 0.0);
    for (size_t i = 0; i < b.size(); ++i) vmem_buckets[i] += b[i];
  }
  for (double b : vmem_buckets) v.peak_bytes_per_s = std::max(v.peak_bytes_per_s, b / bucket_s);
  v.series_bytes_per_s = downsample_series(vmem_buckets, bucket_s, kSeriesPoints, out.kernel_s, &out.series_step_s);
  h.series_bytes_per_s = downsample_series(hbm_server.bucket_bytes(), bucket_s, kSeriesPoints, out.kernel_s, &out.series_step_s);
  out.levels = {v, h};
  out.latency_s = out.launch_s + out.kernel_s + kernel.fixed_overhead_s;
  cores.clear();
  return out;
}

}  // namespace attnsim
