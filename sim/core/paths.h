#pragma once

#include <string>

namespace attnsim {

// Root of the shipped data (hw-configs/, workloads/). ATTNSIM_DATA_ROOT overrides
// the source directory compiled in, so an installed binary can find its configs.
std::string data_root();

}  // namespace attnsim
