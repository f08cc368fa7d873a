// host.h — what the host can do: KVM flavour, /dev/kvm access, and the table
// of host features a scenario may require.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ringscope/result.h"

namespace ringscope {

// RINGSCOPE_NO_KVM=1 makes ringscope behave as if /dev/kvm were absent:
// every probe and every open below reports "no such device", so a machine
// with KVM can show (and test) what a student's machine without it does:
// the emulation mode runs, the KVM modes say why they cannot (docs/hosts.md).
inline constexpr const char* kNoKvmVariable = "RINGSCOPE_NO_KVM";
// True when RINGSCOPE_NO_KVM is set to anything but "" or "0".
bool kvm_switched_off();

// The one place /dev/kvm is opened (read-write, close-on-exec): the host
// probe, the capability probe, the irqchip probe and the VMM all come here,
// so the switch above holds for all of them. A file descriptor the caller
// owns, or an Unavailable error that says what to do (join the kvm group,
// enable virtualisation, or use --mode emulation).
Result<int> open_kvm_device();

enum class KvmFlavour { None, Vmx, Svm, Pvm, Unknown };
std::string_view flavour_name(KvmFlavour f);  // "VMX", "SVM", "PVM", "none", "unknown"

struct HostInfo {
  KvmFlavour flavour = KvmFlavour::None;
  bool kvm_device_exists = false;
  bool kvm_openable = false;
  bool kvm_switched_off = false;  // RINGSCOPE_NO_KVM is set: the two above are false because of it
  std::string kvm_open_error;     // strerror (or the switch) when not openable
  std::string kernel_release;     // uname -r
  std::string cpu_model;
};
HostInfo probe_host();

// The host features a scenario can require (one table, read by run, doctor
// and the tests).
struct HostFeature {
  std::string_view name;         // "syscall-insn"
  std::string_view instruction;  // "syscall"
  std::string_view description;  // what the guest does that needs it
};
const std::vector<HostFeature>& host_features();
const HostFeature* find_host_feature(std::string_view name);

// Empty if a KVM run of a scenario needing `feature` works on this host;
// otherwise one clear sentence: which host flavour, which instruction, and
// what to use instead.
std::string kvm_refusal(const HostInfo& host, std::string_view feature);

}  // namespace ringscope
