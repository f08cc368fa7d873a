// The VT-x model on made-up guest actions: each control decides what the
// SDM says it decides, the presets differ where they should, and the model
// records its exits as vm_exit events with source vmx-model.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "ringscope/exit_reasons.h"
#include "ringscope/hypercalls.h"
#include "ringscope/recording_sink.h"
#include "ringscope/vmx/model.h"
#include "ringscope/vmx/page_tables.h"
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
  EXPECT_FALSE(decide(p, msr(true, 0xc0000100)).exits);   // FS base
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

// ---- shadow paging: stores into the guest's page tables ---------------------

// A small guest: 1 MiB of RAM, and page tables built by hand in it.
class ShadowPaging : public ::testing::Test {
 protected:
  static constexpr uint64_t kP = 1, kW = 2, kU = 4, kPS = 0x80;  // entry bits: present, writable, user, page size
  static constexpr uint64_t kPml4 = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000, kData = 0x5000,
                            kSparePt = 0x6000;
  std::vector<uint8_t> ram = std::vector<uint8_t>(1 << 20);
  GuestMemory mem{ram.data(), ram.size()};

  void set(uint64_t table, unsigned index, uint64_t entry) { std::memcpy(&ram[table + 8 * index], &entry, 8); }
  // PML4[0] -> PDPT[0] -> PD[0] -> PT[0] -> the data page; PD[1] maps a
  // 2 MiB page (the walk must stop there); PML4[1] points past RAM.
  void SetUp() override {
    set(kPml4, 0, kPdpt | kP | kW | kU);
    set(kPml4, 1, 0x7fff000000ull | kP | kW);
    set(kPdpt, 0, kPd | kP | kW | kU);
    set(kPd, 0, kPt | kP | kW | kU);
    set(kPd, 1, 0x80000 | kP | kW | kPS);  // a 2 MiB page whose frame lies inside RAM: not a table
    set(kPt, 0, kData | kP | kW | kU);
  }
  static GuestAction store(uint64_t gpa, uint64_t value, uint8_t size = 8, uint64_t linear = 0x8000000000) {
    GuestAction a;
    a.kind = ActionKind::PageTableWrite;
    a.gpa = gpa;
    a.value = value;
    a.size = size;
    a.write = true;
    a.cr2 = linear;
    return a;
  }
};

TEST_F(ShadowPaging, TheWalkFindsEveryLevelFromCr3AndStopsAtLargePagesAndRam) {
  PageTableSet t;
  t.reload(mem, kPml4 | 0x18);  // PWT/PCD bits in CR3 are not part of the address
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.levels(kPml4 + 0x10), TableLevel::kPml4);
  EXPECT_EQ(t.levels(kPdpt), TableLevel::kPdpt);
  EXPECT_EQ(t.levels(kPd + 0xff8), TableLevel::kPd);
  EXPECT_EQ(t.levels(kPt), TableLevel::kPt);
  EXPECT_FALSE(t.contains(kData)) << "a page the PT maps is data, not a table";
  EXPECT_FALSE(t.contains(0x80000)) << "PS=1: a 2 MiB page, the walk does not descend";
  EXPECT_FALSE(t.truncated());
  EXPECT_EQ(table_entry_name(t.levels(kPt)), "pte");
  EXPECT_EQ(table_entry_name(t.levels(kPml4)), "pml4e");
  t.reload(mem, 0xfff00000);  // a root past the end of RAM
  EXPECT_EQ(t.size(), 0u);
}

