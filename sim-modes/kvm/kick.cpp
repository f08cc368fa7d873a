// kick.cpp — the vCPU kick signal's handler (see kick.h).
#include "kick.h"

#include <linux/kvm.h>
#include <pthread.h>

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

void accept_kicks() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, kKickSignal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void kick_vcpu(struct kvm_run* run, std::thread::native_handle_type thread) {
  if (run) run->immediate_exit = 1;
  pthread_kill(thread, kKickSignal);
}

}  // namespace ringscope::kvm
