// One exception type for every user-facing failure: the CLI prints what() as a
// single line and exits non-zero, so messages must say what is wrong and how to fix it.
#pragma once

#include <stdexcept>
#include <string>

namespace attnsim {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace attnsim
