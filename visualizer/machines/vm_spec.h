// vm_spec.h — what the New VM dialog asks for (virt-manager's "new virtual
// machine" wizard), and the `ringscope run` command line it becomes. The
// viewer starts exactly that command as the VM's process, so what the
// Machines panel shows can be repeated from a shell.
#pragma once

#include <string>
#include <vector>

namespace ringscope::machines {

enum class VmSource { Scenario, Program, Image };

struct VmSpec {
  VmSource source = VmSource::Scenario;
  std::string scenario = "hello";  // VmSource::Scenario: a built-in name
  std::string path;                // Program: a .c or .elf; Image: a kernel ELF
  std::string mode;                // "full-virt", "paravirt", "emulation", ...; "" = run's default
  std::string level = "exits";     // "exits" or "full"
  std::string irqchip;             // "", "vmm" or "kernel"
  std::string io;                  // "", "vcpu" or "offload" (run --io)
  int ram_mib = 0;                 // 0: run's default
  std::string disk;                // raw disk image; "" = a scratch disk
  std::string console_input;       // text fed to the console from the start (--input-text)
  std::string params;              // scenario parameters "k=v k=v" (--param each)
  bool start_paused = false;       // wait for Run before the first instruction (QEMU's -S)
};

// "syscalls", "hello.elf", "kernel.elf": the VM's name in the panel.
std::string display_name(const VmSpec& s);

// A sentence saying what is wrong with `s` (no scenario chosen, a program
// that is neither .c nor .elf, a file that does not exist, RAM out of
// range), or "" if it can be started.
std::string validate(const VmSpec& s);

// True for a Program whose path ends in .c: `ringscope build` makes the ELF first.
bool needs_build(const VmSpec& s);
// `exe build SRC.c -o ELF`.
std::vector<std::string> build_argv(const VmSpec& s, const std::string& exe, const std::string& elf);

// `exe run ... --trace TRACE [--qmp unix:QMP --qmp-wait]`; `program_elf` is
// the built ELF for a .c program (else unused). `qmp` empty: no QMP.
std::vector<std::string> run_argv(const VmSpec& s, const std::string& exe, const std::string& trace,
                                  const std::string& qmp, const std::string& program_elf = {});

// `ringscope view --new-vm SPEC`: "SCENARIO[,key=value...]" or
// "program=PATH,..." / "image=PATH,...", keys mode, level, irqchip, io, ram,
// disk, input, param (repeatable) and paused (no value). False, with a
// sentence in `error`, for an unknown key or a bad value.
bool parse_vm_spec(const std::string& text, VmSpec& out, std::string& error);

// The argv as a shell line, quoted where needed (shown in the Host view).
std::string shell_line(const std::vector<std::string>& argv);

}  // namespace ringscope::machines
