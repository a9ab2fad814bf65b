#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "sim/core/sanitizer.h"

namespace {

// Tests run SystemC in-process and then assert, often by throwing: before every
// assertion, ASan is told which stack the thread is really on (sim/core/sanitizer.h).
struct SanitizerStackListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void assertionStarting(Catch::AssertionInfo const&) override { attnsim::resync_sanitizer_stack(); }
};

}  // namespace

CATCH_REGISTER_LISTENER(SanitizerStackListener)
