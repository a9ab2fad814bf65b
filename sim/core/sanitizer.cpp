#include "sim/core/sanitizer.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATTNSIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ATTNSIM_ASAN 1
#endif

#ifdef ATTNSIM_ASAN
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace attnsim {

void resync_sanitizer_stack() {
#ifdef ATTNSIM_ASAN
  // The thread's stack never moves; look it up once (the main thread's means reading /proc).
  thread_local void* bottom = nullptr;
  thread_local size_t size = 0;
  if (!bottom) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    const int rc = pthread_attr_getstack(&attr, &bottom, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      bottom = nullptr;
      return;
    }
  }
  // A "switch" from wherever ASan thinks we are to the thread's own stack.
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

}  // namespace attnsim

#ifdef ATTNSIM_ASAN
// Defaults of every sanitized attnsim binary, however it is started (ctest, by hand, or
// the CLI spawned by a test); ASAN_OPTIONS etc. in the environment still override them.
extern "C" {
const char* __asan_default_options() { return "check_initialization_order=1:strict_init_order=1"; }
const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
// SystemC 2.3 cannot tear a simulation context down, so models/gpu/gpu_sim.cpp keeps each
// one it creates (fresh_systemc_context); what a context owns is allocated inside
// libsystemc. Only those are suppressed: our own allocations stay checked.
const char* __lsan_default_suppressions() { return "leak:fresh_systemc_context\nleak:libsystemc\n"; }
// Without this, a process that ran several simulations (compare, sweep) prints the list of
// suppressions used on stderr, and CLI tests that expect a silent stderr fail.
const char* __lsan_default_options() { return "print_suppressions=0"; }
}
#endif
