// The VT-x model on made-up guest actions: each control decides what the
// SDM says it decides, the presets differ where they should, and the model
// records its exits as vm_exit events with source vmx-model.
#include <gtest/gtest.h>

#include "ringscope/exit_reasons.h"
#include "ringscope/recording_sink.h"
#include "ringscope/hypercalls.h"
#include "ringscope/vmx/model.h"
#include "ringscope/vmx/profile.h"

namespace ringscope::vmx {
namespace {

Profile P(std::string_view name) {
  auto p = preset(name);
  EXPECT_TRUE(p.ok()) << name;
  return p.value();
}

GuestAction io(uint16_t port, bool out, uint8_t size = 1, uint64_t value = 0) {
  GuestAction a;
  a.kind = ActionKind::PortIo;
  a.port = port;
  a.write = out;
  a.size = size;
  a.value = value;
  return a;
}
GuestAction insn(ActionKind k, uint8_t cpl = 0) {
  GuestAction a;
  a.kind = k;
  a.cpl = cpl;
  return a;
}
GuestAction msr(bool write, uint32_t index) {
  GuestAction a = insn(write ? ActionKind::Wrmsr : ActionKind::Rdmsr);
  a.msr = index;
  return a;
}
GuestAction mov_cr(uint8_t cr, uint64_t old_value, uint64_t value, uint8_t gpr = 0) {
  GuestAction a = insn(ActionKind::MovToCr);
  a.cr = cr;
  a.old_value = old_value;
  a.value = value;
  a.gpr = gpr;
  return a;
}
GuestAction exception(uint8_t vector, uint64_t cr2 = 0) {
  GuestAction a = insn(ActionKind::Exception, 3);
  a.vector = vector;
  a.cr2 = cr2;
  return a;
}

TEST(VmxModel, KvmDefaultSendsEveryPortToTheVmmWithTheSdmQualification) {
  Profile p = P("kvm-default");
  Decision d = decide(p, io(0x3f8, true, 1, 'h'));
  EXPECT_TRUE(d.exits);
  EXPECT_EQ(d.reason, exit_reason::kIoInstruction);
  EXPECT_EQ(d.handled_by, HandledBy::Vmm);
  EXPECT_EQ(d.qualification, 0x3f80000u);  // port in 31:16, size-1 = 0, OUT (bit 3 clear)
  Decision in = decide(p, io(0x3fd, false));
  EXPECT_EQ(in.qualification, 0x3fd0008u);  // IN sets bit 3
  EXPECT_EQ(io_qualification(0x1f0, 4, true, true, true, false), 0x1f00000u | 3 | 8 | 16 | 32);
  EXPECT_TRUE(decide(p, io(0xf4, true)).exits);  // unconditional: even the probe port
}

TEST(VmxModel, IoBitmapTrapsOnlyThePortsWhoseBitsAreSet) {
  Profile p = P("io-bitmap-uart-only");
  EXPECT_TRUE(decide(p, io(0x3f8, true)).exits);
  EXPECT_TRUE(decide(p, io(0x3ff, false)).exits);
  EXPECT_FALSE(decide(p, io(0xf4, true)).exits);
  EXPECT_FALSE(decide(p, io(0x3f7, false)).exits);
  EXPECT_TRUE(decide(p, io(0x3f7, false, 2)).exits) << "a 2-byte access touches 0x3f8 too";
  p.io = IoExiting::None;
  EXPECT_FALSE(decide(p, io(0x3f8, true)).exits);
  p.io = IoExiting::Unconditional;
  p.kernel_ports = {0x40};
  EXPECT_EQ(decide(p, io(0x40, true)).handled_by, HandledBy::Kernel) << "a port KVM emulates in the kernel";
}

TEST(VmxModel, CpuidAlwaysExitsToTheKernelWhateverTheProfile) {
  for (const auto& info : presets()) {
    Decision d = decide(P(info.name), insn(ActionKind::Cpuid, 3));
    EXPECT_TRUE(d.exits) << info.name;
    EXPECT_EQ(d.reason, exit_reason::kCpuid);
    EXPECT_EQ(d.handled_by, HandledBy::Kernel);
  }
}

TEST(VmxModel, VmcallAlwaysExits18ToTheKernelInEveryRing) {
  for (const auto& info : presets())
    for (uint8_t cpl : {0, 3}) {
      Decision d = decide(P(info.name), insn(ActionKind::Vmcall, cpl));
      EXPECT_TRUE(d.exits) << info.name;
      EXPECT_EQ(d.reason, exit_reason::kVmcall);
      EXPECT_EQ(d.handled_by, HandledBy::Kernel);
    }
  EXPECT_EQ(action_name(ActionKind::Vmcall), "vmcall");
}

TEST(KvmHypercalls, VapicPollIrqReturnsZeroOthersEnosysUserModeEperm) {
  EXPECT_EQ(kvm_hypercall_result(kKvmHcVapicPollIrq, 0), 0u);
  EXPECT_EQ(static_cast<int64_t>(kvm_hypercall_result(0x7f, 0)), -1000);
  EXPECT_EQ(static_cast<int64_t>(kvm_hypercall_result(kKvmHcVapicPollIrq, 3)), -1);
}

TEST(VmxModel, HltExitsInRingZeroOnlyAndPrivilegeFaultsComeFirst) {
  Profile p = P("kvm-default");
  Decision d = decide(p, insn(ActionKind::Hlt, 0));
  EXPECT_TRUE(d.exits);
  EXPECT_EQ(d.reason, exit_reason::kHlt);
  EXPECT_EQ(d.handled_by, HandledBy::Vmm);  // no in-kernel irqchip: KVM_EXIT_HLT
  EXPECT_FALSE(decide(p, insn(ActionKind::Hlt, 3)).exits) << "#GP in ring 3 wins over the VM exit";
  GuestAction w = msr(true, 0xc0000082);
  w.cpl = 3;
  EXPECT_FALSE(decide(p, w).exits);
  p.hlt_exiting = false;
  EXPECT_FALSE(decide(p, insn(ActionKind::Hlt, 0)).exits);
}

TEST(VmxModel, MsrBitmapPassesFsGsBaseButTrapsTheSyscallMsrs) {
  Profile p = P("kvm-default");
  EXPECT_FALSE(decide(p, msr(true, 0xc0000100)).exits);  // FS base
  EXPECT_FALSE(decide(p, msr(false, 0xc0000101)).exits);  // GS base
  Decision lstar = decide(p, msr(true, 0xc0000082));
  EXPECT_TRUE(lstar.exits);
  EXPECT_EQ(lstar.reason, exit_reason::kWrmsr);
  EXPECT_EQ(lstar.handled_by, HandledBy::Kernel);
  EXPECT_EQ(decide(p, msr(false, 0xc0000080)).reason, exit_reason::kRdmsr);  // EFER
  p.msr_read_passthrough.insert(0x40000000);
  EXPECT_TRUE(decide(p, msr(false, 0x40000000)).exits) << "outside the bitmaps' ranges always exits";
  EXPECT_TRUE(decide(P("trap-everything"), msr(true, 0xc0000100)).exits) << "MSR bitmaps off";
}

TEST(VmxModel, CrWritesExitWhenTheyTouchHostOwnedBitsOrLoadCr3WithoutEpt) {
  Profile kvm = P("kvm-default"), shadow = P("no-ept");
  uint64_t cr0 = 0x80050033;
  EXPECT_FALSE(decide(kvm, mov_cr(0, cr0, cr0 ^ 8)).exits) << "CR0.TS belongs to the guest";
  Decision pg = decide(kvm, mov_cr(0, cr0, cr0 & ~(1ull << 31), 3));
  EXPECT_TRUE(pg.exits) << "clearing CR0.PG";
  EXPECT_EQ(pg.reason, exit_reason::kCrAccess);
  EXPECT_EQ(pg.qualification, 0x300u) << "CR0, MOV to CR, register 3 (RBX)";
  EXPECT_FALSE(decide(kvm, mov_cr(3, 0x1000, 0x2000)).exits);
  Decision cr3 = decide(shadow, mov_cr(3, 0x1000, 0x2000, 0));
  EXPECT_TRUE(cr3.exits);
  EXPECT_EQ(cr3.qualification, 3u);
  EXPECT_EQ(cr3.handled_by, HandledBy::Kernel);
  GuestAction read3 = insn(ActionKind::MovFromCr);
  read3.cr = 3;
  EXPECT_FALSE(decide(kvm, read3).exits);
  EXPECT_TRUE(decide(shadow, read3).exits);
  EXPECT_EQ(decide(shadow, read3).qualification, 0x13u);  // CR3, MOV from CR
  EXPECT_FALSE(decide(kvm, mov_cr(4, 0x20, 0x20 | 0x80)).exits) << "CR4.PGE is the guest's with EPT";
  EXPECT_TRUE(decide(shadow, mov_cr(4, 0x20, 0x20 | 0x80)).exits) << "but not with shadow paging";
  EXPECT_TRUE(decide(kvm, mov_cr(4, 0x20, 0)).exits) << "CR4.PAE is the host's";
}

TEST(VmxModel, PageFaultsAndInvlpgExitOnlyWithoutEpt) {
  Profile kvm = P("kvm-default"), shadow = P("no-ept");
  EXPECT_FALSE(decide(kvm, exception(14, 0x8000001000)).exits);
  Decision pf = decide(shadow, exception(14, 0x8000001000));
  EXPECT_TRUE(pf.exits);
  EXPECT_EQ(pf.reason, exit_reason::kExceptionNmi);
  EXPECT_EQ(pf.qualification, 0x8000001000u) << "a #PF exit's qualification is the linear address";
  EXPECT_FALSE(decide(kvm, exception(13)).exits) << "#GP goes straight to the guest's IDT";
  EXPECT_TRUE(decide(kvm, exception(6)).exits) << "KVM intercepts #UD";
  EXPECT_FALSE(decide(kvm, insn(ActionKind::Invlpg)).exits);
  EXPECT_EQ(decide(shadow, insn(ActionKind::Invlpg)).reason, exit_reason::kInvlpg);
  for (int v = 0; v < 32; v++) EXPECT_TRUE(decide(P("trap-everything"), exception(uint8_t(v))).exits) << v;
}

TEST(VmxModel, MmioIsAnEptViolationWithEptAndAPageFaultExitWithout) {
  GuestAction a;
  a.kind = ActionKind::Mmio;
  a.gpa = 0xd0000000;
  a.size = 4;
  a.write = true;
  Decision ept = decide(P("kvm-default"), a);
  EXPECT_EQ(ept.reason, exit_reason::kEptViolation);
  EXPECT_EQ(ept.handled_by, HandledBy::Vmm);
  EXPECT_EQ(ept.qualification & 3, 2u);  // a data write
  Decision shadow = decide(P("no-ept"), a);
  EXPECT_EQ(shadow.reason, exit_reason::kExceptionNmi);
  EXPECT_EQ(shadow.handled_by, HandledBy::Vmm);
}

// The same made-up run under two profiles: EPT off adds the CR3 loads and
// page faults, and nothing else.
TEST(VmxModel, TurningEptOffAddsExactlyThePagingExits) {
  std::vector<GuestAction> run;
  for (int i = 0; i < 10; i++) run.push_back(io(0x3f8, true, 1, 'a' + i));
  run.push_back(mov_cr(3, 0x1000, 0x5000));
  for (int i = 0; i < 3; i++) run.push_back(exception(14, 0x8000000000 + 0x1000 * i));
  run.push_back(msr(true, 0xc0000082));
  run.push_back(insn(ActionKind::Hlt));
  auto count = [&](const Profile& p) {
    RecordingSink sink;
    VmxModel m(p, sink);
    for (const auto& a : run) m.observe(a, 0);
    return std::make_pair(m.exits(), m.vmm_exits());
  };
  auto kvm = count(P("kvm-default")), shadow = count(P("no-ept"));
  EXPECT_EQ(kvm.first, 12u);   // 10 OUT + WRMSR LSTAR + HLT
  EXPECT_EQ(kvm.second, 11u);  // OUT and HLT reach the VMM
  EXPECT_EQ(shadow.first, 16u);
  EXPECT_EQ(shadow.second, 11u) << "the paging exits stay in the kernel";
}

TEST(VmxModel, RecordsVmExitEventsWithTheKvmBackendsFields) {
  RecordingSink sink;
  VmxModel m(P("no-ept"), sink);
  m.begin(1);
  GuestAction out = io(0x3f8, true, 1, 'h');
  out.rip = 0x102304;
  m.observe(out, 2);
  m.observe(msr(true, 0xc0000082), 3);
  m.observe(mov_cr(3, 0x1000, 0x2000), 4);
  m.observe(exception(14, 0x1234), 5);
  m.observe(msr(true, 0xc0000100), 6);  // passed through: no event
  m.finish(7);
  const auto& ev = sink.events();
  ASSERT_EQ(ev.size(), 7u);
  EXPECT_EQ(ev[0].kind, EventKind::Marker);
  EXPECT_EQ(ev[0].name, "vmx-profile no-ept");
  EXPECT_EQ(ev[0].source, Source::VmxModel);
  const Event& e = ev[1];
  EXPECT_EQ(e.kind, EventKind::VmExit);
  EXPECT_EQ(e.source, Source::VmxModel);
  EXPECT_EQ(e.reason, exit_reason::kIoInstruction);
  EXPECT_EQ(e.handled_by, HandledBy::Vmm);
  EXPECT_EQ(e.port, 0x3f8);
  EXPECT_EQ(e.size, 1);
  EXPECT_EQ(e.count, 1u);
  EXPECT_EQ(e.direction, Direction::Out);
  EXPECT_EQ(e.value, uint64_t('h'));
  EXPECT_EQ(e.rip, 0x102304u);
  EXPECT_EQ(ev[2].reason, exit_reason::kWrmsr);
  EXPECT_EQ(ev[2].number, 0xc0000082u);
  EXPECT_EQ(ev[3].reason, exit_reason::kCrAccess);
  EXPECT_EQ(ev[3].reg, "cr3");
  EXPECT_EQ(ev[3].value, 0x2000u);
  EXPECT_EQ(ev[4].reason, exit_reason::kExceptionNmi);
  EXPECT_EQ(ev[4].vector, 14);
  EXPECT_EQ(ev[5].kind, EventKind::Counter);
  EXPECT_EQ(ev[5].name, "vmx_model_exits");
  EXPECT_EQ(ev[5].value, 4u);
  EXPECT_EQ(ev[6].name, "vmx_model_vmm_exits");
  EXPECT_EQ(ev[6].value, 1u);
}

}  // namespace
}  // namespace ringscope::vmx
