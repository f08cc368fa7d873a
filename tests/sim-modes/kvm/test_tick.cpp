// Scenario `tick` under KVM: the PIT's IRQ 0 through the PIC, injected
// with KVM_INTERRUPT (a user-space irqchip), one irq_inject per tick.
#include "kvm_test_support.h"

namespace ringscope::test {
namespace {

TEST(KvmTick, EveryTickIsInjectedAndHandled) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("tick", {{"ticks", "15"}, {"hz", "200"}});
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  EXPECT_NE(run->console.find("tick: 15 ticks counted"), std::string::npos) << run->console;
  size_t injected = 0, halts = 0, eois = 0;
  for (const auto& e : run->sink.events()) {
    if (e.kind == EventKind::IrqInject) {
      injected++;
      EXPECT_EQ(e.vector, 32);
    }
    if (e.kind == EventKind::VmExit && e.reason == 12) halts++;
    if (e.kind == EventKind::Device && e.device == "pic-master" && e.reg == "EOI") eois++;
  }
  EXPECT_EQ(injected, 15u);
  EXPECT_EQ(eois, 15u) << "the handler ends each interrupt at the PIC";
  EXPECT_GE(halts, 1u);
  EXPECT_LE(halts, 15u);
}

TEST(KvmTick, ExpectedOutputAtDefaultParams) {
  RINGSCOPE_REQUIRE_KVM();
  auto run = run_scenario("tick");
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->result.ok()) << run->result.message;
  auto s = find_builtin_scenario("tick");
  ASSERT_TRUE(s.ok() && s->expected_output);
  EXPECT_EQ(run->console, *s->expected_output);
}

}  // namespace
}  // namespace ringscope::test
