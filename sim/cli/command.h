// CLI subcommands register themselves here; main() only builds the app.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "sim/core/registry.h"

namespace attnsim {

struct CommandEntry {
  // Adds the subcommand and its callback to the app. The callback throws
  // attnsim::Error for user mistakes.
  std::function<void(CLI::App& app)> setup;
};
using CommandRegistry = Registry<CommandEntry>;

// Writes text to a file or stdout ("-"); a failed write is an Error.
void write_output(const std::string& path, const std::string& text);
// Refuses, before any work, an output file that write_output could not create.
void require_writable_output(const std::string& path);

}  // namespace attnsim
