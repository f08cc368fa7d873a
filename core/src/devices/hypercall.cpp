// hypercall.cpp — the hypercall table and the doorbell's handlers.
//
// Arguments are guest values: a console buffer is checked against guest
// RAM and capped at kHypercallConsoleMax before a byte is read; an unknown
// number returns -ENOSYS. Nothing a guest passes can crash the VMM.
#include "ringscope/devices/hypercall.h"

#include <sched.h>
#include <time.h>

#include <array>
#include <string>

namespace ringscope {

namespace {
constexpr std::array<HypercallInfo, 6> kTable = {{
    {Hypercall::Version, "version", 0, "the hypercall ABI version; proves the doorbell is there"},
    {Hypercall::ConsoleWrite, "console_write", 2, "write a whole buffer (gpa, len) to the console in one exit"},
    {Hypercall::Yield, "yield", 0, "give the host CPU back"},
    {Hypercall::Halt, "halt", 1, "power off; the run ends with the given status"},
    {Hypercall::TimeNs, "time_ns", 0, "host wall-clock time in ns since the Unix epoch"},
    {Hypercall::MonotonicNs, "monotonic_ns", 0, "host monotonic time in ns"},
}};

uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}
}  // namespace

std::span<const HypercallInfo> hypercall_table() { return kTable; }

const HypercallInfo* find_hypercall(uint64_t number) {
  for (const auto& h : kTable)
    if (static_cast<uint64_t>(h.number) == number) return &h;
  return nullptr;
}

std::optional<Hypercall> hypercall_from_name(std::string_view name) {
  for (const auto& h : kTable)
    if (h.name == name) return h.number;
  return std::nullopt;
}

uint64_t HypercallDevice::read(DeviceContext& ctx, uint64_t, uint8_t width) {
  (void)ctx;
  return width >= 8 ? ~0ull : (1ull << (width * 8)) - 1;
}

AccessResult HypercallDevice::write_access(DeviceContext& ctx, uint64_t, uint8_t width, uint64_t value) {
  if (VcpuRegisters* regs = ctx.regs) {
    HypercallRegs r{regs->get(Gpr::Rax), regs->get(Gpr::Rbx), regs->get(Gpr::Rcx), regs->get(Gpr::Rdx),
                    regs->get(Gpr::Rsi)};
    CallResult c = call(ctx, r, Transport::Port, regs->observed_by(), regs->rip(), regs->cpl());
    regs->set(Gpr::Rax, c.rax);
    return c.access;
  }
  ctx.trace_device(name(),
                   "error: doorbell rung without registers (a repeated OUTS, or a backend that cannot read them)",
                   Direction::Out, value, width);
  return {};
}

uint64_t HypercallDevice::console_write(DeviceContext& ctx, uint64_t gpa, uint64_t len) {
  if (len > kHypercallConsoleMax) return static_cast<uint64_t>(kHcEINVAL);
  if (!ctx.memory) return static_cast<uint64_t>(kHcEFAULT);
  auto bytes = ctx.memory->slice(gpa, len);
  if (bytes.size() != len) return static_cast<uint64_t>(kHcEFAULT);
  if (console_) console_(ctx, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  return len;
}

HypercallDevice::CallResult HypercallDevice::call(DeviceContext& ctx, const HypercallRegs& r, Transport transport,
                                                  Source source, uint64_t rip, uint8_t cpl) {
  calls_++;
  uint64_t t0 = ctx.now_ns ? ctx.now_ns() : 0;
  uint64_t result = static_cast<uint64_t>(kHcENOSYS);
  AccessResult access;
  switch (static_cast<Hypercall>(r.rax)) {
    case Hypercall::Version: result = kHypercallAbiVersion; break;
    case Hypercall::ConsoleWrite: result = console_write(ctx, r.rbx, r.rcx); break;
    case Hypercall::Yield:
      sched_yield();
      result = 0;
      break;
    case Hypercall::Halt:
      access = {.guest_exit = true, .guest_status = static_cast<int>(r.rbx & 0xff)};
      result = 0;
      break;
    case Hypercall::TimeNs: result = clock_ns(CLOCK_REALTIME); break;
    case Hypercall::MonotonicNs: result = clock_ns(CLOCK_MONOTONIC); break;
  }
  if (ctx.sink) {
    Event e = events::hypercall({t0, ctx.vcpu, source}, transport, r.rax, {r.rbx, r.rcx, r.rdx, r.rsi}, result, rip,
                                cpl, ctx.now_ns ? ctx.now_ns() - t0 : 0);
    ctx.sink->emit(e);
  }
  return {result, access};
}

}  // namespace ringscope
