// Ring collectives over the chips' interconnect (NVLink, TPU ICI), the textbook cost
// (Patarasuk & Yuan 2009; NCCL's ring algorithm): N chips, S bytes per chip, per-chip
// one-way link bandwidth B and per-hop latency a:
//   all-reduce      2 (N-1)/N x S / B + 2 (N-1) a   (reduce-scatter then all-gather)
//   all-gather      (N-1)/N x S / B + (N-1) a       (S = the gathered result)
//   ring pass       S / B + a                       (one neighbour exchange, context parallelism)
// One chip costs nothing.
#pragma once

#include "sim/hw/hw_spec.h"

namespace attnsim {

double ring_all_reduce_s(const InterconnectSpec& link, int chips, double bytes);
double ring_all_gather_s(const InterconnectSpec& link, int chips, double bytes);
double ring_pass_s(const InterconnectSpec& link, double bytes);

}  // namespace attnsim
