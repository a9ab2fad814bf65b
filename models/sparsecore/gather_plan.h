// From the token-granular trace of `sparsecore_gather` to (1) the dense-tile trace
// the host's matrix units execute and (2) the work of the gather engines.
#pragma once

#include <memory>
#include <vector>

#include "models/sparsecore/sparsecore_params.h"
#include "sim/trace/trace.h"

namespace attnsim {

// One stored mask row, packed: what its unit(s) gather.
struct GatherRowStats {
  int64_t tokens = 0;           // selected keys (union over the unit's rows)
  int64_t tiles = 0;            // dense tiles of tile_tokens keys (last one padded)
  int64_t bypassed_tiles = 0;   // whole aligned tiles the host loads itself
  int64_t gathered_tokens = 0;  // keys the engine fetches (tokens outside bypassed tiles)
  int64_t runs = 0;             // maximal runs of consecutive gathered keys
  double request_bytes = 0;     // K and V bytes requested, rounded to whole aligned requests
  int64_t indices = 0;          // indices decoded: one per gathered key, one per bypassed tile
};

struct GatherPlan {
  std::unique_ptr<Trace> matrix;      // dense tiles, labelled for the host's cache model
  std::vector<GatherRowStats> rows;   // per stored row of the token mask
  GatherRowStats total;               // summed over work units
};

// tile_tokens: keys per dense tile; row_bytes: one key's K (or V) row.
GatherPlan plan_gather(const Trace& tokens, int64_t tile_tokens, double row_bytes, const SparseCoreParams& sc);

}  // namespace attnsim
