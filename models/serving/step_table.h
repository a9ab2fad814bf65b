// Step times for a serving run, cached per shape and pattern class so an hour of traffic
// costs seconds: the step model of each class is evaluated on a grid (lengths every
// quarter octave, batches at powers of two) and interpolated linearly in between; `exact`
// evaluates every shape itself (still cached), for tests and short runs.
//
// A step that mixes work (several prompts, prefill chunks beside decode tokens, decode
// sequences of several pattern classes) is costed as its parts (docs/capacity-planning.md,
// "Serving"): everything but attention once for all its rows (StepModel::without_attention),
// plus each class's decode attention at that class's batch and mean context, plus each
// prefill piece's share of a kernel that runs the class's n pieces as a batch of n
// (attention(n, q, kv) / n: exactly the batch-n prefill when the pieces are equal).
#pragma once

#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "models/llm/step_model.h"

namespace attnsim {

struct DecodeGroup {
  int pattern = 0;            // class
  int64_t batch = 0;          // sequences
  int64_t context_sum = 0;    // their keys summed (the group decodes at the ceiling of the mean)
};

struct PrefillPiece {
  int pattern = 0;
  int64_t q_tokens = 0;       // prompt tokens prefilled in this step
  int64_t kv_tokens = 0;      // keys they attend over: the prompt's tokens so far, these included
  bool samples = false;       // the prompt ends here: its last position goes through the LM head
};

struct StepWork {
  std::vector<DecodeGroup> decode;
  std::vector<PrefillPiece> prefill;
};

struct StepTime {
  double time_s = 0;
  double attention_s = 0;  // of time_s
  double prefill_s = 0;    // of time_s: prefill attention plus the prefill rows' share of the rest
};

class StepTable {
 public:
  // One step model per pattern class, in class order (class 0 first).
  StepTable(std::vector<StepModel*> models, bool exact);
  StepTable(StepModel& model, bool exact) : StepTable(std::vector<StepModel*>{&model}, exact) {}

  StepTime step(const StepWork& w);

  // Class 0 (single-pattern callers).
  double prefill_s(int64_t prompt_tokens) { return prefill_interp(0, prompt_tokens).first; }
  double decode_s(int64_t batch, int64_t context_tokens) { return decode_interp(0, batch, context_tokens).first; }
  double prefill_attention_s(int64_t prompt_tokens) { return prefill_interp(0, prompt_tokens).second; }
  double decode_attention_s(int64_t batch, int64_t context_tokens) { return decode_interp(0, batch, context_tokens).second; }
  size_t evaluations() const { return prefill_.size() + decode_.size() + pieces_.size() + dense_.size(); }
  size_t classes() const { return models_.size(); }

 private:
  using Pair = std::pair<double, double>;  // (time, attention time)
  Pair prefill_at(int p, int64_t s);
  Pair decode_at(int p, int64_t b, int64_t ctx);
  double piece_at(int p, int64_t n, int64_t q, int64_t offset);  // attention of n sequences
  double dense_at(int64_t rows, int64_t sampled);
  Pair prefill_interp(int p, int64_t s);
  Pair decode_interp(int p, int64_t b, int64_t ctx);
  double piece_interp(int p, int64_t n, int64_t q, int64_t kv);
  double dense_interp(int64_t rows, int64_t sampled);
  StepModel& model(int p);

  std::vector<StepModel*> models_;
  bool exact_;
  std::map<std::pair<int, int64_t>, Pair> prefill_;
  std::map<std::tuple<int, int64_t, int64_t>, Pair> decode_;
  std::map<std::tuple<int, int64_t, int64_t, int64_t>, double> pieces_;
  std::map<std::pair<int64_t, int64_t>, double> dense_;
};

// The grid points below and above n (equal when n lies on the grid): lengths every quarter
// octave rounded up to `quantum`, capped at `cap`; n itself at or below one quantum.
std::pair<int64_t, int64_t> length_grid(int64_t n, int64_t quantum, int64_t cap);
// As length_grid, but powers of two at or below one quantum (0 stays 0).
std::pair<int64_t, int64_t> fine_grid(int64_t n, int64_t quantum, int64_t cap);

}  // namespace attnsim
