#include "sim/functional/check.h"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <tuple>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "sim/core/error.h"
#include "sim/core/units.h"

namespace attnsim {
namespace {

// Host bytes per checked row: its set entry, error sums and job bookkeeping.
constexpr double kBytesPerCheckedRow = 128;
// Throughputs of one core of the development machine (docs/robustness.md), rounded down.
constexpr double kCheckMacsPerS = 1e9;     // reference and kernel multiply-adds together
constexpr double kInputValuesPerS = 3e7;   // seeded random K/V values generated

// Worker threads of a check: the option, or every core.
int worker_threads(const CheckOptions& opt) {
  return opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Allowed (query, key) pairs over every row; the block density stands in when unknown.
double allowed_pairs(const MaskStats& st, const AttentionShape& s) {
  return st.allowed_pairs >= 0 ? st.allowed_pairs : st.block_density * s.batch * s.q_heads * s.q_len * s.kv_len;
}

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// K and V of one (batch, KV head), unrounded for the reference and rounded for the kernel.
struct HeadKv {
  MatF k, v, k_kernel, v_kernel;
};

// Online-softmax state of one query row, as a kernel keeps it in registers.
struct RowState {
  std::vector<float> acc;
  float m = kNegInf;
  float l = 0;
};

struct RowKey {
  int64_t head, query;
  bool operator<(const RowKey& o) const { return head != o.head ? head < o.head : query < o.query; }
};

void fill_head_kv(const InputSource& in, const AttentionShape& s, int64_t b, int64_t kvh, Precision p, HeadKv& out) {
  const int64_t d = s.head_dim;
  out.k.resize(s.kv_len, d);
  out.v.resize(s.kv_len, d);
  for (int64_t j = 0; j < s.kv_len; ++j) {
    in.row(Tensor::k, b, kvh, j, out.k.row(j).data());
    in.row(Tensor::v, b, kvh, j, out.v.row(j).data());
  }
  if (p == Precision::bf16) {
    out.k_kernel = out.k.unaryExpr(&round_bf16);
    out.v_kernel = out.v.unaryExpr(&round_bf16);
  } else {
    out.k_kernel = out.k;
    out.v_kernel = out.v;
  }
}

// Executes the steps of one attention unit for the selected rows.
void execute_unit(const Trace& trace, const WorkUnit& u, const ISparsityPattern& pattern, const InputSource& in,
                  const HeadKv& kv, Precision p, const std::vector<RowKey>& rows, std::vector<RowState>& state) {
  const AttentionShape& s = trace.shape();
  const int64_t d = s.head_dim;
  const int64_t n = static_cast<int64_t>(rows.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  MatF q(n, d);
  std::vector<std::vector<Interval>> allowed(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    in.row(Tensor::q, u.batch, rows[r].head, rows[r].query, q.row(r).data());
    pattern.row_intervals(u.batch, rows[r].head, s.q_offset() + rows[r].query, allowed[static_cast<size_t>(r)]);
  }
  if (p == Precision::bf16) q = q.unaryExpr(&round_bf16);
  for (auto& st : state) st.acc.assign(static_cast<size_t>(d), 0.0f);
  const BlockRow row = trace.mask().row(u.mask_row);
  const BlockGeometry& g = trace.mask().geometry();
  for (uint32_t e = u.entry_begin; e < u.entry_end; ++e) {
    const int64_t k0 = static_cast<int64_t>(row.kv_block[e]) * g.kv_block;
    const int64_t cols = g.kv_cols_in(row.kv_block[e]);
    MatF sc = (q * kv.k_kernel.middleRows(k0, cols).transpose()) * scale;  // mma_qk
    // apply_mask: row_intervals is the element truth the reference uses. For block-level
    // patterns (element_exact() false) it is the union of listed blocks, so at the file's
    // own block sizes this masks nothing; re-binned to other tiles it masks what it must.
    if (row.partial[e]) {
      for (int64_t r = 0; r < n; ++r) {
        int64_t c = 0;
        for (const Interval& iv : allowed[static_cast<size_t>(r)]) {
          const int64_t lo = std::clamp(iv.begin - k0, int64_t{0}, cols);
          const int64_t hi = std::clamp(iv.end - k0, int64_t{0}, cols);
          for (; c < lo; ++c) sc(r, c) = kNegInf;
          c = std::max(c, hi);
        }
        for (; c < cols; ++c) sc(r, c) = kNegInf;
      }
    }
    for (int64_t r = 0; r < n; ++r) {  // softmax: online update of m, l and rescale acc
      RowState& st = state[static_cast<size_t>(r)];
      const float m_new = std::max(st.m, sc.row(r).maxCoeff());
      if (m_new == kNegInf) {
        sc.row(r).setZero();
        continue;
      }
      const float correction = std::exp(st.m - m_new);
      float sum = 0;
      for (int64_t c = 0; c < cols; ++c) {
        const float pv = std::exp(sc(r, c) - m_new);
        sc(r, c) = p == Precision::bf16 ? round_bf16(pv) : pv;  // P enters the PV MMA in the input dtype
        sum += pv;
      }
      st.l = st.l * correction + sum;
      for (auto& a : st.acc) a *= correction;
      st.m = m_new;
    }
    const MatF pv = sc * kv.v_kernel.middleRows(k0, cols);  // mma_pv
    for (int64_t r = 0; r < n; ++r) {
      float* acc = state[static_cast<size_t>(r)].acc.data();
      for (int64_t j = 0; j < d; ++j) acc[j] += pv(r, j);
    }
  }
}

// float64 softmax attention of one query row over its allowed keys.
void reference_row(const InputSource& in, const AttentionShape& s, const ISparsityPattern& pattern, const HeadKv& kv,
                   int64_t b, int64_t h, int64_t query, std::vector<double>& out) {
  const int64_t d = s.head_dim;
  std::vector<float> qf(static_cast<size_t>(d));
  in.row(Tensor::q, b, h, query, qf.data());
  std::vector<Interval> iv;
  pattern.row_intervals(b, h, s.q_offset() + query, iv);
  out.assign(static_cast<size_t>(d), 0.0);
  std::vector<double> scores;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  double m = -std::numeric_limits<double>::infinity();
  for (const Interval& x : iv) {
    for (int64_t k = x.begin; k < x.end; ++k) {
      double dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += static_cast<double>(qf[static_cast<size_t>(j)]) * kv.k(k, j);
      scores.push_back(dot * scale);
      m = std::max(m, dot * scale);
    }
  }
  if (scores.empty()) return;
  double l = 0;
  size_t i = 0;
  for (const Interval& x : iv) {
    for (int64_t k = x.begin; k < x.end; ++k, ++i) {
      const double w = std::exp(scores[i] - m);
      l += w;
      for (int64_t j = 0; j < d; ++j) out[static_cast<size_t>(j)] += w * kv.v(k, j);
    }
  }
  for (auto& o : out) o /= l;
}

}  // namespace

float round_bf16(float x) {
  if (std::isnan(x)) return x;
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  bits &= 0xffff0000u;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

double tolerance_for(Precision p) { return p == Precision::fp32 ? 1e-5 : 1e-2; }

double full_check_macs(const Trace& trace) {
  return 2.0 * allowed_pairs(compute_stats(trace.mask()), trace.shape()) * trace.shape().head_dim;
}

CheckCost check_cost(const Trace& trace, const CheckOptions& opt) {
  const AttentionShape& s = trace.shape();
  const MaskStats st = compute_stats(trace.mask());
  const double all_rows = static_cast<double>(s.batch) * static_cast<double>(s.q_heads) * static_cast<double>(s.q_len);
  const double d = static_cast<double>(s.head_dim), kv_len = static_cast<double>(s.kv_len);
  // Keys per row the reference visits (allowed pairs) and the kernel computes (whole tiles).
  const double ref_keys = allowed_pairs(st, s) / all_rows, kernel_keys = st.block_density * kv_len;
  CheckCost c;
  c.full_macs = 2.0 * allowed_pairs(st, s) * d;
  c.rows = opt.sample_rows > 0 ? static_cast<int64_t>(std::min<double>(opt.sample_rows, all_rows))
                               : static_cast<int64_t>(all_rows);
  // Sampled rows come from at most 4 (batch, head) pairs; a full check visits every KV head.
  const double kv_heads = opt.sample_rows > 0 ? std::min(4.0, static_cast<double>(s.batch * s.kv_heads))
                                              : static_cast<double>(s.batch * s.kv_heads);
  c.kv_bytes = 4.0 * kv_len * d * sizeof(float);
  c.memory_bytes = c.kv_bytes + static_cast<double>(c.rows) * kBytesPerCheckedRow;
  const double macs = static_cast<double>(c.rows) * 2.0 * d * (ref_keys + kernel_keys);
  c.time_s = macs / (kCheckMacsPerS * worker_threads(opt)) + kv_heads * 2.0 * kv_len * d / kInputValuesPerS;
  return c;
}

void require_check_fits(const Trace& trace, const CheckOptions& opt) {
  const CheckCost c = check_cost(trace, opt);
  const bool full = opt.sample_rows <= 0;
  const std::string budget_memory = format_bytes(opt.max_memory_bytes);
  if (c.kv_bytes > opt.max_memory_bytes) {
    throw Error("the functional check needs " + format_bytes(c.kv_bytes) +
                " for one head's K/V (4 x kv_len x head_dim x 4 B), over the " + budget_memory +
                " memory budget; reduce kv_len or head_dim, or skip the check (--no-check)");
  }
  if (full && c.memory_bytes > opt.max_memory_bytes) {
    throw Error("a full functional check of " + std::to_string(c.rows) + " rows needs ~" +
                format_bytes(c.memory_bytes) + " of host memory, over the " + budget_memory +
                " budget; use the sampled check (--sample-rows N) instead");
  }
  if (full && c.full_macs > opt.max_full_check_macs) {
    throw Error("a full functional check of this workload needs ~" +
                std::to_string(static_cast<int64_t>(c.full_macs / 1e9)) +
                " G multiply-adds; use a sampled check (--sample-rows N) instead");
  }
  if (c.time_s > opt.max_seconds) {
    throw Error("the functional check would take ~" + format_time(c.time_s) + " (" + std::to_string(c.rows) +
                " rows), over the " + format_time(opt.max_seconds) + " time budget; " +
                (full ? "use the sampled check (--sample-rows N)"
                      : "check fewer rows (--sample-rows N), skip it (--no-check)") +
                " or raise the budget with --max-time TIME (e.g. 3600s)");
  }
}

CheckResult run_check(const Trace& trace, const ISparsityPattern& pattern, const InputSource& inputs,
                      const CheckOptions& opt) {
  const AttentionShape& s = trace.shape();
  const int64_t d = s.head_dim;
  CheckResult result;
  result.precision = opt.precision;
  result.tolerance = tolerance_for(opt.precision);
  if (opt.expected &&
      opt.expected->size() != static_cast<size_t>(s.batch * s.q_heads * s.q_len * d)) {
    throw Error("external output has " + std::to_string(opt.expected->size()) + " values; the workload needs " +
                std::to_string(s.batch * s.q_heads * s.q_len * d) + " = [batch, q_heads, q_len, head_dim]");
  }
  require_check_fits(trace, opt);
  // Which (batch, head, query) rows to check, grouped by (batch, KV head).
  std::map<std::pair<int64_t, int64_t>, std::set<RowKey>> wanted;
  if (opt.sample_rows > 0) {
    result.sampled = true;
    // Rows come from at most 4 (batch, head) pairs so K/V are generated for few heads.
    const int64_t pairs = std::min<int64_t>(4, s.batch * s.q_heads);
    for (int64_t i = 0; i < opt.sample_rows; ++i) {
      const uint64_t r = mix64(opt.seed * 0x9e37u + static_cast<uint64_t>(i));
      const int64_t pair = static_cast<int64_t>(mix64(opt.seed + static_cast<uint64_t>(i % pairs)) %
                                                static_cast<uint64_t>(s.batch * s.q_heads));
      const int64_t b = pair / s.q_heads, h = pair % s.q_heads;
      wanted[{b, h / s.group_size()}].insert({h, static_cast<int64_t>(r % static_cast<uint64_t>(s.q_len))});
    }
  } else {
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t h = 0; h < s.q_heads; ++h)
        for (int64_t i = 0; i < s.q_len; ++i) wanted[{b, h / s.group_size()}].insert({h, i});
  }
  const int threads = worker_threads(opt);
  double err2 = 0, ref2 = 0, ext_err2 = 0;
  for (const auto& [bkv, rowset] : wanted) {
    const int64_t b = bkv.first, kvh = bkv.second;  // not a structured binding: clang 14 cannot capture one
    HeadKv kv;
    fill_head_kv(inputs, s, b, kvh, opt.precision, kv);
    // Units of this (batch, KV head) holding wanted rows, with their row subsets.
    struct Job {
      std::vector<const WorkUnit*> splits;
      std::vector<RowKey> rows;
    };
    std::map<std::tuple<int64_t, int64_t>, Job> jobs;  // (first q head, q block)
    for (const WorkUnit& u : trace.units()) {
      if (u.kind != WorkKind::attention || u.batch != b || u.kv_head != kvh) continue;
      Job& job = jobs[{u.q_head, u.q_block}];
      job.splits.push_back(&u);
      if (job.splits.size() > 1) continue;
      const int64_t q0 = static_cast<int64_t>(u.q_block) * trace.mask().geometry().q_block;
      for (int64_t h = u.q_head; h < u.q_head + u.heads; ++h) {
        for (int64_t i = q0; i < q0 + trace.unit_q_rows(u); ++i) {
          if (rowset.count({h, i})) job.rows.push_back({h, i});
        }
      }
    }
    std::vector<Job*> list;
    for (auto& [key, job] : jobs) {
      if (!job.rows.empty()) list.push_back(&job);
    }
    // Per row: squared error, squared reference norm, max abs error, external error.
    std::vector<std::vector<std::array<double, 5>>> stats(list.size());
    auto worker = [&](size_t t) {
      std::vector<double> ref;
      for (size_t j = t; j < list.size(); j += static_cast<size_t>(threads)) {
        Job& job = *list[j];
        const size_t n = job.rows.size();
        std::vector<RowState> merged(n);
        for (const WorkUnit* u : job.splits) {  // split-KV partials merged as the combine pass does
          std::vector<RowState> part(n);
          execute_unit(trace, *u, pattern, inputs, kv, opt.precision, job.rows, part);
          for (size_t r = 0; r < n; ++r) {
            RowState& m = merged[r];
            if (m.acc.empty()) m.acc.assign(static_cast<size_t>(d), 0.0f);
            const float mx = std::max(m.m, part[r].m);
            if (mx == kNegInf) continue;
            const float a = std::exp(m.m - mx), c = std::exp(part[r].m - mx);
            for (int64_t x = 0; x < d; ++x) m.acc[x] = m.acc[x] * a + part[r].acc[x] * c;
            m.l = m.l * a + part[r].l * c;
            m.m = mx;
          }
        }
        for (size_t r = 0; r < n; ++r) {
          reference_row(inputs, s, pattern, kv, b, job.rows[r].head, job.rows[r].query, ref);
          std::array<double, 5> st{0, 0, 0, 0, 0};
          for (int64_t x = 0; x < d; ++x) {
            float o = merged[r].l > 0 ? merged[r].acc[x] / merged[r].l : 0.0f;  // empty rows are zeros
            if (opt.precision == Precision::bf16) o = round_bf16(o);
            const double diff = static_cast<double>(o) - ref[x];
            st[0] += diff * diff;
            st[1] += ref[x] * ref[x];
            st[2] = std::max(st[2], std::fabs(diff));
            if (opt.expected) {
              const size_t at = static_cast<size_t>(((b * s.q_heads + job.rows[r].head) * s.q_len + job.rows[r].query) * d + x);
              const double e = (*opt.expected)[at] - ref[x];
              st[3] += e * e;
              st[4] = std::max(st[4], std::fabs(e));
            }
          }
          stats[j].push_back(st);
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, static_cast<size_t>(t));
    for (auto& th : pool) th.join();
    for (size_t j = 0; j < list.size(); ++j) {  // fixed order: results never depend on thread count
      for (size_t r = 0; r < stats[j].size(); ++r) {
        err2 += stats[j][r][0];
        ref2 += stats[j][r][1];
        ext_err2 += stats[j][r][3];
        if (opt.expected) result.expected_max_abs_error = std::max(result.expected_max_abs_error, stats[j][r][4]);
        result.max_abs_error = std::max(result.max_abs_error, stats[j][r][2]);
        if (stats[j][r][1] == 0) ++result.empty_rows;
        ++result.rows_checked;
      }
    }
  }
  result.rel_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  if (opt.expected) result.expected_rel_error = ref2 > 0 ? std::sqrt(ext_err2 / ref2) : std::sqrt(ext_err2);
  result.pass = result.rel_error <= result.tolerance;
  return result;
}

}  // namespace attnsim
