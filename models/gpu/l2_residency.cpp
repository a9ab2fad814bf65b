#include "models/gpu/l2_residency.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "sim/core/error.h"

namespace attnsim {

L2Residency::L2Residency(int64_t streams, int64_t tiles_per_stream, double usable_bytes)
    : tiles_per_stream_(tiles_per_stream), usable_bytes_(usable_bytes) {
  const int64_t n = streams * tiles_per_stream;
  if (n > std::numeric_limits<int32_t>::max()) {
    throw Error("too many K/V tiles for the L2 model (" + std::to_string(n) + "); use a larger kv block");
  }
  last_mark_.assign(static_cast<size_t>(n), -1.0);
}

double L2Residency::resident_fraction(double mark) const {
  if (usable_bytes_ <= 0) return 0.0;
  // Only fills into a full cache evict: the first `usable_bytes_` filled take empty lines.
  const double evicting = filled_bytes_ - std::max(mark, usable_bytes_);
  return evicting <= 0 ? 1.0 : std::exp(-evicting / usable_bytes_);
}

}  // namespace attnsim
