// session.cpp — from a command line to a finished, recorded guest run.
#include "session.h"

#include <fmt/format.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>

#include "backends.h"
#include "ringscope/host.h"
#include "ringscope/machine.h"
#include "ringscope/trace.h"
#include "ringscope/version.h"

namespace ringscope::cli {

Result<std::map<std::string, std::string>> parse_params(const std::vector<std::string>& kv) {
  std::map<std::string, std::string> out;
  for (const auto& s : kv) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(ErrorKind::Usage, fmt::format("--param '{}' is not key=value (for example --param n=100)", s));
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

namespace {

Result<Scenario> resolve_scenario(const std::string& target) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (target.find('/') != std::string::npos || fs::is_directory(target, ec) ||
      (target.size() > 5 && target.ends_with(".json")))
    return load_scenario(target);
  return find_builtin_scenario(target);
}

uint64_t unix_ns() {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  return uint64_t(tv.tv_sec) * 1'000'000'000ull + uint64_t(tv.tv_usec) * 1000;
}

}  // namespace

Result<SessionOutcome> run_session(const SessionRequest& req) {
  SessionOutcome out;
  MachineConfig config;
  config.ram_bytes = req.ram_mib << 20;
  config.force_pvh = req.force_pvh;
  config.devices = devices_for_mode(req.mode);

  TRY_ASSIGN(auto backend, make_backend(req.mode));
  const ModeInfo* mode = find_mode(req.mode);

  HostInfo host = probe_host();
  if (!req.image.empty()) {
    out.name = req.image.stem().string();
    config.kernel = req.image;
    config.modules = req.modules;
    config.cmdline = req.append;
    if (!req.params.empty())
      return make_error(ErrorKind::Usage, "--param applies to scenarios; with --image use --append \"k=v ...\"");
  } else {
    TRY_ASSIGN(Scenario s, resolve_scenario(req.target));
    for (const auto& f : s.requires_features) {
      std::string why = mode->needs_kvm ? kvm_refusal(host, f) : std::string();
      if (!why.empty()) return make_error(ErrorKind::Unavailable, fmt::format("{}: {}", s.name, why));
    }
    TRY_ASSIGN(config.cmdline, build_cmdline(s, req.params));
    config.kernel = kernel_for_mode(req.mode, s.kernel);
    config.modules = s.programs;
    out.name = s.name;
    out.expected_status = s.expected_status;
    if (req.params.empty()) out.expected_output = s.expected_output;
    out.scenario = std::move(s);
  }

  TRY_ASSIGN(auto machine, Machine::create(config));
  if (req.echo_console)
    machine->set_console_echo([](char c) {
      std::fputc(c, stdout);
      if (c == '\n') std::fflush(stdout);
    });

  out.trace_path = req.trace_path.empty() ? std::filesystem::path(fmt::format("{}.{}.rtrace", out.name, req.mode))
                                          : req.trace_path;
  TraceHeader header;
  header.scenario = out.scenario ? out.scenario->name : req.image.string();
  header.mode = req.mode;
  header.level = std::string(trace_level_name(req.options.level));
  header.params = config.cmdline;
  header.host_kernel = host.kernel_release;
  header.kvm_flavour = std::string(flavour_name(host.flavour));
  header.cpu_model = host.cpu_model;
  header.tool_version = kVersion;
  header.start_unix_ns = unix_ns();
  header.start_mono_ns = monotonic_ns();
  TRY_ASSIGN(auto writer, TraceWriter::create(out.trace_path.string(), header));

  auto result = backend->run(*machine, *writer, req.options);
  std::fflush(stdout);
  auto closed = writer->close();
  if (!result.ok()) return result.error();
  if (!closed.ok()) return closed.error();
  out.result = std::move(result).value();
  out.events = writer->events_written();
  out.trace_bytes = writer->bytes_written();
  out.console = machine->console_text();
  out.status_as_expected = out.result.ok() && out.result.guest_status == out.expected_status;
  return out;
}

}  // namespace ringscope::cli
