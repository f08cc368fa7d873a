// The x86 ring-transition rules (core/src/arch), checked rule by rule on a
// made-up machine: a flat "linear memory" holding a GDT, an IDT and a TSS
// laid out like the teaching kernel's. Each test names the SDM rule it
// guards.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringscope/arch/descriptors.h"
#include "ringscope/arch/transitions.h"

namespace ringscope::arch {
namespace {

// Linear memory = a flat byte array; addresses outside it are "unmapped".
class FlatMemory final : public LinearMemory {
 public:
  explicit FlatMemory(size_t size) : bytes_(size) {}
  bool read(uint64_t la, void* out, size_t len, uint64_t* fault) override {
    if (la + len > bytes_.size() || la + len < la) {
      if (fault) *fault = la;
      return false;
    }
    std::memcpy(out, bytes_.data() + la, len);
    return true;
  }
  bool write(uint64_t la, const void* in, size_t len, uint64_t* fault) override {
    if (la + len > bytes_.size() || la + len < la) {
      if (fault) *fault = la;
      return false;
    }
    std::memcpy(bytes_.data() + la, in, len);
    return true;
  }
  uint64_t q(uint64_t la) {
    uint64_t v;
    std::memcpy(&v, bytes_.data() + la, 8);
    return v;
  }
  void set_q(uint64_t la, uint64_t v) { std::memcpy(bytes_.data() + la, &v, 8); }

 private:
  std::vector<uint8_t> bytes_;
};

constexpr uint64_t kGdt = 0x1000, kIdt = 0x2000, kTss = 0x3000;
constexpr uint64_t kKernelStackTop = 0x9000, kUserStack = 0x7008;
constexpr uint16_t kKcode = 0x08, kKdata = 0x10, kUdata = 0x18, kUcode = 0x20, kTssSel = 0x28;
constexpr uint64_t kHandler = 0x100000;

struct Rig {
  FlatMemory mem{0x10000};
  CpuState cpu;

