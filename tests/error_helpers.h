// The one-line message of the attnsim::Error a call throws, or "" when it throws none.
#pragma once

#include <functional>
#include <string>

#include "sim/core/error.h"

namespace attnsim_test {

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const attnsim::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace attnsim_test
