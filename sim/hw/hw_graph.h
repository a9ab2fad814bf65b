// The hardware as a graph of units and links, built from the config: the
// compute units, every memory level, and extra links from `links:`. Traffic is
// routed along it (shortest path by hops), so adding a level or a link is a
// config change. Boost.Graph stays inside hw_graph.cpp.
#pragma once

#include <string>
#include <vector>

#include "sim/hw/hw_spec.h"

namespace attnsim {

struct GraphNode {
  std::string name;  // "compute", or a memory level name
  std::string kind;  // "compute", "scratchpad", "cache", "dram"
  double bandwidth_bytes_per_s = 0;  // chip-wide (per-unit levels multiplied out)
};

struct GraphEdge {
  int from = 0, to = 0;
  double bandwidth_bytes_per_s = 0;  // 0 = limited by its end nodes only
};

class HwGraph {
 public:
  explicit HwGraph(const HwSpec& hw);

  const std::vector<GraphNode>& nodes() const { return nodes_; }
  const std::vector<GraphEdge>& edges() const { return edges_; }
  int node(const std::string& name) const;  // throws if absent

  // Node indices from `from` to `to` inclusive (fewest hops), e.g. hbm -> l2 -> smem.
  std::vector<int> route(const std::string& from, const std::string& to) const;

  // Graphviz text, for docs and the GUI.
  std::string to_dot() const;

 private:
  std::vector<GraphNode> nodes_;
  std::vector<GraphEdge> edges_;
};

}  // namespace attnsim
