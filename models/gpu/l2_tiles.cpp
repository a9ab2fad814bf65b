#include "models/gpu/l2_tiles.h"

namespace attnsim {

L2Tiles::L2Tiles(int64_t streams, int64_t tiles_per_stream, double usable_bytes)
    : tiles_per_stream_(tiles_per_stream), usable_bytes_(usable_bytes),
      touched_(static_cast<size_t>(streams * tiles_per_stream), -1.0) {}

bool L2Tiles::access(int64_t stream, int64_t tile, double bytes) {
  double& t = touched_[static_cast<size_t>(stream * tiles_per_stream_ + tile)];
  if (t >= 0 && filled_ - t < usable_bytes_) {
    t = filled_;
    ++hits_;
    return true;
  }
  filled_ += bytes;
  t = filled_;
  ++misses_;
  return false;
}

}  // namespace attnsim