TEST_F(ShadowPaging, AStoreIntoAPageTableExitsUnderNoEptAsAPageFaultTheKernelHandles) {
  RecordingSink sink;
  VmxModel m(P("no-ept"), sink);
  ASSERT_TRUE(m.track_page_tables(mem));
  m.load_cr3(kPml4);
  GuestAction a = store(kPt + 8, 0x9000 | kP | kW | kU, 8, 0x8000001000);
  a.rip = 0x100d7d;
  Decision d = m.observe(a, 1);
  EXPECT_TRUE(d.exits);
  EXPECT_EQ(d.reason, exit_reason::kExceptionNmi);
  EXPECT_EQ(d.handled_by, HandledBy::Kernel) << "KVM's shadow MMU emulates the store in the kernel";
  EXPECT_EQ(d.qualification, 0x8000001000u) << "a #PF exit's qualification is the linear address";
  ASSERT_EQ(sink.events().size(), 1u);
  const Event& e = sink.events()[0];
  EXPECT_EQ(e.kind, EventKind::VmExit);
  EXPECT_EQ(e.vector, 14);
  EXPECT_TRUE(e.has_error_code);
  EXPECT_EQ(e.error_code, 0x3u) << "P|W: a write to a present, read-only (shadow) page, from ring 0";
  EXPECT_EQ(e.cr2, 0x8000001000u);
  EXPECT_EQ(e.gpa, kPt + 8);
  EXPECT_EQ(e.value, 0x9000u | kP | kW | kU);
  EXPECT_EQ(e.reg, "pte");
  EXPECT_EQ(e.rip, 0x100d7du);
  // Into the PML4 from ring 3 (a guest that maps its tables to user space).
  GuestAction user = store(kPml4 + 16, 0);
  user.cpl = 3;
  m.observe(user, 2);
  ASSERT_EQ(sink.events().size(), 2u);
  EXPECT_EQ(sink.events()[1].reg, "pml4e");
  EXPECT_EQ(sink.events()[1].error_code, 0x7u);
}

TEST_F(ShadowPaging, WithEptNothingIsTrackedAndNoStoreExits) {
  RecordingSink sink;
  VmxModel m(P("kvm-default"), sink);
  EXPECT_FALSE(m.track_page_tables(mem)) << "EPT on: the hypervisor has no reason to know the guest's tables";
  m.load_cr3(kPml4);
  EXPECT_FALSE(m.page_tables().contains(kPt));
  EXPECT_FALSE(m.observe(store(kPt, 0), 1).exits);
  GuestAction known = store(kPt, 0);
  known.table_levels = TableLevel::kPt;
  EXPECT_FALSE(decide(P("kvm-default"), known).exits) << "even a store known to hit a table";
  EXPECT_TRUE(decide(P("no-ept"), known).exits);
  EXPECT_TRUE(decide(P("trap-everything"), known).exits);
  Profile no_pf = P("no-ept");
  no_pf.exception_bitmap &= ~(1u << 14);
  EXPECT_FALSE(decide(no_pf, known).exits) << "the exit is the #PF's: it needs bit 14 of the exception bitmap";
  EXPECT_TRUE(sink.events().empty());
}

TEST_F(ShadowPaging, AStoreToAnOrdinaryPageDoesNotExit) {
  RecordingSink sink;
  VmxModel m(P("no-ept"), sink);
  ASSERT_TRUE(m.track_page_tables(mem));
  m.load_cr3(kPml4);
  EXPECT_FALSE(m.page_tables().contains(kData));
  EXPECT_FALSE(m.observe(store(kData, 0x1234), 1).exits);
  EXPECT_FALSE(m.observe(store(0x80000, 0x1234), 2).exits) << "inside the 2 MiB page";
  EXPECT_EQ(m.exits(), 0u);
}

TEST_F(ShadowPaging, LinkingInANewTableWriteProtectsItToo) {
  RecordingSink sink;
  VmxModel m(P("no-ept"), sink);
  ASSERT_TRUE(m.track_page_tables(mem));
  m.load_cr3(kPml4);
  set(kSparePt, 3, kData | kP);  // a table the guest fills before linking it in
  EXPECT_FALSE(m.observe(store(kSparePt, 0), 1).exits) << "not linked in yet: an ordinary page";
  // The PDE is written in two halves, low dword last: only then is it present.
  EXPECT_TRUE(m.observe(store(kPd + 8 * 2 + 4, 0, 4), 2).exits);
  EXPECT_FALSE(m.page_tables().contains(kSparePt));
  EXPECT_TRUE(m.observe(store(kPd + 8 * 2, kSparePt | kP | kW, 4), 3).exits);
  EXPECT_EQ(m.page_tables().levels(kSparePt), TableLevel::kPt);
  EXPECT_TRUE(m.observe(store(kSparePt + 8, 0), 4).exits) << "now a page table: write-protected";
  EXPECT_FALSE(m.page_tables().contains(kData)) << "its entries map data pages";
  // A new PDPT entry brings in a PD and the PT below it at once.
  set(0x7000, 0, 0x8000 | kP);  // PD -> PT at 0x8000
  EXPECT_TRUE(m.observe(store(kPdpt + 8, 0x7000 | kP | kW), 5).exits);
  EXPECT_EQ(m.page_tables().levels(0x7000), TableLevel::kPd);
  EXPECT_EQ(m.page_tables().levels(0x8000), TableLevel::kPt);
}

