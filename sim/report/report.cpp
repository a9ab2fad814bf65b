#include "sim/report/report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "sim/core/units.h"

namespace attnsim {

nlohmann::ordered_json workload_json(const Session& ses) {
  const AttentionShape& s = ses.workload.shape;
  // Splits actually used: the kernel asks for tiling().kv_splits, but a row is never
  // split into more parts than it has KV blocks.
  uint32_t kv_splits = 1;
  for (const WorkUnit& u : ses.trace->units()) kv_splits = std::max(kv_splits, u.num_splits);
  return {{"name", ses.workload.name},
          {"hardware", ses.hw.name},
          {"kernel", ses.dispatched_from.empty() ? ses.kernel->spec().name
                                                 : ses.dispatched_from + " -> " + ses.kernel->spec().name},
          {"pattern", ses.pattern->describe()},
          {"batch", s.batch},
          {"q_heads", s.q_heads},
          {"kv_heads", s.kv_heads},
          {"head_dim", s.head_dim},
          {"q_len", s.q_len},
          {"kv_len", s.kv_len},
          {"phase", s.phase == Phase::decode ? "decode" : "prefill"},
          {"dtype", dtype_name(s.dtype)},
          {"seed", ses.workload.seed},
          {"q_block", ses.trace->tiling().q_block},
          {"kv_block", ses.trace->tiling().kv_block},
          {"kv_splits", kv_splits}};
}

nlohmann::ordered_json mask_json(const MaskStats& st) {
  return {{"total_blocks", st.total_blocks},     {"full_blocks", st.full_blocks},
          {"partial_blocks", st.partial_blocks}, {"skipped_blocks", st.skipped_blocks},
          {"block_density", st.block_density},   {"element_density", st.element_density},
          {"allowed_pairs", st.allowed_pairs},   {"row_blocks_mean", st.row_blocks_mean},
          {"row_blocks_min", st.row_blocks_min}, {"row_blocks_max", st.row_blocks_max},
          {"row_imbalance", st.row_imbalance},   {"empty_rows", st.empty_rows}};
}

nlohmann::ordered_json work_json(const Session& ses) {
  const AttentionShape& s = ses.workload.shape;
  const TraceTotals t = ses.trace->totals();
  const MaskStats st = compute_stats(*ses.mask);
  // Useful FLOPs count allowed (q, k) pairs only; executed FLOPs count whole tiles.
  const double useful = st.allowed_pairs >= 0 ? 4.0 * st.allowed_pairs * s.head_dim : -1;
  const double min_bytes = resident_bytes(s);
  return {{"useful_flops", useful},
          {"executed_mma_flops", t.mma_flops},
          {"exp_ops", t.exp_ops},
          {"min_hbm_bytes", min_bytes},
          {"arithmetic_intensity_flop_per_byte", t.mma_flops / min_bytes},
          {"work_units", t.units},
          {"attention_units", t.attention_units},
          {"tile_steps", t.tile_steps},
          {"kv_bytes_streamed", t.kv_bytes_streamed}};
}

nlohmann::ordered_json check_json(const CheckResult& r) {
  nlohmann::ordered_json j = {{"precision", r.precision == Precision::fp32 ? "fp32" : "bf16"},
                      {"mode", r.sampled ? "sampled" : "full"},
                      {"rows_checked", r.rows_checked},
                      {"empty_rows", r.empty_rows},
                      {"rel_error", r.rel_error},
                      {"max_abs_error", r.max_abs_error},
                      {"tolerance", r.tolerance},
                      {"pass", r.pass}};
  if (r.expected_rel_error >= 0) {
    j["external_rel_error"] = r.expected_rel_error;
    j["external_max_abs_error"] = r.expected_max_abs_error;
  }
  return j;
}

namespace {

std::string scalar_text(const std::string& key, const nlohmann::ordered_json& v) {
  char buf[64];
  if (v.is_number_float()) {
    const double x = v.get<double>();
    if (key.find("bytes_per_s") != std::string::npos && x >= 0) return format_bandwidth(x);
    if (key.find("bytes") != std::string::npos && x >= 0) return format_bytes(x);
    if (key.find("flops") != std::string::npos && x >= 1e6) {
      std::snprintf(buf, sizeof buf, "%.4g GFLOP", x / 1e9);
      return buf;
    }
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
  }
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

std::string render_text(const nlohmann::ordered_json& result) {
  std::ostringstream out;
  for (const auto& [section, body] : result.items()) {
    if (!body.is_object()) continue;
    out << section << "\n";
    for (const auto& [key, v] : body.items()) {
      char line[256];
      if (v.is_object()) {  // one level of nesting, e.g. traffic per memory level
        for (const auto& [sub, x] : v.items()) {
          if (x.is_array() || x.is_object()) continue;
          const std::string name = key + "." + sub;
          std::snprintf(line, sizeof line, "  %-36s %s\n", name.c_str(), scalar_text(sub, x).c_str());
          out << line;
        }
        continue;
      }
      if (v.is_array()) continue;  // time series: --json only
      std::snprintf(line, sizeof line, "  %-36s %s\n", key.c_str(), scalar_text(key, v).c_str());
      out << line;
    }
  }
  return out.str();
}

}  // namespace attnsim
