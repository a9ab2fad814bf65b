// A fresh SystemC simulation context for each timed run (GPU and TPU models).
#pragma once

namespace attnsim {

// SystemC allows one elaboration per context; a new context per run lets one process simulate
// many configurations (tests, sweeps, compare). Old contexts are kept alive on purpose:
// SystemC 2.3 does not tear them down safely (their leak is suppressed, sim/core/sanitizer.cpp).
void fresh_systemc_context();

}  // namespace attnsim
