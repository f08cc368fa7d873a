// io_offload.cpp — the device thread of offloaded virtio I/O (io_offload.h).
#include "io_offload.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ringscope/devices/virtio_mmio.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"

namespace ringscope::kvm {

namespace {

// Everything the device thread records says so: source device-thread.
class DeviceThreadSink final : public EventSink {
 public:
  explicit DeviceThreadSink(EventSink& inner) : inner_(inner) {}
  void emit(Event& e) override {
    e.source = Source::DeviceThread;
    inner_.emit(e);
  }

 private:
  EventSink& inner_;
};

// The MMIO window `device` has on the bus, or nothing.
std::optional<uint64_t> window_of(Machine& m, const Device* device) {
  for (const auto& r : m.bus().ranges())
    if (r.space == AddressSpace::Mmio && r.device == device) return r.base;
  return std::nullopt;
}

}  // namespace

std::unique_ptr<IoOffload> IoOffload::start(Vm& vm, Machine& machine, EventSink& sink, std::mutex& bus_lock,
                                            const RunOptions& options, std::string* refused) {
  std::unique_ptr<IoOffload> o(new IoOffload(vm, machine, sink, bus_lock, options));
  // The offloaded doorbells (see io_offload.h): virtio-blk's queue 0,
  // virtio-console's transmit queue 1.
  const std::pair<const Device*, uint32_t> wanted[] = {{machine.virtio_blk(), 0}, {machine.virtio_console(), 1}};
  for (const auto& [device, queue] : wanted) {
    if (!device) continue;
    auto base = window_of(machine, device);
    if (!base) continue;
    const uint64_t gpa = *base + VirtioMmioDevice::kQueueNotify;
    auto fd = vm.ioeventfd(gpa, 4, queue);
    if (!fd.ok()) {
      if (refused)
        *refused = trf("{}; virtio notifies exit to the vCPU's thread as without --io offload", fd.error().message);
      return nullptr;  // the destructor removes the doorbells registered so far
    }
    o->doorbells_.push_back({std::move(fd).value(), gpa, queue});
  }
  if (o->doorbells_.empty()) {
    if (refused) *refused = tr("the machine has no virtio devices to offload");
    return nullptr;
  }
  o->stop_fd_ = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!o->stop_fd_.valid()) {
    if (refused) *refused = trf("eventfd failed: {}", strerror(errno));
    return nullptr;
  }
  o->thread_ = std::thread([p = o.get()] {
    pthread_setname_np(pthread_self(), "iothread");  // as `ps -L` shows it, beside vcpu0
    p->loop();
  });
  return o;
}

IoOffload::~IoOffload() {
  stop();
  for (const auto& d : doorbells_) vm_.remove_ioeventfd(d.fd, d.gpa, 4, d.queue);
}

void IoOffload::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)!write(stop_fd_.get(), &one, sizeof one);
  thread_.join();
}

std::optional<RunEndReason> IoOffload::limit_hit() const {
  int v = limit_.load(std::memory_order_relaxed);
  if (v < 0) return std::nullopt;
  return static_cast<RunEndReason>(v);
}

// Sleeps until a doorbell rings (or stop()), then serves what rang.
void IoOffload::loop() {
  std::vector<struct pollfd> fds(doorbells_.size() + 1);
  for (size_t i = 0; i < doorbells_.size(); i++) fds[i] = {doorbells_[i].fd.get(), POLLIN, 0};
  fds.back() = {stop_fd_.get(), POLLIN, 0};
  for (;;) {
    for (auto& f : fds) f.revents = 0;
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds.back().revents) return;
    const uint64_t t = monotonic_ns();  // every event of this wake-up carries it
    for (size_t i = 0; i < doorbells_.size(); i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      uint64_t n = 0;  // notifies since the last read: KVM adds one per doorbell write
      if (read(doorbells_[i].fd.get(), &n, sizeof n) != sizeof n || n == 0) continue;
      serve(doorbells_[i], n, t);
    }
  }
}

// `notifies` rings of one doorbell, served as one QueueNotify: the first
// drains the queue, later ones would find it empty.
void IoOffload::serve(Doorbell& d, uint64_t notifies, uint64_t t) {
  const bool tracing = options_.level != TraceLevel::Off;
  DeviceThreadSink out(sink_);
  DeviceContext ctx;
  ctx.memory = &machine_.memory();
  ctx.sink = tracing ? &out : nullptr;
  ctx.vcpu = 0;
  ctx.now_ns = &monotonic_ns;
  ctx.exit_time_ns = t;
  // Everything under the lock the vCPU threads take: the device's registers
  // and queues are shared with them, and every event of this notify is
  // recorded before a vCPU can record the guest's next exit.
  std::lock_guard<std::mutex> g(bus_lock_);
  ctx.open_budget(machine_.console_bytes(), options_.limits.max_output_bytes);
  for (uint64_t i = 0; i < notifies && tracing; i++) {
    // The guest's write left non-root mode (an EPT exit on VT-x); KVM
    // handled it in the kernel and woke us.
    Event e = events::vm_exit({t, 0, Source::DeviceThread}, exit_reason::kEptViolation, HandledBy::Kernel);
    events::mmio_access(e, d.gpa, 4, Direction::Write, d.queue);
    out.emit(e);
  }
  (void)machine_.bus().write(ctx, AddressSpace::Mmio, d.gpa, 4, d.queue, nullptr);  // a queue notify ends no run
  served_.fetch_add(notifies, std::memory_order_relaxed);
  if (ctx.limit_hit && limit_.load(std::memory_order_relaxed) < 0) {
    limit_.store(static_cast<int>(*ctx.limit_hit), std::memory_order_relaxed);
    if (on_limit_) on_limit_();
  }
}

}  // namespace ringscope::kvm
