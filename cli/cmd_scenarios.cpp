// cmd_scenarios.cpp — `ringscope scenarios`: the built-in scenarios, and
// whether this host can run each one under KVM (and if not, why and what to
// use instead). The judgement comes from host.h (probe_host, kvm_refusal),
// the same code `run` and `doctor` use, so the three never disagree.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/scenario.h"

namespace ringscope::cli {

namespace {

struct ScenariosOptions {
  bool json = false;
};

// Empty if KVM can run the scenario here; otherwise the first reason why not.
std::string refusal_for(const HostInfo& host, const Scenario& s) {
  if (host.kvm_switched_off) return trf("{}; --mode emulation runs it.", host.kvm_open_error);
  if (!host.kvm_device_exists) return tr("this host has no /dev/kvm (KVM is not loaded or not available).");
  if (!host.kvm_openable)
    return trf("/dev/kvm cannot be opened ({}); run as root or join the kvm group.", host.kvm_open_error);
  for (const std::string& feature : s.requires_features)
    if (std::string why = kvm_refusal(host, feature); !why.empty()) return why;
  return {};
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

void run_scenarios(const ScenariosOptions& o, CliContext& ctx) {
  std::vector<Scenario> all = builtin_scenarios();
  if (all.empty()) {
    ctx.exit_code = report_error(
        "scenarios",
        make_error(ErrorKind::NoInput, trf("no built-in scenarios found in {}; build the project, or set "
                                           "RINGSCOPE_SCENARIOS_DIR to the directory holding <name>/scenario.json.",
                                           scenarios_dir().string())));
    return;
  }
  HostInfo host = probe_host();
  std::string out;
  if (o.json) {
    nlohmann::json a = nlohmann::json::array();
    for (const Scenario& s : all) {
      std::string why = refusal_for(host, s);
      a.push_back({{"name", s.name},
                   {"title", s.title},
                   {"requires", s.requires_features},
                   {"kvm", why.empty()},
                   {"kvm_refusal", why},
                   {"dir", s.dir.string()}});
    }
    out = a.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else {
    size_t w = 4;
    for (const Scenario& s : all) w = std::max(w, s.name.size());
    out += fmt::format("{:<{}}  {:<4}  {:<16}  {}\n", "name", w, "kvm", "requires", "title");
    std::string notes;
    for (const Scenario& s : all) {
      std::string why = refusal_for(host, s);
      std::string req = s.requires_features.empty() ? "-" : join(s.requires_features);
      out += fmt::format("{:<{}}  {:<4}  {:<16}  {}\n", s.name, w, why.empty() ? "yes" : "no", req, s.title);
      if (!why.empty()) notes += fmt::format("  {}: {}\n", s.name, why);
    }
    if (!notes.empty())
      out += trf("\nnot runnable under KVM on this host (KVM flavour {}):\n{}", flavour_name(host.flavour), notes);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void add_scenarios_command(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ScenariosOptions>();
  CLI::App* cmd = app.add_subcommand("scenarios", "List the built-in scenarios and whether this host can run them");
  cmd->add_flag("--json", o->json, "a JSON array instead of a table");
  cmd->footer(
      "Examples:\n"
      "  ringscope scenarios\n"
      "  ringscope scenarios --json | jq -r '.[] | select(.kvm) | .name'\n"
      "Run one with `ringscope run NAME --trace NAME.rtrace`; `ringscope doctor` explains the host.");
  cmd->callback([o, &ctx] { run_scenarios(*o, ctx); });
}

}  // namespace ringscope::cli