  Rig() {
    // The teaching kernel's GDT (scenarios/kernel/entry.S).
    mem.set_q(kGdt + 0x08, 0x00af9a000000ffff);
    mem.set_q(kGdt + 0x10, 0x00cf92000000ffff);
    mem.set_q(kGdt + 0x18, 0x00cff2000000ffff);
    mem.set_q(kGdt + 0x20, 0x00affa000000ffff);
    cpu.gdtr = {kGdt, 0x37};
    cpu.idtr = {kIdt, 256 * 16 - 1};
    for (int v = 0; v < 256; v++) gate(static_cast<uint8_t>(v), desc_type::kInterruptGate64, 0);
    gate(0x40, desc_type::kInterruptGate64, 3);  // int $0x40 from user mode
    mem.set_q(kTss + kTssRsp0, kKernelStackTop);
    cpu.tr_selector = kTssSel;
    cpu.tr_base = kTss;
    cpu.tr_limit = 0x67;
    cpu.efer = kEferLma | kEferSce;
    to_user();
  }
  void gate(uint8_t v, uint8_t type, uint8_t dpl, bool present = true, uint16_t sel = kKcode, uint8_t ist = 0) {
    Gate g;
    g.offset = kHandler + v * 16;
    g.selector = sel;
    g.type = type;
    g.dpl = dpl;
    g.present = present;
    g.ist = ist;
    uint8_t raw[16];
    encode_gate(g, raw);
    mem.write(kIdt + uint64_t(v) * 16, raw, 16, nullptr);
  }
  void to_user() {
    cpu.cs = decode_segment(mem.q(kGdt + kUcode), kUcode | 3);
    cpu.ss = decode_segment(mem.q(kGdt + kUdata), kUdata | 3);
    cpu.rip = 0x400123;
    cpu.rsp = kUserStack;
    cpu.rflags = rflags::kFixed1 | rflags::kIf;
  }
  void to_kernel() {
    cpu.cs = decode_segment(mem.q(kGdt + kKcode), kKcode);
    cpu.ss = decode_segment(mem.q(kGdt + kKdata), kKdata);
    cpu.rsp = 0x8008;
  }
};

InterruptRequest exception(uint8_t v, uint64_t rip, uint32_t code = 0) {
  InterruptRequest r;
  r.vector = v;
  r.return_rip = r.instruction_rip = rip;
  r.error_code = code;
  return r;
}

InterruptRequest softint(uint8_t v, uint64_t rip_of_int) {
  InterruptRequest r;
  r.vector = v;
  r.source = EventSource::SoftInt;
  r.instruction_rip = rip_of_int;
  r.return_rip = rip_of_int + 2;
  return r;
}

// ---- descriptors (SDM Vol. 3A §3.4.5, §6.14.1) ----------------------------

TEST(ArchDescriptors, DecodesTheKernelCodeSegmentAsLongModeRing0Code) {
  Segment s = decode_segment(0x00af9a000000ffff, 0x08);
  EXPECT_TRUE(s.present);
  EXPECT_TRUE(s.s);
  EXPECT_EQ(s.type, 0xa);
  EXPECT_EQ(s.dpl, 0);
  EXPECT_TRUE(s.l);
  EXPECT_FALSE(s.db);
  EXPECT_EQ(s.limit, 0xffffffffu);
  EXPECT_EQ(encode_segment(s), 0x00af9a000000ffffull);
}

TEST(ArchDescriptors, GatesRoundTripThroughTheirScatteredOffsetBits) {
  Gate g;
  g.offset = 0xffff800012345678;
  g.selector = 0x08;
  g.ist = 3;
  g.type = desc_type::kTrapGate64;
  g.dpl = 3;
  g.present = true;
  uint8_t raw[16];
  encode_gate(g, raw);
  Gate d = decode_gate(raw);
  EXPECT_EQ(d.offset, g.offset);
  EXPECT_EQ(d.selector, 0x08);
  EXPECT_EQ(d.ist, 3);
  EXPECT_EQ(d.type, desc_type::kTrapGate64);
  EXPECT_EQ(d.dpl, 3);
  EXPECT_TRUE(d.present);
}

// ---- delivery (§6.12, §6.14) ----------------------------------------------

TEST(ArchDelivery, AFaultInRing3SwitchesToTssRsp0AndPushesTheFullFrame) {
  Rig r;
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kPF, 0x400123, 0x6));
  ASSERT_TRUE(std::holds_alternative<Delivered>(res));
  const Delivered& d = std::get<Delivered>(res);
  EXPECT_EQ(d.from_cpl, 3);
  EXPECT_EQ(d.to_cpl, 0);
  EXPECT_TRUE(d.stack_switched);
  EXPECT_EQ(r.cpu.cpl(), 0);
  EXPECT_EQ(r.cpu.rip, kHandler + 14 * 16);
  // §6.14.2: error code, RIP, CS, RFLAGS, RSP, SS from the top of RSP0.
  EXPECT_EQ(r.cpu.rsp, kKernelStackTop - 6 * 8);
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 0), 0x6u);
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 8), 0x400123u);
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 16), uint64_t(kUcode | 3));
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 24) & rflags::kIf, rflags::kIf);
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 32), kUserStack);
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 40), uint64_t(kUdata | 3));
  // §6.14.4: SS becomes a null selector with RPL = new CPL; §6.12.1.3: an
  // interrupt gate clears IF.
  EXPECT_EQ(r.cpu.ss.selector, 0);
  EXPECT_EQ(r.cpu.rflags & rflags::kIf, 0u);
}

TEST(ArchDelivery, ATrapGateLeavesInterruptsEnabled) {
  Rig r;
  r.gate(vec::kBP, desc_type::kTrapGate64, 3);
  auto res = deliver_once(r.cpu, r.mem, softint(vec::kBP, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Delivered>(res));
  EXPECT_EQ(r.cpu.rflags & rflags::kIf, rflags::kIf);
}

TEST(ArchDelivery, WithinRing0TheStackIsNotSwitchedButIsAlignedAndStillGetsSsRsp) {
  Rig r;
  r.to_kernel();
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kGP, 0x100010));
  ASSERT_TRUE(std::holds_alternative<Delivered>(res));
  EXPECT_FALSE(std::get<Delivered>(res).stack_switched);
  EXPECT_EQ(r.cpu.rsp, 0x8000 - 6 * 8) << "RSP 0x8008 aligned down to 16 bytes, then 6 pushes";
  EXPECT_EQ(r.mem.q(r.cpu.rsp + 32), 0x8008u) << "the old RSP, unaligned";
  EXPECT_EQ(r.cpu.ss.selector, kKdata) << "no privilege change: SS stays";
}

