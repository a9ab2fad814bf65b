// The `sparsecore:` section of a hardware config: a proposed unit that gathers the
// selected keys/values of a token-sparse attention into dense tiles for the host's
// matrix units (docs/sparsecore.md). Every number is an architect-supplied design
// parameter; none is a measured fact about existing hardware.
#pragma once

#include <string>

#include "sim/hw/hw_spec.h"

namespace attnsim {

enum class Placement { per_unit, per_cluster, near_l2 };
const char* placement_name(Placement p);

struct SparseCoreParams : ArchParams {
  Placement placement = Placement::per_unit;
  int cluster_units = 1;              // host units (SMs, TensorCores) sharing one instance (per_cluster)
  int instances = 1;                  // engines on the chip (derived for per_sm / per_cluster)
  double index_decode_per_cycle = 0;  // indices decoded per host clock, per instance
  double index_bytes = 4;             // bytes of one token index
  double gather_bytes_per_s = 0;      // per instance
  double request_bytes = 32;          // gather request granularity
  double staging_buffer_bytes = 0;    // per instance
  double overlap_fraction = 1;        // share of the shorter of gather and matrix time hidden under the longer
  bool bypass_aligned_tiles = true;   // whole aligned tiles go through the host's own load path
  double fixed_overhead_s = 0;        // per call (descriptor set-up, index fetch start)
  double area_per_instance_m2 = 0;
  double power_per_instance_w = 0;

  double area_m2() const { return area_per_instance_m2 * instances; }
  double power_w() const { return power_per_instance_w * instances; }
};

}  // namespace attnsim
