// Parses and checks the `sparsecore:` section; registered as an attachable unit, so
// any host config (GPU or TPU) may carry one without changes to the host's parser.
#include "models/sparsecore/sparsecore_params.h"

namespace attnsim {

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::per_unit: return "per_unit";
    case Placement::per_cluster: return "per_cluster";
    case Placement::near_l2: return "near_l2";
  }
  return "?";
}

namespace {

std::shared_ptr<const ArchParams> parse_sparsecore(MapReader& r, const HwSpec& host) {
  auto p = std::make_shared<SparseCoreParams>();
  const std::string placement = r.choice("placement", {"per_unit", "per_cluster", "near_l2"});
  p->placement = placement == "per_unit" ? Placement::per_unit
                 : placement == "per_cluster" ? Placement::per_cluster
                                              : Placement::near_l2;
  // One spelling per key: the cluster size only for per_cluster, the count only near L2.
  if (p->placement == Placement::per_cluster) {
    p->cluster_units = static_cast<int>(r.integer("cluster_units", 1, host.units));
    p->instances = (host.units + p->cluster_units - 1) / p->cluster_units;
  } else if (r.has("cluster_units")) {
    r.fail("cluster_units", "applies to 'placement: per_cluster' only");
  }
  if (p->placement == Placement::near_l2) {
    p->instances = static_cast<int>(r.integer("instances", 1, 4096));
  } else if (r.has("instances")) {
    r.fail("instances", "applies to 'placement: near_l2' only (per_unit and per_cluster derive it from " +
                            host.unit_name + "s)");
  }
  if (p->placement == Placement::per_unit) p->instances = host.units;
  p->index_decode_per_cycle = r.number("index_decode_per_cycle", 1e-3, 1e12);
  p->index_bytes = r.quantity("index_bytes", UnitKind::bytes);
  p->gather_bytes_per_s = r.quantity("gather_bandwidth", UnitKind::bandwidth);
  p->request_bytes = r.quantity("request_bytes", UnitKind::bytes);
  if (p->request_bytes < 1 || p->request_bytes > 65536) r.fail("request_bytes", "must lie between 1B and 64KiB");
  p->staging_buffer_bytes = r.quantity("staging_buffer", UnitKind::bytes);
  p->overlap_fraction = r.number("overlap_fraction", 0.0, 1.0);
  p->bypass_aligned_tiles = r.boolean("bypass_aligned_tiles", true);
  p->fixed_overhead_s = r.has("fixed_overhead") ? r.quantity("fixed_overhead", UnitKind::time) : (r.allow("fixed_overhead"), 0.0);
  p->area_per_instance_m2 = r.quantity("area_per_instance", UnitKind::area);
  p->power_per_instance_w = r.quantity("power_per_instance", UnitKind::power);
  return p;
}

const Registrar<AttachmentEntry> kRegister(
    "sparsecore", AttachmentEntry{"SparseCore: token-granular gather of selected K/V rows into dense tiles (docs/sparsecore.md)",
                                  parse_sparsecore});

}  // namespace
}  // namespace attnsim
