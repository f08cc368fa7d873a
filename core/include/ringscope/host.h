// host.h — what the host can do: KVM flavour, /dev/kvm access, and the table
// of host features a scenario may require.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringscope {

enum class KvmFlavour { None, Vmx, Svm, Pvm, Unknown };
std::string_view flavour_name(KvmFlavour f);  // "VMX", "SVM", "PVM", "none", "unknown"

struct HostInfo {
  KvmFlavour flavour = KvmFlavour::None;
  bool kvm_device_exists = false;
  bool kvm_openable = false;
  std::string kvm_open_error;  // strerror when not openable
  std::string kernel_release;  // uname -r
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