TEST(ArchDelivery, IntNWithoutErrorCodePushesFiveQuadwordsAndTheNextRip) {
  Rig r;
  auto res = deliver_once(r.cpu, r.mem, softint(0x40, 0x400200));
  ASSERT_TRUE(std::holds_alternative<Delivered>(res));
  EXPECT_FALSE(std::get<Delivered>(res).has_error_code);
  EXPECT_EQ(r.cpu.rsp, kKernelStackTop - 5 * 8);
  EXPECT_EQ(r.mem.q(r.cpu.rsp), 0x400202u);
}

TEST(ArchDelivery, IntNToAGateMoreprivilegedThanTheCallerIsAGeneralProtectionFault) {
  Rig r;  // gate 0x20 has DPL 0; the caller is in ring 3 (§6.12.1.1)
  auto res = deliver_once(r.cpu, r.mem, softint(0x20, 0x400200));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  const Fault& f = std::get<Fault>(res);
  EXPECT_EQ(f.vector, vec::kGP);
  EXPECT_EQ(f.error_code, 0x20u * 8 + 2) << "IDT bit set, EXT clear (a program asked for it)";
  EXPECT_EQ(r.cpu.cpl(), 3) << "a failed delivery changes nothing";
  // deliver() then delivers the #GP, reporting the int instruction itself.
  DeliveryOutcome out = deliver(r.cpu, r.mem, softint(0x20, 0x400200));
  ASSERT_FALSE(out.triple_fault);
  EXPECT_EQ(out.delivered.vector, vec::kGP);
  EXPECT_EQ(out.delivered.from_rip, 0x400200u);
  EXPECT_EQ(r.mem.q(r.cpu.rsp), 0x20u * 8 + 2);
}

TEST(ArchDelivery, ExceptionsIgnoreTheGateDpl) {
  Rig r;  // #PF's gate has DPL 0, yet a ring-3 fault goes through
  EXPECT_TRUE(std::holds_alternative<Delivered>(deliver_once(r.cpu, r.mem, exception(vec::kPF, 0x400123))));
}

TEST(ArchDelivery, ANotPresentGateIsSegmentNotPresent) {
  Rig r;
  r.gate(vec::kUD, desc_type::kInterruptGate64, 0, /*present=*/false);
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kNP);
  EXPECT_EQ(std::get<Fault>(res).error_code, 6u * 8 + 2 + 1) << "IDT and EXT bits";
}

TEST(ArchDelivery, ABadGateTypeIsAGeneralProtectionFault) {
  Rig r;
  r.gate(vec::kUD, 0x6, 0);  // a 16-bit interrupt gate: invalid in IA-32e mode
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
  EXPECT_EQ(std::get<Fault>(res).error_code, 6u * 8 + 2 + 1);
}

TEST(ArchDelivery, AVectorBeyondTheIdtLimitIsAGeneralProtectionFault) {
  Rig r;
  r.cpu.idtr.limit = 32 * 16 - 1;
  auto res = deliver_once(r.cpu, r.mem, softint(0x40, 0x400200));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
}

TEST(ArchDelivery, AGateToADataSegmentOrA32BitSegmentIsAGeneralProtectionFaultNamingTheSelector) {
  Rig r;
  r.gate(vec::kUD, desc_type::kInterruptGate64, 0, true, kKdata);
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
  EXPECT_EQ(std::get<Fault>(res).error_code, uint32_t(kKdata) | 1);
  r.mem.set_q(kGdt + 0x30, 0x00cf9a000000ffff);  // 32-bit code (L=0, D=1)
  r.cpu.gdtr.limit = 0x37;
  r.gate(vec::kUD, desc_type::kInterruptGate64, 0, true, 0x30);
  res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
}

TEST(ArchDelivery, ANotPresentHandlerSegmentIsSegmentNotPresent) {
  Rig r;
  r.mem.set_q(kGdt + 0x08, 0x00af9a000000ffff & ~(1ull << 47));
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kNP);
  EXPECT_EQ(std::get<Fault>(res).error_code, uint32_t(kKcode) | 1);
}

