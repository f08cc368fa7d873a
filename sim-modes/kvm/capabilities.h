// capabilities.h — the KVM capabilities ringscope cares about, probed at run
// time (KVM_CHECK_EXTENSION), for `doctor`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ringscope::kvm {

struct Capability {
  std::string_view name;  // "KVM_CAP_SYNC_REGS"
  std::string_view why;   // what ringscope uses it for
  long value = 0;         // KVM_CHECK_EXTENSION's answer (0: absent)
};

// Empty if /dev/kvm cannot be opened.
std::vector<Capability> probe_capabilities();

}  // namespace ringscope::kvm
