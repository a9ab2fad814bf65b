// Shipped data files by short name: "llama3-8b" -> <data root>/workloads/models/llama3-8b.yaml.
#pragma once

#include <string>
#include <vector>

namespace attnsim {

// A path to an existing file is returned as is; otherwise <data root>/<folder>/<name>.yaml.
// An unknown name is an Error that lists the shipped names (`what` names the kind, e.g. "model").
std::string resolve_data_file(const std::string& name_or_path, const std::string& folder, const std::string& what);
std::vector<std::string> list_data_files(const std::string& folder);  // stems, sorted

}  // namespace attnsim
