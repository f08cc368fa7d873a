// builtin_overhead.cpp — the built-in experiments that hold the seed's
// overhead figures and the paper's nanobenchmark table against this host:
// `efficiency` (the guest as a percentage of the same work as a host
// process) and `nanobench` (Adams & Agesen's rows in every mode). The same
// JSON a user writes; builtin.cpp lists them with the others.
#include "spec.h"

namespace ringscope::experiment {

namespace {

// efficiency: the first seed's "a bare-metal hypervisor keeps about 80 % of
// native performance, a hosted one about 60 %". The baseline is the same
// program built for the host (scenarios/user/host/), run as a plain process.
constexpr std::string_view kEfficiency = R"json({
  "name": "efficiency",
  "title": "The guest as a percentage of native: the same work as a host process and in each mode",
  "claim": "The first seed says that virtualisation adds steps between the application's ring and the hardware, so that a bare-metal (type 1) hypervisor delivers only about 80 % of the machine's native performance and a hosted (type 2) one about 60 %; it counts KVM, built into the Linux kernel, as bare-metal. One figure per kind of hypervisor, whatever the work: the claim is about an average, not about what the work does.",
  "measured": "The same three programs, compiled from the same C source with the same flags and the same user library, run as a plain Linux process (native: the SDK's system calls mapped onto Linux's, scenarios/user/host/) and as a guest in each mode: compute (a ring-3 loop, no system calls), syscalls (n write() calls of one short line: kernel-heavy) and console-write (bytes written to the console in large write() calls: I/O-heavy). Each run is timed over its work phase, between the program's own two markers: under a guest, the host's clock at the two marker exits; natively, CLOCK_MONOTONIC read by the program at the same two calls (one system call each, as in the guest). Efficiency = native time / guest time for the same work, value and repeat (the runs of one repeat run back to back, so a pair shares the host's load), in per cent: 100 % is native speed. The tables give the median over the repeats and the spread (min–max). Native output goes to a file (the page cache); the guest's console goes through its device model into the VMM's memory. Read the host section before the percentages: on a PVM host the baseline is itself a guest of a cloud hypervisor, and guest ring 0 is emulated by KVM, so kernel-heavy work measures PVM, not VT-x.",
  "workloads": [
    {"id": "compute", "scenario": "compute", "param": "n", "unit": "iterations",
     "values": [1000000, 10000000, 100000000]},
    {"id": "syscalls", "scenario": "syscalls", "param": "n", "unit": "writes", "values": [16, 64, 256]},
    {"id": "io", "scenario": "console-write", "param": "bytes", "unit": "bytes",
     "values": [1024, 4096, 16384], "kib_per_unit": 0.0009765625}
  ],
  "modes": ["native", "full-virt", "paravirt", "emulation", "bt"],
  "baseline": "native",
  "repeat": 3,
  "timeout_s": 300,
  "measures": [
    {"id": "efficiency_pct", "label": "% of native speed (native time / guest time)", "relative_to": "ns_per_unit",
     "scale": 100, "log_y": true},
    {"id": "ns_per_unit", "label": "ns per unit of work", "query": {"measure": "span_ns", "between": "{phase}"},
     "per": "unit", "log_y": true},
    {"id": "exits_per_unit", "label": "VM exits per unit of work", "query": {"kind": "vm_exit", "between": "{phase}"},
     "per": "unit"}
  ]
})json";

// nanobench: Adams & Agesen, "A Comparison of Software and Hardware
// Techniques for x86 Virtualization" (ASPLOS 2006): one workload per row of
// their nanobenchmark table, all seven measured from one run of the
// nanobench scenario (workloads that differ only in their phase share it).
constexpr std::string_view kNanobench = R"json({
  "name": "nanobench",
  "title": "Adams & Agesen's nanobenchmarks in every mode: which technique wins each row",
  "claim": "Adams and Agesen (ASPLOS 2006) compared VMware's binary-translating software VMM with a VMM built on the then-new hardware assist (VT-x) and found, in their abstract's words, that the hardware VMM often suffered lower performance than the pure software one, for two reasons: no support for MMU virtualisation, and no way to combine it with software techniques for MMU virtualisation. Their nanobenchmarks isolate the operations where the two differ: syscall, in, cr8wr, call/ret, pgfault, divzero, ptemod. A row goes to hardware assist when the CPU runs it in the guest without leaving it, and to binary translation when a VM exit costs more than the translator's callout or software fault path.",
  "measured": "The nanobench scenario runs each row n times between markers of its own (the kernel brackets the ring-0 rows itself). Per operation, in each mode: the time, the VM exits (under full-virt and paravirt the ones KVM handled itself included; under emulation the VT-x model's: what VT-x would have done), the translator's callouts and the world switches (bt). A marker's own exit is not counted in the phase it closes, exactly as `ringscope compare nanobench` counts them. The counts are the host-independent part and carry the paper's pattern; times are this host's. The paper's VT-x had no nested paging, which the VT-x model's kvm-default profile has (run `compare nanobench --vmx-profile no-ept` for the paper's MMU rows).",
  "workloads": [
    {"id": "syscall", "scenario": "nanobench", "param": "n", "unit": "calls", "values": [25, 100], "phase": "syscall: {n} calls"},
    {"id": "in", "scenario": "nanobench", "param": "n", "unit": "reads", "values": [25, 100], "phase": "in: {n} reads"},
    {"id": "cr8wr", "scenario": "nanobench", "param": "n", "unit": "writes", "values": [25, 100], "phase": "cr8wr: {n} writes"},
    {"id": "callret", "scenario": "nanobench", "param": "n", "unit": "calls", "values": [25, 100], "phase": "call/ret: {n} calls"},
    {"id": "pgfault", "scenario": "nanobench", "param": "n", "unit": "faults", "values": [25, 100], "phase": "pgfault: {n} faults"},
    {"id": "divzero", "scenario": "nanobench", "param": "n", "unit": "faults", "values": [25, 100], "phase": "divzero: {n} faults"},
    {"id": "ptemod", "scenario": "nanobench", "param": "n", "unit": "changes", "values": [25, 100], "phase": "ptemod: {n} changes"}
  ],
  "modes": ["full-virt", "paravirt", "emulation", "bt"],
  "repeat": 3,
  "measures": [
    {"id": "ns_per_op", "label": "ns per operation", "phase_figure": "ns", "per": "unit", "log_y": true},
    {"id": "exits_per_op", "label": "VM exits per operation", "phase_figure": "all_exits", "per": "unit"},
    {"id": "callouts_per_op", "label": "translator callouts per operation", "phase_figure": "callouts", "per": "unit"},
    {"id": "world_switches_per_op", "label": "world switches per operation", "phase_figure": "world_switches",
     "per": "unit"}
  ]
})json";

}  // namespace

std::vector<BuiltinExperiment> overhead_experiments() {
  return {{"efficiency", kEfficiency}, {"nanobench", kNanobench}};
}

}  // namespace ringscope::experiment
