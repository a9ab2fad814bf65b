#include "models/gpu/l2_replay.h"

#include <algorithm>
#include <memory>
#include <queue>
#include <tuple>

#include "sim/core/hash.h"

namespace attnsim {
namespace {

// Tile k of a chunk: (time, chunk id, k); the earliest first, ties by id.
struct Next {
  double t_s;
  int64_t id;
  uint32_t k;
  bool operator>(const Next& o) const { return std::tie(t_s, id, k) > std::tie(o.t_s, o.id, o.k); }
};

}  // namespace

L2StackReplay::L2StackReplay(int64_t streams, int64_t tiles_per_stream, double sample_rate)
    : streams_(streams), tiles_(tiles_per_stream), rate_(std::clamp(sample_rate, 1e-6, 1.0)),
      sampled_(static_cast<size_t>(streams * tiles_per_stream), 1) {
  if (rate_ < 1) {
    for (size_t i = 0; i < sampled_.size(); ++i) sampled_[i] = unit_uniform(i ^ 0x5a17ull << 40) < rate_;
  }
}

void L2StackReplay::chunk(int64_t id, const L2Chunk& c) {
  bool any = rate_ >= 1;
  for (uint32_t k = 0; k < c.n && !any; ++k) any = sampled_[static_cast<size_t>(int64_t{c.stream} * tiles_ + c.blocks[k])];
  if (any) chunks_.emplace_back(id, c);
}

int64_t L2ReplayResult::find(int64_t id) const {
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  return it != ids.end() && *it == id ? it - ids.begin() : -1;
}

L2ReplayResult L2StackReplay::replay(const L2PartitionParams& p, const std::vector<double>& tile_bytes) {
  // Records by id (the order pass 2 looks them up in), then an index by start time.
  const auto by_id = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(chunks_.begin(), chunks_.end(), by_id)) std::sort(chunks_.begin(), chunks_.end(), by_id);
  L2ReplayResult out;
  for (const auto& [id, c] : chunks_) out.ids.push_back(id);
  out.miss_bytes.assign(chunks_.size(), 0.0);
  out.miss_tiles.assign(chunks_.size(), 0.0);
  const int parts = std::max(1, p.partitions);
  const int64_t streams = streams_, tiles = tiles_;
  double horizon_s = 0;
  // (start, index) pairs sort without chasing each chunk record: ties by index, as before.
  std::vector<std::pair<double, int64_t>> starts;
  starts.reserve(chunks_.size());
  for (size_t i = 0; i < chunks_.size(); ++i) {
    starts.emplace_back(chunks_[i].second.t0_s, static_cast<int64_t>(i));
    horizon_s = std::max(horizon_s, chunks_[i].second.t1_s);
  }
  std::vector<Fill> fills = fills_;
  for (const Fill& f : fills) horizon_s = std::max(horizon_s, f.t_s);
  std::sort(starts.begin(), starts.end());
  std::stable_sort(fills.begin(), fills.end(), [](const Fill& a, const Fill& b) { return a.t_s < b.t_s; });

  // Time resolution of distances: 50 ns (about one K/V tile per SM at H100 rates), coarser for
  // very long runs so that the tree stays within ~4M buckets.
  const double bucket_s = std::max(50e-9, horizon_s / 4e6);
  std::vector<std::unique_ptr<L2StackDistance>> part;
  for (int i = 0; i < parts; ++i) {
    part.push_back(std::make_unique<L2StackDistance>(parts * streams * tiles, p.stack, bucket_s, horizon_s));
  }
  // SMs in the model's fill order (first-wave CTA i runs on SM i), `sm_run` at a time per partition.
  const int64_t run = std::max(1, p.sm_run);
  auto side_of = [&](uint32_t sm) { return static_cast<int>((int64_t{sm} / run) % parts); };

