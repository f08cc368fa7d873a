// builtin_cloud.cpp — the built-in experiment `cloud`: the first seed's AWS
// story (§5) in four ways of running the same I/O (docs/experiments.md).
#include "spec.h"

namespace ringscope::experiment {

// The same disk and console work as Xen-style PV (paravirt: hypercalls and
// virtio), HVM (full-virt: emulated devices), HVM with PV drivers (hvm-pv:
// the native kernel with virtio drivers) and offloaded I/O (hvm-pv+offload:
// the doorbells registered with KVM_IOEVENTFD, a device thread serving the
// queues). Where the exits went is measured with handled_by and source.
std::string_view cloud_experiment_spec() {
  return R"json({
  "name": "cloud",
  "title": "The AWS story: Xen-style PV, HVM, HVM with PV drivers, and offloaded I/O",
  "claim": "The seed (§5) says that AWS first recommended para-virtual (PV) images, since para-virtualisation had less overhead than full virtualisation (HVM), and then stopped: among the reasons, HVM images got PV drivers, which brought their I/O up to PV's, so a modified kernel was no longer worth its cost. It then says that the Nitro hypervisor takes I/O off the hypervisor's path and comes close to bare metal. Two claims to test: HVM with PV drivers catches up with PV, and offloaded I/O approaches bare metal, where I/O costs the guest no trip into the hypervisor at all.",
  "measured": "The same work runs four ways: `paravirt` (Xen-style PV: the PV kernel, hypercalls and virtio), `full-virt` (HVM: the native kernel on an emulated UART and ATA disk), `hvm-pv` (HVM with PV drivers: the native kernel with virtio drivers, no hypercalls) and `hvm-pv+offload` (the same guest with the virtio doorbells registered with KVM_IOEVENTFD: KVM answers a notify in the kernel and a device thread serves the queue and signals completion through an irqfd, as vhost and Nitro do). For each, every VM exit per KiB, the exits that reached the VMM's vCPU thread (handled_by vmm: the guest waits while the VMM works), the doorbells the device thread served (source device-thread: the guest ran on), and the time per KiB. Read the first claim in the vCPU-thread exits: hvm-pv's equal paravirt's to the exit, since the data path is the same virtio; what PV adds (hypercalls) is not on it. Read the second in the same column: offload leaves the vCPU thread only the completion interrupt's acknowledgement (virtio-mmio's InterruptStatus read and InterruptACK write; MSI-X would remove those too) and, for the polled console, nothing at all; bare metal would have none. The exits do not vanish: each notify still leaves the guest, but KVM answers it in the kernel, so the total column stays while the vCPU-thread column falls. Times are this host's; on a PVM host the guest kernel's own code is emulated inside KVM (docs/hosts.md), which hides much of what offload saves.",
  "workloads": [
    {"id": "console", "scenario": "console-write", "param": "bytes", "unit": "bytes",
     "values": [256, 4096, 16384], "kib_per_unit": 0.0009765625},
    {"id": "disk", "scenario": "disk-io", "param": "sectors", "unit": "sectors",
     "values": [4, 32, 256], "kib_per_unit": 1, "phase": "disk-io: {sectors*2} sectors"}
  ],
  "modes": ["paravirt", "full-virt", "hvm-pv", "hvm-pv+offload"],
  "fallback_modes": {"full-virt": "emulation", "paravirt": "emulation:virtio"},
  "repeat": 3,
  "measures": [
    {"id": "exits_per_kib", "label": "VM exits per KiB (wherever they went)",
     "query": {"kind": "vm_exit", "between": "{phase}"}, "per": "kib", "log_y": true},
    {"id": "vcpu_exits_per_kib", "label": "exits to the vCPU thread per KiB",
     "query": {"kind": "vm_exit", "handled_by": "vmm", "between": "{phase}"}, "per": "kib", "log_y": true},
    {"id": "device_thread_per_kib", "label": "doorbells served by the device thread per KiB",
     "query": {"kind": "vm_exit", "source": "device-thread", "between": "{phase}"}, "per": "kib"},
    {"id": "us_per_kib", "label": "µs per KiB", "query": {"measure": "span_ns", "between": "{phase}"},
     "per": "kib", "scale": 0.001, "log_y": true}
  ],
  "fit": ["vcpu_exits_per_kib", "us_per_kib"]
})json";
}

}  // namespace ringscope::experiment
