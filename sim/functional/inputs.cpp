#include "sim/functional/inputs.h"

#include <cmath>

#include "sim/core/error.h"
#include "sim/io/npy.h"

namespace attnsim {

void RandomInputs::row(Tensor t, int64_t b, int64_t h, int64_t pos, float* out) const {
  uint64_t key = mix64(seed_ ^ (static_cast<uint64_t>(t) + 1) * 0x100000001b3ULL);
  key = mix64(key ^ static_cast<uint64_t>(b));
  key = mix64(key ^ static_cast<uint64_t>(h));
  key = mix64(key ^ static_cast<uint64_t>(pos));
  const int64_t d = shape_.head_dim;
  for (int64_t j = 0; j < d; j += 2) {
    const uint64_t r = mix64(key + static_cast<uint64_t>(j));
    // Box-Muller on two 32-bit uniforms in (0, 1].
    const double u1 = (static_cast<double>(r >> 32) + 1.0) / 4294967296.0;
    const double u2 = (static_cast<double>(r & 0xffffffffULL) + 1.0) / 4294967296.0;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    out[j] = static_cast<float>(radius * std::cos(6.283185307179586 * u2));
    if (j + 1 < d) out[j + 1] = static_cast<float>(radius * std::sin(6.283185307179586 * u2));
  }
}

std::vector<float> load_bhsd(const std::string& path, int64_t b, int64_t h, int64_t s, int64_t d,
                             const std::string& what) {
  io::NpyArray a = io::read_npy(path);
  if (a.kind != 'f') throw Error(path + ": " + what + " must be a floating-point array");
  std::vector<int64_t> want = {b, h, s, d};
  std::vector<int64_t> got = a.shape;
  while (got.size() < 4) got.insert(got.begin(), 1);
  if (got != want) {
    std::string g, w;
    for (auto x : a.shape) g += (g.empty() ? "" : ", ") + std::to_string(x);
    for (auto x : want) w += (w.empty() ? "" : ", ") + std::to_string(x);
    throw Error(path + ": " + what + " has shape (" + g + ") but the workload needs (" + w +
                ") = [batch, heads, seq, head_dim]");
  }
  return a.to_float();
}

ArrayInputs::ArrayInputs(const AttentionShape& shape, const std::string& q_path, const std::string& k_path,
                         const std::string& v_path)
    : shape_(shape) {
  q_ = load_bhsd(q_path, shape.batch, shape.q_heads, shape.q_len, shape.head_dim, "q");
  k_ = load_bhsd(k_path, shape.batch, shape.kv_heads, shape.kv_len, shape.head_dim, "k");
  v_ = load_bhsd(v_path, shape.batch, shape.kv_heads, shape.kv_len, shape.head_dim, "v");
}

void ArrayInputs::row(Tensor t, int64_t b, int64_t h, int64_t pos, float* out) const {
  const int64_t d = shape_.head_dim;
  const std::vector<float>& src = t == Tensor::q ? q_ : t == Tensor::k ? k_ : v_;
  const int64_t heads = t == Tensor::q ? shape_.q_heads : shape_.kv_heads;
  const int64_t len = t == Tensor::q ? shape_.q_len : shape_.kv_len;
  const size_t base = static_cast<size_t>(((b * heads + h) * len + pos) * d);
  for (int64_t j = 0; j < d; ++j) out[j] = src[base + static_cast<size_t>(j)];
}

}  // namespace attnsim
