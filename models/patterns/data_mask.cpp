#include "models/patterns/data_mask.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

#include "sim/core/error.h"
#include "sim/functional/inputs.h"

namespace attnsim {
namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", bytes / static_cast<double>(uint64_t{1} << 30));
  return buf;
}

// Bits [lo, hi) of a 64-bit word, 0 <= lo < hi <= 64.
uint64_t bit_range(int64_t lo, int64_t hi) {
  const uint64_t upper = hi == 64 ? ~uint64_t{0} : (uint64_t{1} << hi) - 1;
  return upper & (~uint64_t{0} << lo);
}

}  // namespace

BitMask::BitMask(int64_t batch, int64_t heads, int64_t q_len, int64_t kv_len, const std::string& who)
    : batch_(batch), heads_(heads), q_len_(q_len), kv_len_(kv_len), words_((kv_len + 63) / 64) {
  const double bytes = static_cast<double>(batch) * static_cast<double>(heads) * static_cast<double>(q_len) *
                       static_cast<double>(words_) * 8.0;
  if (bytes > static_cast<double>(kMaxBitMaskBytes)) {
    throw Error(who + " needs " + gib(bytes) + " GiB of mask (batch " + std::to_string(batch) + " x heads " +
                std::to_string(heads) + " x q_len " + std::to_string(q_len) + " x kv_len " + std::to_string(kv_len) +
                " bits), over the 2 GiB limit; reduce q_len/kv_len, batch or heads");
  }
  bits_.assign(static_cast<size_t>(batch * heads * q_len * words_), 0);
}

void BitMask::set_range(uint64_t* row, int64_t begin, int64_t end) {
  if (begin >= end) return;
  const int64_t w0 = begin >> 6, w1 = (end - 1) >> 6;
  if (w0 == w1) {
    row[w0] |= bit_range(begin & 63, ((end - 1) & 63) + 1);
    return;
  }
  row[w0] |= bit_range(begin & 63, 64);
  for (int64_t w = w0 + 1; w < w1; ++w) row[w] = ~uint64_t{0};
  row[w1] |= bit_range(0, ((end - 1) & 63) + 1);
}

void BitMask::row_intervals(int64_t b, int64_t h, int64_t i, std::vector<Interval>& out) const {
  const uint64_t* r = row(b, h, i);
  int64_t k = 0;
  while (k < kv_len_) {
    int64_t w = k >> 6;
    uint64_t word = r[w] & (~uint64_t{0} << (k & 63));  // next set bit at or after k
    while (word == 0) {
      if (++w >= words_) return;
      word = r[w];
    }
    const int64_t begin = w * 64 + std::countr_zero(word);
    word = ~r[w] & (~uint64_t{0} << (begin & 63));  // next clear bit after begin
    while (word == 0) {
      if (++w >= words_) {
        out.push_back({begin, kv_len_});
        return;
      }
      word = ~r[w];
    }
    const int64_t end = std::min<int64_t>(w * 64 + std::countr_zero(word), kv_len_);
    out.push_back({begin, end});
    k = end;
  }
}

bool BitMask::fits(const BlockGeometry& g) const {
  return g.q_len == q_len_ && g.kv_len == kv_len_ && (batch_ == 1 || g.batch == batch_) &&
         (heads_ == 1 || g.heads == heads_);
}

