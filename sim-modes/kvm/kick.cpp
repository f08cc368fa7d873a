// kick.cpp — the vCPU kick signal's handler (see kick.h).
#include "kick.h"

#include <mutex>

namespace ringscope::kvm {

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};  // its only job is to interrupt KVM_RUN
    sigemptyset(&sa.sa_mask);
    sigaction(kKickSignal, &sa, nullptr);
  });
}

}  // namespace ringscope::kvm
