// builtin.cpp — the built-in experiments, as the same JSON a user writes
// (`ringscope experiment --print NAME` shows it, to copy and edit).
#include "spec.h"

namespace ringscope::experiment {

namespace {

// pv-io: the first seed's claim that para-virtual I/O removes the overhead
// of trap-and-emulate, over three orders of magnitude of transfer size.
// disk-io writes N sectors and reads them back inside its phase: 1 KiB
// moved per sector swept, hence kib_per_unit 1.
constexpr std::string_view kPvIo = R"json({
  "name": "pv-io",
  "title": "Para-virtual I/O against trap-and-emulate: console bytes and disk sectors",
  "claim": "The seed says that full virtualisation pays for every device access with a trap into the hypervisor, and that para-virtualisation removes that overhead: a guest that knows it is virtual hands the host whole buffers through shared rings (VirtIO) and brings I/O close to the host's own speed. The claim is about how the cost grows with the amount of data: per byte or sector under trap-and-emulate, per request under para-virtualisation, so the larger the transfer, the larger the gap.",
  "measured": "Each workload moves an amount of data swept over three orders of magnitude, in full-virt (the native kernel drives a 16550 UART and an ATA disk through port I/O, each access a VM exit) and paravirt (the PV kernel uses virtio-console and virtio-blk). Every figure comes from the trace's work phase (the scenario's marker pair): VM exits per KiB are counts, exact on any host; time per KiB is host time and differs between machines. The fit gives each mode's fixed cost and its cost per unit, and the size at which the two are equal: below it the set-up dominates, above it the data does.",
  "workloads": [
    {"id": "console", "scenario": "console-write", "param": "bytes", "unit": "bytes",
     "values": [64, 256, 1024, 4096, 16384, 65536], "kib_per_unit": 0.0009765625},
    {"id": "disk", "scenario": "disk-io", "param": "sectors", "unit": "sectors",
     "values": [1, 4, 16, 64, 256, 1024], "kib_per_unit": 1, "phase": "disk-io: {sectors*2} sectors"}
  ],
  "modes": ["full-virt", "paravirt"],
  "fallback_modes": {"full-virt": "emulation", "paravirt": "emulation:virtio"},
  "repeat": 3,
  "measures": [
    {"id": "exits_per_kib", "label": "VM exits per KiB", "query": {"kind": "vm_exit", "between": "{phase}"},
     "per": "kib", "log_y": true},
    {"id": "us_per_kib", "label": "µs per KiB", "query": {"measure": "span_ns", "between": "{phase}"},
     "per": "kib", "scale": 0.001, "log_y": true}
  ],
  "fit": ["exits_per_kib", "us_per_kib"]
})json";

// emulation-vs-kvm: "emulation is slow, KVM is near native" — true for user
// code everywhere, and inverted for kernel code on a PVM host.
constexpr std::string_view kEmulationVsKvm = R"json({
  "name": "emulation-vs-kvm",
  "title": "Emulation against KVM: user-mode compute and kernel-heavy system calls",
  "claim": "The seed says that emulation (QEMU's TCG, here Unicorn) is slow because every guest instruction is translated and run in software, while hardware-assisted virtualisation (KVM) runs the guest at near-native speed. That holds when the guest's code runs directly on the CPU. On a PVM host (KVM's software flavour, docs/hosts.md) guest ring 0 is itself emulated inside KVM, instruction by instruction, so for kernel-heavy work the textbook order inverts.",
  "measured": "Two workloads swept over their work size: `compute`, a ring-3 loop with no system calls or device accesses, and `syscalls`, n write() system calls (each a trap into the kernel and a UART write). The measures are time per unit of work (per iteration, per system call) in each mode and VM exits per unit. The phase ends with the program's closing marker, itself a system call, so each run carries one kernel entry as a fixed cost: the fit separates it from the cost per iteration, and a mode whose kernel path is slow needs a long loop before its per-iteration speed shows. Compare the modes' lines within a chart: their order, and whether it is the same for both workloads, is the finding; the absolute times belong to this host. Under emulation, VM exits are the VT-x model's (what VT-x would have done).",
  "workloads": [
    {"id": "compute", "scenario": "compute", "param": "n", "unit": "iterations",
     "values": [10000, 100000, 1000000, 10000000]},
    {"id": "syscalls", "scenario": "syscalls", "param": "n", "unit": "writes", "values": [4, 16, 64, 256]}
  ],
  "modes": ["full-virt", "emulation"],
  "repeat": 3,
  "measures": [
    {"id": "ns_per_unit", "label": "ns per unit of work", "query": {"measure": "span_ns", "between": "{phase}"},
     "per": "unit", "log_y": true},
    {"id": "exits_per_unit", "label": "VM exits per unit of work", "query": {"kind": "vm_exit", "between": "{phase}"},
     "per": "unit"}
  ],
  "fit": ["ns_per_unit"]
})json";

}  // namespace

const std::vector<BuiltinExperiment>& builtin_experiments() {
  static const std::vector<BuiltinExperiment> list = [] {
    std::vector<BuiltinExperiment> l = {
        {"pv-io", kPvIo}, {"emulation-vs-kvm", kEmulationVsKvm}, {"cloud", cloud_experiment_spec()}};
    for (const auto& b : overhead_experiments()) l.push_back(b);  // builtin_overhead.cpp
    return l;
  }();
  return list;
}

}  // namespace ringscope::experiment
