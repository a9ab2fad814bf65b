#include "models/serving/step_table.h"

#include <algorithm>
#include <cmath>

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

int64_t pow2_below(int64_t b) {
  int64_t p = 1;
  while (p * 2 <= b) p *= 2;
  return p;
}

}  // namespace

std::pair<double, double> StepTable::prefill_at(int64_t s) {
  auto it = prefill_.find(s);
  if (it != prefill_.end()) return it->second;
  const StepCost c = model_.prefill(1, s);
  return prefill_[s] = {c.time_s, c.category_s("attention")};
}

std::pair<double, double> StepTable::decode_at(int64_t b, int64_t ctx) {
  auto it = decode_.find({b, ctx});
  if (it != decode_.end()) return it->second;
  const StepCost c = model_.decode(b, ctx);
  return decode_[{b, ctx}] = {c.time_s, c.category_s("attention")};
}

std::pair<double, double> StepTable::prefill_interp(int64_t s) {
  if (exact_) return prefill_at(s);
  const int64_t quantum = 128 * model_.deployment().cp;  // context parallelism splits the prompt evenly
  const auto [lo, hi] = length_grid(s, quantum, std::max(quantum, model_.model().max_context_tokens / quantum * quantum));
  if (lo == hi) return prefill_at(lo);
  return lerp(prefill_at(lo), prefill_at(hi), static_cast<double>(s - lo) / static_cast<double>(hi - lo));
}

std::pair<double, double> StepTable::decode_interp(int64_t b, int64_t ctx) {
  if (exact_) return decode_at(b, ctx);
  // Plain variables, not a structured binding: clang 14 (the ASan build) cannot capture those.
  const std::pair<int64_t, int64_t> grid = length_grid(ctx, 64, model_.model().max_context_tokens);
  const int64_t clo = grid.first, chi = grid.second;
  const int64_t blo = pow2_below(b), bhi = blo == b ? b : 2 * blo;
  auto at_batch = [&](int64_t bb) {
    if (clo == chi) return decode_at(bb, clo);
    return lerp(decode_at(bb, clo), decode_at(bb, chi), static_cast<double>(ctx - clo) / static_cast<double>(chi - clo));
  };
  if (blo == bhi) return at_batch(blo);
  return lerp(at_batch(blo), at_batch(bhi), static_cast<double>(b - blo) / static_cast<double>(bhi - blo));
}

double StepTable::prefill_s(int64_t s) { return prefill_interp(s).first; }
double StepTable::decode_s(int64_t b, int64_t ctx) { return decode_interp(b, ctx).first; }
double StepTable::prefill_attention_s(int64_t s) { return prefill_interp(s).second; }
double StepTable::decode_attention_s(int64_t b, int64_t ctx) { return decode_interp(b, ctx).second; }

}  // namespace attnsim
