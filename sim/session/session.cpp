#include "sim/session/session.h"

#include <algorithm>
#include <filesystem>

#include "sim/core/progress.h"
#include "sim/core/error.h"
#include "sim/core/units.h"

namespace attnsim {

double resident_bytes(const AttentionShape& s) { return s.q_bytes() + s.kv_bytes() + s.out_bytes(); }

namespace {

// Whether the workload's pattern derives its mask from Q/K (checked before it is built).
bool data_dependent(const YAML::Node& spec) {
  if (!spec.IsMap()) return false;
  const YAML::Node name = spec["name"];  // const lookup: a missing key is undefined, not inserted
  const auto& patterns = PatternRegistry::instance();
  return name.IsDefined() && name.IsScalar() && patterns.contains(name.Scalar()) &&
         patterns.get(name.Scalar(), "patterns").data_dependent;
}

void finish_session(Session& ses, const std::string& kernel_name, bool progress,
                    const SessionOptions* opt) {
  const AttentionShape& s = ses.workload.shape;
  const std::string where = ses.workload.source_path;
  const double need = resident_bytes(s);
  if (need > ses.hw.dram_capacity_bytes()) {
    throw Error(where + ": this layer needs " + format_bytes(need) + " of Q/K/V/O in device memory but " +
                ses.hw.name + " has " + format_bytes(ses.hw.dram_capacity_bytes()) +
                "; reduce batch or sequence length, or split it over several chips");
  }
  std::string kname = kernel_name.empty() ? ses.workload.kernel : kernel_name;
  const bool chosen = !kname.empty();
  if (!chosen) kname = default_kernel(ses.hw, s.phase);
  ses.kernel = make_kernel(kname);
  // A library may launch another kernel for this shape (FA2 decode without split-KV).
  if (const std::string other = ses.kernel->dispatch(s, ses.hw); !other.empty()) {
    ses.dispatched_from = ses.kernel->spec().name;
    ses.kernel = make_kernel(other);
  }
  const KernelSpec& ks = ses.kernel->spec();
  if (ks.arch != ses.hw.arch) {
    throw Error("kernel '" + ks.name + "' runs on arch '" + ks.arch + "' but " + ses.hw.name + " is arch '" + ses.hw.arch +
                "'; pick a " + ses.hw.arch + " kernel (default: " + default_kernel(ses.hw, s.phase) + ")");
  }
  if (!ks.runs_on.empty() && !ses.hw.attachments.count(ks.runs_on)) {
    throw Error("kernel '" + ks.name + "' runs on an attached " + ks.runs_on + ", but " + ses.hw.name +
                " has no '" + ks.runs_on + ":' section; use a config that attaches one (e.g. " + ks.runs_on + "-h100)");
  }
  const std::string phase = s.phase == Phase::decode ? "decode" : "prefill";
  if (std::find(ks.phases.begin(), ks.phases.end(), phase) == ks.phases.end()) {
    throw Error(where + ": kernel '" + ks.name + "' does not run " + phase + "; pick a " + phase + " kernel");
  }
  const ResourceBudget budget = opt ? opt->budget : ResourceBudget{};
  if (opt && !opt->q_npy.empty()) {
    require_within_budget(estimate_array_inputs(s), budget, where, "loading the inputs");
    ses.inputs = std::make_unique<ArrayInputs>(s, opt->q_npy, opt->k_npy, opt->v_npy);
  } else {
    ses.inputs = std::make_unique<RandomInputs>(s, ses.workload.seed);
  }
  PatternContext ctx;
  ctx.shape = s;
  ctx.seed = ses.workload.seed;
  ctx.base_dir = std::filesystem::path(where).parent_path().string();
  ctx.inputs = ses.inputs.get();
  ctx.threads = opt ? opt->threads : 0;
  if (data_dependent(ses.workload.pattern)) {
    require_within_budget(estimate_data_pattern(s), budget, where, "the data-dependent pattern");
  }
  {
    Progress p("building the sparsity pattern", progress);
    ses.pattern = make_pattern(ses.workload.pattern, ctx, where);
  }
  const BlockGeometry geometry = ses.kernel->block_geometry(s);
  require_within_budget(estimate_mask_and_trace(*ses.pattern, geometry, ks, s, budget), budget, where, "this run");
  {
    Progress p("classifying blocks", progress);
    ses.mask = std::make_shared<const BlockMask>(ses.pattern->block_mask(geometry));
  }
  // With no kernel named, a dense kernel that would visit blocks the pattern skips
  // (anything but contiguous rows) gives way to the block-sparse kernel.
  // A dense kernel's split-KV stand-in (FA2 on a small grid) bounds its loop the same way.
  const std::string sparse_kernel = block_sparse_kernel(ses.hw);
  if (!chosen && !sparse_kernel.empty() && (!ses.kernel->spec().skips_empty_blocks || !ses.dispatched_from.empty()) &&
      s.phase == Phase::prefill && contiguous_cover_entries(*ses.mask) > ses.mask->entries() * 21 / 20) {
    ses.dispatched_from.clear();
    ses.kernel = make_kernel(sparse_kernel);
    ses.mask = std::make_shared<const BlockMask>(ses.pattern->block_mask(ses.kernel->block_geometry(s)));
  }
  Progress p("generating the trace", progress);
  ses.trace = std::make_unique<Trace>(ses.kernel->make_trace(s, ses.mask, ses.hw));
}

}  // namespace

Session prepare_session(const SessionOptions& opt) {
  Session ses;
  ses.hw = load_hw_spec(resolve_hw_path(opt.hw));
  ses.workload = load_workload(opt.workload);
  if (opt.seed) ses.workload.seed = *opt.seed;
  const bool any_npy = !opt.q_npy.empty() || !opt.k_npy.empty() || !opt.v_npy.empty();
  if (any_npy && (opt.q_npy.empty() || opt.k_npy.empty() || opt.v_npy.empty())) {
    throw Error("external inputs need all three of --q, --k and --v");
  }
  finish_session(ses, opt.kernel, opt.progress, &opt);
  return ses;
}

Session prepare_session(HwSpec hw, Workload workload, const std::string& kernel_name, bool progress,
                        const ResourceBudget& budget) {
  Session ses;
  ses.hw = std::move(hw);
  ses.workload = std::move(workload);
  SessionOptions opt;  // generated inputs, all cores: only the budget differs from the defaults
  opt.budget = budget;
  finish_session(ses, kernel_name, progress, &opt);
  return ses;
}

}  // namespace attnsim
