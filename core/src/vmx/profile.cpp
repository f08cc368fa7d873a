// profile.cpp — the named presets and the JSON profile format
// (docs/vmx-model.md).
//
// kvm-default follows what Linux's KVM programs on Intel hosts
// (arch/x86/kvm/vmx/vmx.c): unconditional I/O exiting (KVM does not use the
// I/O bitmaps), HLT exiting, EPT on (so neither CR3 loads, INVLPG nor #PF
// exit), MSR bitmaps that let the guest touch FS/GS base, KERNEL_GS_BASE,
// the SYSENTER MSRs and the TSC directly, an exception bitmap of #DB, #UD,
// #AC and #MC, and CR0/CR4 guest/host masks that own every bit except the
// few the guest may flip freely (CR0.TS/WP; CR4.PGE, TSD, DE, PCE, OSFXSR,
// OSXMMEXCPT, LA57, FSGSBASE).
#include "ringscope/vmx/profile.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "ringscope/files.h"
#include "ringscope/i18n.h"

namespace ringscope::vmx {

using nlohmann::json;

std::string_view io_exiting_name(IoExiting m) {
  switch (m) {
    case IoExiting::None: return "none";
    case IoExiting::Unconditional: return "unconditional";
    case IoExiting::Bitmap: return "bitmap";
  }
  return "none";
}

namespace {

constexpr uint32_t kMsrTsc = 0x10, kMsrSpecCtrl = 0x48, kMsrPredCmd = 0x49, kMsrSysenterCs = 0x174,
                   kMsrSysenterEsp = 0x175, kMsrSysenterEip = 0x176, kMsrFsBase = 0xc0000100, kMsrGsBase = 0xc0000101,
                   kMsrKernelGsBase = 0xc0000102;
constexpr uint32_t vec(int v) { return 1u << v; }

Profile kvm_default() {
  Profile p;
  p.name = "kvm-default";
  p.description = "what KVM programs on a VT-x host: every port I/O and HLT exits to the VMM, EPT on";
  p.io = IoExiting::Unconditional;
  p.hlt_exiting = true;
  p.ept = true;
  p.use_msr_bitmaps = true;
  for (uint32_t m : {kMsrFsBase, kMsrGsBase, kMsrKernelGsBase, kMsrSysenterCs, kMsrSysenterEsp, kMsrSysenterEip,
                     kMsrSpecCtrl, kMsrTsc}) {
    p.msr_read_passthrough.insert(m);
  }
  for (uint32_t m : {kMsrFsBase, kMsrGsBase, kMsrKernelGsBase, kMsrSysenterCs, kMsrSysenterEsp, kMsrSysenterEip,
                     kMsrSpecCtrl, kMsrPredCmd})
    p.msr_write_passthrough.insert(m);
  // Guest-owned CR0 bits: TS (3) and, with EPT, WP (16).
  p.cr0_guest_host_mask = ~((1ull << 3) | (1ull << 16));
  // Guest-owned CR4 bits: PVI 1, TSD 2, DE 3, PGE 7 (with EPT), PCE 8, OSFXSR 9, OSXMMEXCPT 10, LA57 12, FSGSBASE 16.
  p.cr4_guest_host_mask = ~((1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 7) | (1ull << 8) | (1ull << 9) |
                            (1ull << 10) | (1ull << 12) | (1ull << 16));
  p.exception_bitmap = vec(1) | vec(6) | vec(17) | vec(18);  // #DB #UD #AC #MC
  return p;
}

// KVM with EPT off (the kvm_intel module's ept=0), and what PVM does on
// this project's hosts: the hypervisor keeps shadow page tables, so it
// must see every CR3 load, every INVLPG and every page fault, and it
// write-protects the guest's own page tables (no control of its own: the
// model sees EPT off and the #PF bit, vmx/page_tables.h).
Profile no_ept() {
  Profile p = kvm_default();
  p.name = "no-ept";
  p.description =
      "shadow paging: CR3 loads and stores, INVLPG, every #PF and every store into a page table exit (KVM with ept=0, "
      "PVM)";
  p.ept = false;
  p.cr3_load_exiting = p.cr3_store_exiting = true;
  p.invlpg_exiting = true;
  p.exception_bitmap |= vec(14);
  p.cr0_guest_host_mask |= 1ull << 16;  // WP: the shadow tables depend on it
  p.cr4_guest_host_mask |= 1ull << 7;   // PGE: likewise
  return p;
}

Profile trap_everything() {
  Profile p;
  p.name = "trap-everything";
  p.description = "every control that can exit does: a trap-and-emulate hypervisor with nothing passed through";
  p.io = IoExiting::Unconditional;
  p.hlt_exiting = p.invlpg_exiting = p.rdtsc_exiting = true;
  p.cr3_load_exiting = p.cr3_store_exiting = true;
  p.use_msr_bitmaps = false;
  p.cr0_guest_host_mask = p.cr4_guest_host_mask = ~0ull;
  p.exception_bitmap = ~0u;
  p.ept = false;
  return p;
}

Profile io_bitmap_uart_only() {
  Profile p = kvm_default();
  p.name = "io-bitmap-uart-only";
  p.description = "kvm-default with the I/O bitmaps on and only the UART's ports 0x3f8-0x3ff trapped";
  p.io = IoExiting::Bitmap;
  for (uint16_t port = 0x3f8; port <= 0x3ff; port++) p.io_bitmap.set(port);
  return p;
}

struct PresetEntry {
  PresetInfo info;
  Profile (*make)();
};
const std::vector<PresetEntry>& table() {
  static const std::vector<PresetEntry> t = {
      {{"kvm-default", "what KVM uses on VT-x: port I/O and HLT exit to the VMM; EPT on, so paging does not exit"},
       &kvm_default},
      {{"no-ept", "shadow paging (KVM ept=0, PVM): also every CR3 load/store, INVLPG, #PF and page-table write exits"},
       &no_ept},
      {{"trap-everything", "every control on, no MSR passed through, every exception intercepted, EPT off"},
       &trap_everything},
      {{"io-bitmap-uart-only", "I/O bitmaps instead of unconditional I/O exiting; only the UART (0x3f8-0x3ff) traps"},
       &io_bitmap_uart_only},
  };
  return t;
}

std::string preset_names() {
  std::string s;
  for (const auto& e : table()) s += (s.empty() ? "" : ", ") + std::string(e.info.name);
  return s;
}

// ---- JSON ---------------------------------------------------------------

// A number as a JSON number or a string ("0x3f8", "1016").
std::optional<uint64_t> as_number(const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  if (j.is_number_integer() && j.get<int64_t>() >= 0) return uint64_t(j.get<int64_t>());
  if (!j.is_string()) return std::nullopt;
  const std::string s = j.get<std::string>();
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used, 0);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

struct Reader {
  const json& root;
  std::string name;
  std::string error;

