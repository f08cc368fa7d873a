// The VT-x model against the real thing: for every scenario KVM can run on
// this host, the exits the model predicts would reach user space (I/O, HLT,
// MMIO: handled_by vmm, under the kvm-default profile) are the exits the KVM
// backend really recorded — the same count for each exit reason, and the
// same sequence of ports, directions and values. The first difference is
// printed. (Exits KVM handles in the kernel are not compared: KVM only
// counts those, per stat, so there is nothing to line up one by one.)
// `hypercall` is left out: under full-virt it polls the CMOS clock until
// its update-in-progress bit clears, so its exits depend on the wall clock
// and differ between two KVM runs as much as between KVM and the model.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "emulation_test_support.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/host.h"

namespace ringscope::test {
namespace {

struct Exit {
  std::string text;
};

// User-space exits, as comparable text. A KVM_EXIT_INTR (the watchdog's
// signal, VT-x reason 1) is the VMM's own business, not the guest's: left out.
std::vector<Exit> vmm_exits(const EmuRun& run, Source source, std::map<uint16_t, uint64_t>& by_reason) {
  std::vector<Exit> out;
  for (const auto& e : run.sink.events()) {
    if (e.kind != EventKind::VmExit || e.source != source || e.handled_by != HandledBy::Vmm) continue;
    if (e.reason == exit_reason::kExternalInterrupt) continue;
    by_reason[e.reason]++;
    if (e.reason == exit_reason::kIoInstruction)
      out.push_back(
          {fmt::format("io {} {:#x} size {} value {:#x}", direction_name(e.direction), e.port, e.size, e.value)});
    else if (e.reason == exit_reason::kEptViolation)
      out.push_back(
          {fmt::format("mmio {} {:#x} size {} value {:#x}", direction_name(e.direction), e.gpa, e.size, e.value)});
    else
      out.push_back({exit_reason_name(e.reason)});
  }
  return out;
}

std::string first_difference(const std::vector<Exit>& kvm, const std::vector<Exit>& model) {
  size_t n = std::min(kvm.size(), model.size());
  for (size_t i = 0; i < n; i++)
    if (kvm[i].text != model[i].text)
      return fmt::format("first difference at exit #{}:\n  kvm:       {}\n  vmx-model: {}", i, kvm[i].text,
                         model[i].text);
  if (kvm.size() != model.size())
    return fmt::format("same first {} exits, then kvm has {} and the model {} (next: {})", n, kvm.size(), model.size(),
                       kvm.size() > n ? "kvm: " + kvm[n].text : "vmx-model: " + model[n].text);
  return "";
}

std::string counts(const std::map<uint16_t, uint64_t>& m) {
  std::string s;
  for (auto [r, c] : m) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", exit_reason_name(r), c);
  return s.empty() ? "none" : s;
}

struct Case {
  std::string scenario;
  std::map<std::string, std::string> params;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.scenario; }

class VmxModelCrossCheck : public ::testing::TestWithParam<Case> {};

TEST_P(VmxModelCrossCheck, PredictedUserSpaceExitsAreTheExitsKvmRecorded) {
  HostInfo host = probe_host();
  if (!host.kvm_openable) GTEST_SKIP() << "needs /dev/kvm: " << host.kvm_open_error;
  auto s = find_builtin_scenario(GetParam().scenario);
  ASSERT_TRUE(s.ok());
  for (const auto& f : s->requires_features) {
    std::string why = kvm_refusal(host, f);
    if (!why.empty()) GTEST_SKIP() << "KVM cannot run it here: " << why;
  }
  RunSpec kvm_spec;
  kvm_spec.kvm = true;
  auto kvm = run_guest(GetParam().scenario, GetParam().params, kvm_spec);
  auto emu = run_guest(GetParam().scenario, GetParam().params, RunSpec{});  // model: kvm-default
  ASSERT_TRUE(kvm && emu);
  ASSERT_TRUE(kvm->result.ok()) << kvm->result.message;
  ASSERT_TRUE(emu->result.ok()) << emu->result.message;
  std::map<uint16_t, uint64_t> kvm_counts, model_counts;
  auto real = vmm_exits(*kvm, Source::KvmExit, kvm_counts);
  auto modelled = vmm_exits(*emu, Source::VmxModel, model_counts);
  EXPECT_FALSE(real.empty()) << "every scenario prints, so KVM must have recorded I/O exits";
  EXPECT_EQ(kvm_counts, model_counts) << "kvm: " << counts(kvm_counts) << "\nvmx-model: " << counts(model_counts);
  std::string diff = first_difference(real, modelled);
  EXPECT_TRUE(diff.empty()) << diff;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, VmxModelCrossCheck,
                         ::testing::Values(Case{"hello", {}}, Case{"io-burst", {{"bytes", "512"}}},
                                           Case{"syscalls", {{"n", "4"}}}, Case{"privileged", {}},
                                           Case{"pagefault", {{"pages", "3"}}}, Case{"syscall-insn", {}},
                                           Case{"console-write", {{"bytes", "256"}}},
                                           Case{"disk-io", {{"sectors", "2"}}}),
                         [](const auto& info) {
                           std::string n = info.param.scenario;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The same run under two profiles: the model's user-space exits do not
// depend on EPT, but its kernel-handled exits do (a student's first
// experiment with --vmx-profile).
TEST(VmxModelInEmulation, NoEptAddsPageFaultAndCr3ExitsToTheSameRun) {
  auto run_with = [](const char* preset) {
    RunSpec spec;
    spec.vmx_profile = std::make_shared<const vmx::Profile>(vmx::preset(preset).value());
    return run_guest("pagefault", {{"pages", "3"}}, spec);
  };
  auto kvm = run_with("kvm-default"), shadow = run_with("no-ept");
  ASSERT_TRUE(kvm && shadow);
  // Exits for the guest's own exceptions; a store into a page table (the
  // event names the entry it wrote, `reg`) is counted by the test below.
  auto count = [](const EmuRun& r, uint16_t reason, HandledBy by) {
    uint64_t n = 0;
    for (const auto& e : r.sink.events())
      if (e.kind == EventKind::VmExit && e.source == Source::VmxModel && e.reason == reason && e.handled_by == by &&
          !(reason == exit_reason::kExceptionNmi && !e.reg.empty()))
        n++;
    return n;
  };
  uint64_t page_faults = 0;
  for (const auto& e : shadow->sink.events())
    if (e.kind == EventKind::Trap && e.vector == 14) page_faults++;
  EXPECT_GE(page_faults, 3u);
  EXPECT_EQ(count(*kvm, exit_reason::kExceptionNmi, HandledBy::Kernel), 0u);
  EXPECT_EQ(count(*shadow, exit_reason::kExceptionNmi, HandledBy::Kernel), page_faults) << "one exit per #PF";
  EXPECT_EQ(count(*kvm, exit_reason::kCrAccess, HandledBy::Kernel), 0u);
  EXPECT_GE(count(*shadow, exit_reason::kCrAccess, HandledBy::Kernel), 2u) << "the CR3 loads of exec and switchuvm";
  EXPECT_EQ(count(*kvm, exit_reason::kIoInstruction, HandledBy::Vmm),
            count(*shadow, exit_reason::kIoInstruction, HandledBy::Vmm));
  // The kernel programs the SYSCALL MSRs at boot: those WRMSRs exit under both.
  EXPECT_GE(count(*kvm, exit_reason::kWrmsr, HandledBy::Kernel), 3u);
  bool marked = false;
  for (const auto& e : shadow->sink.events())
    if (e.kind == EventKind::Marker && e.name == "vmx-profile no-ept") marked = true;
  EXPECT_TRUE(marked) << "the trace says which profile the model used";
}

// Shadow paging's own cost: the hypervisor write-protects the guest's page
// tables, so every store the kernel makes into one exits (a #PF the shadow
// MMU handles in the kernel). `pagefault` maps each page it demand-pages
// with one PTE store (kernel/vm.c, mappage): under no-ept each #PF from
// ring 3 is followed, before the kernel returns, by at least one such exit;
// under kvm-default there are none, and the guest prints the same.
TEST(VmxModelInEmulation, NoEptMakesEveryPageTableStoreAPageFaultExit) {
  constexpr int kPages = 5;
  auto run_with = [](const char* preset) {
    RunSpec spec;
    spec.vmx_profile = std::make_shared<const vmx::Profile>(vmx::preset(preset).value());
    return run_guest("pagefault", {{"pages", std::to_string(kPages)}}, spec);
  };
  auto kvm = run_with("kvm-default"), shadow = run_with("no-ept");
  ASSERT_TRUE(kvm && shadow);
  ASSERT_TRUE(kvm->result.ok()) << kvm->result.message;
  ASSERT_TRUE(shadow->result.ok()) << shadow->result.message;
  EXPECT_EQ(shadow->console, kvm->console) << "the model watches; the guest runs the same";
  auto table_store = [](const Event& e) {
    return e.kind == EventKind::VmExit && e.source == Source::VmxModel && e.reason == exit_reason::kExceptionNmi &&
           !e.reg.empty();
  };
  for (const auto& e : kvm->sink.events()) EXPECT_FALSE(table_store(e)) << "EPT on: page tables are ordinary memory";

  int faults = 0, mapped = 0, stores = 0;
  bool in_fault = false, stored = false;
  for (const auto& e : shadow->sink.events()) {
    if (e.kind == EventKind::Trap && e.cause == TrapCause::Exception && e.vector == 14 && e.from_cpl == 3) {
      faults++;
      in_fault = true;
      stored = false;
    } else if (table_store(e)) {
      stores++;
      EXPECT_EQ(e.handled_by, HandledBy::Kernel) << "KVM's shadow MMU, not the VMM";
      EXPECT_EQ(e.vector, 14);
      EXPECT_EQ(e.error_code, 0x3u) << "P|W from ring 0";
      EXPECT_EQ(e.cpl, 0);
      EXPECT_EQ(e.number, e.cr2) << "the qualification is the linear address stored to";
      EXPECT_LT(e.gpa, 64ull << 20) << "a guest-physical address in RAM";
      EXPECT_TRUE(e.reg == "pte" || e.reg == "pde" || e.reg == "pdpte" || e.reg == "pml4e") << e.reg;
      if (in_fault && e.reg == "pte" && (e.value & 1)) stored = true;  // a present PTE: the new page mapped
    } else if (e.kind == EventKind::TrapReturn && in_fault) {
      in_fault = false;
      if (stored) mapped++;
    }
  }
  EXPECT_EQ(faults, kPages);
  EXPECT_EQ(mapped, kPages) << "each demand-paged page's PTE store exits";
  EXPECT_GE(stores, kPages);
}

}  // namespace
}  // namespace ringscope::test

namespace ringscope::test {
namespace {

// Block hooks find the kernel's sensitive instructions by decoding its
// image before the run; per-instruction hooks see each one as it runs.
// Both must give the model the same actions.
TEST(VmxModelInEmulation, BlockAndInstructionHooksGiveTheSameModelledExits) {
  auto exits_of = [](emulation::HookGranularity g) {
    RunSpec spec;
    spec.emu.granularity = g;
    spec.vmx_profile = std::make_shared<const vmx::Profile>(vmx::preset("trap-everything").value());
    auto r = run_guest("pagefault", {{"pages", "2"}}, spec);
    std::vector<std::string> out;
    if (!r) return out;
    for (const auto& e : r->sink.events())
      if (e.kind == EventKind::VmExit && e.source == Source::VmxModel && e.reason != exit_reason::kIoInstruction)
        out.push_back(fmt::format("{} rip {:#x} {} {:#x}", exit_reason_name(e.reason), e.rip, e.reg, e.value));
    return out;
  };
  auto block = exits_of(emulation::HookGranularity::Block);
  auto insn = exits_of(emulation::HookGranularity::Instruction);
  EXPECT_FALSE(block.empty());
  EXPECT_EQ(block, insn);
}

}  // namespace
}  // namespace ringscope::test
