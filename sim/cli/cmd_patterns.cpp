// `attnsim patterns`: list the registered sparsity patterns and their parameters.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "models/patterns/i_sparsity_pattern.h"
#include "sim/cli/command.h"

namespace attnsim {
namespace cmd_patterns {

void setup(CLI::App& app) {
  auto* cmd = app.add_subcommand("patterns", "list sparsity patterns and their parameters");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([json] {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, e] : PatternRegistry::instance().entries()) {
      if (*json) {
        nlohmann::json params = nlohmann::json::array();
        for (const auto& p : e.params) {
          params.push_back({{"name", p.name}, {"type", p.type}, {"default", p.default_value},
                            {"description", p.description}});
        }
        out.push_back({{"name", name}, {"description", e.description}, {"data_dependent", e.data_dependent},
                       {"params", params}});
        continue;
      }
      std::printf("%s%s\n    %s\n", name.c_str(), e.data_dependent ? "  (data-dependent)" : "",
                  e.description.c_str());
      for (const auto& p : e.params) {
        std::printf("    %-20s %-8s %-10s %s\n", p.name.c_str(), p.type.c_str(),
                    p.default_value.empty() ? "(required)" : ("=" + p.default_value).c_str(), p.description.c_str());
      }
    }
    if (*json) std::printf("%s\n", out.dump(2).c_str());
  });
}

const Registrar<CommandEntry> kRegister("patterns", CommandEntry{setup});

}  // namespace cmd_patterns
}  // namespace attnsim
