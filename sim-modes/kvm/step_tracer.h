// step_tracer.h — trace level `full`: every instruction, every ring
// transition, observed by single-stepping the guest (KVM_GUESTDBG_SINGLESTEP).
//
// After each step the VMM sees where the CPU went. If the instruction just
// executed could not have sent it there by itself (not a jump, call or
// return), an event was delivered: a trap. Its vector is found by looking the
// new RIP up in the guest's IDT; iretq/sysretq are recognised by opcode. The
// slowness of stepping (one VM exit per instruction) is itself a lesson.
//
// Both transitions are read from the frames the CPU itself uses: iretq pops
// [rip, cs, rflags, rsp, ss] from the stack, so the tracer reads that frame
// just before iretq executes; an exception pushes the same frame (after an
// error code for some vectors), so the tracer reads it at the handler's first
// instruction. This matters on PVM hosts (docs/hosts.md), where ring-3 code
// runs natively and is not single-stepped: an iretq to ring 3 is followed
// directly by the next trap's handler, and the frames still tell exactly
// where ring 3 was entered and where it was interrupted.
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <string>

#include "ringscope/event.h"
#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"

namespace ringscope::kvm {

// The architectural state the tracer needs after each step.
struct CpuSnapshot {
  uint64_t rip = 0, rsp = 0, rflags = 0, rcx = 0;
  uint8_t cpl = 0;
  PagingState paging;
  uint64_t cr2 = 0;
  uint64_t idt_base = 0;
  uint16_t idt_limit = 0;
  uint64_t lstar = 0;
  bool long_mode = false;
};

class StepTracer {
 public:
  StepTracer();
  ~StepTracer();
  StepTracer(const StepTracer&) = delete;
  StepTracer& operator=(const StepTracer&) = delete;

  // Called after every single step (and after every other exit with
  // `other_exit` = true, because the step after an I/O exit may be merged).
  void observe(const CpuSnapshot& now, uint64_t time_ns, const GuestMemory& memory, EventSink& sink,
               bool after_other_exit);

  uint64_t steps() const { return steps_; }
  // Whether the instruction just stepped was STI (or MOV/POP SS), so the CPU
  // is in its one-instruction interrupt shadow: an interrupt must not be
  // injected before the next instruction runs. (KVM's own
  // ready_for_interrupt_injection can miss this after a single-step exit on
  // some hosts: PVM injects, and `sti; hlt` then sleeps past its wake-up.)
  bool in_interrupt_shadow() const { return in_shadow_; }
  // Whether the instruction just stepped was HLT and the step trap came
  // after it: on some hosts (PVM) a single-stepped HLT reports the step
  // first and its HLT exit later, after the guest has been woken.
  bool stepped_hlt() const { return stepped_hlt_; }

 private:
  struct Insn {
    bool valid = false;
    uint64_t rip = 0;
    uint8_t cpl = 0;
    uint8_t len = 0;
    uint8_t bytes[16] = {};
    bool branch = false;  // jmp/jcc/call/ret/loop: may go anywhere
    bool soft_int = false;
    uint8_t int_vector = 0;
    bool iret = false, sysret = false, syscall = false, push = false;
    // For iretq: where it will return, read from the stack before it runs
    // (the next trap may overwrite that frame before the tracer looks again).
    bool has_return = false;
    uint64_t return_rip = 0, return_cs = 0;
  };
  Insn decode(const GuestMemory& memory, const CpuSnapshot& at) const;
  void emit_step(const Insn& insn, uint64_t time_ns, EventSink& sink);
  struct GateHit {
    int vector = -1;
    uint64_t handler = 0;       // the gate's handler address
    Insn first;                 // the handler's first instruction, if already executed
    uint64_t frame_offset = 0;  // bytes that instruction pushed above the CPU's frame
  };
  GateHit vector_for(const GuestMemory& memory, const CpuSnapshot& now) const;
  bool read_frame(const GuestMemory& memory, const CpuSnapshot& at, uint64_t rsp, uint64_t& rip, uint64_t& cs) const;
  void note_unobserved(uint64_t time_ns, EventSink& sink);

  csh cs_ = 0;
  Insn prev_;
  CpuSnapshot prev_state_;
  uint64_t steps_ = 0;
  bool in_shadow_ = false, stepped_hlt_ = false;
  uint64_t unobserved_ = 0;  // times code ran between two steps without being stepped
};

}  // namespace ringscope::kvm
