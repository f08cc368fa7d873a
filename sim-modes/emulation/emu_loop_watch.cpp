// emu_loop_watch.cpp — the emulation loop's block and instruction hooks:
// guest time (the instruction count), `step` events, and the IRETQ/SYSRETQ
// a block ends in.
#include "emu_loop.h"

#include <algorithm>

#include "ringscope/machine.h"

namespace ringscope::emulation {

void EmuLoop::refresh_paging() {
  uint64_t old_cr3 = paging_.cr3;
  paging_ = cpu_.paging();
  if (paging_.cr3 != old_cr3) {
    decoder_.flush();  // the decoded-block cache is keyed by virtual address
    block_io_ = nullptr;
  }
}

// One callback per block executed, at every level: guest time, external
// interrupts, and at level exits the instruction count and returns.
void EmuLoop::on_block(uc_engine*, uint64_t address, uint32_t size, void* p) {
  EmuLoop& s = self_of(p);
  s.block_pc_ = address;
  if (s.controlled() && s.control_checkpoint()) return;  // paused here; or the run ends
  if (s.ret_.armed) s.resolve_return(address);
  // Several vCPUs: this one's turn is over (emu_smp.cpp); it goes on here next time.
  if (s.quantum_ && (s.pause_seen_ || s.instructions() - s.turn_start_ >= s.quantum_)) {
    s.quantum_stop_ = true;
    uc_emu_stop(s.cpu_.uc());
    return;
  }
  // interrupt_due()'s own first test, inline: most blocks stop here.
  const bool look = s.irq_held_ || s.irq_look_ || s.guest_ns() >= s.next_irq_ns_;
  if (look && s.interrupt_due()) return;  // Unicorn stops before this block runs
  if (s.ring3_ && s.cpu_.cpl() == 3) {
    s.ring3_stop_ = true;  // mode bt: ring 3 runs directly, never here
    uc_emu_stop(s.cpu_.uc());
    return;
  }
  if (s.per_insn_) return;  // on_code counts every instruction
  const InsnDecoder::Block& b = s.decoder_.block(s.machine_.memory(), s.paging_, address, size);
  // Mode bt's check (docs/bt.md); no other mode reads the count, and reading
  // a register from Unicorn costs more than the rest of this hook.
  if (s.ring3_ && s.cpu_.cpl() == 3) s.ring3_instructions_ += b.count;
  s.shadow_ = b.shadow;  // as the next block starts, this one's last instruction has run
  s.if_dirty_ = s.if_dirty_ || b.sets_if;
  s.pause_seen_ = s.pause_seen_ || b.pause;
  s.block_io_ = &b.io;
  s.io_index_ = -1;
  s.instructions_.store(s.instructions_.load(std::memory_order_relaxed) + b.count, std::memory_order_relaxed);
  if (b.last != ReturnKind::None) {
    s.ret_ = {true, b.last, b.last_rip, address, address + size, s.cpl_};
  }
}

// Trace level full (and exits with per-instruction hooks): one callback
// before every instruction. At level full each one is a `step` event.
void EmuLoop::on_code(uc_engine*, uint64_t address, uint32_t size, void* p) {
  EmuLoop& s = self_of(p);
  if (s.controlled() && s.control_checkpoint()) return;
  if (s.ret_.armed) s.resolve_return(address);
  s.instructions_.store(s.instructions_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  s.insn_rip_ = address;
  uint8_t bytes[16] = {};
  size = std::min<uint32_t>(size, 15);
  // Translate through the guest's page tables, one page cached.
  uint64_t cr3 = s.cpu_.reg(UC_X86_REG_CR3);
  uint64_t page = address & ~0xfffull;
  if (cr3 != s.step_cr3_ || page != s.step_page_va_) {
    s.paging_.cr3 = cr3;
    auto pa = translate(s.machine_.memory(), s.paging_, page);
    s.step_cr3_ = cr3;
    s.step_page_va_ = pa ? page : ~0ull;
    s.step_page_pa_ = pa ? *pa : 0;
  }
  if (s.step_page_va_ == page && (address & 0xfff) + size <= 0x1000)
    s.machine_.memory().read(s.step_page_pa_ + (address & 0xfff), bytes, size);
  else
    read_virtual(s.machine_.memory(), s.paging_, address, bytes, size);
  if (s.options_.level == TraceLevel::Full) {
    Event e = events::step({monotonic_ns(), s.vcpu_, Source::Emulator}, address, s.cpl_,
                           std::string_view(reinterpret_cast<const char*>(bytes), size));
    s.sink_.emit(e);
    if (auto stop = check_steps(++s.steps_, s.options_.limits)) s.stop_emulation(std::move(*stop));
  }
  ReturnKind k = return_kind(bytes, size);
  if (k != ReturnKind::None) s.ret_ = {true, k, address, address, address + size, s.cpl_};
  if (s.model_) s.model_sensitive(address, bytes, size);
  s.check_msr(address, bytes, size);
  s.shadow_ = opens_interrupt_shadow(bytes, size);
  s.if_dirty_ = s.if_dirty_ || may_set_if(bytes, size);
  s.pause_seen_ = s.pause_seen_ || is_pause(bytes, size);
}

}  // namespace ringscope::emulation