BlockMask BitMask::classify(const BlockGeometry& g) const {
  if (!fits(g)) throw Error("internal error: BitMask::classify called with a geometry of another shape");
  BlockMask mask(g, batch_, heads_);
  const int64_t kvb = g.kv_blocks(), bs = g.kv_block;
  std::vector<int64_t> count(static_cast<size_t>(kvb), 0);
  double pairs = 0;
  for (int64_t b = 0; b < batch_; ++b) {
    for (int64_t h = 0; h < heads_; ++h) {
      for (int64_t qb = 0; qb < g.q_blocks(); ++qb) {
        const int64_t rows = g.q_rows_in(qb);
        for (int64_t r = 0; r < rows; ++r) {
          const uint64_t* bits = row(b, h, qb * g.q_block + r);
          for (int64_t w = 0; w < words_; ++w) {
            const uint64_t word = bits[w];
            if (word == 0) continue;
            const int64_t k0 = w * 64;
            const int64_t kb0 = k0 / bs, kb1 = std::min(k0 + 63, kv_len_ - 1) / bs;
            if (kb0 == kb1) {
              count[static_cast<size_t>(kb0)] += std::popcount(word);
              continue;
            }
            for (int64_t kb = kb0; kb <= kb1; ++kb) {
              const int64_t lo = std::max(k0, kb * bs) - k0, hi = std::min(k0 + 64, (kb + 1) * bs) - k0;
              count[static_cast<size_t>(kb)] += std::popcount(word & bit_range(lo, hi));
            }
          }
        }
        for (int64_t kb = 0; kb < kvb; ++kb) {
          const int64_t c = count[static_cast<size_t>(kb)];
          if (c == 0) continue;
          mask.append(static_cast<uint32_t>(kb), c < rows * g.kv_cols_in(kb));
          pairs += static_cast<double>(c);
          count[static_cast<size_t>(kb)] = 0;
        }
        mask.end_row();
      }
    }
  }
  mask.set_allowed_pairs(pairs);
  return mask;
}

void BitMaskPattern::row_intervals(int64_t batch, int64_t head, int64_t q_pos, std::vector<Interval>& out) const {
  const int64_t i = q_pos - q_offset_;
  if (i < 0 || i >= mask_.q_len()) return;
  mask_.row_intervals(batch, head, i, out);
}

BlockMask BitMaskPattern::block_mask(const BlockGeometry& g) const {
  if (g.q_offset == q_offset_ && mask_.fits(g)) return mask_.classify(g);
  return classify_blocks(*this, g);
}

void score_tiles(const AttentionShape& s, const InputSource& in, int max_threads, ScoreTileCallback cb, void* ctx) {
  const int64_t d = s.head_dim, kv_len = s.kv_len;
  if (in.head_dim() != d) {
    throw Error("inputs have head_dim " + std::to_string(in.head_dim()) + " but the workload says " +
                std::to_string(d));
  }
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  // Rows per tile: keep a score tile near 8 MB whatever kv_len is.
  const int64_t tile = std::clamp<int64_t>((int64_t{1} << 21) / std::max<int64_t>(kv_len, 1), 1, 256);
  const int64_t pairs = s.batch * s.q_heads, group = s.group_size();
  auto work = [&](int64_t p) {
    const int64_t b = p / s.q_heads, h = p % s.q_heads;
    Mat K(kv_len, d), Q(tile, d), S(tile, kv_len);
    for (int64_t k = 0; k < kv_len; ++k) in.row(Tensor::k, b, h / group, k, K.row(k).data());
    for (int64_t q0 = 0; q0 < s.q_len; q0 += tile) {
      const int64_t rows = std::min(tile, s.q_len - q0);
      for (int64_t r = 0; r < rows; ++r) in.row(Tensor::q, b, h, q0 + r, Q.row(r).data());
      S.topRows(rows).noalias() = Q.topRows(rows) * K.transpose();
      cb(ctx, b, h, q0, rows, S.data());
    }
  };
  // Thread count only changes which thread handles a (b, h), never its result.
  const double per_thread = static_cast<double>(kv_len) * static_cast<double>(d + tile) * 4.0;
  const int64_t by_memory = std::max<int64_t>(1, static_cast<int64_t>(double(uint64_t{1} << 30) / per_thread));
  const int64_t cores = max_threads > 0 ? max_threads : static_cast<int64_t>(std::thread::hardware_concurrency());
  const int64_t threads = std::clamp<int64_t>(std::min<int64_t>({cores, pairs, by_memory}), 1, 64);
  std::atomic<int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto loop = [&] {
    for (int64_t p; (p = next.fetch_add(1)) < pairs;) {
      try {
        work(p);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(pairs);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(loop);
  loop();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace attnsim
