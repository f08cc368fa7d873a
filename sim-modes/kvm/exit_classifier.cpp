// exit_classifier.cpp — mapping KVM exits onto VT-x basic exit reasons.
//
// KVM hands user space only the exits the kernel could not finish itself.
// Each one still has a VT-x meaning (Intel SDM Vol. 3C, Appendix C); on AMD-V
// and PVM hosts the trace header says these numbers are the VT-x equivalent.
#include "exit_classifier.h"

#include <linux/kvm.h>

#include "ringscope/exit_reasons.h"

namespace ringscope::kvm {

KvmExitInfo exit_info_from(const struct kvm_run& run) {
  KvmExitInfo e;
  e.kvm_reason = run.exit_reason;
  switch (run.exit_reason) {
    case KVM_EXIT_IO:
      e.io_out = run.io.direction == KVM_EXIT_IO_OUT;
      e.io_size = run.io.size;
      e.io_port = run.io.port;
      e.io_count = run.io.count;
      break;
    case KVM_EXIT_MMIO:
      e.mmio_gpa = run.mmio.phys_addr;
      e.mmio_len = run.mmio.len;
      e.mmio_write = run.mmio.is_write;
      break;
    case KVM_EXIT_INTERNAL_ERROR: e.internal_suberror = run.internal.suberror; break;
    case KVM_EXIT_FAIL_ENTRY: e.fail_entry_reason = run.fail_entry.hardware_entry_failure_reason; break;
    case KVM_EXIT_DEBUG: e.debug_exception = run.debug.arch.exception; break;
    case KVM_EXIT_SYSTEM_EVENT: e.system_event_type = run.system_event.type; break;
    default: break;
  }
  return e;
}

ExitDecision classify_exit(const KvmExitInfo& e) {
  using namespace exit_reason;
  switch (e.kvm_reason) {
    case KVM_EXIT_IO:
      // Port I/O always leaves non-root mode when the I/O bitmap traps the
      // port; KVM traps every port it does not emulate in the kernel.
      if (e.io_size != 1 && e.io_size != 2 && e.io_size != 4)
        return {ExitAction::Stop, kIoInstruction, RunEndReason::VmmError, "port I/O of an impossible size"};
      return {ExitAction::PortIo, kIoInstruction, {}, "port I/O"};
    case KVM_EXIT_MMIO:
      // A guest-physical address with no RAM behind it: on VT-x the EPT has
      // no mapping, so the access is an EPT violation.
      if (e.mmio_len == 0 || e.mmio_len > 8)
        return {ExitAction::Stop, kEptViolation, RunEndReason::VmmError, "MMIO of an impossible length"};
      return {ExitAction::Mmio, kEptViolation, {}, "MMIO"};
    case KVM_EXIT_HLT: return {ExitAction::Halt, kHlt, RunEndReason::Halted, "hlt"};
    case KVM_EXIT_DEBUG: return {ExitAction::Step, kMonitorTrapFlag, {}, "single step"};
    case KVM_EXIT_IRQ_WINDOW_OPEN: return {ExitAction::Continue, kInterruptWindow, {}, "interrupt window"};
    case KVM_EXIT_INTR: return {ExitAction::Continue, kExternalInterrupt, {}, "signal"};
    case KVM_EXIT_SHUTDOWN: return {ExitAction::Stop, kTripleFault, RunEndReason::TripleFault, "triple fault"};
    case KVM_EXIT_SYSTEM_EVENT:
      return {ExitAction::Stop, kTripleFault, RunEndReason::TripleFault, "system event (shutdown or reset)"};
    case KVM_EXIT_FAIL_ENTRY:
      return {ExitAction::Stop, kEntryFailGuestState, RunEndReason::FailedEntry, "VM entry failed"};
    case KVM_EXIT_INTERNAL_ERROR:
      return {ExitAction::Stop, kExceptionNmi, RunEndReason::InternalError, "KVM internal error"};
    default: return {ExitAction::Stop, 0, RunEndReason::VmmError, "unexpected KVM exit"};
  }
}

std::string_view kvm_exit_name(uint32_t r) {
  switch (r) {
    case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HYPERCALL: return "KVM_EXIT_HYPERCALL";
    case KVM_EXIT_DEBUG: return "KVM_EXIT_DEBUG";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "KVM_EXIT_IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
  }
  return "KVM_EXIT_(other)";
}

}  // namespace ringscope::kvm
