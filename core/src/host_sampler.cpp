// host_sampler.cpp — the host counters' sampler thread (host_sampler.h).
#include "ringscope/host_sampler.h"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "ringscope/backend.h"
#include "ringscope/cpu_list.h"
#include "ringscope/events.h"
#include "ringscope/host_counters.h"
#include "ringscope/machine.h"

namespace ringscope {

VcpuThreads::Scope VcpuThreads::enter(uint32_t vcpu) {
  std::string name = "vcpu" + std::to_string(vcpu);  // at most 15 characters
  pthread_setname_np(pthread_self(), name.c_str());
  // Checked when the list was parsed (cpu_list.h); a CPU taken offline
  // since leaves the thread where it was.
  pin_this_thread(affinity_);
  if (vcpu < slots_.size()) {
    Slot& s = slots_[vcpu];
    auto st = read_thread_schedstat();
    s.entry_cpu_ns.store(st ? st->cpu_ns : 0);
    s.entry_run_delay_ns.store(st ? st->run_delay_ns : 0);
    s.entry_ns.store(monotonic_ns());
    s.left.store(false);
    s.tid.store(gettid());  // last: a sampler that sees the tid sees the rest
    if (HostSampler* sampler = sampler_.load()) sampler->wake();
  }
  return Scope(*this, vcpu);
}

void VcpuThreads::leave(uint32_t vcpu) {
  if (vcpu >= slots_.size()) return;
  Slot& s = slots_[vcpu];
  if (auto st = read_thread_schedstat()) {  // this thread's own, while it still exists
    s.cpu_ns.store(st->cpu_ns);
    s.run_delay_ns.store(st->run_delay_ns);
  }
  s.left.store(true);
}

VcpuThreads::Reading VcpuThreads::read(uint32_t vcpu) const {
  Reading r;
  if (vcpu >= slots_.size()) return r;
  const Slot& s = slots_[vcpu];
  pid_t tid = s.tid.load();
  if (tid == 0) return r;
  if (!s.left.load()) {
    if (auto st = read_thread_schedstat(tid)) return {true, st->cpu_ns, st->run_delay_ns};
  }
  // Gone (or going): what it had when it left.
  return {true, s.cpu_ns.load(), s.run_delay_ns.load()};
}

VcpuThreads::Reading VcpuThreads::read_at_entry(uint32_t vcpu, uint64_t& time_ns) const {
  if (vcpu >= slots_.size() || slots_[vcpu].tid.load() == 0) return {};
  const Slot& s = slots_[vcpu];
  time_ns = s.entry_ns.load();
  return {true, s.entry_cpu_ns.load(), s.entry_run_delay_ns.load()};
}

HostSampler::HostSampler(EventSink& sink, Machine& machine, VcpuThreads& threads, uint64_t period_ms)
    : sink_(sink), machine_(machine), threads_(threads), period_ns_(period_ms * 1'000'000) {}

HostSampler::~HostSampler() { stop(); }

void HostSampler::start() {
  {
    std::lock_guard lock(mu_);
    sample(monotonic_ns());
  }
  thread_ = std::thread([this] { loop(); });
}

void HostSampler::final_sample() {
  std::lock_guard lock(mu_);
  if (done_) return;
  sample(monotonic_ns());
  done_ = true;
  cv_.notify_all();
}

void HostSampler::stop() {
  final_sample();
  if (thread_.joinable()) thread_.join();
}

void HostSampler::wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void HostSampler::loop() {
  pthread_setname_np(pthread_self(), "host-sampler");
  std::unique_lock lock(mu_);
  uint64_t next = monotonic_ns() + period_ns_;
  while (!done_) {
    uint64_t now = monotonic_ns();
    if (!woken_ && now < next) {
      cv_.wait_for(lock, std::chrono::nanoseconds(next - now));
      continue;
    }
    woken_ = false;
    sample(now);
    if (now >= next) next = now + period_ns_;
  }
}

void HostSampler::sample(uint64_t t) {
  using enum HostCounter;
  for (uint32_t v = 0; v < static_cast<uint32_t>(machine_.config().vcpus) && v < entry_recorded_.size(); v++) {
    if (!entry_recorded_[v]) {  // the lane's first point: the thread as it started
      uint64_t at = 0;
      VcpuThreads::Reading e = threads_.read_at_entry(v, at);
      if (!e.present) continue;  // not started yet
      emit_counter(sink_, at, v, Source::Vmm, host_counter_name(VcpuCpuNs), e.cpu_ns);
      emit_counter(sink_, at, v, Source::Vmm, host_counter_name(VcpuRunDelayNs), e.run_delay_ns);
      entry_recorded_[v] = true;
    }
    VcpuThreads::Reading r = threads_.read(v);
    if (!r.present) continue;
    emit_counter(sink_, t, v, Source::Vmm, host_counter_name(VcpuCpuNs), r.cpu_ns);
    emit_counter(sink_, t, v, Source::Vmm, host_counter_name(VcpuRunDelayNs), r.run_delay_ns);
  }
  if (auto rss = read_rss_bytes()) emit_counter(sink_, t, 0, Source::Vmm, host_counter_name(RssBytes), *rss);
  GuestMemory& ram = machine_.memory();
  if (auto b = resident_bytes(ram.host_base(), ram.size(), ram_scratch_))
    emit_counter(sink_, t, 0, Source::Vmm, host_counter_name(RamResidentBytes), *b);
  // The disk image in the host page cache: the image's own measure, the one
  // `run --disk-cache-drop` and the lab checks read too.
  if (const DiskImage* disk = machine_.disk(); disk && disk->sectors() > 0) {
    if (auto b = disk->cached_bytes()) emit_counter(sink_, t, 0, Source::Vmm, host_counter_name(DiskCachedBytes), *b);
  }
}

}  // namespace ringscope
