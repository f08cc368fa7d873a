// vm_spec.cpp — the New VM dialog's answers as a `ringscope run` command.
#include "machines/vm_spec.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "ringscope/i18n.h"

namespace ringscope::machines {

namespace {
bool ends_with(const std::string& s, const char* suffix) {
  const std::string x = suffix;
  return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}
}  // namespace

std::string display_name(const VmSpec& s) {
  if (s.source == VmSource::Scenario) return s.scenario;
  return std::filesystem::path(s.path).filename().string();
}

std::string validate(const VmSpec& s) {
  if (s.source == VmSource::Scenario && s.scenario.empty()) return tr("Choose a scenario.");
  if (s.source != VmSource::Scenario) {
    if (s.path.empty())
      return s.source == VmSource::Program ? tr("Give the user program's path (a .c file or an ELF built by "
                                                "`ringscope build`).")
                                           : tr("Give the kernel image's path (a PVH ELF).");
    if (s.source == VmSource::Program && !ends_with(s.path, ".c") && !ends_with(s.path, ".elf"))
      return trf("{}: a user program is a .c source or a .elf built by `ringscope build`.", s.path);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(s.path, ec)) return trf("{}: no such file.", s.path);
  }
  if (s.ram_mib != 0 && (s.ram_mib < 2 || s.ram_mib > 4096)) return tr("RAM: between 2 and 4096 MiB (0: default).");
  if (s.level != "exits" && s.level != "full") return tr("Level: exits or full.");
  return {};
}

bool needs_build(const VmSpec& s) { return s.source == VmSource::Program && ends_with(s.path, ".c"); }

std::vector<std::string> build_argv(const VmSpec& s, const std::string& exe, const std::string& elf) {
  return {exe, "build", s.path, "-o", elf};
}

std::vector<std::string> run_argv(const VmSpec& s, const std::string& exe, const std::string& trace,
                                  const std::string& qmp, const std::string& program_elf) {
  std::vector<std::string> a{exe, "run"};
  switch (s.source) {
    case VmSource::Scenario: a.push_back(s.scenario); break;
    case VmSource::Program:
      a.push_back("--program");
      a.push_back(needs_build(s) ? program_elf : s.path);
      break;
    case VmSource::Image:
      a.push_back("--image");
      a.push_back(s.path);
      break;
  }
  auto opt = [&](const char* name, const std::string& v) {
    if (v.empty()) return;
    a.push_back(name);
    a.push_back(v);
  };
  opt("--mode", s.mode);
  if (s.level != "exits") opt("--level", s.level);
  opt("--irqchip", s.irqchip);
  opt("--io", s.io);
  if (s.ram_mib > 0) opt("--ram", std::to_string(s.ram_mib));
  opt("--disk", s.disk);
  opt("--input-text", s.console_input);
  std::istringstream params(s.params);
  for (std::string p; params >> p;) opt("--param", p);
  opt("--trace", trace);
  if (!qmp.empty()) {
    opt("--qmp", "unix:" + qmp);
    // The VM waits for the viewer's QMP connection, so no exit is missed;
    // the viewer then continues it unless it was made to start paused.
    a.push_back("--qmp-wait");
  }
  return a;
}

bool parse_vm_spec(const std::string& text, VmSpec& out, std::string& error) {
  VmSpec s;
  size_t at = 0;
  bool first = true;
  while (at <= text.size()) {
    const size_t comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    at = comma + 1;
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (first && eq == std::string::npos && !item.empty() && item != "paused") {
      s.scenario = item;
    } else if (key == "program" || key == "image") {
      s.source = key == "program" ? VmSource::Program : VmSource::Image;
      s.path = value;
    } else if (key == "mode") {
      s.mode = value;
    } else if (key == "level") {
      s.level = value;
    } else if (key == "irqchip") {
      s.irqchip = value;
    } else if (key == "io") {
      s.io = value;
    } else if (key == "ram") {
      s.ram_mib = std::atoi(value.c_str());
    } else if (key == "disk") {
      s.disk = value;
    } else if (key == "input") {
      s.console_input = value;
    } else if (key == "param") {
      s.params += (s.params.empty() ? "" : " ") + value;
    } else if (item == "paused") {
      s.start_paused = true;
    } else {
      error =
          trf("--new-vm: '{}' is not SCENARIO or one of program=, image=, mode=, level=, irqchip=, io=, ram=, "
              "disk=, input=, param=, paused",
              item);
      return false;
    }
    first = false;
  }
  if (std::string why = validate(s); !why.empty()) {
    error = "--new-vm: " + why;
    return false;
  }
  out = s;
  return true;
}

std::string shell_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !a.empty() && a.find_first_not_of(
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_./:=,+@%") == std::string::npos;
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

}  // namespace ringscope::machines
