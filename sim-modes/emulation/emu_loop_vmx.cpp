// emu_loop_vmx.cpp — the emulation loop's adapter to the VT-x model
// (core/src/vmx): each guest action that would have exited under VT-x, the
// kernel's sensitive instructions watched, shadow paging's page-table
// stores, and RDMSR/WRMSR of an MSR the CPU model lacks.
#include "emu_loop.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "ringscope/arch/msr.h"
#include "ringscope/machine.h"

namespace ringscope::emulation {

void EmuLoop::model(const vmx::GuestAction& a) {
  model_boundary(a);
  model_->observe(a, monotonic_ns());
  if (!model_->holding()) deferred_.drain(sink_);  // a REP INS batch keeps its device events until its exit is out
  // The modelled exit and its device work are recorded: the run control
  // may hold the guest here (step one exit), before anything else runs.
  if (controlled()) control_checkpoint();
}

// Before an action's device work: if it ends an open REP INS batch, the
// batch's exit and device events go out first.
void EmuLoop::model_boundary(const vmx::GuestAction& a) {
  if (model_->holding() && !model_->continues_batch(a)) {
    model_->flush();
    deferred_.drain(sink_);
  }
}

// IN/OUT as the model sees it; INS/OUTS carry their REP prefix, RCX and,
// for INS, RDI.
vmx::GuestAction EmuLoop::io_action(uint16_t port, uint8_t size, bool out) {
  vmx::GuestAction a;
  a.kind = vmx::ActionKind::PortIo;
  a.port = port;
  a.size = size;
  a.write = out;
  a.cpl = cpu_.cpl();
  uint64_t rcx = cpu_.reg(UC_X86_REG_RCX);
  IoInsn io;
  if (per_insn_) {
    io = decoder_.io_insn(machine_.memory(), paging_, insn_rip_);
  } else {
    bool same = block_io_ && io_index_ >= 0 && (*block_io_)[size_t(io_index_)].rep && prev_rcx_ > 1;
    if (!same) io_index_++;
    if (block_io_ && size_t(io_index_) < block_io_->size())
      io = (*block_io_)[size_t(io_index_)];
    else
      io = decoder_.io_insn(machine_.memory(), paging_, cpu_.reg(UC_X86_REG_RIP));
  }
  prev_rcx_ = rcx;
  a.rip = io.rip;
  if (io.string) {
    a.string = true;
    a.rep = io.rep;
    a.rep_count = rcx;
    a.string_addr = cpu_.reg(UC_X86_REG_RDI);
  }
  return a;
}

// Shadow paging: a store into a guest page-table page exits (the model's
// PageTableWrite). Unicorn calls this before every guest store, before it
// even checks the translation, with the *virtual* address; Unicorn 2.0.1
// stores below the top of guest RAM at that address itself (unicorn_cpu.h:
// its MMU "identity maps"), so there the address is the guest-physical one
// too; above it are the aliases, translated through the guest's tables.
// The common case costs one array lookup. (A store that straddles into a
// page table from the page before it is not seen: no kernel writes its
// entries that way.)
void EmuLoop::on_store(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t value, void* p) {
  EmuLoop& s = self_of(p);
  uint64_t gpa = address;
  if (address >= s.ram_size_ && !s.store_gpa(address, gpa)) return;
  if (!s.model_->page_tables().contains(gpa)) return;
  s.model_page_table_write(address, gpa, size, static_cast<uint64_t>(value));
}

bool EmuLoop::store_gpa(uint64_t va, uint64_t& gpa) {
  const vmx::PageTableSet& tables = model_->page_tables();
  uint64_t page = va & ~0xfffull;
  StoreTlb& e = store_tlb_[(va >> 12) % store_tlb_.size()];
  // Translations change only through a page-table store the set saw, or a
  // new CR3; with the set truncated, a store into an untracked table could
  // change one unseen, so nothing is cached then.
  if (e.va_page != page || e.generation != tables.generation() || tables.truncated()) {
    auto pa = translate(machine_.memory(), cpu_.paging(), page);
    e = {page, pa ? *pa : ~0ull, tables.generation()};
  }
  if (e.pa_page == ~0ull) return false;
  gpa = e.pa_page | (va & 0xfff);
  return true;
}

void EmuLoop::model_page_table_write(uint64_t va, uint64_t gpa, int size, uint64_t value) {
  vmx::GuestAction a;
  a.kind = vmx::ActionKind::PageTableWrite;
  a.rip = cpu_.reg(UC_X86_REG_RIP);
  a.cpl = cpu_.cpl();
  a.gpa = gpa;
  size = std::clamp(size, 1, 8);
  a.size = static_cast<uint8_t>(size);
  a.write = true;
  a.value = size == 8 ? value : value & ((1ull << (8 * size)) - 1);
  a.cr2 = va;
  model(a);
}

// Unicorn has no hook for RDMSR, WRMSR, MOV CR or INVLPG (it has one for
// CPUID, on_cpuid). At trace level full, or with per-instruction hooks,
// on_code sees every instruction anyway. At block granularity the loop
// finds the kernel's sensitive instructions before the run, by decoding its
// loaded image from start to end, and puts a code hook on exactly those
// addresses: a few dozen hooks, and nothing paid per instruction. (Stopping
// in a block hook to add a watch on the fly would be the other way, but
// Unicorn 2.0.1 comes back from such a stop with CR2 and its pending-fault
// state changed under the guest.) Ring-3 programs are not scanned: there
// these instructions fault (#GP) before VT-x could exit, except CPUID
// (hooked everywhere) and RDTSC (modelled only at level full).
Status EmuLoop::watch_kernel_sensitive() {
  // Segment by segment: an image's segments may be megabytes apart (GNU
  // ld's default layout puts a note segment at 4 MiB), and the gaps hold
  // no code.
  for (const GpaRange& seg : machine_.kernel_image().segments) {
    if (seg.end <= seg.begin || !machine_.memory().contains(seg.begin, seg.end - seg.begin)) continue;
    std::vector<uint8_t> image(seg.end - seg.begin);
    machine_.memory().read(seg.begin, image.data(), image.size());
    for (uint64_t rip : decoder_.find_sensitive(image.data(), image.size(), seg.begin)) {
      uc_hook h;
      uc_err err = uc_hook_add(cpu_.uc(), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&on_sensitive), this, rip, rip);
      if (err != UC_ERR_OK)
        return make_error(ErrorKind::Internal,
                          fmt::format("cannot watch the instruction at {:#x}: {}", rip, uc_error_text(err)));
      watched_++;
    }
  }
  return ok_status();
}

