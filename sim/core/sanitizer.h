// AddressSanitizer and stacks switched behind its back. SystemC runs processes on
// coroutine stacks of its own; after sc_start returns, ASan can still believe the
// thread runs on the last coroutine's stack, so the next C++ exception cannot
// unpoison the frames it unwinds and later accesses to that stack are reported as
// false stack-buffer-overflows (google/sanitizers#189). Call this after such code
// (a SystemC simulation) to tell ASan the thread's real stack. No-op without ASan.
#pragma once

namespace attnsim {

void resync_sanitizer_stack();

}  // namespace attnsim