  auto tile_time = [&](int64_t id, uint32_t k) {
    const L2Chunk& c = chunks_[static_cast<size_t>(id)].second;
    return c.t0_s + (c.t1_s - c.t0_s) * k / c.n;
  };
  // The next sampled tile of a chunk (every tile unless the trace is very long).
  const double rate = rate_;
  const std::vector<char>& sampled = sampled_;
  auto next_sampled = [&](int64_t id, uint32_t k) {  // first sampled tile at or after k, or n
    const L2Chunk& c = chunks_[static_cast<size_t>(id)].second;
    for (; k < c.n; ++k) {
      const uint32_t block = c.blocks[c.descending ? c.n - 1 - k : k];
      if (sampled[static_cast<size_t>(int64_t{c.stream} * tiles + block)]) break;
    }
    return k;
  };
  // Events go to a calendar of time buckets (the distances' resolution): a ring for the near
  // future, a heap beyond it. Within a bucket: fills, then chunk starts, then tiles, each in
  // the order they were scheduled, so the result does not depend on anything but the inputs.
  constexpr int64_t kRing = 4096;
  std::vector<std::vector<Next>> ring(kRing);
  std::priority_queue<Next, std::vector<Next>, std::greater<Next>> later;
  const auto bucket_of = [&](double t_s) { return static_cast<int64_t>(t_s / bucket_s); };
  int64_t now = 0, pending = 0;  // pending: events in the ring
  auto schedule = [&](const Next& e) {
    const int64_t b = std::max(now, bucket_of(e.t_s));
    if (b - now >= kRing) return later.push(e);
    ring[static_cast<size_t>(b % kRing)].push_back(e);
    ++pending;
  };
  uint64_t draws = 0;
  std::vector<std::pair<double, double>> stores;  // (time, bytes), homed evenly across partitions
  size_t next_chunk = 0, next_fill = 0;
  const int64_t last_bucket = bucket_of(horizon_s) + 1;
  for (now = 0; now <= last_bucket || pending > 0 || !later.empty(); ++now) {
    while (!later.empty() && bucket_of(later.top().t_s) - now < kRing) {
      const Next e = later.top();
      later.pop();
      schedule(e);
    }
    for (; next_fill < fills.size() && bucket_of(fills[next_fill].t_s) <= now; ++next_fill) {
      // The near partition holds all of it; each far partition its home share.
      const Fill& f = fills[next_fill];
      const int side = side_of(f.sm);
      for (int i = 0; i < parts; ++i) part[static_cast<size_t>(i)]->fill(i == side ? f.bytes : f.bytes / parts, f.t_s);
      if (f.store) stores.emplace_back(f.t_s, f.bytes);
    }
    std::vector<Next>& slot = ring[static_cast<size_t>(now % kRing)];
    for (; next_chunk < starts.size(); ++next_chunk) {
      const int64_t id = starts[next_chunk].second;
      if (bucket_of(starts[next_chunk].first) > now) break;
      const uint32_t k = next_sampled(id, 0);
      if (k < chunks_[static_cast<size_t>(id)].second.n) schedule({tile_time(id, k), id, k});
    }
    for (size_t i = 0; i < slot.size(); ++i) {  // tiles scheduled into this bucket meanwhile run too
      const Next nx = slot[i];
      --pending;
      const L2Chunk& c = chunks_[static_cast<size_t>(nx.id)].second;
      const uint32_t block = c.blocks[c.descending ? c.n - 1 - nx.k : nx.k];
      const double share = tile_bytes[block] / parts / rate;  // a sampled tile stands for 1/R tiles
      const int side = side_of(c.sm);
      const int64_t key = (int64_t{c.stream} * tiles + block) * parts;
      double miss = 0;  // share of the tile that DRAM serves
      for (int home = 0; home < parts; ++home) {
        const double near = part[static_cast<size_t>(side)]->access(key + home, share, nx.t_s);
        if (home == side) {
          miss += near / parts;
        } else if (near > 0 && unit_uniform(++draws) < near) {
          miss += part[static_cast<size_t>(home)]->access(key + home, share, nx.t_s) / parts;
        }
      }
      out.miss_bytes[static_cast<size_t>(nx.id)] += miss * tile_bytes[block] / rate;
      out.miss_tiles[static_cast<size_t>(nx.id)] += miss / rate;
      out.total_miss_bytes += miss * tile_bytes[block] / rate;
      out.total_miss_tiles += miss / rate;
      out.total_tiles += 1 / rate;
      const uint32_t k = next_sampled(nx.id, nx.k + 1);
      if (k < c.n) schedule({std::max(nx.t_s, tile_time(nx.id, k)), nx.id, k});
    }
    slot.clear();
  }
  // Written lines sit dirty in their home partitions; what is still there at the end is
  // written back after the kernel (not in its DRAM bytes, as Nsight Compute counts them).
  for (const auto& [t, bytes] : stores) {
    for (const auto& pt : part) out.dirty_end_bytes += bytes / parts * pt->resident_fraction(t);
  }
  return out;
}

}  // namespace attnsim
