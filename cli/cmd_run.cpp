// cmd_run.cpp — `ringscope run`: boot a guest under KVM and record its trace.
#include <fmt/format.h>
#include <unistd.h>

#include "commands.h"
#include "ringscope/cpu_list.h"
#include "ringscope/exit_reasons.h"
#include "ringscope/i18n.h"
#include "ringscope/machine.h"
#include "ringscope/trace_stats.h"
#include "ringscope/vmx/profile.h"
#include "session.h"
#include "summary.h"

namespace ringscope::cli {

namespace {
struct RunArgs {
  std::string target;
  std::string image;
  std::vector<std::string> modules;
  std::vector<std::string> programs;
  std::string append;
  std::vector<std::string> params;
  std::string mode = "full-virt";
  std::string trace;
  std::string level = "exits";
  double timeout_s = 60;
  uint64_t max_exits = 10'000'000;
  uint64_t ram_mib = 64;
  bool quiet = false;
  bool pvh = false;
  std::string disk;
  std::string disk_size;
  std::string disk_cache;
  bool disk_cache_drop = false;
  std::string vmx_profile;
  std::string devices;
  std::string irqchip;
  std::string io;
  int vcpus = 0;
  std::string input, input_text;
  bool input_text_given = false;
  std::string qmp;
  bool qmp_wait = false;
  bool balloon = false;
  uint64_t balloon_target_mib = 0;
  std::string balloon_after;
  uint64_t host_sample_ms = RunOptions{}.host_sample_ms;
  std::string vcpu_affinity;
};

int do_run(const RunArgs& a) {
  SessionRequest req;
  req.target = a.target;
  req.image = a.image;
  for (const auto& m : a.modules) req.modules.emplace_back(m);
  for (const auto& p : a.programs) req.programs.emplace_back(p);
  req.append = a.append;
  auto params = parse_params(a.params);
  if (!params.ok()) return report_error("run", params.error());
  req.params = params.value();
  req.mode = a.mode;
  req.devices = a.devices;
  req.irqchip = a.irqchip;
  req.io = a.io;
  req.vcpus = a.vcpus;
  req.trace_path = a.trace;
  req.options.level = a.level == "full" ? TraceLevel::Full : TraceLevel::Exits;
  req.options.limits.wall_ms = static_cast<uint64_t>(a.timeout_s * 1000);
  req.options.limits.max_exits = a.max_exits;
  req.options.progress = isatty(STDERR_FILENO);
  req.options.host_sample_ms = a.host_sample_ms;
  if (!a.vcpu_affinity.empty()) {
    auto cpus = parse_cpu_list(a.vcpu_affinity);
    if (!cpus.ok()) return report_error("run", cpus.error());
    req.vcpu_affinity = cpus.value();
  }
  req.echo_console = !a.quiet;
  req.force_pvh = a.pvh;
  req.ram_mib = a.ram_mib;
  req.disk_image = a.disk;
  req.disk_cache_drop = a.disk_cache_drop;
  if (!a.disk_cache.empty()) {
    auto cache = parse_disk_cache(a.disk_cache);
    if (!cache)
      return report_error(
          "run", make_error(ErrorKind::Usage, trf("--disk-cache {}: give writeback, none or unsafe", a.disk_cache)));
    req.disk_cache = *cache;
  }
  req.qmp = a.qmp;
  req.qmp_wait = a.qmp_wait;
  req.balloon = a.balloon;
  req.balloon_target_mib = a.balloon_target_mib;
  req.balloon_after = a.balloon_after;
  if (!a.input.empty() && a.input_text_given)
    return report_error("run", make_error(ErrorKind::Usage, tr("give --input FILE or --input-text STRING, not both")));
  if (!a.input.empty()) {
    auto bytes = read_file_bytes(a.input, kMaxConsoleInput);
    if (!bytes.ok()) return report_error("run", bytes.error());
    req.console_input.assign(bytes.value().begin(), bytes.value().end());
  }
  if (a.input_text_given) req.console_input = a.input_text;
  if (!a.disk_size.empty()) {
    auto size = parse_disk_size(a.disk_size);
    if (!size.ok()) return report_error("run", size.error());
    req.disk_bytes = size.value();
  }
  if (!a.vmx_profile.empty()) {
    if (a.mode != "emulation")
      return report_error("run", make_error(ErrorKind::Usage,
                                            "--vmx-profile applies to --mode emulation, where the "
                                            "VT-x model says which events would have exited; "
                                            "the KVM modes record real exits"));
    auto profile = vmx::load_profile(a.vmx_profile);
    if (!profile.ok()) return report_error("run", profile.error());
    req.options.vmx_profile = std::make_shared<const vmx::Profile>(std::move(profile).value());
  }
  if (int(!a.target.empty()) + int(!a.image.empty()) + int(!a.programs.empty()) != 1)
    return report_error("run", make_error(ErrorKind::Usage,
                                          "give one of: a scenario name or directory, --program PROG.elf (your "
                                          "program on the teaching kernel), or --image KERNEL.elf; `ringscope "
                                          "scenarios` lists the built-in ones"));
  if (!a.modules.empty() && a.image.empty())
    return report_error("run", make_error(ErrorKind::Usage,
                                          "--module goes with --image; with the built-in kernel "
                                          "give --program PROG.elf (repeatable)"));

  auto outcome = run_session(req);
  if (!outcome.ok()) return report_error("run", outcome.error());
  const SessionOutcome& o = outcome.value();
  print_run_summary(stderr, o);
  if (!o.disk_image.empty())
    trprint(stderr, "ringscope: disk {}: {} sectors written, {} read (the image has {})\n", o.disk_image.string(),
            o.disk_sectors_written, o.disk_sectors_read, o.disk_sectors);
  return o.status_as_expected ? 0 : 1;
}
}  // namespace

void add_run_command(CLI::App& app, CliContext& ctx) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Boot a guest under KVM and record every VM exit into a trace");
  cmd->footer(
      "Examples:\n"
      "  ringscope run hello\n"
      "  ringscope run syscalls --param n=100 --trace out.rtrace\n"
      "  ringscope run pagefault --level full      # single-step: every instruction and ring transition\n"
      "  ringscope run ./my-scenario               # a directory with scenario.json\n"
      "  ringscope run --image my-kernel.elf --module prog.elf --append \"n=3\"\n"
      "  ringscope build hello.c && ringscope run --program hello.elf   # your own ring-3 program\n"
      "  ringscope run disk-io --mode paravirt --disk disk.img   # then: xxd disk.img | head\n"
      "  ringscope run pagefault --mode emulation --vmx-profile no-ept   # modelled exits without EPT\n"
      "  ringscope run console-write --mode emulation --devices virtio   # paravirt, emulated\n"
      "  ringscope run echo --input-text 'hello world'   # the program reads the console\n"
      "  ringscope run disk-io --mode paravirt --irqchip vmm   # virtio interrupts injected by the VMM\n"
      "  ringscope run disk-io --mode hvm-pv --io offload   # an HVM guest with PV drivers, I/O on a device thread\n"
      "  ringscope run smp-hello --vcpus 4         # four vCPUs, four host threads (ps -L: vcpu0..vcpu3)\n"
      "  ringscope run syscalls --qmp unix:/tmp/vm.qmp --qmp-wait   # then: ringscope qmp /tmp/vm.qmp cont\n"
      "Exit status: 0 the guest ended as the scenario expects; 1 it did not (other status, triple fault,\n"
      "watchdog, QMP quit); 64 usage; 65 bad image or manifest; 66 not found; 69 host cannot run it; 70 internal.");
  cmd->add_option("scenario", a->target, "Built-in scenario name or a scenario directory");
  cmd->add_option("--image", a->image, "Run this kernel ELF (PVH boot protocol, docs/boot-protocol.md)");
  cmd->add_option("--program", a->programs,
                  "Run this user program (built with `ringscope build`) on the teaching kernel; repeatable");
  cmd->add_option("--module", a->modules, "With --image: a boot module (user program ELF); repeatable");
  cmd->add_option("--append", a->append, "With --image or --program: the kernel command line");
  cmd->add_option("--param", a->params, "Scenario parameter key=value; repeatable");
  cmd->add_option("--mode", a->mode,
                  "full-virt (KVM, emulated devices), paravirt (KVM, virtio and hypercalls), hvm-pv (KVM, the native "
                  "kernel with virtio drivers), emulation (Unicorn) or bt (binary translation)")
      ->capture_default_str();
  cmd->add_option("--irqchip", a->irqchip,
                  "KVM modes: vmm (ringscope's own 8259A PIC and 8254 PIT, every access an exit; full-virt's "
                  "default) or kernel (KVM's in-kernel irqchip, device interrupts through irqfds; paravirt's default)")
      ->check(CLI::IsMember({"vmm", "kernel"}));
  cmd->add_option("--io", a->io,
                  "KVM modes with virtio devices: vcpu (the vCPU's thread serves each virtio notify during its exit; "
                  "the default) or offload (doorbells registered with KVM_IOEVENTFD, a device thread serves the "
                  "queues and signals completion through an irqfd, as vhost and AWS Nitro do)")
      ->check(CLI::IsMember({"vcpu", "offload"}));
  cmd->add_option("--vcpus", a->vcpus,
                  "How many CPUs the guest has, 1-8 (default: the scenario's own, scenario.json \"vcpus\"). More "
                  "than one: one host thread per vCPU (vcpu0, vcpu1, ...), KVM's in-kernel irqchip; KVM modes only")
      ->check(CLI::Range(1, 8));
  cmd->add_option("--vcpu-affinity", a->vcpu_affinity,
                  "Pin every vCPU thread to these host CPUs, as taskset does: 0, 0-1 or 0,2. Fewer host CPUs "
                  "than vCPUs: the host scheduler takes turns between them (the run delay counters show it)");
  cmd->add_option("--devices", a->devices,
                  "With --mode emulation: legacy (default: 16550 UART, ATA disk; the native kernel) or virtio "
                  "(virtio-console, virtio-blk, hypercalls; the scenario's PV kernel), the paravirt guest run "
                  "in software (docs/modes.md)");
  cmd->add_option("--trace", a->trace, "Trace file to write (default <scenario>.<mode>.rtrace)");
  cmd->add_option("--level", a->level, "Trace level: exits, or full (single-step every instruction)")
      ->check(CLI::IsMember({"exits", "full"}))
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout_s, "Wall-time limit in seconds (watchdog)")->capture_default_str();
  cmd->add_option("--max-exits", a->max_exits, "Exit (or step) limit (watchdog)")->capture_default_str();
  cmd->add_option("--ram", a->ram_mib, "Guest RAM in MiB")->capture_default_str();
  cmd->add_option("--host-sample-ms", a->host_sample_ms,
                  "Record the host's view of the VM (each vCPU thread's CPU time and run delay, the VMM's RSS, "
                  "guest RAM the host allocated; docs/trace-format.md) every N ms, and at start and end; 0: off")
      ->check(CLI::Range(uint64_t{0}, uint64_t{60'000}))
      ->capture_default_str();
  cmd->add_flag("--quiet", a->quiet, "Do not echo the guest console");
  cmd->add_option("--input", a->input,
                  "Feed this file's bytes to the guest console (UART receive, virtio-console receive queue; "
                  "at most 1 MiB). Without it the console has nothing to read: read() returns 0");
  cmd->add_option("--input-text", a->input_text, "Feed this text to the guest console (as --input)")
      ->each([a](const std::string&) { a->input_text_given = true; });
  cmd->add_option("--disk", a->disk,
                  "The machine's disk (ATA, or virtio-blk under paravirt) in this raw image file; created if "
                  "missing. Default: a scratch file that vanishes after the run");
  cmd->add_option("--disk-size", a->disk_size, "Size of a new --disk image: bytes, or with K, M, G (default 1M)");
  cmd->add_option("--disk-cache", a->disk_cache,
                  "How the host caches the disk image, as QEMU's -drive cache=: writeback (default: the host page "
                  "cache; a guest flush is fdatasync), none (O_DIRECT: every request goes to the host disk, around "
                  "the page cache; flushes are fdatasync; the image must be on a filesystem that takes O_DIRECT) "
                  "or unsafe (the page cache; flushes ignored). docs/virtio.md, \"Disk cache modes\"");
  cmd->add_flag("--disk-cache-drop", a->disk_cache_drop,
                "Before the guest starts, drop the image's pages from the host page cache (fdatasync, then "
                "posix_fadvise DONTNEED: no root needed), so its first reads go to the disk");
  std::string presets;
  for (const auto& p : vmx::presets()) presets += fmt::format("\n  {:<20} {}", p.name, p.summary);
  cmd->add_option("--vmx-profile", a->vmx_profile,
                  "With --mode emulation: the VMCS controls the VT-x model applies, a preset or a JSON file "
                  "(docs/vmx-model.md; default kvm-default). Presets:" +
                      presets);
  cmd->add_option("--qmp", a->qmp,
                  "Serve QEMU's QMP on this UNIX socket, unix:PATH: pause, step one exit, breakpoints, registers, "
                  "reset, quit (docs/qmp.md; `ringscope qmp PATH COMMAND` sends one command)");
  cmd->add_flag("--qmp-wait", a->qmp_wait, "With --qmp: start paused until a client sends cont");
  cmd->add_flag("--balloon", a->balloon,
                "Give the guest a virtio-balloon (paravirt; QMP balloon / query-balloon drive it, docs/virtio.md)");
  cmd->add_option("--balloon-target", a->balloon_target_mib,
                  "With a balloon (implies --balloon): ask the guest to shrink to this many MiB, once it ends the "
                  "marker phase --balloon-after names");
  cmd->add_option("--balloon-after", a->balloon_after,
                  "With --balloon-target: the label (or its start) of the marker phase whose end triggers it "
                  "(default: boot)");
  cmd->add_flag("--pvh", a->pvh, "Enter through the 32-bit PVH entry even if the kernel has a 64-bit one");
  cmd->callback([a, &ctx] { ctx.exit_code = do_run(*a); });
}

}  // namespace ringscope::cli
