#include "models/gpu/gpu_sim.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "models/common/bandwidth_server.h"
#include "models/common/spread_series.h"
#include "models/gpu/gpu_params.h"
#include "models/common/systemc_context.h"
#include "models/gpu/l2_replay.h"
#include "models/gpu/l2_residency.h"
#include "sim/core/sanitizer.h"
#include "sim/hw/hw_graph.h"

// libsystemc's own main() refers to sc_main; attnsim has its own main and drives
// sc_start itself, so this definition only satisfies the linker.
int sc_main(int, char**) { return 0; }

namespace attnsim {
namespace {

using sc_core::sc_time;
using sc_core::SC_SEC;

// What a CTA asks of the memory system; the target fills in the completion.
struct MemRequest : tlm::tlm_extension<MemRequest> {
  enum Op { load_q, load_kv, store, read_l2, write_l2 } op = load_q;
  int64_t stream = 0;
  const uint32_t* blocks = nullptr;
  uint32_t n = 0;
  double bytes = 0;
  double done_s = 0;
  bool descending = false;  // blocks[] visited last to first
  double block_interval_s = 0;  // load_kv: expected time between the CTA's successive blocks
  double latency_s = 0;     // filled in: the latency of this load (DRAM under the current load, or L2)
  int64_t chunk = -1;       // load_kv: the chunk's id (RunContext::chunk_base)
  uint32_t sm = 0;          // the requesting SM
  tlm_extension_base* clone() const override { return new MemRequest(*this); }
  void copy_from(const tlm_extension_base& other) override { *this = static_cast<const MemRequest&>(other); }
};

// Everything fixed for one run, shared by the modules.
struct RunContext {
  const Trace* trace;
  const HwSpec* hw;
  const KernelSpec* kernel;
  const GpuParams* gpu;
  GpuSimOptions options;
  double clock_hz;
  double head_bytes;  // K (or V) bytes per key: head_dim x dtype bytes
  // Per-block cycle costs on an unshared SM.
  double mma_cycles = 0, exp_cycles = 0, vec_full_cycles = 0, vec_partial_cycles = 0, smem_bytes_block = 0;
  // A head dim below the built one: the per-block stores' wavefronts (each a cycle of the shared-
  // memory pipe) and their cost to the warps that issue them, serial with the MMAs.
  double uneven_wavefronts = 0, uneven_cycles = 0;
  bool global_accumulator = false;  // the tile keeps its fp32 output in global memory (TileChoice)
  double smem_bytes_per_cycle = 0;
  double l2_latency_s = 0, hbm_latency_s = 0;
  // Partitioned LRU L2 (l2_replay.h): the first pass records into `record`, a second one takes
  // each chunk's misses from `replayed`. Chunk id = chunk_base[unit] + the chunk's ordinal.
  std::vector<int64_t> chunk_base = {};
  L2StackReplay* record = nullptr;
  const L2ReplayResult* replayed = nullptr;
  double kv_block_bytes(uint32_t kb) const {
    return 2.0 * trace->mask().geometry().kv_cols_in(kb) * head_bytes;
  }
};

// One memory level on the route from DRAM to the SMs' scratchpad.
struct Hop {
  const MemoryLevel* level;
  std::unique_ptr<BandwidthServer> server;
  double read = 0, write = 0;
  // Corrects the read bytes after the fact; the bandwidth series keeps its shape.
  void add_read(double bytes) {
    const double total = server->total_bytes();
    if (total > 0) server->scale(std::max(0.0, total + bytes) / total);
    read = std::max(0.0, read + bytes);
  }
};

// The L2 replay reads every K/V tile up to this many tile reads per kernel (a few seconds of
// replay at most), a sample of longer traces (l2_replay.h).
constexpr double kReplayTiles = 6e6;
// Replayed misses re-time the kernel when they differ from the first pass's by more than this
// share of the DRAM bandwidth over the kernel's duration.
constexpr double kRepassDramShare = 0.02;

// The levels K/V cross come from the hardware graph: the route from the dram level
// to the scratchpad level. Every level on it gets a bandwidth server; the innermost
// cache filters K/V tiles (hits stop there; outer caches see its misses, without
// reuse of their own), so adding a level or a link changes the path without code.
SC_MODULE(MemorySystem) {
  tlm_utils::multi_passthrough_target_socket<MemorySystem> socket;
  std::vector<Hop> hops;  // DRAM first, towards the scratchpad (excluded)
  int cache = -1;         // index in hops of the reuse cache, -1 = none
  std::unique_ptr<L2Residency> tiles;
  std::vector<std::pair<double, double>> stores;  // (fill mark after the store, bytes): write-back residue
  double replayed_misses = 0;  // expected K/V tiles that miss, when misses come from the replay
  double kv_miss_bytes = 0;                        // K/V bytes this pass's L2 sent to DRAM
  const RunContext& ctx;

  MemorySystem(sc_core::sc_module_name name, const RunContext& c, double bucket_s, int64_t streams,
               const std::vector<const MemoryLevel*>& route)
      : sc_module(name), socket("socket"), ctx(c) {
    for (const MemoryLevel* l : route) {
      const double eff = l->kind == MemoryKind::dram ? c.gpu->hbm_efficiency * c.kernel->memory_efficiency
                                                     : c.gpu->l2_efficiency;
      hops.push_back({l, std::make_unique<BandwidthServer>(l->name, l->bandwidth_bytes_per_s * eff, bucket_s)});
      if (l->kind == MemoryKind::cache) {  // the innermost cache filters reuse; outer ones pass misses
        cache = static_cast<int>(hops.size()) - 1;
        tiles = std::make_unique<L2Residency>(streams, c.trace->mask().geometry().kv_blocks(),
                                              l->capacity_bytes * c.gpu->l2_usable_fraction);
      }
    }
    socket.register_b_transport(this, &MemorySystem::b_transport);
  }

  // DRAM latency at time t: the measured loaded-latency curve at the DRAM utilisation of the
  // last microsecond (about two latencies), or the unloaded latency without a curve.
  double dram_latency(double t) const {
    const auto& curve = hops.front().level->loaded_latency_s;
    if (curve.empty()) return ctx.hbm_latency_s;
    const double u = hops.front().server->utilization(t, 1e-6, hops.front().level->bandwidth_bytes_per_s);
    if (u <= curve.front().first) return curve.front().second;
    for (size_t i = 1; i < curve.size(); ++i) {
      if (u <= curve[i].first) {
        const auto& [u0, l0] = curve[i - 1];
        const auto& [u1, l1] = curve[i];
        return l0 + (l1 - l0) * (u - u0) / (u1 - u0);
      }
    }
    return curve.back().second;  // beyond the last measured point: held, not extrapolated
  }

  // Moves bytes through the hops: misses cross every level, hits only those from the cache on.
  double transfer(double t0, double miss_bytes, double all_bytes, bool write) {
    double done = t0;
    for (size_t i = 0; i < hops.size(); ++i) {
      const double b = cache >= 0 && static_cast<int>(i) >= cache ? all_bytes : miss_bytes;
      if (b <= 0) continue;
      (write ? hops[i].write : hops[i].read) += b;
      done = std::max(done, hops[i].server->transfer(t0, b));
    }
    return done;
  }

  void b_transport(int, tlm::tlm_generic_payload& trans, sc_time& delay) {
    MemRequest* r = nullptr;
    trans.get_extension(r);
    const double t0 = (sc_core::sc_time_stamp() + delay).to_seconds();
    switch (r->op) {
      case MemRequest::load_kv: {
        // The chunk's blocks are read one after another, block_interval_s apart; by the k-th,
        // the cache will have taken k intervals more of fills, at the DRAM's rate over the
        // chunk's own span just before it (a shorter window would see one chunk's burst).
        // Over the whole span, also at the kernel's start: there the span is mostly empty.
        // With replayed misses (second pass) the residency is not consulted.
        L2Residency* judge = ctx.replayed ? nullptr : tiles.get();
        const double span_s = std::max(1e-6, r->n * r->block_interval_s);
        const double fill_rate =
            judge ? hops.front().server->utilization(t0, span_s, 1.0) * std::min(t0, span_s) / span_s : 0.0;
        double miss_bytes = 0, all_bytes = 0;
        const auto bytes_of = [&](uint32_t block) { return ctx.kv_block_bytes(block); };
        if (judge) {
          miss_bytes = judge->access_chunk(r->stream, r->blocks, r->n, r->descending, fill_rate, r->block_interval_s,
                                           bytes_of, all_bytes);
        } else {
          for (uint32_t k = 0; k < r->n; ++k) all_bytes += bytes_of(r->blocks[r->descending ? r->n - 1 - k : k]);
          miss_bytes = all_bytes;
        }
        if (ctx.replayed) {  // a chunk the replay did not keep had no sampled tile: its misses are in others'
          const int64_t i = ctx.replayed->find(r->chunk);
          miss_bytes = i < 0 ? 0.0 : ctx.replayed->miss_bytes[static_cast<size_t>(i)];
          replayed_misses += i < 0 ? 0.0 : ctx.replayed->miss_tiles[static_cast<size_t>(i)];
        }
        kv_miss_bytes += miss_bytes;
        // Expected latency: the share of bytes that miss waits on DRAM, the rest on L2.
        const double miss_share = all_bytes > 0 ? miss_bytes / all_bytes : 0.0;
        r->latency_s = ctx.l2_latency_s + miss_share * (dram_latency(t0) - ctx.l2_latency_s);
        r->done_s = transfer(t0, miss_bytes, all_bytes, false);
        break;
      }
      case MemRequest::load_q:
        if (tiles) tiles->fill(r->bytes);
        if (ctx.record) ctx.record->fill(t0, r->bytes, false, r->sm);
        r->latency_s = dram_latency(t0);
        r->done_s = transfer(t0, r->bytes, r->bytes, false);
        break;
      case MemRequest::store:
        if (tiles) {
          tiles->fill(r->bytes);
          stores.emplace_back(tiles->filled_bytes(), r->bytes);
        }
        if (ctx.record) ctx.record->fill(t0, r->bytes, true, r->sm);
        r->done_s = transfer(t0, r->bytes, r->bytes, true);
        break;
      // Lines the cache holds: split-KV partials just written, an accumulator rewritten in place.
      // DRAM sees them only without a cache.
      case MemRequest::read_l2:
      case MemRequest::write_l2:
        r->done_s = transfer(t0, cache < 0 ? r->bytes : 0, r->bytes, r->op == MemRequest::write_l2);
        break;
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// Hands out work units in grid order, as the hardware block scheduler does, and
// holds back the combine kernel until every attention unit has finished.
struct Scheduler {
  const std::vector<WorkUnit>* units;
  size_t next = 0;
  int64_t attention_left = 0;
  sc_core::sc_event attention_done;
  double attention_end_s = 0;
};

SC_MODULE(CtaSlot) {
  tlm_utils::simple_initiator_socket<CtaSlot> socket;
  RunContext& ctx;
  Scheduler& sched;
  std::vector<int>& active;  // resident CTAs per SM
  GpuSimResult& out;
  SpreadSeries& smem_series;  // a chunk's SMEM bytes spread over its duration
  uint32_t sm;
  int64_t units_run = 0;
  tlm_utils::tlm_quantumkeeper qk;
  tlm::tlm_generic_payload payload;  // one per slot, reused: constructing one per request allocates

  SC_HAS_PROCESS(CtaSlot);
  CtaSlot(sc_core::sc_module_name name, RunContext& c, Scheduler& s, std::vector<int>& act, GpuSimResult& o,
          SpreadSeries& smem, uint32_t sm_index)
      : sc_module(name), socket("socket"), ctx(c), sched(s), active(act), out(o), smem_series(smem), sm(sm_index) {
    SC_THREAD(run);
  }

  double memory(MemRequest& r) {
    payload.set_extension(&r);
    r.sm = sm;
    sc_time delay = qk.get_local_time();
    socket->b_transport(payload, delay);
    payload.clear_extension(&r);
    return r.done_s;
  }

  double now_s() { return qk.get_current_time().to_seconds(); }
  void advance_to(double t_s) {
    const double now = now_s();
    if (t_s > now) qk.inc(sc_time(t_s - now, SC_SEC));
  }

  // `prefetched`: a persistent kernel's producer loaded this tile's Q and first K/V
  // while the previous tile was computing, so their latency is hidden.
  void run_attention(const WorkUnit& u, uint32_t index, bool prefetched) {
    const Trace& tr = *ctx.trace;
    const double clk = ctx.clock_hz;
    const int64_t rows = tr.unit_q_rows(u) * u.heads;
    const double eb = dtype_bytes(tr.shape().dtype);
    const double d = static_cast<double>(tr.shape().head_dim);
    MemRequest q;
    q.op = MemRequest::load_q;
    q.bytes = rows * d * eb;
    const double q_done = memory(q);
    advance_to(q_done + (prefetched ? 0.0 : q.latency_s));
    const BlockRow row = tr.mask().row(u.mask_row);
    const double f = ctx.kernel->softmax_overlap_fraction;
    // One block's time on an SM whose pipes `share` resident CTAs divide; the share is read at
    // every chunk, as CTAs on the same SM come and go (reading it once per CTA let the first CTA
    // on each SM run alone-fast for its whole tile, half a tile ahead of its neighbour for good).
    // A CTA alone on its SM leaves pipes idle while its warps wait on their own dependencies: it
    // runs as if a 1/lone_cta_throughput_fraction share of the SM were taken, until more CTAs fill it.
    const double lone_share = 1.0 / ctx.kernel->lone_cta_throughput_fraction;
    auto pipe_share = [&] { return std::max(static_cast<double>(active[sm]), lone_share); };
    auto block_s = [&](double share, bool masked) {
      const double c_mma = ctx.mma_cycles * share;
      const double softmax = (ctx.exp_cycles + (masked ? ctx.vec_partial_cycles : ctx.vec_full_cycles)) * share;
      const double compute = c_mma + softmax - f * std::min(c_mma, softmax) + ctx.uneven_cycles * share;
      return std::max(compute, (ctx.smem_bytes_block / ctx.smem_bytes_per_cycle + ctx.uneven_wavefronts) * share) / clk;
    };
    double share = pipe_share();  // CTAs sharing this SM's pipes now
    double full_s = block_s(share, false), partial_s = block_s(share, true);
    const int64_t stream = static_cast<int64_t>(u.batch) * tr.shape().kv_heads + u.kv_head;
    const double stages = ctx.kernel->pipeline_stages;
    bool first = !prefetched;
    const bool down = ctx.kernel->kv_descending;
    double block_interval_s = full_s;  // refined from each chunk's actual pace
    int64_t chunk = ctx.chunk_base.empty() ? -1 : ctx.chunk_base[index];
    const double acc_block_bytes = ctx.global_accumulator ? rows * d * 4.0 : 0.0;
    for (uint32_t done = 0; done < u.entry_end - u.entry_begin; ++chunk) {
      const uint32_t n = static_cast<uint32_t>(std::min<int64_t>(ctx.options.quantum_blocks, u.entry_end - u.entry_begin - done));
      // Chunk [e, e + n) of the row's entries, taken from the front or the back.
      const uint32_t e = down ? u.entry_end - done - n : u.entry_begin + done;
      if (const double now_share = pipe_share(); now_share != share) {
        share = now_share;
        full_s = block_s(share, false);
        partial_s = block_s(share, true);
      }
      int64_t partial = 0;
      for (uint32_t i = e; i < e + n; ++i) partial += row.partial[i];
      const double t_start = now_s();
      MemRequest r;
      r.op = MemRequest::load_kv;
      r.stream = stream;
      r.blocks = row.kv_block + e;
      r.n = n;
      r.descending = down;
      r.block_interval_s = block_interval_s;
      r.chunk = chunk;
      double mem_done = memory(r);
      const double lat = r.latency_s;
      if (acc_block_bytes > 0) {  // the accumulator's read (none before the unit's first block) and write
        MemRequest ar, aw;
        ar.op = MemRequest::read_l2;
        ar.bytes = (n - (done == 0 ? 1 : 0)) * acc_block_bytes;
        aw.op = MemRequest::write_l2;
        aw.bytes = n * acc_block_bytes;
        mem_done = std::max({mem_done, memory(ar), memory(aw)});
      }
      const double compute = static_cast<double>(n - partial) * full_s + static_cast<double>(partial) * partial_s;
      // K/V loads: at most `stages` tile pairs in flight per CTA (Little's law: n blocks
      // take at least n * latency / stages); the last block's compute follows its data.
      // The first tile pays the full latency before compute can start. A kernel that
      // waits for each tile right before its MMA, having issued the load only one MMA
      // earlier (FA2: cp_async_wait<0> + __syncthreads), exposes every tile's latency.
      const double exposed = ctx.kernel->exposed_load_latency ? n * lat / stages : (first ? lat : 0.0);
      const double end = std::max({t_start + compute + exposed, mem_done + lat / stages + full_s,
                                   t_start + n * lat / stages});
      smem_series.add(t_start, end, n * ctx.smem_bytes_block);
      if (ctx.record) ctx.record->chunk(chunk, {t_start, end, r.blocks, static_cast<int32_t>(stream), static_cast<uint16_t>(n), static_cast<uint16_t>(sm), down});
      advance_to(end);
      block_interval_s = (end - t_start) / n;
      if (qk.need_sync()) qk.sync();
      first = false;
      done += n;
    }
    // Per-tile work outside the pipelined block loop (pipeline fill and drain, final rescale,
    // epilogue), on the SM's shared pipes like the rest of the compute.
    advance_to(now_s() + ctx.kernel->tile_overhead_cycles * pipe_share() / clk);
    MemRequest st;
    st.op = MemRequest::store;
    st.bytes = u.num_splits > 1 ? rows * (d + 2) * 4.0 : rows * d * eb;
    advance_to(memory(st));
    if (ctx.kernel->spill_bytes_per_cta > 0) {
      // Spilled registers: local-memory lines that stay dirty in L2 and reach DRAM when
      // evicted, like the outputs (the write-back residue at the end applies to them too).
      MemRequest sp;
      sp.op = MemRequest::store;
      sp.bytes = ctx.kernel->spill_bytes_per_cta;
      memory(sp);
    }
  }

  // The split-KV combine kernel: read the splits' log-sum-exps, then merge the partial
  // outputs. FlashAttention-2's merge loads each split into the registers the previous
  // split's accumulate reads (`combine_serial`), so it is a chain of L2 round trips
  // (validation/h100/data/kernels/decode_kernels.jsonl: ~0.2 us per split on H100);
  // otherwise all partials are read at once.
  void run_combine(const WorkUnit& u) {
    const Trace& tr = *ctx.trace;
    const KernelSpec& k = *ctx.kernel;
    const int64_t rows = tr.unit_q_rows(u) * u.heads;
    const double d = static_cast<double>(tr.shape().head_dim);
    // Log-sum-exp merge: a few vector ops per partial element.
    const double merge_s = rows * (d + 4.0) / ctx.hw->vector_flops_per_clock_per_unit / ctx.clock_hz;
    const double partial_bytes = rows * (d + 2) * 4.0;
    advance_to(now_s() + k.combine_overhead_s);
    MemRequest r;
    r.op = MemRequest::read_l2;
    if (k.combine_serial) {
      r.bytes = rows * 4.0 * u.num_splits;  // the log-sum-exps
      advance_to(memory(r) + ctx.l2_latency_s);
      for (uint32_t s = 0; s < u.num_splits; ++s) {
        MemRequest p;
        p.op = MemRequest::read_l2;
        p.bytes = partial_bytes;
        advance_to(memory(p) + ctx.l2_latency_s + merge_s);
      }
    } else {
      r.bytes = partial_bytes * u.num_splits;
      advance_to(memory(r) + ctx.l2_latency_s + merge_s * u.num_splits);
    }
    MemRequest st;
    st.op = MemRequest::store;
    st.bytes = rows * d * dtype_bytes(tr.shape().dtype);
    advance_to(memory(st));
  }

  void run() {
    qk.reset();
    while (sched.next < sched.units->size()) {
      const uint32_t index = static_cast<uint32_t>(sched.next++);
      const WorkUnit& u = (*sched.units)[index];
      if (u.kind == WorkKind::combine) {
        if (sched.attention_left > 0) wait(sched.attention_done);
        const double start = sched.attention_end_s + ctx.gpu->kernel_gap_s;
        if (start > now_s()) wait(sc_time(start - now_s(), SC_SEC));
      }
      const double start_s = now_s();
      ++active[sm];
      qk.sync();  // let CTAs that start at the same time on this SM count each other from the first block
      // A persistent kernel launches its CTAs once; later tiles need no block dispatch.
      const bool resident = ctx.kernel->persistent && units_run > 0;
      if (!resident) advance_to(start_s + ctx.gpu->cta_launch_cycles / ctx.clock_hz);
      ++units_run;
      if (u.kind == WorkKind::attention) run_attention(u, index, resident);
      else run_combine(u);
      qk.sync();  // a finished CTA frees its slot at its true time: scheduling stays in order
      --active[sm];
      const double end_s = now_s();
      out.sm_busy_each_s[sm] += end_s - start_s;
      if (ctx.options.record_ctas) out.cta_records.push_back({index, sm, start_s, end_s});
      if (u.kind == WorkKind::attention && --sched.attention_left == 0) {
        sched.attention_end_s = end_s;
        sched.attention_done.notify(sc_core::SC_ZERO_TIME);
      }
      out.kernel_s = std::max(out.kernel_s, end_s);
    }
  }
};

// Whether two CTAs read the same K/V tile: two units of one K/V stream that are not
// splits of one (query head, query block) row.
bool shares_kv_tiles(const Trace& trace) {
  std::vector<std::pair<int64_t, int64_t>> first(static_cast<size_t>(trace.shape().batch * trace.shape().kv_heads),
                                                 {-1, -1});
  for (const WorkUnit& u : trace.units()) {
    if (u.kind != WorkKind::attention) continue;
    auto& f = first[static_cast<size_t>(u.batch) * trace.shape().kv_heads + u.kv_head];
    const std::pair<int64_t, int64_t> row{u.q_head, u.q_block};
    if (f.first < 0) f = row;
    else if (f != row) return true;
  }
  return false;
}

// Each partition's LRU edge less the register spills' area of the resident CTAs: a spilled line is
// re-touched all through its CTA's life, so it holds its place and K/V get the rest. A partition
// keeps its own side's spills whole and the other sides' home share, as for any line.
L2StackParams spill_reduced(const GpuParams& gpu, const KernelSpec& kernel, int64_t slots, const TraceTotals& totals) {
  L2StackParams p = gpu.l2_partition;
  const double parts = std::max(1, gpu.l2_partitions);
  const double resident = static_cast<double>(std::min<int64_t>(slots, totals.attention_units));
  const double held = resident * kernel.spill_area_bytes_per_cta * (2 * parts - 1) / (parts * parts);
  p.capacity_bytes = std::max(p.ramp_bytes / 2, p.capacity_bytes - held);
  return p;
}

}  // namespace

GpuSimResult simulate_gpu(const Trace& trace, const HwSpec& hw, const KernelSpec& kernel, const GpuSimOptions& options) {
  const GpuParams& gpu = hw.params<GpuParams>();
  const AttentionShape& s = trace.shape();
  RunContext ctx{&trace, &hw, &kernel, &gpu, options, hw.clock_hz, static_cast<double>(s.head_dim * dtype_bytes(s.dtype))};
  const bool shared_tiles = shares_kv_tiles(trace);
  if (ctx.options.quantum_blocks <= 0) ctx.options.quantum_blocks = shared_tiles ? 16 : 64;
  auto rate = hw.matrix_path(kernel.mma_path).flops_per_clock_per_unit;
  if (!rate.count(s.dtype)) {
    throw Error(hw.name + ": matrix path '" + kernel.mma_path + "' has no " + dtype_name(s.dtype) + " rate");
  }
  const BlockGeometry& g = trace.mask().geometry();
  const double d = static_cast<double>(s.head_dim);
  // A head dim between the kernel's built ones runs the next built one: its products and shared-
  // memory tiles are that wide (zero-filled), while K/V move at the real width (memory requests).
  const double d_built = static_cast<double>(kernel.padded_head_dim(s.head_dim));
  // Per (query tile, KV block) step; rows are the tile's rows padded to the MMA granularity.
  const int64_t rows = (trace.tiling().pack_gqa ? s.group_size() : 1) * std::min(g.q_block, s.q_len);
  int64_t padded = (rows + kernel.mma_tile_m - 1) / kernel.mma_tile_m * kernel.mma_tile_m;
  const TileChoice& tile = kernel.tile_for(s.head_dim);
  if (kernel.computes_full_q_tile) padded = std::max(padded, tile.q_block);
  const double rows_pad = static_cast<double>(padded);
  const double cols = static_cast<double>(g.kv_block);
  ctx.mma_cycles = 4.0 * rows_pad * cols * d_built / (rate.at(s.dtype) * kernel.mma_efficiency);
  // Rows without a query cost a softmax only where the kernel's measured instruction counts say so.
  const double softmax_rows = kernel.softmax_over_q_tile ? rows_pad : static_cast<double>(rows);
  ctx.exp_cycles = softmax_rows * cols / (hw.exp_per_clock_per_unit * gpu.exp_issue_fraction);
  ctx.vec_full_cycles = softmax_rows * cols * kernel.softmax_vector_ops_per_element / hw.vector_flops_per_clock_per_unit;
  ctx.vec_partial_cycles = softmax_rows * cols *
                           (kernel.softmax_vector_ops_per_element + kernel.mask_vector_ops_per_element) /
                           hw.vector_flops_per_clock_per_unit;
  if (d_built > d) {
    ctx.uneven_wavefronts = cols * tile.uneven_width_smem_wavefronts_per_key;
    ctx.uneven_cycles = ctx.uneven_wavefronts * kernel.uneven_width_cycles_per_wavefront;
  }
  const double tile_bytes = 2.0 * cols * d_built * dtype_bytes(s.dtype);  // K and V in shared memory
  ctx.global_accumulator = tile.global_output_accumulator;
  const double readers = std::ceil(rows_pad / static_cast<double>(tile.smem_reader_rows));
  ctx.smem_bytes_block = tile_bytes * (1.0 + readers) + rows * d_built * dtype_bytes(s.dtype);
  const MemoryLevel* smem = hw.find_level(MemoryKind::scratchpad);
  if (!smem) throw Error(hw.name + ": the GPU model needs a 'kind: scratchpad' level (shared memory)");
  ctx.smem_bytes_per_cycle = smem->bandwidth_bytes_per_s / hw.clock_hz;
  // K/V reach the SMs from DRAM along the hardware graph; the levels on the way
  // (scratchpad excluded) are the memory system.
  HwGraph graph(hw);
  std::vector<const MemoryLevel*> route;
  for (int node : graph.route(hw.dram().name, smem->name)) {
    const std::string& name = graph.nodes()[static_cast<size_t>(node)].name;
    if (name != smem->name) route.push_back(&hw.level(name));
  }
  const MemoryLevel* cache_level = nullptr;
  for (const MemoryLevel* l : route) {
    if (l->kind == MemoryKind::cache) cache_level = l;  // innermost cache on the route
  }
  const MemoryLevel& l2 = cache_level ? *cache_level : hw.dram();
  ctx.l2_latency_s = l2.latency_cycles / hw.clock_hz;
  ctx.hbm_latency_s = (hw.dram().latency_cycles) / hw.clock_hz;

  // Bucket and quantum sizes follow a roofline estimate of the run.
  const TraceTotals totals = trace.totals();
  const double est_s = std::max({totals.mma_flops / hw.peak_flops(kernel.mma_path, s.dtype),
                                 totals.kv_bytes_streamed / l2.bandwidth_bytes_per_s,
                                 (totals.q_bytes + totals.out_bytes) / hw.dram().bandwidth_bytes_per_s, 1e-6});
  const double bucket_s = std::clamp(est_s / 4000.0, 1e-9, 1e-5);
  const int per_sm = std::min(tile.ctas_per_sm, gpu.max_ctas_per_sm);  // resident CTAs per SM

  const int64_t streams = s.batch * s.kv_heads;
  // One timing run; with the partitioned L2 replay, possibly a second one with its misses.
  auto run_pass = [&](GpuSimResult& out, std::unique_ptr<MemorySystem>& memory, SpreadSeries& smem_series) {
    fresh_systemc_context();
    tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(std::clamp(est_s / 500.0, 1e-8, 5e-5), SC_SEC));
    out.launch_s = gpu.launch_overhead_s;
    out.sm_busy_each_s.assign(static_cast<size_t>(hw.units), 0.0);
    Scheduler sched;
    sched.units = &trace.units();
    for (const WorkUnit& u : trace.units()) sched.attention_left += u.kind == WorkKind::attention;
    std::vector<int> active(static_cast<size_t>(hw.units), 0);
    memory = std::make_unique<MemorySystem>("memory", ctx, bucket_s, streams, route);
    std::vector<std::unique_ptr<CtaSlot>> slots;
    // Slot k*SMs + sm: the first wave puts one CTA on every SM before doubling up.
    for (int k = 0; k < per_sm; ++k) {
      for (int sm = 0; sm < hw.units; ++sm) {
        auto slot = std::make_unique<CtaSlot>(("slot" + std::to_string(k * hw.units + sm)).c_str(), ctx, sched, active,
                                              out, smem_series, static_cast<uint32_t>(sm));
        slot->socket.bind(memory->socket);
        slots.push_back(std::move(slot));
      }
    }
    sc_core::sc_start();
    resync_sanitizer_stack();  // SystemC ran on coroutine stacks; tell ASan the real one (no-op otherwise)
    out.slots = static_cast<int64_t>(slots.size());
    slots.clear();  // before the memory system they are bound to
  };

  GpuSimResult out;
  std::unique_ptr<MemorySystem> memory;
  SpreadSeries smem_spread(bucket_s);
  // Two passes where tiles are re-read and the footprint can outgrow an L2 partition.
  const double footprint_bytes = static_cast<double>(streams) * 2.0 * s.kv_len * ctx.head_bytes + totals.q_bytes +
                                 totals.out_bytes;
  const L2StackParams edge = spill_reduced(gpu, kernel, int64_t{per_sm} * hw.units, totals);
  const bool lru_l2 = gpu.l2_lru && cache_level && shared_tiles && footprint_bytes > edge.ramp_start_bytes();
  std::unique_ptr<L2StackReplay> record;
  L2ReplayResult replayed;
  bool second_pass = true;  // the only pass, without the replay
  if (lru_l2) {
    int64_t chunks = 0;  // chunk ids: a unit's chunks follow the previous units'
    for (const WorkUnit& u : trace.units()) {
      ctx.chunk_base.push_back(chunks);
      if (u.kind == WorkKind::attention) {
        chunks += (u.entry_end - u.entry_begin + ctx.options.quantum_blocks - 1) / ctx.options.quantum_blocks;
      }
    }
    // Every K/V tile of traces up to kReplayTiles tile reads; a sample of longer ones.
    const double rate = std::min(1.0, kReplayTiles / std::max(1.0, static_cast<double>(totals.tile_steps)));
    record = std::make_unique<L2StackReplay>(streams, g.kv_blocks(), rate);
    ctx.record = record.get();
    run_pass(out, memory, smem_spread);
    ctx.record = nullptr;
    std::vector<double> tile_bytes;
    for (int64_t k = 0; k < g.kv_blocks(); ++k) tile_bytes.push_back(ctx.kv_block_bytes(static_cast<uint32_t>(k)));
    replayed = record->replay({gpu.l2_partitions, gpu.l2_partition_sm_run, edge}, tile_bytes);
    record.reset();
    // A second timing pass only where the replayed misses could move the schedule: when their
    // difference from the first pass's, spread over the kernel, is a noticeable share of DRAM
    // bandwidth. Otherwise the first pass's schedule stands and its DRAM traffic is corrected.
    const double delta_bytes = replayed.total_miss_bytes - memory->kv_miss_bytes;
    second_pass = std::fabs(delta_bytes) > kRepassDramShare * hw.dram().bandwidth_bytes_per_s * out.kernel_s;
    if (second_pass) {
      ctx.replayed = &replayed;
      out = GpuSimResult{};
      memory.reset();
      smem_spread.clear();
    } else {
      for (int i = 0; i < memory->cache; ++i) memory->hops[static_cast<size_t>(i)].add_read(delta_bytes);
      memory->replayed_misses = replayed.total_miss_tiles;
    }
  }
  if (second_pass) run_pass(out, memory, smem_spread);
  out.ctas = static_cast<int64_t>(trace.units().size());
  out.waves = static_cast<double>(totals.attention_units) / static_cast<double>(out.slots);
  out.latency_s = out.launch_s + out.kernel_s + kernel.fixed_overhead_s;
  out.padded_mma_flops = 0;
  for (const WorkUnit& u : trace.units()) {
    if (u.kind == WorkKind::attention) out.padded_mma_flops += (u.entry_end - u.entry_begin) * 4.0 * rows_pad * cols * d;
  }
  out.exp_ops = totals.exp_ops;
  for (double b : out.sm_busy_each_s) out.sm_busy_s += b;
  out.l2_hits = lru_l2 ? static_cast<double>(totals.tile_steps) - memory->replayed_misses
                      : memory->tiles ? memory->tiles->hits() : 0;
  out.l2_misses = lru_l2 ? memory->replayed_misses : memory->tiles ? memory->tiles->misses() : 0;
  // A write-back L2 still holds part of the last outputs when the kernel ends: DRAM sees
  // those bytes later, so they are not the kernel's DRAM writes (as Nsight Compute counts).
  double dirty_end = replayed.dirty_end_bytes;
  if (!lru_l2) {
    for (const auto& [mark, bytes] : memory->stores)  // non-empty only with a cache
      dirty_end += bytes * memory->tiles->resident_fraction(mark);
  }
  for (int i = 0; i < memory->cache; ++i) memory->hops[static_cast<size_t>(i)].write -= dirty_end;
  out.l2_dirty_end_bytes = dirty_end;
  double step = 0;
  LevelTraffic lsmem{smem->name, 0, 0, 0, smem->bandwidth_bytes_per_s * hw.units, {}};
  const std::vector<double> smem_series = smem_spread.buckets();
  for (double b : smem_series) lsmem.read_bytes += b;
  lsmem.series_bytes_per_s = downsample_series(smem_series, bucket_s, options.max_series_points, out.kernel_s, &step);
  for (double b : lsmem.series_bytes_per_s) lsmem.peak_bytes_per_s = std::max(lsmem.peak_bytes_per_s, b);
  out.levels = {lsmem};
  // Outermost last, as the report lists levels from the SMs outward.
  for (auto it = memory->hops.rbegin(); it != memory->hops.rend(); ++it) {
    out.levels.push_back({it->level->name, it->read, it->write, it->server->peak_bytes_per_s(), it->server->bytes_per_s(),
                          downsample_series(it->server->bucket_bytes(), bucket_s, options.max_series_points, out.kernel_s, &step)});
  }
  out.series_step_s = step;
  return out;
}

}  // namespace attnsim
