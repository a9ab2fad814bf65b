// Step times for a serving run, cached per shape so an hour of traffic costs seconds:
// the step model is evaluated on a grid (prompt/context lengths every quarter octave,
// batches at powers of two) and interpolated linearly in between; `exact` evaluates
// every shape itself (still cached), for tests and short runs.
#pragma once

#include <map>
#include <utility>

#include "models/llm/step_model.h"

namespace attnsim {

class StepTable {
 public:
  StepTable(StepModel& model, bool exact) : model_(model), exact_(exact) {}

  double prefill_s(int64_t prompt_tokens);                 // one sequence
  double decode_s(int64_t batch, int64_t context_tokens);  // context: mean keys per sequence
  // The attention part of the same step times.
  double prefill_attention_s(int64_t prompt_tokens);
  double decode_attention_s(int64_t batch, int64_t context_tokens);
  size_t evaluations() const { return prefill_.size() + decode_.size(); }

 private:
  std::pair<double, double> prefill_at(int64_t s);             // (time, attention time)
  std::pair<double, double> decode_at(int64_t b, int64_t ctx);
  std::pair<double, double> prefill_interp(int64_t s);
  std::pair<double, double> decode_interp(int64_t b, int64_t ctx);

  StepModel& model_;
  bool exact_;
  std::map<int64_t, std::pair<double, double>> prefill_;
  std::map<std::pair<int64_t, int64_t>, std::pair<double, double>> decode_;
};

// The grid points below and above n (equal when n lies on the grid): lengths every quarter
// octave rounded up to `quantum`, capped at `cap`; n itself at or below one quantum.
std::pair<int64_t, int64_t> length_grid(int64_t n, int64_t quantum, int64_t cap);

}  // namespace attnsim
