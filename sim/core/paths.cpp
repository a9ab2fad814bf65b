#include "sim/core/paths.h"

#include <cstdlib>

namespace attnsim {

std::string data_root() {
  if (const char* env = std::getenv("ATTNSIM_DATA_ROOT")) return env;
  return ATTNSIM_SOURCE_DIR;
}

}  // namespace attnsim
