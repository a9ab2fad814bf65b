// Where Q, K and V rows come from: seeded random data generated on demand (so a
// 128k-token check never materialises whole tensors), or arrays from .npy files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/hash.h"  // mix64, which the patterns use too
#include "sim/workload/workload.h"

namespace attnsim {

enum class Tensor { q, k, v };

class InputSource {
 public:
  virtual ~InputSource() = default;
  // Writes head_dim floats for row `pos` of tensor t, batch b, head h (a query
  // head for Q, a KV head for K/V). For Q, pos is the query index in [0, q_len),
  // not the absolute position; for K/V it is the key index.
  virtual void row(Tensor t, int64_t b, int64_t h, int64_t pos, float* out) const = 0;
  virtual int64_t head_dim() const = 0;
};

// Standard-normal entries from a counter-based generator: the value of every
// element depends only on (seed, tensor, b, h, pos, column), so any row can be
// produced independently and results never depend on thread count.
class RandomInputs final : public InputSource {
 public:
  RandomInputs(const AttentionShape& shape, uint64_t seed) : shape_(shape), seed_(seed) {}
  void row(Tensor t, int64_t b, int64_t h, int64_t pos, float* out) const override;
  int64_t head_dim() const override { return shape_.head_dim; }

 private:
  AttentionShape shape_;
  uint64_t seed_;
};

// Q, K, V from .npy files shaped [B, H, S, D] (or [H, S, D], or [S, D] for B=H=1),
// float16/32/64. The shape is checked against the workload.
class ArrayInputs final : public InputSource {
 public:
  ArrayInputs(const AttentionShape& shape, const std::string& q_path, const std::string& k_path,
              const std::string& v_path);
  void row(Tensor t, int64_t b, int64_t h, int64_t pos, float* out) const override;
  int64_t head_dim() const override { return shape_.head_dim; }

 private:
  AttentionShape shape_;
  std::vector<float> q_, k_, v_;
};

// Reads a [B, H, S, D]-like array from .npy into floats, checking its shape.
std::vector<float> load_bhsd(const std::string& path, int64_t b, int64_t h, int64_t s, int64_t d,
                             const std::string& what);

}  // namespace attnsim
