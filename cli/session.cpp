// session.cpp — from a command line to a finished, recorded guest run.
#include "session.h"

#include <fmt/format.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "backends.h"
#include "emulation/emulation_backend.h"
#include "ringscope/acpi_tables.h"
#include "ringscope/control/control_sink.h"
#include "ringscope/control/qmp_server.h"
#include "ringscope/control/run_control.h"
#include "ringscope/host.h"
#include "ringscope/i18n.h"
#include "ringscope/machine.h"
#include "ringscope/terminal_text.h"
#include "ringscope/trace.h"
#include "ringscope/version.h"

namespace ringscope::cli {

Result<std::map<std::string, std::string>> parse_params(const std::vector<std::string>& kv) {
  std::map<std::string, std::string> out;
  for (const auto& s : kv) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(ErrorKind::Usage, trf("--param '{}' is not key=value (for example --param n=100)", s));
    out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

Result<uint64_t> parse_disk_size(const std::string& text) {
  auto bad = [&] {
    return make_error(ErrorKind::Usage, trf("--disk-size '{}' is not a size; give bytes or K, M, G (for "
                                            "example 1M or 64K), a multiple of 512 between 512 and 1T",
                                            text));
  };
  size_t i = 0;
  uint64_t n = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; i++) {
    if (n > (1ull << 40)) return bad();
    n = n * 10 + uint64_t(text[i] - '0');
  }
  if (i == 0) return bad();
  std::string unit = text.substr(i);
  int shift = unit.empty() || unit == "B"    ? 0
              : unit == "K" || unit == "KiB" ? 10
              : unit == "M" || unit == "MiB" ? 20
              : unit == "G" || unit == "GiB" ? 30
              : unit == "T" || unit == "TiB" ? 40
                                             : -1;
  if (shift < 0 || n > ((1ull << 40) >> shift)) return bad();
  n <<= shift;
  if (n < kSectorSize || n > (1ull << 40) || n % kSectorSize) return bad();
  return n;
}

namespace {

// --disk: an existing image is used at its own size (a stated --disk-size
// must agree with it); a missing one is created at --disk-size. Either way
// the sectors live in the file, never only in memory.
Status prepare_disk(const SessionRequest& req, MachineConfig& config, SessionOutcome& out) {
  namespace fs = std::filesystem;
  config.disk_bytes = req.disk_bytes.value_or(kDefaultDiskBytes);
  config.disk_cache = req.disk_cache;
  config.disk_cache_drop = req.disk_cache_drop;
  if (req.disk_image.empty()) {
    if (req.disk_bytes) return make_error(ErrorKind::Usage, tr("--disk-size needs --disk IMAGE"));
    return ok_status();
  }
  std::error_code ec;
  auto st = fs::status(req.disk_image, ec);
  if (fs::exists(st)) {
    if (!fs::is_regular_file(st))
      return make_error(ErrorKind::Usage, trf("--disk {}: not a regular file; give a raw disk image file "
                                              "(a missing one is created)",
                                              req.disk_image.string()));
    uint64_t size = fs::file_size(req.disk_image, ec);
    if (ec || size < kSectorSize)
      return make_error(ErrorKind::BadData, trf("--disk {}: {} bytes, less than one 512-byte sector",
                                                req.disk_image.string(), ec ? 0 : size));
    if (req.disk_bytes && *req.disk_bytes != size)
      return make_error(ErrorKind::Usage,
                        trf("--disk {} exists with {} bytes, not the {} of --disk-size; --disk-size only "
                            "sizes a new image (resize this one with `truncate -s SIZE {}`, or leave "
                            "--disk-size out)",
                            req.disk_image.string(), size, *req.disk_bytes, req.disk_image.string()));
    config.disk_bytes = 0;  // never resize an image the user already has
  } else {
    out.disk_created = true;
  }
  config.disk_image = req.disk_image;
  out.disk_image = req.disk_image;
  return ok_status();
}

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

// How many vCPUs a run gives the guest: --vcpus, else the scenario's own
// (`wanted`) where the mode can give it, else one. The KVM modes run them
// with KVM's in-kernel irqchip, emulation with its own local APIC model.
static Result<int> vcpus_for_run(const SessionRequest& req, int wanted, const ModeInfo& mode) {
  if (req.vcpus != 0 && (req.vcpus < 1 || req.vcpus > kMaxVcpus))
    return make_error(ErrorKind::Usage, trf("--vcpus {}: give 1 to {}", req.vcpus, kMaxVcpus));
  const bool emulated = mode.name == "emulation";
  if (!mode.kernel_under_kvm && !emulated) {
    if (req.vcpus > 1)
      return make_error(ErrorKind::Usage,
                        trf("--mode {} runs one vCPU; use --mode full-virt, paravirt or emulation for --vcpus {}, "
                            "or --vcpus 1",
                            req.mode, req.vcpus));
    return 1;
  }
  int n = req.vcpus ? req.vcpus : wanted;
  if (!emulated && n > 1 && req.irqchip == "vmm")
    return make_error(ErrorKind::Usage,
                      trf("--irqchip vmm gives a guest one vCPU: ringscope's own PIC has no local APICs to "
                          "start other CPUs or carry their IPIs; for {} vCPUs use --irqchip kernel (or "
                          "--vcpus 1)",
                          n));
  return n;
}

Result<SessionOutcome> run_session(const SessionRequest& req) {
  SessionOutcome out;
  MachineConfig config;
  config.ram_bytes = req.ram_mib << 20;
  config.force_pvh = req.force_pvh;
  if (req.console_input.size() > kMaxConsoleInput)
    return make_error(ErrorKind::Usage, trf("console input of {} bytes is more than the {} a run takes",
                                            req.console_input.size(), kMaxConsoleInput));
  config.console_input = req.console_input;
  config.balloon = req.balloon || req.balloon_target_mib > 0;
  config.balloon_target_bytes = req.balloon_target_mib << 20;
  config.balloon_after = req.balloon_after;
  if (!req.balloon_after.empty() && !req.balloon_target_mib)
    return make_error(ErrorKind::Usage,
                      tr("--balloon-after goes with --balloon-target MiB (what to ask for, and when)"));
  TRY_ASSIGN(auto backend, make_backend(req.mode));
  TRY_ASSIGN(config.devices, devices_for_mode(req.mode, req.devices));
  TRY_ASSIGN(config.irqchip,
             irqchip_for_mode(req.mode, req.irqchip, &out.irqchip_note, req.options.level == TraceLevel::Full));
  out.irqchip = config.irqchip;
  const ModeInfo* mode = find_mode(req.mode);

  HostInfo host = probe_host();
  if (!req.programs.empty()) {
    // The built-in kernel, booted as for a scenario of this mode, with the
    // programs as its boot modules (what `run --image` needs spelt out).
    out.name = req.programs.front().stem().string();
    config.kernel = guest_dir() / guest_kernel_file(guest_kernel_for(req.mode, config.devices));
    config.modules = req.programs;
    config.cmdline = req.append;
    for (const auto& p : req.programs) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(p, ec))
        return make_error(ErrorKind::NoInput, trf("{}: no such program; build one with `ringscope build "
                                                  "prog.c`",
                                                  p.string()));
    }
    if (!req.params.empty())
      return make_error(ErrorKind::Usage, tr("--param applies to scenarios; with --program use --append \"k=v ...\""));
  } else if (!req.image.empty()) {
    out.name = req.image.stem().string();
    config.kernel = req.image;
    config.modules = req.modules;
    config.cmdline = req.append;
    if (!req.params.empty())
      return make_error(ErrorKind::Usage, tr("--param applies to scenarios; with --image use --append \"k=v ...\""));
  } else {
    TRY_ASSIGN(Scenario s, resolve_scenario(req.target));
    for (const auto& f : s.requires_features) {
      std::string why = mode->kernel_under_kvm ? kvm_refusal(host, f) : std::string();
      if (!why.empty()) return make_error(ErrorKind::Unavailable, fmt::format("{}: {}", s.name, why));
    }
    TRY_ASSIGN(config.cmdline, build_cmdline(s, req.params));
    TRY_ASSIGN(config.kernel, kernel_for_devices(config.devices, req.mode, s));
    config.modules = s.programs;
    out.name = s.name;
    out.expected_status = s.expected_status;
    TRY_ASSIGN(config.vcpus, vcpus_for_run(req, s.vcpus, *mode));
    // Its expected output is for the CPUs it is meant for.
    if (req.params.empty() && s.vcpus == config.vcpus) out.expected_output = s.expected_output;
    if (s.vcpus > config.vcpus)
      trprint(stderr,
              "ringscope: note: {} is meant for {} CPUs; this run gives the guest {}, so the kernel runs it on "
              "{} (--vcpus {} gives it all of them: docs/scenarios.md)\n",
              s.name, s.vcpus, config.vcpus, config.vcpus, s.vcpus);
    out.scenario = std::move(s);
  }
  if (!out.scenario) {
    TRY_ASSIGN(config.vcpus, vcpus_for_run(req, 1, *mode));
  }
  if (config.vcpus > 1 && !mode->kernel_under_kvm) {
    out.vcpu_note =
        trf("{} vCPUs on one host thread, one Unicorn engine each, in deterministic round-robin turns of {} "
            "instructions (a PAUSE or HLT ends a turn sooner); their local APICs are ringscope's own model",
            config.vcpus, emulation::kSmpQuantum);
  } else if (config.vcpus > 1 && config.irqchip != IrqChip::Kernel) {  // not asked for: vcpus_for_run refused that
    config.irqchip = IrqChip::Kernel;
    out.irqchip = IrqChip::Kernel;
    out.irqchip_note =
        trf("{} vCPUs run with KVM's in-kernel irqchip (--irqchip kernel): its local APICs "
            "start the other CPUs and carry their IPIs",
            config.vcpus);
  }

