// step_tracer.cpp — deriving steps, traps and trap returns from single steps.
#include "step_tracer.h"

#include <cstring>

namespace ringscope::kvm {

namespace {
// Exceptions that push an error code (Intel SDM Vol. 3A, Table 6-1).
bool has_error_code(int vector) {
  switch (vector) {
    case 8:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 17:
    case 21: return true;
    default: return false;
  }
}
}  // namespace

StepTracer::StepTracer() {
  cs_open(CS_ARCH_X86, CS_MODE_64, &cs_);
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
}

StepTracer::~StepTracer() {
  if (cs_) cs_close(&cs_);
}

StepTracer::Insn StepTracer::decode(const GuestMemory& memory, const CpuSnapshot& at) const {
  Insn in;
  in.rip = at.rip;
  in.cpl = at.cpl;
  uint8_t buf[16] = {};
  size_t got = read_virtual(memory, at.paging, at.rip, buf, 15);
  if (got == 0) return in;
  cs_insn* insn = nullptr;
  cs_option(cs_, CS_OPT_MODE, at.long_mode ? CS_MODE_64 : CS_MODE_32);
  size_t n = cs_disasm(cs_, buf, got, at.rip, 1, &insn);
  if (n == 0) return in;
  in.valid = true;
  in.len = static_cast<uint8_t>(insn->size);
  std::memcpy(in.bytes, buf, in.len);
  for (uint8_t g = 0; g < insn->detail->groups_count; g++) {
    switch (insn->detail->groups[g]) {
      case CS_GRP_JUMP:
      case CS_GRP_CALL:
      case CS_GRP_RET:
      case CS_GRP_BRANCH_RELATIVE: in.branch = true; break;
      case CS_GRP_IRET: in.iret = true; break;
      case CS_GRP_INT: in.soft_int = true; break;
      default: break;
    }
  }
  switch (insn->id) {
    case X86_INS_SYSRET: in.sysret = true; break;
    case X86_INS_SYSCALL: in.syscall = true; break;
    case X86_INS_INT: in.int_vector = static_cast<uint8_t>(insn->detail->x86.operands[0].imm); break;
    case X86_INS_INT3: in.int_vector = 3; break;
    case X86_INS_IRET:
    case X86_INS_IRETD:
    case X86_INS_IRETQ: in.iret = true; break;
    case X86_INS_PUSH: in.push = true; break;
    default: break;
  }
  cs_free(insn, n);
  return in;
}

// Which IDT gate the CPU just entered. Either the new RIP is the handler's
// first instruction, or (as on PVM hosts, listed in pvm_quirks.h) the step
// trap came one instruction later, after the handler's first `push`: then
// that instruction is returned in `first` so its step is not lost, and the
// frame sits 8 bytes higher.
StepTracer::GateHit StepTracer::vector_for(const GuestMemory& memory, const CpuSnapshot& now) const {
  GateHit hit;
  uint8_t gate[16];
  for (int v = 0; v < 256 && uint64_t(v) * 16 + 15 <= now.idt_limit; v++) {
    if (read_virtual(memory, now.paging, now.idt_base + v * 16, gate, 16) != 16) return hit;
    if (!(gate[5] & 0x80)) continue;  // not present
    uint64_t off = uint64_t(gate[0]) | uint64_t(gate[1]) << 8 | uint64_t(gate[6]) << 16 | uint64_t(gate[7]) << 24;
    uint64_t hi;
    std::memcpy(&hi, gate + 8, 8);
    off |= (hi & 0xffffffff) << 32;
    if (off == now.rip) {
      hit.vector = v;
      hit.handler = off;
      return hit;
    }
    if (off < now.rip && now.rip - off <= 15) {
      CpuSnapshot at = now;
      at.rip = off;
      Insn first = decode(memory, at);
      if (first.valid && first.push && off + first.len == now.rip) {
        hit.vector = v;
        hit.handler = off;
        hit.first = first;
        hit.frame_offset = 8;
        return hit;
      }
    }
  }
  return hit;
}

void StepTracer::emit_step(const Insn& insn, uint64_t time_ns, EventSink& sink) {
  Event e = events::step({time_ns, 0, Source::SingleStep}, insn.rip, insn.cpl,
                         std::string_view(reinterpret_cast<const char*>(insn.bytes), insn.len));
  sink.emit(e);
  steps_++;
}

bool StepTracer::read_frame(const GuestMemory& memory, const CpuSnapshot& at, uint64_t rsp, uint64_t& rip,
                            uint64_t& cs) const {
  uint64_t frame[2];
  if (read_virtual(memory, at.paging, rsp, frame, sizeof frame) != sizeof frame) return false;
  rip = frame[0];
  cs = frame[1];
  return true;
}

void StepTracer::note_unobserved(uint64_t time_ns, EventSink& sink) {
  emit_counter(sink, time_ns, 0, Source::SingleStep, "unstepped_runs", ++unobserved_);
}

void StepTracer::observe(const CpuSnapshot& now, uint64_t time_ns, const GuestMemory& memory, EventSink& sink,
                         bool after_other_exit) {
  // STI (FB) and MOV SS / POP SS (8E /2, 17) hold off interrupts until the
  // next instruction has run. The step trap lands right between the two.
  in_shadow_ = prev_.valid && now.rip == prev_.rip + prev_.len &&
               (prev_.bytes[0] == 0xfb || prev_.bytes[0] == 0x17 ||
                (prev_.bytes[0] == 0x8e && ((prev_.bytes[1] >> 3) & 7) == 2));
  stepped_hlt_ = prev_.valid && prev_.bytes[0] == 0xf4 && now.rip == prev_.rip + 1;
  if (prev_.valid) {
    emit_step(prev_, time_ns, sink);
    uint64_t expected = prev_.rip + prev_.len;  // where the CPU goes if nothing intervenes
    bool anywhere = prev_.branch;               // a jump may go anywhere

    // After an I/O exit KVM may finish the I/O instruction and execute the
    // next one before the step trap: decode that one too so no step is lost.
    if (after_other_exit && now.rip != expected && now.cpl == prev_.cpl) {
      CpuSnapshot mid = prev_state_;
      mid.rip = expected;
      Insn next = decode(memory, mid);
      if (next.valid && (next.branch || now.rip == next.rip + next.len)) {
        emit_step(next, time_ns, sink);
        expected = next.rip + next.len;
        anywhere = next.branch;
      }
    }

    const events::At at{time_ns, 0, Source::SingleStep};
    if (prev_.iret || prev_.sysret) {
      // Where the return goes: the popped frame (iretq) or RCX (sysretq).
      uint64_t to_rip = prev_state_.rcx, to_cs = 3;
      if (prev_.iret) {
        to_rip = prev_.has_return ? prev_.return_rip : now.rip;
        to_cs = prev_.has_return ? prev_.return_cs : now.cpl;
      }
      Event e = events::trap_return(at, prev_.iret ? TrapCause::Iret : TrapCause::Sysret, prev_.cpl,
                                    static_cast<uint8_t>(to_cs & 3), prev_.rip, to_rip);
      sink.emit(e);
      expected = to_rip;
      anywhere = false;
      if (now.rip != to_rip) note_unobserved(time_ns, sink);
    } else if (prev_.syscall && now.rip == now.lstar) {
      Event e = events::trap(at, TrapCause::Syscall, 0, prev_.cpl, now.cpl, prev_.rip, now.rip);
      sink.emit(e);
      expected = now.rip;
    }

    if (now.rip != expected && (!anywhere || prev_.soft_int)) {
      GateHit hit = vector_for(memory, now);
      int vector = hit.vector;
      if (vector >= 0) {
        // The frame the CPU pushed says where the guest was interrupted.
        uint64_t frame = now.rsp + hit.frame_offset;
        bool has_code = false;
        uint64_t code = 0;
        if (vector < 32 && has_error_code(vector)) {
          has_code = read_virtual(memory, now.paging, frame, &code, 8) == 8;
          frame += 8;
        }
        uint64_t from_rip = prev_.rip, from_cs = prev_.cpl;
        read_frame(memory, now, frame, from_rip, from_cs);
        const TrapCause cause = prev_.soft_int && vector == prev_.int_vector ? TrapCause::SoftInt
                                : vector >= 32                               ? TrapCause::Interrupt
                                                                             : TrapCause::Exception;
        Event e = events::trap(at, cause, static_cast<uint8_t>(vector), static_cast<uint8_t>(from_cs & 3), now.cpl,
                               from_rip, hit.handler);
        if (has_code) events::error_code(e, static_cast<uint32_t>(code));
        if (vector == 14) e.cr2 = now.cr2;
        sink.emit(e);
        if (hit.first.valid) {
          hit.first.cpl = now.cpl;
          emit_step(hit.first, time_ns, sink);
        }
      }
    }
  }
  prev_ = decode(memory, now);
  if (prev_.iret) prev_.has_return = read_frame(memory, now, now.rsp, prev_.return_rip, prev_.return_cs);
  prev_state_ = now;
}

}  // namespace ringscope::kvm
