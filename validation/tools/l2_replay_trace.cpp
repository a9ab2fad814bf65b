// Replays a measured kernel timeline through attnsim's partitioned L2 model (models/gpu/l2_replay.h)
// and prints the DRAM bytes it predicts, so that the cache model can be checked apart from the
// timing model's schedule (issue 4; validation/h100/kv_stream_replay.py writes the timelines from
// the traced K/V streaming microbenchmark).
//
//   attnsim_l2_replay HW_CONFIG TIMELINE [SAMPLE_RATE]
//
// TIMELINE is text (or gzip-compressed text), one record per line:
//   kv STREAMS TILES_PER_STREAM TILE_BYTES       (first line)
//   c T0_S T1_S STREAM SIDE FIRST N [DESC]      (N tiles FIRST, FIRST + 1, ... read evenly over [T0, T1);
//                                                last to first with DESC 1)
//   f T_S BYTES STORE SIDE                      (a Q load, STORE 0, or an O store, STORE 1)
// SIDE is the L2 partition of the SM that runs it. Prints one JSON line: the K/V bytes that miss
// to DRAM, the loads that pass once (Q) and the stored bytes still in L2 at the end. The config's
// partition capacity is used whole (the streaming kernels spill nothing; attnsim itself takes a
// kernel's resident spills off it, gpu-model.md). SAMPLE_RATE (default 1) replays that share of
// the K/V tiles, as attnsim does for traces over 6 M tile reads (l2_replay.h).
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "models/gpu/gpu_params.h"
#include "models/gpu/l2_replay.h"
#include "sim/core/error.h"
#include "sim/hw/hw_spec.h"

using namespace attnsim;

namespace {

// Lines of a text file, gzip-compressed or not (zlib reads both).
class Lines {
 public:
  explicit Lines(const std::string& path) : f_(gzopen(path.c_str(), "rb"), gzclose) {
    if (!f_) throw Error("cannot read " + path);
  }
  bool next(std::string& line) {
    line.clear();
    char buf[4096];
    while (gzgets(f_.get(), buf, sizeof buf)) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        return true;
      }
    }
    return !line.empty();
  }

 private:
  std::unique_ptr<gzFile_s, int (*)(gzFile)> f_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: " << argv[0] << " HW_CONFIG TIMELINE [SAMPLE_RATE]\n";
    return 2;
  }
  try {
    const HwSpec hw = load_hw_spec(argv[1]);
    const GpuParams& gpu = hw.params<GpuParams>();
    if (!gpu.l2_lru) throw Error(hw.name + " has no partitioned L2 (l2_partitions etc.)");
    Lines in(argv[2]);
    std::string tag, line;
    int64_t streams = 0, tiles = 0;
    double tile_bytes = 0;
    std::istringstream head(in.next(line) ? line : "");
    if (!(head >> tag >> streams >> tiles >> tile_bytes) || tag != "kv" || streams < 1 || tiles < 1 || !(tile_bytes > 0)) {
      throw Error("the timeline must start with 'kv STREAMS TILES_PER_STREAM TILE_BYTES', all positive");
    }
    const double rate = argc == 4 ? std::atof(argv[3]) : 1.0;
    if (!(rate > 0 && rate <= 1)) throw Error("SAMPLE_RATE must be in (0, 1]");
    L2StackReplay replay(streams, tiles, rate);
    std::vector<uint32_t> blocks(static_cast<size_t>(tiles));
    for (int64_t k = 0; k < tiles; ++k) blocks[static_cast<size_t>(k)] = static_cast<uint32_t>(k);
    // Each SIDE stands for the first SM of its run, so that the replay puts it on that partition.
    const auto sm_of = [&](int side) { return static_cast<uint32_t>(side * gpu.l2_partition_sm_run); };
    int64_t id = 0;
    double q_bytes = 0;
    while (in.next(line)) {
      std::istringstream ls(line);
      tag.clear();
      ls >> tag;
      if (tag == "c") {
        L2Chunk c;
        int side = 0;
        int64_t first = 0, n = 0;
        ls >> c.t0_s >> c.t1_s >> c.stream >> side >> first >> n;
        int desc = 0;
        if (ls && !(ls >> desc)) {  // optional: absent is ascending
          ls.clear(std::ios::eofbit);
          desc = 0;
        }
        ls >> std::ws;
        if (!ls.eof() || (desc != 0 && desc != 1) || !(c.t0_s >= 0) || !(c.t1_s >= c.t0_s) || c.stream < 0 || c.stream >= streams || side < 0 ||
            side >= gpu.l2_partitions || first < 0 || n < 1 || first + n > tiles || n > 65535) {
          throw Error("bad chunk line (times, stream, side or tiles out of range): " + line);
        }
        c.blocks = blocks.data() + first;
        c.n = static_cast<uint16_t>(n);
        c.sm = static_cast<uint16_t>(sm_of(side));
        c.descending = desc == 1;
        replay.chunk(id++, c);
      } else if (tag == "f") {
        double t = 0, bytes = 0;
        int store = 0, side = 0;
        ls >> t >> bytes >> store >> side;
        if (!ls || !(t >= 0) || !(bytes >= 0) || side < 0 || side >= gpu.l2_partitions) {
          throw Error("bad fill line (time, bytes or side out of range): " + line);
        }
        replay.fill(t, bytes, store != 0, sm_of(side));
        if (!store) q_bytes += bytes;
      } else if (!tag.empty()) {
        throw Error("unknown record '" + tag + "'");
      }
    }
    const L2ReplayResult r = replay.replay({gpu.l2_partitions, gpu.l2_partition_sm_run, gpu.l2_partition},
                                           std::vector<double>(static_cast<size_t>(tiles), tile_bytes));
    std::printf("{\"kv_miss_bytes\": %.0f, \"q_bytes\": %.0f, \"dirty_end_bytes\": %.0f, \"kv_tile_reads\": %.0f}\n",
                r.total_miss_bytes, q_bytes, r.dirty_end_bytes, r.total_tiles);
  } catch (const std::exception& e) {
    std::cerr << "attnsim_l2_replay: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
