// Cross-checks: the same scenario under KVM and under emulation must print
// the same console output, end with the same status, make the same device
// accesses in the same order, and (at trace level full) show the same ring
// transitions. Two independent observers of one guest keep each other
// honest: a bug in either backend's bookkeeping shows up as a difference,
// and the test prints the first one.
//
// On a PVM host (docs/hosts.md) a user-mode `int $0x40` reaches the
// kernel as #UD at the int instruction, and the kernel steps over it; the
// comparison maps that #UD back to what the CPU would have delivered
// (vector 0x40, return RIP after the 2-byte instruction) and says so.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "emulation_test_support.h"
#include "ringscope/host.h"

namespace ringscope::test {
namespace {

struct Item {
  std::string text;
  bool operator==(const Item& o) const { return text == o.text; }
};

std::vector<Item> device_accesses(const EmuRun& run) {
  std::vector<Item> out;
  for (const auto& e : run.sink.events())
    if (e.kind == EventKind::Device)
      out.push_back({fmt::format("{} {} {} {:#x}", e.device, e.reg, direction_name(e.direction), e.value)});
  return out;
}

// `int40_via_ud`: map KVM's #UD-for-int-0x40 back (and, on both sides, name
// vector 0x40's handler symbolically). `return_targets`: compare where each iretq/sysretq went. A KVM trace
// taken where ring 3 is not single-stepped (PVM: its `unstepped_runs`
// counter) cannot say where ring 3 was entered, only where it was left.
std::vector<Item> transitions(const EmuRun& run, bool int40_via_ud, bool return_targets) {
  std::vector<Item> out;
  for (const auto& e : run.sink.events()) {
    if (e.kind == EventKind::Trap) {
      uint8_t vector = e.vector;
      uint64_t rip = e.rip;
      if (int40_via_ud && vector == 6 && e.from_cpl == 3 && e.cause != TrapCause::Syscall) {
        vector = 0x40;
        rip += 2;
      }
      bool is_syscall = e.cause == TrapCause::Syscall;
      // With the PVM quirk the #UD handler ran instead of vector 0x40's:
      // name the handler by its vector on both sides.
      std::string to = !return_targets                  ? fmt::format("IDT[{:#x}]", vector)
                       : int40_via_ud && vector == 0x40 ? "IDT[0x40]"
                                                        : fmt::format("{:#x}", e.rip_to);
      out.push_back({fmt::format("trap {} cpl {}->{} rip {:#x} -> {}",
                                 is_syscall ? std::string("syscall") : fmt::format("vector {:#x}", vector), e.from_cpl,
                                 e.to_cpl, rip, to)});
    } else if (e.kind == EventKind::TrapReturn) {
      out.push_back({fmt::format("{} cpl {}->{} rip {:#x} -> {}", cause_name(e.cause), e.from_cpl, e.to_cpl, e.rip,
                                 return_targets ? fmt::format("{:#x}", e.rip_to) : std::string("(not compared)"))});
    }
  }
  return out;
}

// "" when equal; otherwise where they first differ, and both sides there.
std::string first_difference(const std::vector<Item>& kvm, const std::vector<Item>& emu) {
  size_t n = std::min(kvm.size(), emu.size());
  for (size_t i = 0; i < n; i++)
    if (!(kvm[i] == emu[i]))
      return fmt::format("first difference at #{}:\n  kvm:       {}\n  emulation: {}", i, kvm[i].text, emu[i].text);
  if (kvm.size() != emu.size())
    return fmt::format("same first {} entries, then kvm has {} and emulation {} (next: {})", n, kvm.size(), emu.size(),
                       kvm.size() > n ? "kvm: " + kvm[n].text : "emulation: " + emu[n].text);
  return "";
}

bool ring3_unstepped(const EmuRun& run) {
  for (const auto& e : run.sink.events())
    if (e.kind == EventKind::Counter && e.name == "unstepped_runs" && e.value > 0) return true;
  return false;
}

bool int40_via_ud(const EmuRun& run) {
  for (const auto& e : run.sink.events())
    if (e.kind == EventKind::Marker && e.name == "int40-via-ud" && e.value > 0) return true;
  return false;
}

// Skips the calling test unless KVM can run `name` on this host.
#define REQUIRE_KVM_FOR(name)                                                            \
  do {                                                                                   \
    HostInfo host_ = probe_host();                                                       \
    if (!host_.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << host_.kvm_open_error; \
    auto s_ = find_builtin_scenario(name);                                               \
    ASSERT_TRUE(s_.ok());                                                                \
    for (const auto& f : s_->requires_features) {                                        \
      std::string why_ = kvm_refusal(host_, f);                                          \
      if (!why_.empty()) GTEST_SKIP() << "KVM cannot run it here: " << why_;             \
    }                                                                                    \
  } while (0)

struct Case {
  std::string scenario;
  std::map<std::string, std::string> params;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.scenario; }

class CrossCheck : public ::testing::TestWithParam<Case> {};

TEST_P(CrossCheck, SameConsoleStatusAndDeviceAccessesAsKvm) {
  REQUIRE_KVM_FOR(GetParam().scenario);
  RunSpec kvm_spec;
  kvm_spec.kvm = true;
  auto kvm = run_guest(GetParam().scenario, GetParam().params, kvm_spec);
  auto emu = run_guest(GetParam().scenario, GetParam().params, RunSpec{});
  ASSERT_TRUE(kvm && emu);
  EXPECT_EQ(kvm->result.end, emu->result.end) << kvm->result.message << " / " << emu->result.message;
  EXPECT_EQ(kvm->result.guest_status, emu->result.guest_status);
  EXPECT_EQ(kvm->console, emu->console);
  std::string diff = first_difference(device_accesses(*kvm), device_accesses(*emu));
  EXPECT_TRUE(diff.empty()) << diff;
}

TEST_P(CrossCheck, SameRingTransitionsAsKvmAtLevelFull) {
  REQUIRE_KVM_FOR(GetParam().scenario);
  RunSpec kvm_spec, emu_spec;
  kvm_spec.kvm = true;
  kvm_spec.level = emu_spec.level = TraceLevel::Full;
  auto kvm = run_guest(GetParam().scenario, GetParam().params, kvm_spec);
  auto emu = run_guest(GetParam().scenario, GetParam().params, emu_spec);
  ASSERT_TRUE(kvm && emu);
  ASSERT_EQ(kvm->result.end, RunEndReason::GuestExit) << kvm->result.message;
  ASSERT_EQ(emu->result.end, RunEndReason::GuestExit) << emu->result.message;
  bool pvm_quirk = int40_via_ud(*kvm);
  // The KVM step tracer reads iretq's return frame before it runs and names
  // each handler by its gate, so return targets and handlers compare exactly
  // even where ring 3 is not single-stepped (PVM).
  bool targets = true;
  std::string diff = first_difference(transitions(*kvm, pvm_quirk, targets), transitions(*emu, pvm_quirk, targets));
  EXPECT_TRUE(diff.empty()) << diff << (pvm_quirk ? "\n(int $0x40 arrived as #UD under KVM and was mapped back)" : "")
                            << (ring3_unstepped(*kvm) ? "\n(KVM did not single-step ring 3 on this host)" : "");
}

INSTANTIATE_TEST_SUITE_P(Scenarios, CrossCheck,
                         ::testing::Values(Case{"hello", {}}, Case{"io-burst", {{"bytes", "512"}}},
                                           Case{"syscalls", {{"n", "4"}}}, Case{"privileged", {}},
                                           Case{"pagefault", {{"pages", "3"}}}, Case{"syscall-insn", {}}),
                         [](const auto& info) {
                           std::string n = info.param.scenario;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace ringscope::test
