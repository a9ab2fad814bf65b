#include "sim/hw/hw_graph.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <sstream>

#include "sim/core/error.h"

namespace attnsim {

namespace {
const char* kind_name(MemoryKind k) {
  switch (k) {
    case MemoryKind::scratchpad: return "scratchpad";
    case MemoryKind::cache: return "cache";
    case MemoryKind::dram: return "dram";
  }
  return "?";
}
}  // namespace

HwGraph::HwGraph(const HwSpec& hw) {
  nodes_.push_back({"compute", "compute", 0});
  for (const MemoryLevel& l : hw.memory) {
    nodes_.push_back({l.name, kind_name(l.kind), l.bandwidth_bytes_per_s * (l.per_unit ? hw.units : 1)});
  }
  // Default topology: a chain from the compute units outward through the levels in config order.
  for (size_t i = 0; i + 1 < nodes_.size(); ++i) {
    edges_.push_back({static_cast<int>(i), static_cast<int>(i + 1), 0});
  }
  for (const LinkSpec& link : hw.links) {
    edges_.push_back({node(link.from), node(link.to), link.bandwidth_bytes_per_s});
  }
}

int HwGraph::node(const std::string& name) const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) return static_cast<int>(i);
  }
  throw Error("hardware graph has no node '" + name + "'");
}

std::vector<int> HwGraph::route(const std::string& from, const std::string& to) const {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  Graph g(nodes_.size());
  for (const GraphEdge& e : edges_) boost::add_edge(static_cast<size_t>(e.from), static_cast<size_t>(e.to), g);
  const size_t src = static_cast<size_t>(node(from)), dst = static_cast<size_t>(node(to));
  std::vector<size_t> pred(nodes_.size());
  for (size_t i = 0; i < pred.size(); ++i) pred[i] = i;
  boost::breadth_first_search(
      g, boost::vertex(src, g),
      boost::visitor(boost::make_bfs_visitor(boost::record_predecessors(pred.data(), boost::on_tree_edge()))));
  if (pred[dst] == dst && dst != src) throw Error("hardware graph: no route from '" + from + "' to '" + to + "'");
  std::vector<int> path;
  for (size_t v = dst; v != src; v = pred[v]) path.insert(path.begin(), static_cast<int>(v));
  path.insert(path.begin(), static_cast<int>(src));
  return path;
}

std::string HwGraph::to_dot() const {
  std::ostringstream out;
  out << "graph hw {\n";
  for (size_t i = 0; i < nodes_.size(); ++i) {
    out << "  n" << i << " [label=\"" << nodes_[i].name << "\\n" << nodes_[i].kind << "\"];\n";
  }
  for (const GraphEdge& e : edges_) out << "  n" << e.from << " -- n" << e.to << ";\n";
  out << "}\n";
  return out.str();
}

}  // namespace attnsim
