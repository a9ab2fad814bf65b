// libFuzzer entry point, compiled once per target with ATTNSIM_FUZZ_TARGET naming it.
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const attnsim::fuzz::Target target = attnsim::fuzz::target_named(ATTNSIM_FUZZ_TARGET);
  const std::string problem = attnsim::fuzz::check_one(target, data, size);
  if (!problem.empty()) {
    std::fprintf(stderr, "attnsim fuzz finding: %s\n", problem.c_str());
    std::abort();  // libFuzzer saves the input as a crash artifact
  }
  return 0;
}
