// The three fuzz targets as plain functions, shared by the libFuzzer binaries
// (fuzz_main.cpp) and the test suite, which replays the committed corpus and every
// past finding (fuzz/regressions/) through them. A target may fail only with an
// attnsim::Error whose message is one non-empty line; anything else is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace attnsim::fuzz {

using Target = void (*)(const uint8_t* data, size_t size);

// Hardware configs and kernel configs (YAML through MapReader, units, arch sections).
void config_input(const uint8_t* data, size_t size);
// Workloads, then (for small shapes) the pattern they name, its block mask and trace.
void workload_input(const uint8_t* data, size_t size);
// .npy / .npz images, then the `file` pattern reading them as a mask.
void mask_input(const uint8_t* data, size_t size);

Target target_named(const std::string& name);  // "config", "workload" or "mask"

// Runs one input; returns "" when it passed, else what went wrong.
std::string check_one(Target target, const uint8_t* data, size_t size);

}  // namespace attnsim::fuzz
