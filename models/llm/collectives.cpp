#include "models/llm/collectives.h"

namespace attnsim {

double ring_all_reduce_s(const InterconnectSpec& link, int chips, double bytes) {
  if (chips <= 1) return 0;
  const double n = chips;
  return 2.0 * (n - 1) / n * bytes / link.bandwidth_bytes_per_s + 2.0 * (n - 1) * link.latency_s;
}

double ring_all_gather_s(const InterconnectSpec& link, int chips, double bytes) {
  if (chips <= 1) return 0;
  const double n = chips;
  return (n - 1) / n * bytes / link.bandwidth_bytes_per_s + (n - 1) * link.latency_s;
}

double ring_pass_s(const InterconnectSpec& link, double bytes) { return bytes / link.bandwidth_bytes_per_s + link.latency_s; }

}  // namespace attnsim
