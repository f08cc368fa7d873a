// The host's view of a VM, recorded in the trace (host_counters.h): the
// sampler's counters on every vCPU lane, the process's memory figures, and
// nothing at all when sampling is off. Every figure is compared with another
// from the same test (a busy run's start against its end, a big run against
// a small one), never with a constant of time.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "emulation/emulation_backend.h"
#include "kvm/irqchip_probe.h"
#include "kvm/kvm_backend.h"
#include "ringscope/host_counters.h"
#include "ringscope/machine.h"
#include "ringscope/trace.h"
#include "support/qemu.h"
#include "support/scenario_config.h"

namespace ringscope::test {
namespace {

enum class Where { Emulation, Kvm };

struct Spec {
  std::string scenario;
  std::map<std::string, std::string> params;
  Where where = Where::Emulation;
  int vcpus = 1;
  uint64_t sample_ms = 1;
};

// Runs a scenario into an in-memory trace (the sampler writes only into a
// sink that takes events from several threads: the trace writer) and reads
// it back. The Trace is kept whole: its events' names point into it.
Trace run_traced(const Spec& spec) {
  std::optional<MachineConfig> config = scenario_config(spec.scenario, spec.params, DeviceSet::Legacy);
  if (!config) return Trace{};
  config->vcpus = spec.vcpus;
  if (spec.vcpus > 1) config->irqchip = IrqChip::Kernel;
  auto machine = Machine::create(*config);
  EXPECT_TRUE(machine.ok()) << (machine.ok() ? "" : machine.error().message);
  if (!machine.ok()) return Trace{};
  TraceHeader header;
  header.scenario = spec.scenario;
  header.vcpus = static_cast<uint32_t>(spec.vcpus);
  auto writer = TraceWriter::create_in_memory(header);
  RunOptions options;
  options.host_sample_ms = spec.sample_ms;
  Result<RunResult> r = RunResult{};
  if (spec.where == Where::Kvm) {
    kvm::KvmBackend backend;
    r = backend.run(*machine.value(), *writer, options);
  } else {
    emulation::EmulationBackend backend;
    r = backend.run(*machine.value(), *writer, options);
  }
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return Trace{};
  EXPECT_EQ(r.value().end, RunEndReason::GuestExit) << r.value().message;
  EXPECT_TRUE(writer->close().ok());
  auto trace = read_trace_bytes(writer->memory_bytes());
  EXPECT_TRUE(trace.ok()) << (trace.ok() ? "" : trace.error().message);
  return trace.ok() ? std::move(trace).value() : Trace{};
}

// The values of one host counter on one lane, in trace order.
std::vector<uint64_t> values(const Trace& trace, HostCounter c, uint32_t vcpu) {
  std::vector<uint64_t> out;
  for (const auto& e : trace.events)
    if (e.kind == EventKind::Counter && e.source == Source::Vmm && e.vcpu == vcpu && e.name == host_counter_name(c))
      out.push_back(e.value);
  return out;
}

size_t host_counter_events(const Trace& trace) {
  size_t n = 0;
  for (const auto& e : trace.events)
    if (e.kind == EventKind::Counter && find_host_counter(e.name)) n++;
  return n;
}

void expect_busy_lanes(const Trace& events, int vcpus) {
  ASSERT_FALSE(events.events.empty());
  EXPECT_EQ(events.events.back().kind, EventKind::RunEnd) << "the last sample comes before run_end";
  for (uint32_t v = 0; v < static_cast<uint32_t>(vcpus); v++) {
    auto cpu = values(events, HostCounter::VcpuCpuNs, v);
    ASSERT_GE(cpu.size(), 2u) << "vcpu" << v << ": a sample as the thread starts and one at the end";
    EXPECT_GT(cpu.back(), cpu.front()) << "vcpu" << v << ": a busy thread's CPU time rises";
    for (size_t i = 1; i < cpu.size(); i++) EXPECT_GE(cpu[i], cpu[i - 1]) << "cumulative, vcpu" << v;
    EXPECT_EQ(values(events, HostCounter::VcpuRunDelayNs, v).size(), cpu.size()) << "run delay beside CPU time";
  }
  EXPECT_FALSE(values(events, HostCounter::RssBytes, 0).empty());
  EXPECT_FALSE(values(events, HostCounter::RamResidentBytes, 0).empty());
  EXPECT_FALSE(values(events, HostCounter::DiskCachedBytes, 0).empty()) << "the machine has a scratch disk";
}

// Guest RAM the host allocated grows by about the pages the guest touched:
// a run touching `big` pages against one touching `small`, same backend.
void expect_ram_follows_pages(Where where) {
  constexpr int kSmall = 8, kBig = 520;
  auto small =
      values(run_traced({"pagefault", {{"pages", std::to_string(kSmall)}}, where}), HostCounter::RamResidentBytes, 0);
  auto big =
      values(run_traced({"pagefault", {{"pages", std::to_string(kBig)}}, where}), HostCounter::RamResidentBytes, 0);
  ASSERT_FALSE(small.empty());
  ASSERT_FALSE(big.empty());
  const double pages = (static_cast<double>(big.back()) - static_cast<double>(small.back())) / 4096.0;
  // The page tables that map the new pages cost a few more; nothing else grows.
  EXPECT_GT(pages, 0.9 * (kBig - kSmall)) << small.back() << " → " << big.back();
  EXPECT_LT(pages, 1.2 * (kBig - kSmall)) << small.back() << " → " << big.back();
}

TEST(HostCounters, TableNamesAreUniqueAndFindable) {
  ASSERT_EQ(host_counters().size(), kHostCounterCount);
  for (size_t i = 0; i < host_counters().size(); i++) {
    const auto& c = host_counters()[i];
    EXPECT_EQ(static_cast<size_t>(c.id), i) << c.name;
    EXPECT_EQ(find_host_counter(c.name), &c);
    EXPECT_EQ(c.name.substr(0, 5), "host.");
  }
  EXPECT_EQ(find_host_counter("vcpu_thread_cpu_ns"), nullptr);
}

TEST(HostCounters, ReadsThisThreadAndThisProcess) {
  auto self = read_thread_schedstat();
  ASSERT_TRUE(self.has_value()) << "/proc/thread-self/schedstat";
  EXPECT_GT(self->cpu_ns, 0u);
  EXPECT_GT(read_rss_bytes().value_or(0), 0u);
  // Four pages mapped, one touched: the host has given it one.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* map = mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  std::vector<unsigned char> scratch;
  EXPECT_EQ(resident_bytes(map, 4 * page, scratch).value_or(1), 0u);
  static_cast<char*>(map)[page] = 1;
  EXPECT_EQ(resident_bytes(map, 4 * page, scratch).value_or(0), page);
  munmap(map, 4 * page);
}

TEST(HostCounters, BusyEmulatedGuestHasRisingCpuTimeOnItsLane) {
  expect_busy_lanes(run_traced({"compute", {{"n", "200000"}}, Where::Emulation}), 1);
}

TEST(HostCounters, BusyKvmGuestHasRisingCpuTimeOnItsLane) {
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm: " << probe_host().kvm_open_error;
  expect_busy_lanes(run_traced({"compute", {{"n", "2000000"}}, Where::Kvm}), 1);
}

TEST(HostCounters, EveryVcpuLaneOfAnSmpKvmGuestHasRisingCpuTime) {
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm: " << probe_host().kvm_open_error;
  static const kvm::IrqchipProbe probe = kvm::probe_in_kernel_irqchip();
  if (!probe.works) GTEST_SKIP() << "several vCPUs need KVM's in-kernel irqchip: " << probe.detail;
  expect_busy_lanes(run_traced({"parallel", {{"procs", "4"}, {"steps", "4"}}, Where::Kvm, 4}), 4);
}

TEST(HostCounters, GuestRamResidentGrowsByTheTouchedPagesUnderEmulation) { expect_ram_follows_pages(Where::Emulation); }

TEST(HostCounters, GuestRamResidentGrowsByTheTouchedPagesUnderKvm) {
  if (!kvm_usable()) GTEST_SKIP() << "needs /dev/kvm: " << probe_host().kvm_open_error;
  expect_ram_follows_pages(Where::Kvm);
}

TEST(HostCounters, SampleMsZeroRecordsNone) {
  Spec spec{"hello", {}, Where::Emulation};
  spec.sample_ms = 0;
  auto events = run_traced(spec);
  ASSERT_FALSE(events.events.empty());
  EXPECT_EQ(host_counter_events(events), 0u);
  spec.sample_ms = 1;
  EXPECT_GT(host_counter_events(run_traced(spec)), 0u) << "the same run with sampling on has them";
}

}  // namespace
}  // namespace ringscope::test
