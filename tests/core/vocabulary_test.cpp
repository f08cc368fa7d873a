// The name tables: vocabulary.cpp and exit_reasons.cpp.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ringscope/event.h"
#include "ringscope/exit_reasons.h"

namespace ringscope {
namespace {

TEST(Vocabulary, KindAndSourceNamesRoundTrip) {
  std::set<std::string_view> seen;
  for (int k = 0; k < kEventKindCount; ++k) {
    const auto kind = static_cast<EventKind>(k);
    const auto name = kind_name(kind);
    EXPECT_FALSE(name.empty());
    EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_EQ(kind_from_name(name), kind);
  }
  EXPECT_EQ(kind_name(EventKind::VmExit), "vm_exit");
  EXPECT_EQ(kind_name(EventKind::RunEnd), "run_end");
  EXPECT_EQ(kind_from_name("nope"), std::nullopt);
  for (int s = 0; s < kSourceCount; ++s) {
    const auto src = static_cast<Source>(s);
    EXPECT_EQ(source_from_name(source_name(src)), src);
  }
  EXPECT_EQ(source_name(Source::KvmExit), "kvm-exit");
  EXPECT_EQ(source_name(Source::VmxModel), "vmx-model");
  EXPECT_EQ(source_from_name(""), std::nullopt);
}

TEST(Vocabulary, SmallEnums) {
  EXPECT_EQ(handled_by_name(HandledBy::Kernel), "kernel");
  EXPECT_EQ(handled_by_name(HandledBy::Vmm), "vmm");
  EXPECT_EQ(direction_name(Direction::In), "in");
  EXPECT_EQ(direction_name(Direction::Write), "write");
  EXPECT_EQ(cause_name(TrapCause::SoftInt), "int");
  EXPECT_EQ(cause_name(TrapCause::Sysret), "sysretq");
  EXPECT_EQ(transport_name(Transport::Mmio), "mmio");
  EXPECT_EQ(phase_name(MarkerPhase::End), "end");
  EXPECT_EQ(direction_name(static_cast<Direction>(200)), "") << "out of range is empty, not a crash";
}

TEST(Vocabulary, RunEndNamesAndExplanations) {
  std::set<std::string_view> seen;
  for (int r = 0; r < kRunEndReasonCount; ++r) {
    const auto reason = static_cast<RunEndReason>(r);
    EXPECT_TRUE(seen.insert(run_end_name(reason)).second);
    const auto text = run_end_explanation(reason);
    EXPECT_GT(text.size(), 20u);
    EXPECT_EQ(text.back(), '.') << "a sentence";
  }
  EXPECT_EQ(run_end_name(RunEndReason::TripleFault), "triple_fault");
  EXPECT_EQ(run_end_name(RunEndReason::WatchdogExits), "watchdog_exits");
}

TEST(Vocabulary, ExceptionNames) {
  EXPECT_EQ(exception_name(14), "#PF page fault");
  EXPECT_EQ(exception_name(13), "#GP general protection");
  EXPECT_EQ(exception_name(6), "#UD invalid opcode");
  EXPECT_EQ(exception_name(8), "#DF double fault");
  EXPECT_EQ(exception_name(15), "");
  EXPECT_EQ(exception_name(32), "");
  EXPECT_EQ(exception_name(255), "");
}

TEST(ExitReasons, TableIsSortedUniqueAndComplete) {
  const auto table = exit_reasons();
  ASSERT_GE(table.size(), 65u);
  std::set<std::string_view> names;
  for (size_t i = 0; i < table.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(table[i - 1].number, table[i].number);
    }
    EXPECT_TRUE(names.insert(table[i].name).second) << table[i].name;
    EXPECT_FALSE(table[i].title.empty());
    EXPECT_FALSE(table[i].explanation.empty()) << table[i].name;
    EXPECT_EQ(find_exit_reason(table[i].number), &table[i]);
    EXPECT_EQ(exit_reason_from_name(table[i].name), table[i].number);
    for (char c : table[i].name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  for (uint16_t n = 0; n <= 69; ++n) {
    if (n == 35 || n == 38 || n == 42) continue;  // unused in the SDM
    EXPECT_NE(find_exit_reason(n), nullptr) << n;
  }
  // The ones a teaching kernel meets get a real explanation.
  for (uint16_t n : {0, 1, 2, 7, 10, 12, 14, 16, 18, 28, 30, 31, 32, 33, 37, 48, 49, 52})
    EXPECT_GT(find_exit_reason(n)->explanation.size(), 60u) << n;
}

TEST(ExitReasons, Lookups) {
  EXPECT_EQ(exit_reason_name(30), "io_instruction");
  EXPECT_EQ(exit_reason_name(exit_reason::kEptViolation), "ept_violation");
  EXPECT_EQ(exit_reason_name(exit_reason::kHlt), "hlt");
  EXPECT_EQ(exit_reason_name(exit_reason::kVmcall), "vmcall");
  EXPECT_EQ(exit_reason_name(exit_reason::kMonitorTrapFlag), "monitor_trap_flag");
  EXPECT_EQ(exit_reason_name(77), "reason_77");
  EXPECT_EQ(exit_reason_name(35), "reason_35");
  EXPECT_EQ(find_exit_reason(35), nullptr);
  EXPECT_EQ(find_exit_reason(9999), nullptr);
  EXPECT_EQ(exit_reason_from_name("cpuid"), 10);
  EXPECT_EQ(exit_reason_from_name("reason_77"), 77);
  EXPECT_EQ(exit_reason_from_name("reason_x"), std::nullopt);
  EXPECT_EQ(exit_reason_from_name("reason_99999"), std::nullopt);
  EXPECT_EQ(exit_reason_from_name("warp_drive"), std::nullopt);
  EXPECT_EQ(find_exit_reason(30)->title, "I/O instruction");
}

}  // namespace
}  // namespace ringscope
