// Replays one timing run's L2 traffic in time order through a partitioned LRU L2, giving
// each K/V chunk the bytes that miss to DRAM (docs/gpu-model.md, "L2").
//
// Why a replay: the timing model moves a CTA a chunk of K/V tiles at a time, ahead of the
// other CTAs' clocks, so a cache judged as chunks are announced would see other CTAs'
// accesses in between too late. The first pass records each chunk with the span it was
// computed over (its tiles spread evenly across it) and every Q load and O store; the replay
// merges them by time; a second pass charges each chunk the misses found here where they
// change the DRAM load enough to move the schedule (gpu_sim.cpp).
//
// Why partitions: the H100's L2 is two partitions joined by a fabric. Each memory line has a
// home partition; an SM looks a line up in the partition its GPC is attached to, and a line
// homed in the other one is fetched over the fabric and kept in both. So data that SMs on
// both sides read is held twice, and each partition sees its own SMs' traffic plus the far
// side's misses on lines homed there (Nsight Compute's lts__t_sectors_srcunit_ltcfabric).
// The block scheduler places runs of consecutive CTAs on one partition (`sm_run` SMs at a
// time: one GPC's worth on the H100, validation/h100/l2_partition_map.py), and the model's
// first-wave CTA i runs on SM i: so SM s belongs to partition (s / sm_run) mod P. Each K/V tile, Q and O block is split
// evenly across the P home partitions; a near miss on a far-homed part looks up its home;
// DRAM serves misses in the home partition. Each partition is an LRU stack (l2_stack.h).
// Whether a near lookup missed is drawn from its miss share with a fixed-seed hash, as the
// far lookup then happens or not; the final DRAM miss is counted as its expected share.
//
// Very long traces are replayed on a spatial sample (as SHARDS does for miss-ratio curves,
// Waldspurger et al., FAST 2015): a fixed-seed hash keeps a share R of the K/V tiles, each
// kept tile stands for 1/R of the bytes, and its misses count 1/R times. Distances are then
// estimates (relative noise about 1/sqrt(R x tiles within the capacity)); Q and O traffic
// is always replayed in full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "models/gpu/l2_stack.h"

namespace attnsim {

struct L2Chunk {
  double t0_s = 0, t1_s = 0;     // the tiles are read evenly over [t0, t1)
  const uint32_t* blocks = nullptr;
  int32_t stream = 0;            // K/V stream (batch x kv head)
  uint16_t n = 0;
  uint16_t sm = 0;               // the SM it runs on
  bool descending = false;       // blocks[] read last to first
};

struct L2ReplayResult {
  std::vector<int64_t> ids;        // the recorded chunks' ids, ascending
  std::vector<double> miss_bytes;  // per recorded chunk (as ids)
  std::vector<double> miss_tiles;  // per recorded chunk: expected tiles that miss
  double total_miss_bytes = 0, total_miss_tiles = 0, total_tiles = 0;
  double dirty_end_bytes = 0;      // stored bytes still in L2 when the kernel ends
  // Index of chunk `id` in the vectors above, or -1 (not recorded: no sampled tile, no misses).
  int64_t find(int64_t id) const;
};

struct L2PartitionParams {
  int partitions = 1;
  int sm_run = 1;                  // consecutive SMs (in fill order) on one partition
  L2StackParams stack;             // per partition
};

class L2StackReplay {
 public:
  // `sample_rate`: share of the K/V tiles replayed (1 = all); K/V stream s, block k is key
  // s * tiles_per_stream + k. Only chunks with a sampled tile are kept, so memory stays in
  // proportion to the sampled tiles.
  L2StackReplay(int64_t streams, int64_t tiles_per_stream, double sample_rate);
  void chunk(int64_t id, const L2Chunk& c);
  // A Q load (`store` false) or an O store by SM `sm`: bytes that pass through L2 once.
  void fill(double t_s, double bytes, bool store, uint32_t sm) { fills_.push_back({t_s, bytes, store, sm}); }

  // `tile_bytes[block]`: bytes of one K/V tile. Sorts the records, so call it once.
  L2ReplayResult replay(const L2PartitionParams& p, const std::vector<double>& tile_bytes);

 private:
  struct Fill {
    double t_s, bytes;
    bool store;
    uint32_t sm;
  };
  int64_t streams_, tiles_;
  double rate_;
  std::vector<char> sampled_;  // per K/V tile key
  std::vector<std::pair<int64_t, L2Chunk>> chunks_;  // (id, chunk), in recording order
  std::vector<Fill> fills_;
};

}  // namespace attnsim
