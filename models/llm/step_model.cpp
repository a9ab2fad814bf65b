#include "models/llm/step_model.h"

#include <algorithm>
#include <cmath>

#include "models/llm/collectives.h"
#include "models/llm/eager_kernels.h"
#include "models/llm/i_gemm_model.h"
#include "sim/core/error.h"
#include "sim/core/sanitizer.h"
#include "sim/report/report.h"
#include "sim/session/session.h"
#include "sim/timing/timing_model.h"

namespace attnsim {

double StepCost::category_s(const std::string& category) const {
  double s = 0;
  for (const OpCost& o : ops) s += o.category == category ? o.time_s : 0;
  return s;
}

StepModel::StepModel(HwSpec hw, ModelSpec model, Deployment d) : hw_(std::move(hw)), model_(std::move(model)), d_(std::move(d)) {
  const std::string where = model_.name + " on " + hw_.name;
  if (d_.tp < 1 || d_.cp < 1) throw Error(where + ": tensor and context parallel degrees must be >= 1");
  if (model_.q_heads % d_.tp != 0) {
    throw Error(where + ": tensor parallelism " + std::to_string(d_.tp) + " must divide the " + std::to_string(model_.q_heads) + " query heads");
  }
  if (model_.kv_heads % d_.tp != 0 && d_.tp % model_.kv_heads != 0) {
    throw Error(where + ": tensor parallelism " + std::to_string(d_.tp) + " must divide the " + std::to_string(model_.kv_heads) +
                " KV heads or be a multiple of them (KV heads are then replicated)");
  }
  if (d_.chips() > hw_.interconnect.max_chips) {
    throw Error(where + ": " + std::to_string(d_.chips()) + " chips exceed the interconnect's " +
                std::to_string(hw_.interconnect.max_chips) + " (" + hw_.interconnect.name + ")");
  }
  if (!(d_.memory_utilization > 0 && d_.memory_utilization <= 1)) throw Error(where + ": memory_utilization must be in (0, 1]");
  if (d_.ops != "fused" && d_.ops != "eager") throw Error(where + ": unknown ops '" + d_.ops + "' (fused, eager)");
  if (eager()) eager_kernel_s(hw_, 0);  // refuses architectures without kernel launches
  q_heads_chip_ = model_.q_heads / d_.tp;
  kv_heads_chip_ = std::max<int64_t>(1, model_.kv_heads / d_.tp);
  gemm_model_for(hw_);  // fail now, not at the first step, when the architecture has no GEMM model
}

MemoryPlan StepModel::memory() const {
  const ModelSpec& m = model_;
  const double eb = dtype_bytes(m.dtype), h = static_cast<double>(m.hidden), hd = static_cast<double>(m.head_dim);
  // Per layer and chip: Wq and Wo split by heads, Wk/Wv by KV heads (replicated beyond kv_heads), MLP by ffn.
  const double attn = 2.0 * h * static_cast<double>(q_heads_chip_) * hd + 2.0 * h * static_cast<double>(kv_heads_chip_) * hd;
  const double mlp = 3.0 * h * std::ceil(static_cast<double>(m.ffn) / d_.tp);
  const double embed = 2.0 * std::ceil(static_cast<double>(m.vocab) / d_.tp) * h;  // vocab-parallel embedding + LM head
  MemoryPlan p;
  p.weight_bytes_per_chip = (static_cast<double>(m.layers) * (attn + mlp + 2.0 * h) + embed + h) * eb;
  p.kv_bytes_per_token_per_chip = 2.0 * static_cast<double>(m.layers * kv_heads_chip_) * hd * eb;
  p.usable_bytes_per_chip = hw_.dram_capacity_bytes() * d_.memory_utilization;
  const double free = p.usable_bytes_per_chip - p.weight_bytes_per_chip;
  // Context parallelism spreads each sequence's tokens over cp groups: cp times the room.
  p.kv_capacity_tokens = free <= 0 ? 0 : static_cast<int64_t>(std::floor(free / p.kv_bytes_per_token_per_chip)) * d_.cp;
  return p;
}

double StepModel::gemm_s(int64_t m, int64_t n, int64_t k, double* flops, double* bytes) const {
  const GemmTiming t = gemm_model_for(hw_).estimate(hw_, GemmShape{1, m, n, k, model_.dtype});
  *flops = t.flops;
  *bytes = t.hbm_bytes;
  return t.latency_s;
}

double StepModel::stream_s(double bytes) const { return gemm_model_for(hw_).stream_s(hw_, bytes); }

double StepModel::kernel_s(const AttentionKind& kind, bool decode, int64_t batch, int64_t q_len, int64_t kv_len) {
  const size_t kind_index = static_cast<size_t>(&kind - model_.attention.data());
  const auto key = std::make_tuple(kind_index, decode, batch, q_len, kv_len);
  if (auto it = attention_cache_.find(key); it != attention_cache_.end()) return it->second;
  Workload w;
  w.name = model_.name + "-attention";
  w.source_path = model_.source_path;
  w.shape = AttentionShape{batch, q_heads_chip_, kv_heads_chip_, model_.head_dim, q_len, kv_len, model_.dtype,
                           decode ? Phase::decode : Phase::prefill};
  w.pattern = kind.pattern;
  validate_shape(w.shape, w.name);
  const TimingEntry* timing = find_timing_model(hw_.arch);
  if (!timing) throw Error(hw_.name + ": no timing model registered for arch '" + hw_.arch + "'");
  Session ses = prepare_session(hw_, w, d_.attention_kernel, false);
  nlohmann::ordered_json r;
  r["work"] = work_json(ses);  // the timing models read the useful FLOPs from here
  timing->simulate(ses, r);
  resync_sanitizer_stack();  // SystemC switched stacks (see sim/core/sanitizer.h)
  const double s = r["timing"]["latency_us"].get<double>() * 1e-6;
  attention_cache_.emplace(key, s);
  return s;
}

StepCost StepModel::prefill(int64_t batch, int64_t prompt_tokens) { return step(false, batch, prompt_tokens); }
StepCost StepModel::decode(int64_t batch, int64_t context_tokens) { return step(true, batch, context_tokens); }

// Attention per distinct pattern; prefill with context parallelism: ring attention, each
// group a balanced 1/cp of the work while the K/V shards circulate (overlapped).
std::vector<OpCost> StepModel::attention_ops(bool decode, int64_t batch, int64_t q_len, int64_t kv_len) {
  const int cp = d_.cp;
  if (!decode && cp > 1 && q_len != kv_len) {
    throw Error(model_.name + ": a prefill chunk (q_len " + std::to_string(q_len) + " < kv_len " + std::to_string(kv_len) +
                ") with context parallelism is not modelled; use cp 1");
  }
  std::vector<OpCost> out;
  for (const AttentionKind& kind : model_.attention) {
    double t = 0;
    double ring = 0;
    if (decode) {
      const int64_t kv_chip = (kv_len + cp - 1) / cp;
      t = kernel_s(kind, true, batch, 1, kv_chip);
      if (cp > 1) ring = ring_all_gather_s(hw_.interconnect, cp, static_cast<double>(batch * q_heads_chip_ * model_.head_dim) * 4.0 * cp);
      t += ring;  // partial outputs are combined after the kernel
    } else {
      const double full = kernel_s(kind, false, batch, q_len, kv_len);
      const double shard = 2.0 * static_cast<double>(batch * (kv_len / cp) * kv_heads_chip_ * model_.head_dim) * dtype_bytes(model_.dtype);
      ring = cp > 1 ? (cp - 1) * ring_pass_s(hw_.interconnect, shard) : 0;
      t = std::max(full / cp, ring);
    }
    const double layers = static_cast<double>(kind.layer_count);
    out.push_back({std::string("attention:") + kind.pattern["name"].as<std::string>(), "attention", t * layers, 0, 0,
                   static_cast<int64_t>(layers)});
  }
  return out;
}

double StepModel::attention_s(bool decode, int64_t batch, int64_t q_len, int64_t kv_len) {
  if (batch < 1 || q_len < 1 || q_len > kv_len || (decode && q_len != 1)) {
    throw Error(model_.name + ": attention needs batch >= 1 and 1 <= q_len <= kv_len (decode: q_len 1)");
  }
  if (kv_len > model_.max_context_tokens) {
    throw Error(model_.name + ": " + std::to_string(kv_len) + " tokens exceed the model's context of " + std::to_string(model_.max_context_tokens));
  }
  double s = 0;
  for (const OpCost& o : attention_ops(decode, batch, q_len, kv_len)) s += o.time_s;
  return s;
}

StepCost StepModel::without_attention(const DenseWork& w) const {
  if (w.rows < 1 || w.sampled < 0 || w.positions < 1 || w.decode_rows < 0 || w.decode_rows > w.rows) {
    throw Error(model_.name + ": a step needs rows >= 1, positions >= 1 and 0 <= decode rows <= rows");
  }
  StepCost c = build(w, [](StepCost&) {});
  c.phase = "without_attention";
  return c;
}

StepCost StepModel::step(bool decode, int64_t batch, int64_t tokens) {
  const ModelSpec& m = model_;
  if (batch < 1 || tokens < 1) throw Error(m.name + ": batch and token counts must be >= 1");
  if (tokens > m.max_context_tokens) {
    throw Error(m.name + ": " + std::to_string(tokens) + " tokens exceed the model's context of " + std::to_string(m.max_context_tokens));
  }
  const int cp = d_.cp;
  if (!decode && tokens % cp != 0) {
    throw Error(m.name + ": context parallelism " + std::to_string(cp) + " must divide the prompt (" + std::to_string(tokens) + " tokens)");
  }
  // Tokens each chip runs through the GEMMs: a prompt's slice (prefill), the whole batch (decode).
  const int64_t rows = decode ? batch : batch * tokens / cp;
  const std::vector<OpCost> attention = attention_ops(decode, batch, decode ? 1 : tokens, tokens);
  StepCost c = build(DenseWork{rows, batch, decode ? 1 : tokens / cp, decode ? batch : 0}, [&](StepCost& s) {
    for (const OpCost& o : attention) s.ops.push_back(o);
  });
  c.phase = decode ? "decode" : "prefill";
  c.batch = batch;
  c.tokens = tokens;
  c.time_s = 0;
  for (const OpCost& o : c.ops) c.time_s += o.time_s;
  return c;
}

StepCost StepModel::build(const DenseWork& w, const std::function<void(StepCost&)>& attention) const {
  const ModelSpec& m = model_;
  const int tp = d_.tp;
  const double eb = dtype_bytes(m.dtype), h = static_cast<double>(m.hidden);
  const int64_t hd = m.head_dim, L = m.layers, rows = w.rows, batch = w.sampled;
  const int64_t ffn_chip = (m.ffn + tp - 1) / tp, vocab_chip = (m.vocab + tp - 1) / tp;
  StepCost c;
  // `times` copies of an operator of `kernels` launches each.
  auto add = [&](const std::string& name, const std::string& cat, double t, double flops, double bytes, double times, int64_t kernels = 1) {
    c.ops.push_back({name, cat, t * times, flops * times, bytes * times, static_cast<int64_t>(times) * kernels});
  };
  // One operator of several GEMMs [rows x n_i x k] (eager: separate Linears; fused: one).
  auto gemms = [&](const std::string& name, int64_t mm, const std::vector<int64_t>& ns, int64_t k, double times) {
    double t = 0, f = 0, b = 0;
    for (const int64_t n : ns) {
      double fi = 0, bi = 0;
      t += gemm_s(mm, n, k, &fi, &bi);
      f += fi;
      b += bi;
    }
    add(name, "gemm", t, f, b, times, static_cast<int64_t>(ns.size()));
  };
  auto gemm = [&](const std::string& name, int64_t mm, int64_t n, int64_t k, double times) { gemms(name, mm, {n}, k, times); };
  // An elementwise operator: eager, its kernels' bytes; fused, one stream of `fused_bytes`.
  auto elementwise = [&](const std::string& name, const std::string& cat, const std::vector<double>& kernel_bytes,
                         double fused_bytes, double flops, double times) {
    if (!eager()) return add(name, cat, stream_s(fused_bytes), flops, fused_bytes, times);
    double t = 0, b = 0;
    for (const double kb : kernel_bytes) {
      t += eager_kernel_s(hw_, kb);
      b += kb;
    }
    add(name, cat, t, flops, b, times, static_cast<int64_t>(kernel_bytes.size()));
  };
  const double act = static_cast<double>(rows) * h * eb;  // one activation tensor [rows x hidden]
  const double dr = static_cast<double>(rows), dd = static_cast<double>(hd);
  const double q_elems = dr * static_cast<double>(q_heads_chip_ * hd), kv_elems = dr * static_cast<double>(kv_heads_chip_ * hd);
  const double positions = static_cast<double>(w.positions);
  // Embedding gather: read and write one activation (eager: plus the int64 token ids).
  elementwise("embedding", "elementwise", {2 * act + dr * 8}, 2 * act, 0, 1);
  if (eager()) elementwise("rope_tables", "elementwise", eager_rope_table_bytes(positions, dd, eb), 0, 0, 1);
  elementwise("rmsnorm", "norm", eager_rms_norm_bytes(dr, h, eb), 2 * act + h * eb, 5.0 * dr * h, 2.0 * L);
  if (eager()) {
    gemms("qkv_proj", rows, {q_heads_chip_ * hd, kv_heads_chip_ * hd, kv_heads_chip_ * hd}, m.hidden, L);
  } else {
    gemm("qkv_proj", rows, (q_heads_chip_ + 2 * kv_heads_chip_) * hd, m.hidden, L);
  }
  std::vector<double> rope = eager_rope_bytes(q_elems, positions, dd, eb);
  for (const double kb : eager_rope_bytes(kv_elems, positions, dd, eb)) rope.push_back(kb);
  elementwise("rope", "elementwise", rope, 2.0 * (q_elems + kv_elems) * eb, 0, L);
  // The new tokens' K and V copied into the cache (eager decode; fused kernels write it in their epilogue).
  if (eager() && w.decode_rows > 0) {
    const double kv_new = static_cast<double>(w.decode_rows * kv_heads_chip_ * hd) * eb;
    elementwise("kv_write", "elementwise", {2 * kv_new, 2 * kv_new}, 0, 0, L);
  }
  attention(c);
  gemm("o_proj", rows, m.hidden, q_heads_chip_ * hd, L);
  const double ar = ring_all_reduce_s(hw_.interconnect, tp, act);
  if (tp > 1) add("all_reduce", "collective", ar, 0, 0, 2.0 * L);
  elementwise("residual_add", "elementwise", {3 * act}, 3 * act, dr * h, 2.0 * L);
  if (eager()) {
    gemms("mlp_gate_up", rows, {ffn_chip, ffn_chip}, m.hidden, L);
  } else {
    gemm("mlp_gate_up", rows, 2 * ffn_chip, m.hidden, L);
  }
  const double ffn_elems = dr * static_cast<double>(ffn_chip);
  // SiLU(gate) x up: eager, F.silu then the product; fused, one pass over gate, up and the output.
  elementwise("silu_mul", "elementwise", {2 * ffn_elems * eb, 3 * ffn_elems * eb}, 3 * ffn_elems * eb, 4.0 * ffn_elems, L);
  gemm("mlp_down", rows, m.hidden, ffn_chip, L);
  // Final norm and LM head on the last position of each sampled sequence, logits gathered over TP.
  if (batch > 0) {
    const double last = static_cast<double>(batch) * h * eb;
    elementwise("final_norm", "norm", eager_rms_norm_bytes(static_cast<double>(batch), h, eb), 2 * last + h * eb,
                5.0 * static_cast<double>(batch) * h, 1);
    gemm("lm_head", batch, vocab_chip, m.hidden, 1);
    if (tp > 1) add("logits_gather", "collective", ring_all_gather_s(hw_.interconnect, tp, static_cast<double>(batch * m.vocab) * eb), 0, 0, 1);
  }
  for (const OpCost& o : c.ops) c.time_s += o.time_s;
  return c;
}

}  // namespace attnsim
