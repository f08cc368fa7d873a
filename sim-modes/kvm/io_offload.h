// io_offload.h — offloaded virtio I/O (MachineConfig::io == IoPath::Offload,
// `run --io offload`, docs/modes.md "Offloaded I/O"): the idea behind vhost
// and AWS Nitro, on the standard KVM API.
//
// Without it a virtio notify is an MMIO exit: KVM_RUN returns to the vCPU's
// thread, which serves the queue, raises the completion and enters the guest
// again; the guest waits the whole time. With it:
//   1. each offloaded doorbell (QueueNotify = q of a device) is registered
//      with KVM_IOEVENTFD, so KVM answers the guest's write inside the kernel
//      by signalling an eventfd, and resumes the guest at once;
//   2. a device thread sleeps in poll() on those eventfds, serves the queue
//      (the same device model, under the same bus lock as the vCPU threads),
//      and raises the completion through the irqfd of the device's line
//      (irq_wiring.h), which KVM's in-kernel PIC delivers.
// The vCPU thread never sees the notify. The trace shows each one as a
// vm_exit handled by the kernel and observed by the device thread (source
// device-thread), followed by the device work it caused, on vCPU 0's lane
// (KVM's ioeventfd does not say which vCPU rang).
//
// Offloaded queues: virtio-blk's request queue and virtio-console's
// transmit queue. The console's receive queue stays on the vCPU thread: the
// teaching kernel takes "nothing in the buffer after the kick" as the end
// of its input, an answer only a device serving the kick during the exit
// can give.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kvm_vm.h"
#include "ringscope/backend.h"
#include "ringscope/machine.h"

namespace ringscope::kvm {

class IoOffload {
 public:
  // Registers the doorbells and starts the device thread. When KVM refuses
  // KVM_IOEVENTFD, returns nullptr with `refused` saying why (the run then
  // serves every notify on the vCPU thread, as without offload). `sink`
  // must take events from several threads; `bus_lock` is the one every
  // vCPU thread holds while it touches a device.
  static std::unique_ptr<IoOffload> start(Vm& vm, Machine& machine, EventSink& sink, std::mutex& bus_lock,
                                          const RunOptions& options, std::string* refused);
  // Stops and joins the device thread, then removes the doorbells.
  ~IoOffload();
  IoOffload(const IoOffload&) = delete;
  IoOffload& operator=(const IoOffload&) = delete;

  // Stops the device thread (idempotent): before the devices are finished.
  void stop();
  // Notifies the device thread has served so far.
  uint64_t served() const { return served_.load(std::memory_order_relaxed); }
  // A run limit a notify ran into on the device thread (the console output
  // limit); `on_limit` (set before the run) is then called once, to stop
  // the vCPU.
  std::optional<RunEndReason> limit_hit() const;
  void set_on_limit(std::function<void()> f) { on_limit_ = std::move(f); }

 private:
  struct Doorbell {
    Fd fd;
    uint64_t gpa = 0;    // the device's QueueNotify register
    uint32_t queue = 0;  // the value that rings it (datamatch)
  };
  IoOffload(Vm& vm, Machine& machine, EventSink& sink, std::mutex& bus_lock, const RunOptions& options)
      : vm_(vm), machine_(machine), sink_(sink), bus_lock_(bus_lock), options_(options) {}
  void loop();
  void serve(Doorbell& d, uint64_t notifies, uint64_t t);

  Vm& vm_;
  Machine& machine_;
  EventSink& sink_;
  std::mutex& bus_lock_;
  RunOptions options_;
  std::vector<Doorbell> doorbells_;
  Fd stop_fd_;
  std::thread thread_;
  std::atomic<uint64_t> served_{0};
  std::atomic<int> limit_{-1};  // a RunEndReason, or -1
  std::function<void()> on_limit_;
};

}  // namespace ringscope::kvm