TEST(ArchDelivery, ANonCanonicalTssStackIsAStackFault) {
  Rig r;
  r.mem.set_q(kTss + kTssRsp0, 0x0000800000000000);
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kSS);
}

TEST(ArchDelivery, ATooShortTssIsAnInvalidTssFault) {
  Rig r;
  r.cpu.tr_limit = 8;
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kTS);
  EXPECT_EQ(std::get<Fault>(res).error_code, uint32_t(kTssSel) | 1);
}

TEST(ArchDelivery, AnIstIndexAlwaysSwitchesStacks) {
  Rig r;
  r.to_kernel();
  r.mem.set_q(kTss + kTssIst1, 0xa000);
  r.gate(vec::kDF, desc_type::kInterruptGate64, 0, true, kKcode, /*ist=*/1);
  auto res = deliver_once(r.cpu, r.mem, exception(vec::kDF, 0x100010));
  ASSERT_TRUE(std::holds_alternative<Delivered>(res));
  EXPECT_EQ(r.cpu.rsp, 0xa000 - 6 * 8);
}

// ---- faults during delivery (§6.15, Table 6-5) ----------------------------

TEST(ArchDelivery, TwoContributoryFaultsMakeADoubleFault) {
  Rig r;
  r.gate(vec::kNP, desc_type::kInterruptGate64, 0, /*present=*/false);
  // #NP while delivering #NP: contributory after contributory -> #DF.
  DeliveryOutcome out = deliver(r.cpu, r.mem, exception(vec::kNP, 0x400123, 0x10));
  ASSERT_FALSE(out.triple_fault) << out.why;
  EXPECT_EQ(out.delivered.vector, vec::kDF);
  EXPECT_EQ(out.delivered.error_code, 0u);
  EXPECT_EQ(out.nested, 1);
}

TEST(ArchDelivery, ABenignEventsFaultIsDeliveredInstead) {
  Rig r;
  r.gate(vec::kUD, desc_type::kInterruptGate64, 0, /*present=*/false);
  DeliveryOutcome out = deliver(r.cpu, r.mem, exception(vec::kUD, 0x400123));
  ASSERT_FALSE(out.triple_fault);
  EXPECT_EQ(out.delivered.vector, vec::kNP) << "#UD is benign: the #NP is simply delivered";
}

TEST(ArchDelivery, AnUnusableKernelStackEndsInATripleFault) {
  Rig r;
  r.mem.set_q(kTss + kTssRsp0, 0xfff00000);  // canonical, but not mapped
  DeliveryOutcome out = deliver(r.cpu, r.mem, exception(vec::kGP, 0x400123));
  EXPECT_TRUE(out.triple_fault);
  EXPECT_NE(out.why.find("vector 8"), std::string::npos) << out.why;
}

// ---- SYSCALL / SYSRET (Vol. 2B) -------------------------------------------

TEST(ArchSyscall, SyscallEntersRing0AtLstarWithCsSsFromStarAndMasksRflags) {
  Rig r;
  r.cpu.star = (uint64_t((kUdata - 8) | 3) << 48) | (uint64_t(kKcode) << 32);
  r.cpu.lstar = 0x1001f0;
  r.cpu.fmask = rflags::kIf | rflags::kTf | rflags::kDf;
  r.cpu.rip = 0x400034;  // after the instruction
  r.cpu.rflags |= rflags::kDf;
  auto res = syscall(r.cpu);
  ASSERT_TRUE(std::holds_alternative<CpuState>(res));
  const CpuState& n = std::get<CpuState>(res);
  EXPECT_EQ(n.cpl(), 0);
  EXPECT_EQ(n.cs.selector, kKcode);
  EXPECT_EQ(n.ss.selector, kKdata);
  EXPECT_TRUE(n.cs.l);
  EXPECT_EQ(n.rip, 0x1001f0u);
  EXPECT_EQ(n.rcx, 0x400034u);
  EXPECT_EQ(n.r11, r.cpu.rflags);
  EXPECT_EQ(n.rflags & (rflags::kIf | rflags::kDf), 0u);
  EXPECT_EQ(n.rsp, r.cpu.rsp) << "SYSCALL does not switch stacks";
}

