// mode.h — the ways ringscope runs a guest (docs/design.md "Modes"), as a
// type: parsed once from a name, compared as a value. The CLI's mode table
// (cli/backends.cpp: which backend, which devices) is keyed by these names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringscope {

enum class Mode : uint8_t {
  FullVirt = 0,  // "full-virt": KVM, the unmodified kernel, emulated legacy devices
  Paravirt,      // "paravirt": KVM, the PV kernel, virtio and hypercalls
  Emulation,     // "emulation": Unicorn, every instruction in software
  Bt,            // "bt": binary translation: user code on KVM, kernel code translated (docs/design.md "Modes")
  HvmPv,         // "hvm-pv": KVM, the native kernel with virtio drivers and no hypercalls (AWS's HVM with PV drivers)
};
inline constexpr int kModeCount = 5;

// A mode core knows may have no backend in a build: the CLI's mode table
// (cli/backends.cpp) says which ones it runs, and refuses the others by name.
std::string_view mode_name(Mode m);  // "full-virt", "paravirt", "emulation", "bt", "hvm-pv"
std::optional<Mode> mode_from_name(std::string_view name);
// "full-virt, paravirt, emulation, bt or hvm-pv": for messages that list the choices.
std::string mode_choices();
// Whether the mode needs /dev/kvm (every mode but emulation; bt runs guest user code on KVM).
inline bool mode_needs_kvm(Mode m) { return m != Mode::Emulation; }

}  // namespace ringscope
