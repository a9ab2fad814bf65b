#include "models/serving/step_table.h"

#include <algorithm>
#include <cmath>

#include "sim/core/error.h"

namespace attnsim {

std::pair<int64_t, int64_t> length_grid(int64_t n, int64_t quantum, int64_t cap) {
  auto point = [&](int k) {
    const double x = std::pow(2.0, k / 4.0);
    return std::min(cap, static_cast<int64_t>(std::ceil(x / quantum)) * quantum);
  };
  int64_t lo = point(0);
  if (n <= lo) return {n, n};  // short lengths are evaluated exactly
  for (int k = 1;; ++k) {
    const int64_t hi = point(k);
    if (hi >= n || hi >= cap) return {hi == n ? hi : lo, std::max(hi, std::min(n, cap))};
    lo = hi;
  }
}

namespace {

std::pair<double, double> lerp(const std::pair<double, double>& a, const std::pair<double, double>& b, double w) {
  return {a.first + w * (b.first - a.first), a.second + w * (b.second - a.second)};
}

double lerp(double a, double b, double w) { return a + w * (b - a); }

double weight(int64_t x, int64_t lo, int64_t hi) { return hi == lo ? 0.0 : static_cast<double>(x - lo) / static_cast<double>(hi - lo); }

int64_t pow2_below(int64_t b) {
  int64_t p = 1;
  while (p * 2 <= b) p *= 2;
  return p;
}

std::pair<int64_t, int64_t> pow2_bracket(int64_t n) {
  if (n <= 0) return {n, n};
  const int64_t lo = pow2_below(n);
  return {lo, lo == n ? n : 2 * lo};
}

int64_t mean_of(int64_t sum, int64_t n) { return (sum + n - 1) / n; }

}  // namespace

std::pair<int64_t, int64_t> fine_grid(int64_t n, int64_t quantum, int64_t cap) {
  if (n <= quantum) {
    const auto b = pow2_bracket(n);
    return {b.first, std::min(b.second, std::max(n, cap))};
  }
  return length_grid(n, quantum, cap);
}

StepTable::StepTable(std::vector<StepModel*> models, bool exact) : models_(std::move(models)), exact_(exact) {
  if (models_.empty()) throw Error("serving: a step table needs at least one step model");
}

StepModel& StepTable::model(int p) {
  if (p < 0 || static_cast<size_t>(p) >= models_.size()) throw Error("serving: pattern class " + std::to_string(p) + " has no step model (internal)");
  return *models_[static_cast<size_t>(p)];
}

StepTable::Pair StepTable::prefill_at(int p, int64_t s) {
  auto it = prefill_.find({p, s});
  if (it != prefill_.end()) return it->second;
  const StepCost c = model(p).prefill(1, s);
  return prefill_[{p, s}] = {c.time_s, c.category_s("attention")};
}

StepTable::Pair StepTable::decode_at(int p, int64_t b, int64_t ctx) {
  auto it = decode_.find({p, b, ctx});
  if (it != decode_.end()) return it->second;
  const StepCost c = model(p).decode(b, ctx);
  return decode_[{p, b, ctx}] = {c.time_s, c.category_s("attention")};
}

double StepTable::piece_at(int p, int64_t n, int64_t q, int64_t offset) {
  const auto key = std::make_tuple(p, n, q, offset);
  auto it = pieces_.find(key);
  if (it != pieces_.end()) return it->second;
  return pieces_[key] = model(p).attention_s(false, n, q, q + offset);
}

// Everything but attention, evaluated as prefill rows (fused kernels do not depend on
// which rows decode; eager ones would copy the decode rows' K/V and size RoPE tables by
// the longest sequence: an approximation of mixed steps under --ops eager).
double StepTable::dense_at(int64_t rows, int64_t sampled) {
  auto it = dense_.find({rows, sampled});
  if (it != dense_.end()) return it->second;
  return dense_[{rows, sampled}] = model(0).without_attention(DenseWork{rows, sampled, rows, 0}).time_s;
}

StepTable::Pair StepTable::prefill_interp(int p, int64_t s) {
  if (exact_) return prefill_at(p, s);
  StepModel& m = model(p);
  const int64_t quantum = 128 * m.deployment().cp;  // context parallelism splits the prompt evenly
  const auto [lo, hi] = length_grid(s, quantum, std::max(quantum, m.model().max_context_tokens / quantum * quantum));
  if (lo == hi) return prefill_at(p, lo);
  return lerp(prefill_at(p, lo), prefill_at(p, hi), weight(s, lo, hi));
}

StepTable::Pair StepTable::decode_interp(int p, int64_t b, int64_t ctx) {
  if (exact_) return decode_at(p, b, ctx);
  // Plain variables, not a structured binding: clang 14 (the ASan build) cannot capture those.
  const std::pair<int64_t, int64_t> grid = length_grid(ctx, 64, model(p).model().max_context_tokens);
  const int64_t clo = grid.first, chi = grid.second;
  const int64_t blo = pow2_below(b), bhi = blo == b ? b : 2 * blo;
  auto at_batch = [&](int64_t bb) {
    if (clo == chi) return decode_at(p, bb, clo);
    return lerp(decode_at(p, bb, clo), decode_at(p, bb, chi), weight(ctx, clo, chi));
  };
  if (blo == bhi) return at_batch(blo);
  return lerp(at_batch(blo), at_batch(bhi), weight(b, blo, bhi));
}

// Trilinear in (batch at powers of two, queries on the fine grid, keys before the queries at
// powers of two: attention time is close to linear in batch and in keys); exact where a grid
// corner would pass the model's context.
double StepTable::piece_interp(int p, int64_t n, int64_t q, int64_t kv) {
  const int64_t offset = kv - q;
  if (exact_) return piece_at(p, n, q, offset);
  StepModel& m = model(p);
  const int64_t cap = m.model().max_context_tokens;
  const std::pair<int64_t, int64_t> ng = pow2_bracket(n), qg = fine_grid(q, 128 * m.deployment().cp, cap),
                                    og = pow2_bracket(offset);
  if (qg.second + og.second > cap) return piece_at(p, n, q, offset);
  auto at = [&](int64_t nn, int64_t qq) {
    return og.first == og.second ? piece_at(p, nn, qq, og.first)
                                 : lerp(piece_at(p, nn, qq, og.first), piece_at(p, nn, qq, og.second), weight(offset, og.first, og.second));
  };
  auto at_n = [&](int64_t nn) { return qg.first == qg.second ? at(nn, qg.first) : lerp(at(nn, qg.first), at(nn, qg.second), weight(q, qg.first, qg.second)); };
  return ng.first == ng.second ? at_n(ng.first) : lerp(at_n(ng.first), at_n(ng.second), weight(n, ng.first, ng.second));
}

double StepTable::dense_interp(int64_t rows, int64_t sampled) {
  if (exact_) return dense_at(rows, sampled);
  const std::pair<int64_t, int64_t> rg = fine_grid(rows, 64, int64_t{1} << 40), sg = pow2_bracket(sampled);
  auto at = [&](int64_t ss) { return rg.first == rg.second ? dense_at(rg.first, ss) : lerp(dense_at(rg.first, ss), dense_at(rg.second, ss), weight(rows, rg.first, rg.second)); };
  return sg.first == sg.second ? at(sg.first) : lerp(at(sg.first), at(sg.second), weight(sampled, sg.first, sg.second));
}

StepTime StepTable::step(const StepWork& w) {
  int64_t b = 0, ctx_sum = 0;
  for (const DecodeGroup& g : w.decode) {
    b += g.batch;
    ctx_sum += g.context_sum;
  }
  if (w.prefill.empty()) {
    if (w.decode.empty()) throw Error("serving: an empty step (internal)");
    const Pair whole = decode_interp(w.decode[0].pattern, b, mean_of(ctx_sum, b));
    if (w.decode.size() == 1) return {whole.first, whole.second, 0};
    // Several classes: the non-attention part once for the whole batch, attention per class.
    double attention = 0;
    for (const DecodeGroup& g : w.decode) attention += decode_interp(g.pattern, g.batch, mean_of(g.context_sum, g.batch)).second;
    return {whole.first - whole.second + attention, attention, 0};
  }
  if (w.decode.empty() && w.prefill.size() == 1 && w.prefill[0].samples && w.prefill[0].q_tokens == w.prefill[0].kv_tokens) {
    const Pair one = prefill_interp(w.prefill[0].pattern, w.prefill[0].q_tokens);
    return {one.first, one.second, one.first};
  }
  int64_t prefill_rows = 0, sampled = b;
  std::map<int, int64_t> pieces_of;  // pieces per class: they share one batched kernel
  for (const PrefillPiece& x : w.prefill) {
    prefill_rows += x.q_tokens;
    sampled += x.samples ? 1 : 0;
    ++pieces_of[x.pattern];
  }
  const int64_t rows = b + prefill_rows / model(0).deployment().cp;
  const double dense = dense_interp(rows, sampled);
  double attention = 0, prefill_attention = 0;
  for (const DecodeGroup& g : w.decode) attention += decode_interp(g.pattern, g.batch, mean_of(g.context_sum, g.batch)).second;
  for (const PrefillPiece& x : w.prefill) {
    const int64_t n = pieces_of[x.pattern];
    prefill_attention += piece_interp(x.pattern, n, x.q_tokens, x.kv_tokens) / static_cast<double>(n);
  }
  attention += prefill_attention;
  const double prefill_share = dense * static_cast<double>(rows - b) / static_cast<double>(rows);
  return {dense + attention, attention, prefill_share + prefill_attention};
}

}  // namespace attnsim
