// The exit classifier, fed made-up KVM exits: no KVM needed.
#include <gtest/gtest.h>
#include <linux/kvm.h>

#include "kvm/exit_classifier.h"
#include "ringscope/exit_reasons.h"

namespace ringscope::kvm {
namespace {

TEST(ExitClassifier, PortIoIsReason30) {
  KvmExitInfo e;
  e.kvm_reason = KVM_EXIT_IO;
  e.io_out = true;
  e.io_size = 1;
  e.io_port = 0x3f8;
  e.io_count = 1;
  auto d = classify_exit(e);
  EXPECT_EQ(d.action, ExitAction::PortIo);
  EXPECT_EQ(d.vtx_reason, 30);
  EXPECT_EQ(exit_reason_name(d.vtx_reason), "io_instruction");
}

TEST(ExitClassifier, MapsEveryKindOfExitToItsVtxReason) {
  struct Case {
    uint32_t kvm;
    ExitAction action;
    uint16_t reason;
    RunEndReason end;
  } cases[] = {
      {KVM_EXIT_MMIO, ExitAction::Mmio, 48, {}},
      {KVM_EXIT_HLT, ExitAction::Halt, 12, RunEndReason::Halted},
      {KVM_EXIT_SHUTDOWN, ExitAction::Stop, 2, RunEndReason::TripleFault},
      {KVM_EXIT_FAIL_ENTRY, ExitAction::Stop, 33, RunEndReason::FailedEntry},
      {KVM_EXIT_INTERNAL_ERROR, ExitAction::Stop, 0, RunEndReason::InternalError},
      {KVM_EXIT_DEBUG, ExitAction::Step, 37, {}},
      {KVM_EXIT_INTR, ExitAction::Continue, 1, {}},
      {KVM_EXIT_IRQ_WINDOW_OPEN, ExitAction::Continue, 7, {}},
  };
  for (const auto& c : cases) {
    KvmExitInfo e;
    e.kvm_reason = c.kvm;
    e.mmio_len = 4;
    auto d = classify_exit(e);
    EXPECT_EQ(d.action, c.action) << kvm_exit_name(c.kvm);
    EXPECT_EQ(d.vtx_reason, c.reason) << kvm_exit_name(c.kvm);
    if (c.action == ExitAction::Stop) {
      EXPECT_EQ(d.end, c.end) << kvm_exit_name(c.kvm);
    }
  }
}

TEST(ExitClassifier, ImpossibleAccessSizesStopTheRunInsteadOfOverrunningBuffers) {
  KvmExitInfo io;
  io.kvm_reason = KVM_EXIT_IO;
  io.io_size = 3;
  EXPECT_EQ(classify_exit(io).action, ExitAction::Stop);
  KvmExitInfo mmio;
  mmio.kvm_reason = KVM_EXIT_MMIO;
  mmio.mmio_len = 16;
  EXPECT_EQ(classify_exit(mmio).action, ExitAction::Stop);
  KvmExitInfo unknown;
  unknown.kvm_reason = 9999;
  EXPECT_EQ(classify_exit(unknown).end, RunEndReason::VmmError);
}

TEST(ExitClassifier, CopiesTheIoQualificationOutOfKvmRun) {
  struct kvm_run run {};
  run.exit_reason = KVM_EXIT_IO;
  run.io.direction = KVM_EXIT_IO_IN;
  run.io.size = 1;
  run.io.port = 0x3fd;
  run.io.count = 1;
  auto e = exit_info_from(run);
  EXPECT_FALSE(e.io_out);
  EXPECT_EQ(e.io_port, 0x3fd);
  EXPECT_EQ(e.io_size, 1);
}

}  // namespace
}  // namespace ringscope::kvm
