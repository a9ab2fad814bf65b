// A sparsity pattern says which keys each query may attend to.
//
// Contract:
//  - row_intervals(b, h, q_pos, out) appends to `out` the keys query position
//    q_pos (absolute, in [0, kv_len)) of batch b and query head h may attend, as
//    sorted, disjoint, non-empty half-open intervals within [0, kv_len). This is
//    the element-level ground truth used by the functional path and the block
//    classifier. It is const, deterministic and safe to call from many threads.
//  - batch_invariant()/head_invariant() promise that the answer does not depend
//    on b / h, which lets masks be stored once and shared.
//  - block_mask(g) must agree with row_intervals: a block is full iff every
//    (q, k) in it is allowed, skipped iff none is. The default derives it exactly;
//    override only for speed or for block-level sources (mask files).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "sim/core/registry.h"
#include "sim/mask/block_mask.h"
#include "sim/workload/workload.h"

namespace attnsim {

struct Interval {
  int64_t begin;
  int64_t end;
};

class InputSource;

class ISparsityPattern {
 public:
  virtual ~ISparsityPattern() = default;
  virtual void row_intervals(int64_t batch, int64_t head, int64_t q_pos, std::vector<Interval>& out) const = 0;
  virtual bool batch_invariant() const { return true; }
  virtual bool head_invariant() const { return true; }
  // False when only block-level truth is known (e.g. a FlexAttention BlockMask
  // file): row_intervals() is then the union of the listed blocks.
  virtual bool element_exact() const { return true; }
  virtual BlockMask block_mask(const BlockGeometry& g) const;
  // Short human description with parameters, e.g. "sliding_window(window_tokens=4096, causal)".
  virtual std::string describe() const = 0;
};

// What a pattern may look at when it is created.
struct PatternContext {
  AttentionShape shape;
  uint64_t seed = 1;
  std::string base_dir;                 // for relative file paths in the workload
  const InputSource* inputs = nullptr;  // Q/K data for data-dependent patterns
  int threads = 0;                      // worker threads of data-dependent patterns; 0 = all cores
};

struct PatternEntry {
  std::string description;
  std::vector<ParamInfo> params;
  bool data_dependent = false;
  std::unique_ptr<ISparsityPattern> (*create)(MapReader& params, const PatternContext& ctx) = nullptr;
};
using PatternRegistry = Registry<PatternEntry>;

// spec is the workload's `pattern:` mapping ({name: ..., params}).
std::unique_ptr<ISparsityPattern> make_pattern(const YAML::Node& spec, const PatternContext& ctx,
                                               const std::string& where);

// Exact block classification from row_intervals (the default of block_mask()).
BlockMask classify_blocks(const ISparsityPattern& pattern, const BlockGeometry& g);

// Helpers for implementations: clip [begin, end) to [0, limit) and append if non-empty.
void push_interval(std::vector<Interval>& out, int64_t begin, int64_t end, int64_t limit);
// Sorts and merges overlapping/adjacent intervals in place.
void normalize_intervals(std::vector<Interval>& v);

}  // namespace attnsim
