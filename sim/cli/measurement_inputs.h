// The measurement files named on a validate command line: files as given, folders as their
// *.jsonl files in name order, `default_dir` (under the data root) when none is given.
#pragma once

#include <string>
#include <vector>

namespace attnsim {

std::vector<std::string> measurement_files(const std::vector<std::string>& inputs, const std::string& default_dir);

}  // namespace attnsim
