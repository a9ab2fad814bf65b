// Measured cases read from the documented JSON-lines format
// (docs/measurement-format.md), ready to be re-simulated.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/workload/workload.h"

namespace attnsim {

struct MeasuredCase {
  std::string case_id;
  std::string hardware;        // as recorded ("NVIDIA H100 80GB HBM3")
  std::string hardware_model;  // optional short name ("H100 SXM")
  std::string kernel;          // measurement's kernel class ("fa2", "flex", "decode_fa2", ...)
  Workload workload;           // shape and pattern (mask files resolved to paths)
  double time_us = 0;
  double sm_clock_mhz = 0;     // 0 = not recorded
  double dram_bytes = -1;      // from Nsight Compute, when measured
  double dram_read_bytes = -1, dram_write_bytes = -1;  // its split, when recorded
  double l2_bytes = -1;
  std::string source;          // file:line
};

// Reads every attention record ("phase" prefill/decode, "status" ok) of one
// .jsonl file; records of other phases are skipped. Nsight Compute records
// (field "measurement": "ncu") attach their bytes to the timed case of the same
// case_id when it is in `cases`, or are returned separately.
void read_measurements(const std::string& path, std::vector<MeasuredCase>& cases);

// Calibration or validation membership, by a rule fixed before any fitting:
// FNV-1a hash of case_id, modulo 4 == 0 -> calibration (about a quarter).
bool is_calibration_case(const std::string& case_id);

}  // namespace attnsim