  TRY_ASSIGN(config.io, io_for_mode(req.mode, req.io, config.devices, config.irqchip));
  out.io = config.io;

  config.vcpu_affinity = req.vcpu_affinity;
  TRY(prepare_disk(req, config, out));
  std::string qmp_path;
  if (!req.qmp.empty()) {
    TRY_ASSIGN(qmp_path, control::parse_qmp_address(req.qmp));
  } else if (req.qmp_wait) {
    return make_error(ErrorKind::Usage, tr("--qmp-wait goes with --qmp unix:PATH (a client sends cont to start)"));
  }
  TRY_ASSIGN(auto machine, Machine::create(config));
  if (DiskImage* disk = machine->disk(); disk && !out.disk_image.empty()) {
    out.disk_sectors = disk->sectors();
    if (out.disk_created)
      trprint(stderr, "ringscope: created disk image {} ({} bytes, {} sectors of 512 bytes)\n", out.disk_image.string(),
              disk->sectors() * kSectorSize, disk->sectors());
  }
  if (config.disk_cache != DiskCache::Writeback)
    trprint(stderr, "ringscope: disk cache {}: {}\n", disk_cache_name(config.disk_cache),
            tr(disk_cache_info(config.disk_cache).summary));
  // The guest's console, echoed as it runs: a guest may print anything,
  // including escape sequences meant for the user's terminal (OSC 52 writes
  // the clipboard). Lines and tabs pass; other controls are shown escaped.
  // Two console devices and several vCPUs may echo: one lock around the filter.
  struct Echo {
    std::mutex lock;
    TerminalStream filter;
  };
  auto echo = std::make_shared<Echo>();
  auto attach_echo = [&](Machine& m) {
    if (!req.echo_console) return;
    // Under QMP the console is watched live (the viewer's console pane, a
    // guest stepped exit by exit): every byte goes out as it is written.
    const bool live = !req.qmp.empty();
    m.set_console_echo([echo, live](char c) {
      std::lock_guard<std::mutex> g(echo->lock);
      std::string_view shown = echo->filter.put(c);
      std::fwrite(shown.data(), 1, shown.size(), stdout);
      if (c == '\n' || live) std::fflush(stdout);
    });
  };
  attach_echo(*machine);

