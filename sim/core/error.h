// One exception type for every user-facing failure: the CLI prints what() as a
// single line and exits non-zero, so messages must say what is wrong and how to fix it.
#pragma once

#include <stdexcept>
#include <string>

namespace attnsim {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}

 private:
  // Messages quote user input (keys, values, file names), which may hold line breaks
  // or control bytes; escaping them keeps every message one printable line.
  static std::string one_line(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
      if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += '?';
      else out += c;
    }
    return out;
  }
};

// A user-supplied value for a message: at most max_chars, marked when cut.
inline std::string clipped(const std::string& value, size_t max_chars = 80) {
  return value.size() <= max_chars ? value : value.substr(0, max_chars) + "...";
}

}  // namespace attnsim
