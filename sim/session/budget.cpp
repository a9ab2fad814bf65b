#include "sim/session/budget.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "sim/core/error.h"
#include "sim/core/units.h"

namespace attnsim {
namespace {

// Throughputs of one core of the development machine (RelWithDebInfo), measured with
// the cases in docs/robustness.md and rounded down, so estimates err towards "slow".
constexpr double kRowCallsPerS = 2e7;       // row_intervals calls while classifying blocks
constexpr double kEntriesPerS = 5e7;        // block-mask entries built (classify, cover)
constexpr double kVisitsPerS = 5e7;         // KV-block visits of the timing model and trace totals
constexpr double kUnitsPerS = 1e6;          // work units (CTAs) through the SystemC scheduler
// Memory transactions of the timing model: a unit's K/V blocks go out in chunks of 16 where CTAs
// share tiles (64 elsewhere), one SystemC transaction each. Measured ~1.2e6 chunks/s per pass on
// the dev VM (2026-11-28: causal 512k, d = 64, 32 heads, ~1.7e7 chunks a pass, two passes, ~30 s).
constexpr double kChunksPerS = 1e6;
constexpr double kChunkBlocks = 16;
constexpr double kScoreMacsPerS = 4e9;      // Q.K^T multiply-adds of data-dependent patterns, per thread
// Host bytes per stored item, with slack for vector growth.
constexpr double kBytesPerEntry = 2 * (sizeof(uint32_t) + sizeof(uint8_t));
constexpr double kBytesPerRow = 2 * sizeof(uint64_t);
constexpr double kBytesPerUnit = 2 * sizeof(WorkUnit) + 32;  // units, plus the GPU model's record of each CTA
// The GPU model's L2 replay in prefill (models/gpu/l2_replay.h): ~64 B per recorded chunk of
// 16 block visits, at most ~6M chunks (longer traces are sampled), plus its time buckets, and
// ~50 ns per replayed tile (at most 6M). Where it runs, a second timing pass is counted: whether
// the replayed misses call for one is only known after the first (counting it errs towards slow).
constexpr double kReplayBytesPerChunk = 64, kReplayMaxChunks = 6e6, kReplayBucketBytes = 128e6;
constexpr double kReplayTilesPerS = 2e7, kReplayMaxTiles = 6e6;
constexpr int64_t kSampledBlockRows = 64;  // mask rows sampled when the exact bound is over budget
constexpr int64_t kSampledQueries = 8;     // query rows sampled per sampled mask row

double hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

struct RowSample {
  double entries = 0;  // mean KV blocks per mask row
  double cover = 0;    // mean contiguous cover (first to last block) per mask row
};

// Mean blocks per mask row from evenly spaced rows, each from a few of its queries.
RowSample sample_rows(const ISparsityPattern& pattern, const BlockGeometry& g, int64_t mask_batch,
                      int64_t mask_heads) {
  const int64_t q_blocks = g.q_blocks(), rows = mask_batch * mask_heads * q_blocks;
  const int64_t samples = std::min(rows, kSampledBlockRows);
  RowSample out;
  std::vector<Interval> iv;
  std::vector<std::pair<int64_t, int64_t>> ranges;  // KV block ranges [first, last]
  for (int64_t s = 0; s < samples; ++s) {
    // Evenly spaced over all rows (in double: (2s + 1) * rows can overflow int64).
    const double at = (2.0 * static_cast<double>(s) + 1) * static_cast<double>(rows) / (2.0 * samples);
    const int64_t r = std::min<int64_t>(rows - 1, static_cast<int64_t>(at));
    const int64_t b = r / (mask_heads * q_blocks), h = (r / q_blocks) % mask_heads, qb = r % q_blocks;
    const int64_t q_rows = g.q_rows_in(qb), queries = std::min(q_rows, kSampledQueries);
    ranges.clear();
    for (int64_t i = 0; i < queries; ++i) {
      const int64_t q = queries == 1 ? 0 : i * (q_rows - 1) / (queries - 1);
      iv.clear();
      pattern.row_intervals(b, h, g.q_offset + qb * g.q_block + q, iv);
      for (const Interval& x : iv) ranges.push_back({x.begin / g.kv_block, (x.end - 1) / g.kv_block});
    }
    if (ranges.empty()) continue;
    std::sort(ranges.begin(), ranges.end());
    int64_t blocks = 0, last = -1;
    for (const auto& [lo, hi] : ranges) {
      if (hi <= last) continue;
      blocks += hi - std::max(lo, last + 1) + 1;
      last = hi;
    }
    out.entries += static_cast<double>(blocks);
    out.cover += static_cast<double>(ranges.back().second - ranges.front().first + 1);
  }
  if (samples > 0) {
    out.entries /= static_cast<double>(samples);
    out.cover = std::max(out.cover / static_cast<double>(samples), out.entries);
  }
  return out;
}

ResourceEstimate mask_and_trace_cost(const AttentionShape& s, const BlockGeometry& g, const KernelSpec& k,
                                     int64_t mask_batch, int64_t mask_heads, const RowSample& per_row) {
  const double mask_rows = static_cast<double>(mask_batch * mask_heads * g.q_blocks());
  const bool dense_loop = !k.skips_empty_blocks && s.phase == Phase::prefill;
  const double visited = dense_loop ? per_row.cover : per_row.entries;  // blocks a unit visits per row
  const double entries = mask_rows * per_row.entries, cover = dense_loop ? mask_rows * per_row.cover : 0;
  const double head_rows = static_cast<double>(s.batch) * static_cast<double>(s.q_heads) * g.q_blocks();
  const double splits = std::clamp(visited, 1.0, static_cast<double>(k.max_kv_splits));
  const double units = head_rows * (splits > 1 ? splits + 1 : 1);
  ResourceEstimate e;
  const bool replay = k.arch == "gpu" && s.phase == Phase::prefill;
  const double visits = head_rows * visited;
  e.memory_bytes = (entries + cover) * kBytesPerEntry + 2 * mask_rows * kBytesPerRow + units * kBytesPerUnit +
                   (replay ? std::min(visits / kChunkBlocks, kReplayMaxChunks) * kReplayBytesPerChunk +
                                 kReplayBucketBytes
                           : 0.0);
  const double row_calls = static_cast<double>(mask_batch * mask_heads) * static_cast<double>(s.q_len);
  // Chunks and passes are the GPU SystemC model's (an attached unit's kernel has its own timing).
  const bool gpu_timing = k.arch == "gpu" && k.runs_on.empty();
  const double passes = replay && gpu_timing ? 2.0 : 1.0;
  const double chunks = gpu_timing ? visits / kChunkBlocks : 0.0;
  e.time_s = row_calls / kRowCallsPerS + (entries + cover) / kEntriesPerS +
             passes * (visits / kVisitsPerS + chunks / kChunksPerS) + units / kUnitsPerS +
             (replay ? std::min(visits, kReplayMaxTiles) / kReplayTilesPerS : 0.0);
  e.mask_blocks = entries + cover;
  e.work_units = units;
  e.block_visits = visits;
  char buf[160];
  std::snprintf(buf, sizeof buf, "a block mask of ~%.2g blocks, ~%.2g work units and ~%.2g block visits",
                e.mask_blocks, e.work_units, e.block_visits);
  e.what = buf;
  e.remedy = "reduce the batch, heads or sequence length, or use a sparser pattern";
  return e;
}

bool within(const ResourceEstimate& e, const ResourceBudget& b) {
  return e.memory_bytes <= b.memory_limit_bytes() && e.time_s <= b.time_s;
}

}  // namespace

double default_memory_budget_bytes() {
  const double cap = 16.0 * (1ull << 30);
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return cap;
  return std::min(cap, 0.75 * static_cast<double>(pages) * static_cast<double>(page));
}

double ResourceBudget::memory_limit_bytes() const {
  return memory_bytes > 0 ? memory_bytes : default_memory_budget_bytes();
}

ResourceEstimate estimate_data_pattern(const AttentionShape& s) {
  const double pairs = static_cast<double>(s.batch) * static_cast<double>(s.q_heads);
  const double words = std::ceil(static_cast<double>(s.kv_len) / 64.0);
  const double macs = pairs * static_cast<double>(s.q_len) * static_cast<double>(s.kv_len) * s.head_dim;
  ResourceEstimate e;
  e.memory_bytes = pairs * static_cast<double>(s.q_len) * words * 8.0 +
                   hardware_threads() * static_cast<double>(s.kv_len) * (s.head_dim + 256.0) * 4.0;
  e.time_s = macs / (kScoreMacsPerS * std::min(hardware_threads(), pairs));
  char buf[96];
  std::snprintf(buf, sizeof buf, "scores of ~%.2g multiply-adds and their bit mask", macs);
  e.what = buf;
  e.remedy = "reduce the batch, heads or sequence length, or use a pattern that needs no scores";
  return e;
}

ResourceEstimate estimate_array_inputs(const AttentionShape& s) {
  const double values = (s.q_bytes() + s.kv_bytes()) / dtype_bytes(s.dtype);
  ResourceEstimate e;
  e.memory_bytes = values * 3 * sizeof(float);  // float32 file image, parsed array, float copy
  e.what = "Q, K and V loaded from .npy files";
  e.remedy = "reduce the batch, heads or sequence length";
  return e;
}

ResourceEstimate estimate_mask_and_trace(const ISparsityPattern& pattern, const BlockGeometry& g,
                                         const KernelSpec& k, const AttentionShape& s, const ResourceBudget& budget) {
  const int64_t mb = pattern.batch_invariant() ? 1 : g.batch, mh = pattern.head_invariant() ? 1 : g.heads;
  RowSample dense;
  dense.entries = dense.cover = static_cast<double>(g.kv_blocks());
  const ResourceEstimate bound = mask_and_trace_cost(s, g, k, mb, mh, dense);
  if (within(bound, budget)) return bound;
  return mask_and_trace_cost(s, g, k, mb, mh, sample_rows(pattern, g, mb, mh));
}

void require_within_budget(const ResourceEstimate& e, const ResourceBudget& b, const std::string& where,
                           const std::string& stage) {
  const std::string prefix = where + (where.empty() ? "" : ": ") + stage + " would need ~";
  if (e.memory_bytes > b.memory_limit_bytes()) {
    throw Error(prefix + format_bytes(e.memory_bytes) + " of host memory (" + e.what + "), over the " +
                format_bytes(b.memory_limit_bytes()) + " budget; " + e.remedy +
                ", or raise the budget with --max-memory SIZE (e.g. 64GiB)");
  }
  if (e.time_s > b.time_s) {
    throw Error(prefix + format_time(e.time_s) + " (" + e.what + "), over the " + format_time(b.time_s) +
                " time budget; " + e.remedy + ", or raise the budget with --max-time TIME (e.g. 3600s)");
  }
}

}  // namespace attnsim