  out.trace_path =
      req.trace_path.empty() ? std::filesystem::path(fmt::format("{}.{}.rtrace", out.name, req.mode)) : req.trace_path;
  TraceHeader header;
  header.scenario = out.scenario            ? out.scenario->name
                    : !req.programs.empty() ? req.programs.front().string()
                                            : req.image.string();
  header.mode = req.mode;
  header.vcpus = static_cast<uint32_t>(config.vcpus);
  header.disk_cache = std::string(disk_cache_name(config.disk_cache));
  header.level = std::string(trace_level_name(req.options.level));
  header.params = config.cmdline;
  header.host_kernel = host.kernel_release;
  header.kvm_flavour = std::string(flavour_name(host.flavour));
  header.cpu_model = host.cpu_model;
  header.tool_version = kVersion;
  header.start_unix_ns = unix_ns();
  header.start_mono_ns = monotonic_ns();
  TRY_ASSIGN(auto writer, TraceWriter::create(out.trace_path.string(), header));

  // --qmp: the run control between the backend and the trace, and its socket.
  RunOptions options = req.options;
  EventSink* sink = writer.get();
  std::unique_ptr<control::RunControl> control;
  std::unique_ptr<control::ControlSink> control_sink;
  std::unique_ptr<control::QmpServer> server;
  if (!qmp_path.empty()) {
    control = std::make_unique<control::RunControl>();
    control->set_full_level(options.level == TraceLevel::Full);
    control->set_flush([w = writer.get()] { (void)w->flush(); });
    control_sink = std::make_unique<control::ControlSink>(*control, *writer);
    sink = control_sink.get();
    options.control = control.get();
    if (req.qmp_wait) (void)control->pause(control::PauseCause::Start);
    control::QmpServerInfo info{out.name, out.trace_path.string(), [w = writer.get()] { return w->events_written(); }};
    TRY_ASSIGN(server, control::QmpServer::start(qmp_path, *control, std::move(info)));
    if (req.qmp_wait)
      trprint(stderr, "ringscope: QMP on {}; the guest waits, paused, until a client sends cont\n", qmp_path);
    else
      trprint(stderr, "ringscope: QMP on {}\n", qmp_path);
  }