int EmuLoop::on_cpuid(uc_engine*, void* p) {
  EmuLoop& s = self_of(p);
  vmx::GuestAction a;
  a.kind = vmx::ActionKind::Cpuid;
  a.rip = s.cpu_.reg(UC_X86_REG_RIP);
  a.cpl = s.cpu_.cpl();
  a.leaf = uint32_t(s.cpu_.reg(UC_X86_REG_RAX));
  s.model(a);
  return 0;  // 0: Unicorn executes CPUID itself
}

void EmuLoop::on_sensitive(uc_engine*, uint64_t address, uint32_t size, void* p) {
  EmuLoop& s = self_of(p);
  uint8_t bytes[16] = {};
  size = std::min<uint32_t>(size, 15);
  size_t got = read_virtual(s.machine_.memory(), s.cpu_.paging(), address, bytes, size);
  if (s.model_) s.model_sensitive(address, bytes, got);
  s.check_msr(address, bytes, got);
}

namespace {
// ModRM register numbers (SDM Vol. 2A Table 2-2) to Unicorn's register ids.
constexpr int kGprs[16] = {UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
                           UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
                           UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
                           UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15};
int cr_reg(uint8_t cr) {
  switch (cr) {
    case 0: return UC_X86_REG_CR0;
    case 2: return UC_X86_REG_CR2;
    case 3: return UC_X86_REG_CR3;
    case 4: return UC_X86_REG_CR4;
    case 8: return UC_X86_REG_CR8;
    default: return UC_X86_REG_INVALID;
  }
}
}  // namespace

// RDMSR (0f 32) or WRMSR (0f 30) at rip, about to run in ring 0 (in ring 3
// QEMU raises the #GP itself): if the CPU model lacks the MSR in ECX, stop
// before it runs and raise #GP(0) there (arch/msr.h). RAX and RDX are kept
// in case Unicorn ran the instruction after all.
void EmuLoop::check_msr(uint64_t rip, const uint8_t* bytes, size_t len) {
  Sensitive kind = sensitive_kind(bytes, len).kind;
  if (kind != Sensitive::Rdmsr && kind != Sensitive::Wrmsr) return;
  if (cpu_.cpl() != 0 || arch::msr_implemented(uint32_t(cpu_.reg(UC_X86_REG_RCX)))) return;
  pending_ = Pending::MsrFault;
  pending_rip_ = rip;
  pending_rax_ = cpu_.reg(UC_X86_REG_RAX);
  pending_rdx_ = cpu_.reg(UC_X86_REG_RDX);
  uc_emu_stop(cpu_.uc());
}

// The registers as they are just before the instruction runs.
void EmuLoop::model_sensitive(uint64_t rip, const uint8_t* bytes, size_t len) {
  SensitiveInsn insn = sensitive_kind(bytes, len);
  // CPUID has its own hook; a watched address may now hold other code.
  if (insn.kind == Sensitive::None || insn.kind == Sensitive::Cpuid) return;
  vmx::GuestAction a;
  a.rip = rip;
  a.cpl = cpu_.cpl();
  auto rcx = [&] { return uint32_t(cpu_.reg(UC_X86_REG_RCX)); };
  switch (insn.kind) {
    case Sensitive::Rdmsr:
      a.kind = vmx::ActionKind::Rdmsr;
      a.msr = rcx();
      break;
    case Sensitive::Wrmsr:
      a.kind = vmx::ActionKind::Wrmsr;
      a.msr = rcx();
      a.value = (cpu_.reg(UC_X86_REG_RDX) << 32) | (cpu_.reg(UC_X86_REG_RAX) & 0xffffffffull);
      break;
    case Sensitive::Rdtsc: a.kind = vmx::ActionKind::Rdtsc; break;
    case Sensitive::MovToCr:
    case Sensitive::MovFromCr: {
      a.kind = insn.kind == Sensitive::MovToCr ? vmx::ActionKind::MovToCr : vmx::ActionKind::MovFromCr;
      a.cr = insn.cr;
      a.gpr = insn.gpr;
      int cr = cr_reg(insn.cr);
      uint64_t current = cr == UC_X86_REG_INVALID ? 0 : cpu_.reg(cr);
      a.old_value = current;
      a.value = a.kind == vmx::ActionKind::MovToCr ? cpu_.reg(kGprs[insn.gpr & 15]) : current;
      break;
    }
    case Sensitive::Invlpg:
      // The operand's linear address is not computed (the teaching kernel
      // never executes INVLPG); the exit is still counted.
      a.kind = vmx::ActionKind::Invlpg;
      break;
    case Sensitive::None:
    case Sensitive::Cpuid: return;
  }
  model(a);
}

}  // namespace ringscope::emulation