  Error fail(std::string what) const { return make_error(ErrorKind::BadData, trf("VMX profile {}: {}", name, what)); }
  bool get_bool(const char* key, bool& out) {
    if (!root.contains(key)) return true;
    if (!root[key].is_boolean()) return bad(fmt::format("\"{}\" must be true or false", key));
    out = root[key].get<bool>();
    return true;
  }
  bool get_u64(const char* key, uint64_t& out) {
    if (!root.contains(key)) return true;
    auto v = as_number(root[key]);
    if (!v) return bad(fmt::format("\"{}\" must be a number (or a string such as \"0xfffffff7\")", key));
    out = *v;
    return true;
  }
  // A list of numbers and "lo-hi" ranges.
  template <typename F>
  bool get_list(const char* key, uint64_t max, F add) {
    if (!root.contains(key)) return true;
    const json& list = root[key];
    if (!list.is_array()) return bad(fmt::format("\"{}\" must be a list, e.g. [\"0x3f8-0x3ff\", 244]", key));
    for (const json& item : list) {
      uint64_t lo, hi;
      if (item.is_string() && item.get<std::string>().find('-') != std::string::npos) {
        std::string s = item.get<std::string>();
        auto dash = s.find('-');
        auto a = as_number(json(s.substr(0, dash))), b = as_number(json(s.substr(dash + 1)));
        if (!a || !b || *a > *b) return bad(fmt::format("\"{}\": '{}' is not a range lo-hi", key, s));
        lo = *a, hi = *b;
      } else {
        auto v = as_number(item);
        if (!v) return bad(fmt::format("\"{}\": {} is not a number", key, item.dump()));
        lo = hi = *v;
      }
      if (hi > max) return bad(fmt::format("\"{}\": {:#x} is larger than {:#x}", key, hi, max));
      if (hi - lo > 0xffff) return bad(fmt::format("\"{}\": a range may span at most 65536 values", key));
      for (uint64_t v = lo; v <= hi; v++) add(v);
    }
    return true;
  }
  bool bad(std::string message) {
    if (error.empty()) error = std::move(message);
    return false;
  }
};

std::optional<int> exception_vector(const json& item) {
  if (auto v = as_number(item); v && *v < 32) return int(*v);
  if (!item.is_string()) return std::nullopt;
  static const char* const kNames[32] = {"DE", "DB", "NMI", "BP", "OF", "BR", "UD", "NM", "DF", "",   "TS",
                                         "NP", "SS", "GP",  "PF", "",   "MF", "AC", "MC", "XM", "VE", "CP"};
  std::string s = item.get<std::string>();
  if (s.starts_with("#")) s = s.substr(1);
  for (int i = 0; i < 32; i++)
    if (kNames[i] && *kNames[i] && s == kNames[i]) return i;
  return std::nullopt;
}

}  // namespace

const std::vector<PresetInfo>& presets() {
  static const std::vector<PresetInfo> infos = [] {
    std::vector<PresetInfo> v;
    for (const auto& e : table()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

Result<Profile> preset(std::string_view name) {
  for (const auto& e : table())
    if (e.info.name == name) return e.make();
  return make_error(ErrorKind::NoInput, trf("no VMX profile preset '{}'; the presets are {} (or give a JSON file, "
                                            "docs/vmx-model.md)",
                                            name, preset_names()));
}

Result<Profile> parse_profile(std::string_view text, std::string_view name) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return make_error(ErrorKind::BadData,
                      trf("VMX profile {}: not a JSON object (docs/vmx-model.md shows the format)", name));
  std::string base = "kvm-default";
  if (root.contains("base")) {
    if (!root["base"].is_string())
      return make_error(ErrorKind::BadData, trf("VMX profile {}: \"base\" must be a preset name", name));
    base = root["base"].get<std::string>();
  }
  auto b = preset(base);
  if (!b.ok()) return make_error(ErrorKind::BadData, trf("VMX profile {}: {}", name, b.error().message));
  Profile p = std::move(b).value();
  p.name = root.contains("name") && root["name"].is_string() ? root["name"].get<std::string>() : std::string(name);
  if (root.contains("description") && root["description"].is_string())
    p.description = root["description"].get<std::string>();

  static const std::set<std::string> kKeys = {"name",
                                              "base",
                                              "description",
                                              "io_exiting",
                                              "io_bitmap",
                                              "hlt_exiting",
                                              "invlpg_exiting",
                                              "rdtsc_exiting",
                                              "cr3_load_exiting",
                                              "cr3_store_exiting",
                                              "use_msr_bitmaps",
                                              "msr_read_passthrough",
                                              "msr_write_passthrough",
                                              "cr0_guest_host_mask",
                                              "cr4_guest_host_mask",
                                              "exception_bitmap",
                                              "ept",
                                              "kernel_ports",
                                              "hlt_to_vmm"};
  for (const auto& [key, _] : root.items())
    if (!kKeys.count(key))
      return make_error(ErrorKind::BadData,
                        trf("VMX profile {}: unknown key \"{}\" (docs/vmx-model.md lists the keys)", name, key));

  Reader r{root, std::string(name), {}};
  if (root.contains("io_exiting")) {
    std::string m = root["io_exiting"].is_string() ? root["io_exiting"].get<std::string>() : "";
    if (m == "none")
      p.io = IoExiting::None;
    else if (m == "unconditional")
      p.io = IoExiting::Unconditional;
    else if (m == "bitmap")
      p.io = IoExiting::Bitmap;
    else
      return r.fail("\"io_exiting\" must be \"none\", \"unconditional\" or \"bitmap\"");
  }
  if (root.contains("io_bitmap")) {
    p.io_bitmap.reset();
    if (!r.get_list("io_bitmap", 0xffff, [&](uint64_t v) { p.io_bitmap.set(v); })) return r.fail(r.error);
    if (!root.contains("io_exiting")) p.io = IoExiting::Bitmap;  // giving a bitmap means using it
  }
  uint64_t cr0 = p.cr0_guest_host_mask, cr4 = p.cr4_guest_host_mask;
  bool ok = r.get_bool("hlt_exiting", p.hlt_exiting) && r.get_bool("invlpg_exiting", p.invlpg_exiting) &&
            r.get_bool("rdtsc_exiting", p.rdtsc_exiting) && r.get_bool("cr3_load_exiting", p.cr3_load_exiting) &&
            r.get_bool("cr3_store_exiting", p.cr3_store_exiting) && r.get_bool("use_msr_bitmaps", p.use_msr_bitmaps) &&
            r.get_bool("ept", p.ept) && r.get_bool("hlt_to_vmm", p.hlt_to_vmm) &&
            r.get_u64("cr0_guest_host_mask", cr0) && r.get_u64("cr4_guest_host_mask", cr4);
  if (!ok) return r.fail(r.error);
  p.cr0_guest_host_mask = cr0, p.cr4_guest_host_mask = cr4;
  for (const char* key : {"msr_read_passthrough", "msr_write_passthrough"}) {
    if (!root.contains(key)) continue;
    auto& set = std::string_view(key) == "msr_read_passthrough" ? p.msr_read_passthrough : p.msr_write_passthrough;
    set.clear();
    if (!r.get_list(key, 0xffffffff, [&](uint64_t v) { set.insert(uint32_t(v)); })) return r.fail(r.error);
  }
  if (root.contains("kernel_ports")) {
    p.kernel_ports.clear();
    if (!r.get_list("kernel_ports", 0xffff, [&](uint64_t v) { p.kernel_ports.insert(uint16_t(v)); }))
      return r.fail(r.error);
  }
  if (root.contains("exception_bitmap")) {
    const json& eb = root["exception_bitmap"];
    if (auto v = as_number(eb)) {
      if (*v > 0xffffffff) return r.fail("\"exception_bitmap\" has 32 bits");
      p.exception_bitmap = uint32_t(*v);
    } else if (eb.is_array()) {
      p.exception_bitmap = 0;
      for (const json& item : eb) {
        auto v = exception_vector(item);
        if (!v)
          return r.fail(
              fmt::format("\"exception_bitmap\": {} is not a vector 0-31 or a name like \"#PF\"", item.dump()));
        p.exception_bitmap |= 1u << *v;
      }
    } else {
      return r.fail("\"exception_bitmap\" must be a number or a list such as [\"#PF\", \"#UD\"]");
    }
  }
  return p;
}

Result<Profile> load_profile(std::string_view name_or_path) {
  for (const auto& e : table())
    if (e.info.name == name_or_path) return e.make();
  std::string path(name_or_path);
  bool looks_like_file = path.find('/') != std::string::npos || path.ends_with(".json");
  if (!looks_like_file && !std::filesystem::exists(path)) return preset(name_or_path);
  auto text = read_regular_text(path, kMaxTextBytes, "VMX profile");
  if (!text.ok()) {
    Error e = text.error();
    e.message += fmt::format("; give a JSON file or one of the presets: {}", preset_names());
    return e;
  }
  return parse_profile(text.value(), path);
}

std::string profile_to_json(const Profile& p) {
  json j;
  auto hex = [](uint64_t v) { return fmt::format("{:#x}", v); };
  j["name"] = p.name;
  j["description"] = p.description;
  j["io_exiting"] = std::string(io_exiting_name(p.io));
  json ports = json::array();
  for (uint32_t lo = 0; lo < 65536; lo++) {
    if (!p.io_bitmap.test(lo)) continue;
    uint32_t hi = lo;
    while (hi + 1 < 65536 && p.io_bitmap.test(hi + 1)) hi++;
    ports.push_back(lo == hi ? hex(lo) : hex(lo) + "-" + hex(hi));
    lo = hi;
  }
  j["io_bitmap"] = ports;
  j["hlt_exiting"] = p.hlt_exiting;
  j["invlpg_exiting"] = p.invlpg_exiting;
  j["rdtsc_exiting"] = p.rdtsc_exiting;
  j["cr3_load_exiting"] = p.cr3_load_exiting;
  j["cr3_store_exiting"] = p.cr3_store_exiting;
  j["use_msr_bitmaps"] = p.use_msr_bitmaps;
  json rd = json::array(), wr = json::array(), kp = json::array();
  for (uint32_t m : p.msr_read_passthrough) rd.push_back(hex(m));
  for (uint32_t m : p.msr_write_passthrough) wr.push_back(hex(m));
  for (uint16_t port : p.kernel_ports) kp.push_back(hex(port));
  j["msr_read_passthrough"] = rd;
  j["msr_write_passthrough"] = wr;
  j["cr0_guest_host_mask"] = hex(p.cr0_guest_host_mask);
  j["cr4_guest_host_mask"] = hex(p.cr4_guest_host_mask);
  j["exception_bitmap"] = hex(p.exception_bitmap);
  j["ept"] = p.ept;
  j["kernel_ports"] = kp;
  j["hlt_to_vmm"] = p.hlt_to_vmm;
  return j.dump(2) + "\n";
}

}  // namespace ringscope::vmx
