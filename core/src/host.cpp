// host.cpp — what this host's KVM is, and what it can run.
//
// docs/hosts.md: the development machines run KVM's PVM flavour, a software
// hypervisor where the guest runs at hardware CPL 3 and guest ring 0 is
// simulated. Some instructions behave differently there; scenarios that need
// them declare it, and this table says which and why.
#include "ringscope/host.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ringscope/i18n.h"

namespace ringscope {

std::string_view flavour_name(KvmFlavour f) {
  switch (f) {
    case KvmFlavour::None: return "none";
    case KvmFlavour::Vmx: return "VMX";
    case KvmFlavour::Svm: return "SVM";
    case KvmFlavour::Pvm: return "PVM";
    case KvmFlavour::Unknown: return "unknown";
  }
  return "unknown";
}

bool kvm_switched_off() {
  const char* v = std::getenv(kNoKvmVariable);
  return v && *v && std::string_view(v) != "0";
}

namespace {
// open(2) on /dev/kvm, or -errno; the switch reads as "no such device".
int open_kvm_raw() {
  if (kvm_switched_off()) return -ENOENT;
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  return fd >= 0 ? fd : -errno;
}
}  // namespace

Result<int> open_kvm_device() {
  int fd = open_kvm_raw();
  if (fd >= 0) return fd;
  if (kvm_switched_off())
    return make_error(ErrorKind::Unavailable,
                      trf("{} is set, so ringscope behaves as if /dev/kvm were absent; run with --mode "
                          "emulation, which needs no KVM, or unset {} to use KVM",
                          kNoKvmVariable, kNoKvmVariable));
  if (fd == -ENOENT)
    return make_error(
        ErrorKind::Unavailable,
        tr("/dev/kvm does not exist: this host has no KVM (enable virtualisation in the firmware and load "
           "kvm_intel or kvm_amd, or use a machine that has it), or run with --mode emulation, which needs "
           "no KVM; `ringscope doctor` explains more"));
  if (fd == -EACCES || fd == -EPERM)
    return make_error(
        ErrorKind::Unavailable,
        tr("cannot open /dev/kvm: permission denied; add yourself to the kvm group "
           "(`sudo usermod -aG kvm $USER`, then log in again) or run as root; --mode emulation needs no KVM"));
  return make_error(ErrorKind::Unavailable,
                    trf("cannot open /dev/kvm: {}; --mode emulation needs no KVM", strerror(-fd)));
}

HostInfo probe_host() {
  HostInfo h;
  namespace fs = std::filesystem;
  std::error_code ec;
  // Which KVM vendor module is loaded tells the flavour.
  if (fs::exists("/sys/module/kvm_intel", ec))
    h.flavour = KvmFlavour::Vmx;
  else if (fs::exists("/sys/module/kvm_amd", ec))
    h.flavour = KvmFlavour::Svm;
  else if (fs::exists("/sys/module/kvm_pvm", ec))
    h.flavour = KvmFlavour::Pvm;
  else if (fs::exists("/sys/module/kvm", ec))
    h.flavour = KvmFlavour::Unknown;

  h.kvm_switched_off = kvm_switched_off();
  h.kvm_device_exists = !h.kvm_switched_off && fs::exists("/dev/kvm", ec);
  if (h.kvm_switched_off) {
    h.kvm_open_error = fmt::format("{} is set", kNoKvmVariable);
  } else if (h.kvm_device_exists) {
    int fd = open_kvm_raw();
    if (fd >= 0) {
      h.kvm_openable = true;
      close(fd);
    } else {
      h.kvm_open_error = strerror(-fd);
    }
  } else {
    h.kvm_open_error = "no such device";
  }
  struct utsname u;
  if (uname(&u) == 0) h.kernel_release = u.release;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) h.cpu_model = line.substr(colon + 2);
      break;
    }
  }
  return h;
}

const std::vector<HostFeature>& host_features() {
  static const std::vector<HostFeature> table = {
      {"syscall-insn", "syscall", "a ring-3 program enters the kernel with the SYSCALL instruction"},
      {"int-from-user", "int n", "a ring-3 program enters the kernel through a DPL-3 IDT gate with int n"},
      {"cpuid", "cpuid", "the guest executes CPUID, which always exits on VT-x"},
      {"vmcall", "vmcall", "the guest makes a hypercall with VMCALL"},
  };
  return table;
}

const HostFeature* find_host_feature(std::string_view name) {
  for (const auto& f : host_features())
    if (f.name == name) return &f;
  return nullptr;
}

std::string kvm_refusal(const HostInfo& host, std::string_view feature) {
  const HostFeature* f = find_host_feature(feature);
  if (!f) return trf("the scenario requires an unknown host feature '{}'", feature);
  // On VT-x and AMD-V hardware every feature in the table works as the
  // architecture says. PVM (docs/hosts.md) breaks all four for a plain guest.
  if (host.flavour == KvmFlavour::Vmx || host.flavour == KvmFlavour::Svm) return {};
  std::string flavour = host.flavour == KvmFlavour::Pvm ? tr("PVM (a software hypervisor, not VT-x/AMD-V)")
                                                        : std::string(flavour_name(host.flavour));
  std::string what;
  if (feature == "syscall-insn")
    what = tr("SYSCALL from ring 3 jumps to LSTAR but stays in ring 3");
  else if (feature == "int-from-user")
    what = tr("int n from ring 3 raises #UD instead of entering the gate");
  else
    what = trf("{} hangs inside KVM_RUN", f->instruction);
  return trf(
      "this host's KVM is {}, where {}, so this scenario cannot run under KVM here; "
      "run it with --mode emulation (Unicorn), or on a VT-x/AMD-V host",
      flavour, what);
}

}  // namespace ringscope