  Result<RunResult> result = make_error(ErrorKind::Internal, "no run");
  for (;;) {
    if (control) {
      control->run_starting();
      control->set_balloon(machine->virtio_balloon(), config.ram_bytes);
    }
    result = backend->run(*machine, *sink, options);
    // system_reset: the run ended to boot the machine again from its boot
    // state (RAM, devices, vCPUs afresh; the disk image keeps what was written).
    if (!control || !result.ok() || !control->resetting()) break;
    (void)control->run_ended(result.value());
    control->set_balloon(nullptr, 0);  // the old machine goes away
    auto again = Machine::create(config);
    if (!again.ok()) {
      result = again.error();
      break;
    }
    machine = std::move(again).value();
    attach_echo(*machine);
    out.resets++;
  }
  if (req.echo_console) {
    std::lock_guard<std::mutex> g(echo->lock);
    const std::string rest = echo->filter.finish();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
  }
  std::fflush(stdout);
  auto closed = writer->close();
  if (control) {
    // After the trace is closed: a client told SHUTDOWN finds it whole.
    RunResult ended;
    ended.end = RunEndReason::VmmError;
    (void)control->run_ended(result.ok() ? result.value() : ended);
    server->stop();
  }
  if (!result.ok()) return result.error();
  if (!closed.ok()) return closed.error();
  out.result = std::move(result).value();
  out.events = writer->events_written();
  out.trace_bytes = writer->bytes_written();
  out.console = machine->console_text();
  if (DiskImage* disk = machine->disk()) {
    out.disk_sectors_read = disk->reads();
    out.disk_sectors_written = disk->writes();
  }
  out.status_as_expected = out.result.ok() && out.result.guest_status == out.expected_status;
  return out;
}

}  // namespace ringscope::cli
