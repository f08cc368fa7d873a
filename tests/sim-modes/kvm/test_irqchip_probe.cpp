// The live in-kernel irqchip probe: KVM's own 8259A takes IRQ 5 from an
// irqfd and delivers it into a real-mode guest.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iterator>

#include "kvm/irqchip_probe.h"
#include "kvm_test_support.h"

namespace ringscope::test {
namespace {

size_t open_fds() {
  auto it = std::filesystem::directory_iterator("/proc/self/fd");
  return static_cast<size_t>(std::distance(it, std::filesystem::directory_iterator{}));
}

TEST(KvmIrqchipProbe, GuestTakesTheIrqfdInterrupt) {
  RINGSCOPE_REQUIRE_KVM();
  auto start = std::chrono::steady_clock::now();
  kvm::IrqchipProbe probe = kvm::probe_in_kernel_irqchip();
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("probe: %s (%.2f ms in all)\n", probe.detail.c_str(), ms);
  EXPECT_FALSE(probe.detail.empty());
  EXPECT_TRUE(probe.works) << probe.detail;
}

TEST(KvmIrqchipProbe, RepeatedProbesLeakNoFds) {
  RINGSCOPE_REQUIRE_KVM();
  size_t before = open_fds();
  for (int i = 0; i < 20; i++) {
    kvm::IrqchipProbe probe = kvm::probe_in_kernel_irqchip();
    EXPECT_TRUE(probe.works) << "run " << i << ": " << probe.detail;
  }
  EXPECT_EQ(open_fds(), before);
}

}  // namespace
}  // namespace ringscope::test
