#include "models/common/systemc_context.h"

#include <cstdlib>
#include <systemc>

namespace attnsim {

void fresh_systemc_context() {
  setenv("SYSC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
  sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
}

}  // namespace attnsim
