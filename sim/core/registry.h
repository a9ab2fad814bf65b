// Name -> entry registry used by every plug-in kind (patterns, kernels, hardware
// architectures). Implementations register themselves from their own .cpp with a
// static Registrar, so core code never changes to add one. The map is a
// function-local static, so static-initialisation order cannot bite.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "sim/config/map_reader.h"
#include "sim/core/error.h"

namespace attnsim {

template <class Entry>
class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  void add(const std::string& name, Entry entry) {
    if (!entries_.emplace(name, std::move(entry)).second) {
      // A duplicate is a programming error found at start-up, before any user input.
      std::fprintf(stderr, "attnsim: internal error: '%s' registered twice\n", name.c_str());
      std::abort();
    }
  }

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  // `what` is the plural noun used in the message, e.g. "patterns".
  const Entry& get(const std::string& name, const std::string& what) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      const std::string hint = nearest_name(name, names());
      throw Error("unknown " + what + " '" + name + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                  "; registered " + what + ": " + join_names(names()));
    }
    return it->second;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }

  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

template <class Entry>
struct Registrar {
  Registrar(const std::string& name, Entry entry) { Registry<Entry>::instance().add(name, std::move(entry)); }
};

// Self-description of a plug-in parameter, printed by `attnsim patterns` and the docs.
struct ParamInfo {
  std::string name;
  std::string type;
  std::string default_value;  // "" = required
  std::string description;
};

}  // namespace attnsim
