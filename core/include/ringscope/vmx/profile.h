// vmx/profile.h — the VMCS controls the VT-x model reads (docs/vmx-model.md).
//
// A Profile is the small part of a VMCS that decides which guest actions
// leave VMX non-root mode, written as plain data so a student can read it,
// change it in a JSON file and watch the exit count change:
//
//   primary processor-based VM-execution controls   SDM Vol. 3C §25.6.2, Table 25-6
//     HLT exiting (bit 7), INVLPG exiting (9), RDTSC exiting (12),
//     CR3-load / CR3-store exiting (15, 16), unconditional I/O exiting (24),
//     use I/O bitmaps (25), use MSR bitmaps (28)
//   secondary controls: enable EPT (bit 1)            §25.6.2, Table 25-7
//   exception bitmap                                  §25.6.3
//   I/O bitmaps A and B (one bit per port)            §25.6.4
//   CR0 / CR4 guest/host masks and read shadows       §25.6.6
//   MSR bitmaps (read and write, low and high range)  §25.6.9
//
// and, beside the VMCS, how KVM splits the exits it gets between itself
// (handled in the kernel) and the VMM in user space (KVM_RUN returns).
// Which instructions exit under which control: §26.1 ("Instructions That
// Cause VM Exits"). Section numbers follow the 2023 edition of the SDM.
#pragma once

#include <bitset>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/result.h"

namespace ringscope::vmx {

// How port I/O is controlled (§26.1.3): the I/O bitmaps, when used, win
// over unconditional I/O exiting.
enum class IoExiting : uint8_t {
  None,           // neither control set: IN/OUT run natively (the guest owns every port)
  Unconditional,  // "unconditional I/O exiting": every IN, OUT, INS, OUTS exits (what KVM sets)
  Bitmap,         // "use I/O bitmaps": a port exits if its bit is set in bitmap A (0-7fff) or B (8000-ffff)
};
std::string_view io_exiting_name(IoExiting m);  // "none", "unconditional", "bitmap"

struct Profile {
  std::string name;         // "kvm-default", or the file it came from
  std::string description;  // one sentence for people

  // Primary processor-based controls.
  IoExiting io = IoExiting::Unconditional;
  std::bitset<65536> io_bitmap;  // ports whose accesses exit (with IoExiting::Bitmap)
  bool hlt_exiting = true;
  bool invlpg_exiting = false;
  bool rdtsc_exiting = false;
  bool cr3_load_exiting = false;
  bool cr3_store_exiting = false;
  bool use_msr_bitmaps = true;  // false: every RDMSR and WRMSR exits (§26.1.3)

  // MSRs whose bit is *clear* in the MSR bitmaps (the guest reads/writes
  // them without an exit). MSRs outside the two bitmap ranges (0-1fff,
  // c0000000-c0001fff) always exit.
  std::set<uint32_t> msr_read_passthrough;
  std::set<uint32_t> msr_write_passthrough;

  // CR0 / CR4 guest/host masks: a set bit is owned by the hypervisor, and a
  // MOV to CR that would change an owned bit (against the read shadow,
  // which holds the value the guest believes it wrote) exits.
  uint64_t cr0_guest_host_mask = 0;
  uint64_t cr4_guest_host_mask = 0;

  uint32_t exception_bitmap = 0;  // bit n set: exception vector n exits (exit reason 0)
  bool ept = true;                // secondary control "enable EPT"

  // Not VMCS: the ports KVM emulates inside the kernel (with an in-kernel
  // irqchip: PIC, PIT, ...), whose I/O exits never reach the VMM.
  std::set<uint16_t> kernel_ports;
  // Not VMCS: whether HLT exits go to the VMM (KVM_EXIT_HLT, the VMM has no
  // in-kernel irqchip, as ringscope's) or stay in the kernel.
  bool hlt_to_vmm = true;
};

// The named presets, in the order `--vmx-profile help` lists them.
struct PresetInfo {
  std::string_view name;
  std::string_view summary;
};
const std::vector<PresetInfo>& presets();
// The preset with this name, or a NoInput error listing the names.
Result<Profile> preset(std::string_view name);

// A profile from JSON text (docs/vmx-model.md). `name` names it in errors
// and in the trace. Keys absent from the file keep the value of the preset
// it names in "base" (default kvm-default).
Result<Profile> parse_profile(std::string_view json_text, std::string_view name);
// A preset name, or a path to a JSON file.
Result<Profile> load_profile(std::string_view name_or_path);
// The profile as JSON, in the format parse_profile reads back.
std::string profile_to_json(const Profile& p);

}  // namespace ringscope::vmx