TEST(ArchSyscall, SyscallWithoutEferSceIsAnInvalidOpcode) {
  Rig r;
  r.cpu.efer &= ~kEferSce;
  auto res = syscall(r.cpu);
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kUD);
}

TEST(ArchSyscall, SysretqReturnsToRing3WithSelectorsFromStar) {
  Rig r;
  r.to_kernel();
  r.cpu.star = (uint64_t((kUdata - 8) | 3) << 48) | (uint64_t(kKcode) << 32);
  r.cpu.rcx = 0x400034;
  r.cpu.r11 = 0x202;
  auto res = sysretq(r.cpu);
  ASSERT_TRUE(std::holds_alternative<CpuState>(res));
  const CpuState& n = std::get<CpuState>(res);
  EXPECT_EQ(n.cpl(), 3);
  EXPECT_EQ(n.cs.selector, kUcode | 3);
  EXPECT_EQ(n.ss.selector, kUdata | 3);
  EXPECT_EQ(n.rip, 0x400034u);
  EXPECT_EQ(n.rflags, 0x202u);
}

TEST(ArchSyscall, SysretFromRing3IsAGeneralProtectionFault) {
  Rig r;
  auto res = sysretq(r.cpu);
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
}

// ---- IRETQ (Vol. 2A IRET, §6.14.3) ----------------------------------------

TEST(ArchIret, IretqUndoesADeliveryFromRing3) {
  Rig r;
  auto res = deliver_once(r.cpu, r.mem, softint(0x40, 0x400200));
  ASSERT_TRUE(std::holds_alternative<Delivered>(res));
  auto back = iretq(r.cpu, r.mem);
  ASSERT_TRUE(std::holds_alternative<CpuState>(back));
  const CpuState& n = std::get<CpuState>(back);
  EXPECT_EQ(n.cpl(), 3);
  EXPECT_EQ(n.rip, 0x400202u);
  EXPECT_EQ(n.rsp, kUserStack);
  EXPECT_EQ(n.ss.selector, kUdata | 3);
  EXPECT_EQ(n.rflags & rflags::kIf, rflags::kIf);
}

TEST(ArchIret, IretqCannotRaisePrivilege) {
  Rig r;  // in ring 3, a frame naming the kernel's CS
  r.mem.set_q(kUserStack + 0, 0x100000);
  r.mem.set_q(kUserStack + 8, kKcode);
  r.mem.set_q(kUserStack + 16, 0x2);
  r.mem.set_q(kUserStack + 24, 0x8000);
  r.mem.set_q(kUserStack + 32, kKdata);
  auto res = iretq(r.cpu, r.mem);
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
  EXPECT_EQ(std::get<Fault>(res).error_code, kKcode);
}

TEST(ArchIret, IretqChecksTheStackSegmentAndCodePresence) {
  Rig r;
  r.to_kernel();
  uint64_t sp = r.cpu.rsp;
  r.mem.set_q(sp + 0, 0x400000);
  r.mem.set_q(sp + 8, kUcode | 3);
  r.mem.set_q(sp + 16, 0x2);
  r.mem.set_q(sp + 24, kUserStack);
  r.mem.set_q(sp + 32, kKdata);  // RPL 0 stack for a ring-3 return
  auto res = iretq(r.cpu, r.mem);
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kGP);
  EXPECT_EQ(std::get<Fault>(res).error_code, kKdata);
  r.mem.set_q(sp + 32, kUdata | 3);
  r.mem.set_q(kGdt + 0x20, 0x00affa000000ffff & ~(1ull << 47));
  res = iretq(r.cpu, r.mem);
  ASSERT_TRUE(std::holds_alternative<Fault>(res));
  EXPECT_EQ(std::get<Fault>(res).vector, vec::kNP);
}

TEST(ArchPageFault, TheErrorCodeBitsFollowSection4_7) {
  EXPECT_EQ(page_fault_error(false, true, true, false), 0x6u);
  EXPECT_EQ(page_fault_error(true, false, true, false), 0x5u);
  EXPECT_EQ(page_fault_error(false, false, false, true), 0x10u);
  EXPECT_TRUE(pushes_error_code(vec::kPF));
  EXPECT_FALSE(pushes_error_code(vec::kUD));
}

}  // namespace
}  // namespace ringscope::arch
