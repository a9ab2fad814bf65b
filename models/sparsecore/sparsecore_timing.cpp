// Timing of a kernel that runs on an attached SparseCore (`runs_on: sparsecore`):
// the host's own timing model (whatever is registered for its arch) executes the
// dense tiles the SparseCore delivers, and the gather engines are timed beside it
// from their decode rate, bandwidth and request granularity; the two overlap as far
// as the staging buffer and `overlap_fraction` allow. Equations: docs/sparsecore.md.
#include <algorithm>
#include <cmath>

#include "models/sparsecore/gather_plan.h"
#include "sim/timing/timing_model.h"

namespace attnsim {
namespace {

// The host's view of the same kernel: its spec without the attachment.
class HostKernel final : public IKernel {
 public:
  explicit HostKernel(KernelSpec s) : spec_(std::move(s)) { spec_.runs_on.clear(); }
  const KernelSpec& spec() const override { return spec_; }
  Trace make_trace(const AttentionShape&, std::shared_ptr<const BlockMask>, const HwSpec&) const override {
    throw Error("internal: the host view of a SparseCore kernel does not generate traces");
  }

 private:
  KernelSpec spec_;
};

struct GatherTime {
  double time_s = 0;       // slowest instance
  double transfer_s = 0;   // its bytes / bandwidth
  double decode_s = 0;     // its indices / decode rate
  double busiest_bytes = 0;
};

// Units are handed to host units' slots in grid order (slot i mod slots, slot k*units + u
// on host unit u, as the GPU model places CTAs); an engine serves the host units of its
// placement. Decode and transfer are two pipelined stages: an engine takes the longer.
GatherTime gather_time(const Trace& tr, const GatherPlan& plan, const SparseCoreParams& sc, const HwSpec& hw,
                       int slots_per_unit) {
  const int64_t slots = static_cast<int64_t>(hw.units) * slots_per_unit;
  std::vector<double> bytes(static_cast<size_t>(sc.instances), 0.0), indices(bytes.size(), 0.0);
  int64_t i = 0;
  for (const WorkUnit& u : tr.units()) {
    const GatherRowStats& st = plan.rows[static_cast<size_t>(u.mask_row)];
    const int64_t host_unit = (i++ % slots) % hw.units;
    int64_t e = 0;
    if (sc.placement == Placement::per_unit) e = host_unit;
    else if (sc.placement == Placement::per_cluster) e = host_unit / sc.cluster_units;
    // near_l2: the engines are one pool (requests spread over L2 slices), e stays 0.
    bytes[static_cast<size_t>(e)] += st.request_bytes + st.indices * sc.index_bytes;
    indices[static_cast<size_t>(e)] += static_cast<double>(st.indices);
  }
  const double pool = sc.placement == Placement::near_l2 ? sc.instances : 1;
  GatherTime out;
  for (size_t e = 0; e < bytes.size(); ++e) {
    const double transfer = bytes[e] / (sc.gather_bytes_per_s * pool);
    const double decode = indices[e] / (sc.index_decode_per_cycle * pool * hw.clock_hz);
    if (std::max(transfer, decode) >= out.time_s) {
      out = {std::max(transfer, decode), transfer, decode, bytes[e]};
    }
  }
  return out;
}

void simulate(const Session& ses, nlohmann::ordered_json& result) {
  const SparseCoreParams* sc = ses.hw.attachment<SparseCoreParams>("sparsecore");
  if (!sc) throw Error(ses.hw.name + ": no 'sparsecore:' section for kernel '" + ses.kernel->spec().name + "'");
  const TimingEntry* host = find_timing_model(ses.hw.arch);
  if (!host) throw Error(ses.hw.name + ": no timing model for the host arch '" + ses.hw.arch + "'");
  const KernelSpec& k = ses.kernel->spec();
  const AttentionShape& s = ses.workload.shape;
  const int64_t tile = k.tile_for(s.head_dim).kv_block;
  const double row_bytes = static_cast<double>(s.head_dim) * dtype_bytes(s.dtype);
  GatherPlan plan = plan_gather(*ses.trace, tile, row_bytes, *sc);

  // Staging: each host slot an engine feeds needs one K+V tile to work on and one in
  // flight to overlap; with less, the gather cannot run ahead of the matrix units.
  const int slots_per_unit = ses.hw.arch == "gpu" ? k.tile_for(s.head_dim).ctas_per_sm : 1;
  const double consumers = static_cast<double>(ses.hw.units) * slots_per_unit / sc->instances;
  const double tile_bytes = 2.0 * static_cast<double>(tile) * row_bytes;
  const double one_each = std::ceil(consumers) * tile_bytes;
  if (sc->staging_buffer_bytes < one_each) {
    throw Error(ses.hw.name + ": sparsecore: staging_buffer: " + std::to_string(sc->staging_buffer_bytes) +
                " bytes cannot hold one K+V tile for each of the " + std::to_string(static_cast<int64_t>(std::ceil(consumers))) +
                " host slots an engine feeds (needs at least " + std::to_string(static_cast<int64_t>(one_each)) + " bytes)");
  }
  const double overlap = sc->overlap_fraction * std::min(1.0, sc->staging_buffer_bytes / (2.0 * one_each));

  // The host executes the dense tiles with its own model. When every tile is an aligned
  // block there is nothing to gather, and the driver launches the host's block-sparse
  // kernel (aligned_fallback) on the same blocks instead.
  const bool fallback = plan.total.gathered_tokens == 0 && !k.aligned_fallback.empty();
  Session host_ses;
  host_ses.hw = ses.hw;
  host_ses.workload = ses.workload;
  if (fallback) {
    host_ses.kernel = make_kernel(k.aligned_fallback);
    host_ses.mask = std::make_shared<const BlockMask>(ses.pattern->block_mask(host_ses.kernel->block_geometry(s)));
    host_ses.trace = std::make_unique<Trace>(host_ses.kernel->make_trace(s, host_ses.mask, ses.hw));
  } else {
    host_ses.kernel = std::make_unique<HostKernel>(k);
    host_ses.mask = plan.matrix->mask_ptr();
    host_ses.trace = std::move(plan.matrix);
  }
  nlohmann::ordered_json host_result;
  host_result["work"] = result["work"];
  host->simulate(host_ses, host_result);

  const GatherTime gt = fallback ? GatherTime{} : gather_time(*host_ses.trace, plan, *sc, ses.hw, slots_per_unit);
  nlohmann::ordered_json t = host_result["timing"];
  const double matrix_s = t["kernel_s"].get<double>();
  const double outside_s = t["latency_s"].get<double>() - matrix_s;  // launch, fixed costs
  const double core_s = std::max(matrix_s, gt.time_s) + (1.0 - overlap) * std::min(matrix_s, gt.time_s);
  const double latency_s = outside_s + core_s + sc->fixed_overhead_s;
  const std::string host_bound = t["bound"].get<std::string>();
  t["latency_s"] = latency_s;
  t["latency_us"] = latency_s * 1e6;
  t["latency_cycles"] = latency_s * ses.hw.clock_hz;
  t["kernel_s"] = core_s;
  const double useful = result["work"]["useful_flops"].get<double>();
  t["achieved_tflops"] = useful / latency_s / 1e12;
  t["bound"] = gt.time_s > matrix_s ? "gather" : host_bound;
  result["timing"] = t;
  result["traffic"] = host_result["traffic"];
  if (host_result.contains("series")) result["series"] = host_result["series"];

  const GatherRowStats& tot = plan.total;
  nlohmann::ordered_json j;
  j["placement"] = placement_name(sc->placement);
  j["host_kernel"] = fallback ? k.aligned_fallback : k.name;  // aligned_fallback when nothing was gathered
  j["instances"] = sc->instances;
  j["tile_tokens"] = tile;
  j["matrix_s"] = matrix_s;
  j["gather_s"] = gt.time_s;
  j["gather_transfer_s"] = gt.transfer_s;
  j["index_decode_s"] = gt.decode_s;
  j["overlap_fraction_effective"] = overlap;
  j["fixed_overhead_s"] = sc->fixed_overhead_s;
  j["selected_tokens"] = tot.tokens;  // summed over units (a unit's union of its rows)
  j["dense_tiles"] = tot.tiles;
  j["bypassed_tiles"] = tot.bypassed_tiles;
  j["gathered_tokens"] = tot.gathered_tokens;
  j["gather_runs"] = tot.runs;
  j["gather_request_bytes"] = tot.request_bytes;
  j["gather_useful_bytes"] = 2.0 * tot.gathered_tokens * row_bytes;
  j["indices_decoded"] = tot.indices;
  j["tile_fill"] = tot.tiles > 0 ? static_cast<double>(tot.tokens) / (static_cast<double>(tot.tiles) * tile) : 0.0;
  j["gather_utilization"] = gt.time_s > 0 ? gt.transfer_s / core_s : 0.0;
  j["area_mm2"] = sc->area_m2() * 1e6;
  j["power_w"] = sc->power_w();
  j["energy_j"] = sc->power_w() * latency_s;
  result["sparsecore"] = j;
}

const Registrar<TimingEntry> kRegister(
    "sparsecore", TimingEntry{"SparseCore gather engines feeding the host's timing model (docs/sparsecore.md)", simulate});

}  // namespace
}  // namespace attnsim