TEST_F(ShadowPaging, CyclesAndSelfMapsEndAndTheCapBoundsTheSet) {
  // A self-map (PML4[510] -> PML4: Windows does this) and a PD entry
  // pointing back at the PDPT: each page is walked once per level.
  set(kPml4, 510, kPml4 | kP | kW);
  set(kPd, 7, kPdpt | kP | kW);
  set(kPdpt, 9, kPml4 | kP | kW);
  PageTableSet t;
  t.reload(mem, kPml4);
  EXPECT_EQ(t.size(), 4u) << "no page twice";
  // Through the self-map the PML4 is also a PDPT, a PD and a PT.
  EXPECT_EQ(t.levels(kPml4), TableLevel::kPml4 | TableLevel::kPdpt | TableLevel::kPd | TableLevel::kPt);
  EXPECT_EQ(t.levels(kPdpt), TableLevel::kPdpt | TableLevel::kPt | TableLevel::kPd);
  // Every page of RAM a table whose 512 entries point at the other pages:
  // the set stops at its cap and says so.
  for (uint64_t page = 0; page < ram.size(); page += 4096)
    for (unsigned i = 0; i < 512; i++) set(page, i, ((page / 4096 * 512 + i) % (ram.size() / 4096)) * 4096 | kP);
  PageTableSet capped(100);
  capped.reload(mem, kPml4);
  EXPECT_EQ(capped.size(), 100u);
  EXPECT_TRUE(capped.truncated());
  PageTableSet all;
  all.reload(mem, kPml4);
  EXPECT_EQ(all.size(), ram.size() / 4096) << "every page, each once";
  EXPECT_FALSE(all.truncated());
}

TEST_F(ShadowPaging, ACr3LoadReplacesTheSet) {
  // A second address space: PML4 at 0x10000 -> PDPT 0x11000 -> PD 0x12000 -> PT 0x13000.
  set(0x10000, 0, 0x11000 | kP);
  set(0x11000, 0, 0x12000 | kP);
  set(0x12000, 0, 0x13000 | kP);
  RecordingSink sink;
  VmxModel m(P("no-ept"), sink);
  ASSERT_TRUE(m.track_page_tables(mem));
  m.load_cr3(kPml4);
  EXPECT_TRUE(m.observe(store(kPt, 0), 1).exits);
  EXPECT_FALSE(m.observe(store(0x13000, 0), 2).exits);
  uint64_t before = m.page_tables().generation();
  GuestAction load = mov_cr(3, kPml4, 0x10000 | (1ull << 63));  // bit 63: PCID "no flush", not an address bit
  EXPECT_TRUE(m.observe(load, 3).exits) << "CR3-load exiting";
  EXPECT_NE(m.page_tables().generation(), before);
  EXPECT_EQ(m.page_tables().root(), 0x10000u);
  EXPECT_FALSE(m.page_tables().contains(kPt)) << "the old tree is no longer the guest's paging structures";
  EXPECT_FALSE(m.observe(store(kPt, 0), 4).exits);
  EXPECT_TRUE(m.observe(store(0x13000, 0), 5).exits);
  EXPECT_EQ(m.page_tables().size(), 4u);
  // A MOV to CR3 in ring 3 faults (#GP) before anything loads.
  GuestAction user = mov_cr(3, 0x10000, kPml4);
  user.cpl = 3;
  m.observe(user, 6);
  EXPECT_EQ(m.page_tables().root(), 0x10000u);
}

}  // namespace
}  // namespace ringscope::vmx
