// Whole-model steps against measurements (docs/capacity-planning.md, "Validation against an
// H100"): every record of validation/h100/model_step.py (`phase` model_prefill/model_decode)
// is re-simulated with its model shape, layer count, batch and context, and compared as a
// step and per operator group. Targets: 8% per prefill step, 12% per decode step, on the
// records whose `set` is "validation" (the calibration records fitted the constants).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace attnsim {

struct StepValidationOptions {
  std::vector<std::string> files;            // model_step .jsonl files
  std::string hw = "h100-sxm";               // hardware config name or path
  std::string ops = "eager";                 // Deployment::ops
  std::string prefill_kernel = "fa2";        // the FLASH_ATTENTION backend's kernels
  std::string decode_kernel = "flash_decoding";
  double prefill_target = 0.08, decode_target = 0.12;
};

// Kernel time per operator group (launch gaps excluded on both sides: the measured
// `ops_us` are profiler kernel durations). Groups: attention, qkv, o_proj, mlp, lm_head,
// norm, rope, other (embedding, RoPE tables, residual adds, KV-cache write).
struct StepGroup {
  std::string name;
  double model_us = 0, measured_us = 0;
};

struct StepValidationRow {
  std::string source;    // file:line
  std::string case_id, set, phase;  // phase: prefill | decode
  int64_t batch = 0, tokens = 0;    // tokens: prompt (prefill) or keys incl. the new token (decode)
  double measured_us = 0, model_us = 0;
  double error = 0;      // model / measured - 1
  double target = 0;
  std::vector<StepGroup> groups;
  bool within() const;
};

struct StepSetSummary {
  int records = 0, outside = 0;
  double mape = 0, max_abs_error = 0;
  std::string worst_case;
};

struct StepValidationReport {
  std::vector<StepValidationRow> rows;
  std::map<std::string, StepSetSummary> sets;  // calibration, validation
  bool pass = true;                           // every validation record within its target
};

// Throws attnsim::Error naming file:line for unreadable files, bad JSON or missing fields.
StepValidationReport validate_steps(const StepValidationOptions& o);
std::string render_step_validation_text(const StepValidationReport& r);

}  // namespace attnsim
