// device.h — what every device model implements.
//
// Devices are backend-neutral (STYLE.md, Firecracker): they see an offset
// into their own register window, never an absolute port or address, and
// never include <linux/kvm.h>. The KVM backend and the emulation backend
// call the same objects through the same Bus.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ringscope/event.h"
#include "ringscope/guest_memory.h"

namespace ringscope {

// The vCPU's registers, for the rare device whose protocol passes values in
// registers instead of on the bus: the hypercall doorbell (number in RAX,
// arguments in RBX, RCX, RDX, RSI, result back in RAX). Each backend
// implements it over its own CPU (KVM's kvm_regs, Unicorn's registers) and
// hands it to the bus with a single port write; the device then does the
// whole protocol itself, the same code under every backend.
enum class Gpr : uint8_t { Rax, Rbx, Rcx, Rdx, Rsi, Rdi };
class VcpuRegisters {
 public:
  virtual ~VcpuRegisters() = default;
  virtual uint64_t get(Gpr reg) = 0;
  virtual void set(Gpr reg, uint64_t value) = 0;  // seen by the guest when it resumes
  virtual uint64_t rip() = 0;                     // of the instruction that made the access
  virtual uint8_t cpl() = 0;
  virtual Source observed_by() const = 0;  // kvm-exit, emulator: the `source` of events about it
};

// What one device access (one exit under KVM) leaves for the backend to act
// on: the guest's own exit (the status it reported on the probe port or
// through a hypercall), or a run limit a device ran into inside it. Nothing
// set: the run goes on. A device returns it from write_access(); the
// backend adds the limits (DeviceContext::access_result) and decides what
// ends the run and how (run_limits.h: check_after_exit).
struct AccessResult {
  bool guest_exit = false;
  int guest_status = 0;
  std::optional<RunEndReason> limit_hit;

  // Several accesses in one exit (a `rep outs`): the last exit status the
  // guest reported, the first limit hit.
  void add(const AccessResult& r) {
    if (r.guest_exit) guest_exit = true, guest_status = r.guest_status;
    if (!limit_hit) limit_hit = r.limit_hit;
  }
};

// What a device may touch while handling one access: guest RAM (bounds
// checked), the event sink, and the current time and vCPU for its events.
struct DeviceContext {
  GuestMemory* memory = nullptr;
  EventSink* sink = nullptr;
  uint32_t vcpu = 0;
  uint64_t (*now_ns)() = nullptr;  // host monotonic clock
  // The time of the exit being handled, when the backend knows it (KVM):
  // every event a device records during that exit carries it, so the events
  // of one exit share one timestamp and the clock is read once per exit.
  uint64_t exit_time_ns = 0;
  // The run's limits, inside one access. A single exit can carry a great
  // deal of work (a notify that drains a whole virtqueue, a `rep` count),
  // so checking the limits between exits is not enough: the backend sets
  // these before each access, and a device that loops checks
  // out_of_budget() before each unit of work (a descriptor chain, a rep
  // element), stops at the first limit, and leaves the rest undone (chains
  // stay in the ring). The backend then ends the run with `limit_hit`.
  const std::atomic<bool>* stop_flag = nullptr;  // the watchdog's wall-time stop
  uint64_t output_left = UINT64_MAX;             // console bytes the run may still write
  std::optional<RunEndReason> limit_hit;         // the first limit this access ran into

  // Opens one access's budget: the console bytes the run may still write,
  // given what it has written (one byte past the limit is what trips it, as
  // between exits).
  void open_budget(uint64_t written, uint64_t max_output) {
    limit_hit.reset();
    output_left = written > max_output ? 0 : max_output - written + 1;
  }

  // True once a limit has tripped (and records the wall-time one when the
  // watchdog has asked for a stop).
  bool out_of_budget() {
    if (limit_hit) return true;
    if (stop_flag && stop_flag->load(std::memory_order_relaxed)) limit_hit = RunEndReason::WatchdogTime;
    return limit_hit.has_value();
  }
  // Takes one console byte from the output budget; false (and the output
  // limit recorded) when there is none left.
  bool take_output_byte() {
    if (output_left == 0) {
      if (!limit_hit) limit_hit = RunEndReason::WatchdogOutput;
      return false;
    }
    output_left--;
    return true;
  }

  // What the access opened by open_budget left for the backend: what the
  // devices returned, and the limit the access ran into.
  AccessResult access_result(AccessResult from_devices) const {
    from_devices.add({false, 0, limit_hit});
    return from_devices;
  }

  // The timestamp for an event a device records now.
  uint64_t event_time() const { return exit_time_ns ? exit_time_ns : now_ns ? now_ns() : 0; }

  // Records what a device model just did as a `device` event (nothing when
  // tracing is off). Every device traces through here.
  void trace_device(std::string_view device, std::string_view reg, Direction dir, uint64_t value, uint8_t size,
                    uint32_t count = 0) {
    if (!sink) return;
    Event e = events::device({event_time(), vcpu, Source::Vmm}, device, reg, dir, value, size, count);
    sink->emit(e);
  }
  // The accessing vCPU's registers, where the backend offers them for this
  // access (a single, non-repeated port write); nullptr otherwise.
  VcpuRegisters* regs = nullptr;
};

// What a device asks of the backend after an access.
class Device {
 public:
  virtual ~Device() = default;
  virtual std::string_view name() const = 0;
  // Width is 1, 2, 4 or 8 bytes. The value read is zero-extended.
  virtual uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) = 0;
  virtual void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) = 0;
  // A write as the bus makes it: its result says whether it ended the run
  // (the guest's exit). Most devices never end one and keep this default; a
  // device that can (the probe's exit port, the halt hypercall) overrides
  // it and returns the outcome instead of leaving a flag for the backend.
  virtual AccessResult write_access(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) {
    write(ctx, offset, width, value);
    return {};
  }
  // Register name for an offset, for traces ("THR", "LSR"); "" if none.
  virtual std::string_view register_name(uint64_t offset, Direction dir) const {
    (void)offset;
    (void)dir;
    return {};
  }
  // Called once when the run ends (flush buffered output, close files).
  virtual void finish(DeviceContext& ctx) { (void)ctx; }
};

}  // namespace ringscope
