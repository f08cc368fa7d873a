// proc_reader.h — how a VM looks from the host (the seed's "가상 머신은 호스트
// OS에서 어떻게 보이는가"): one process, a thread per vCPU named vcpu0,
// vcpu1, ... (QEMU names them "CPU 0/KVM"), CPU time per thread, resident
// memory and open files, all read from /proc as `ps -L`, `top -H` and
// `ls -l /proc/PID/fd` would show them.
//
// No ImGui here; tests/visualizer/proc_reader_test.cpp reads a real child.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ringscope/result.h"

namespace ringscope::machines {

struct ThreadInfo {
  pid_t tid = 0;
  std::string name;        // /proc/PID/task/TID/comm: "vcpu0", "ringscope", ...
  char state = '?';        // R running, S sleeping, ... (/proc/PID/task/TID/stat field 3)
  uint64_t cpu_ticks = 0;  // utime + stime, in clock ticks (sysconf(_SC_CLK_TCK))
  double cpu_seconds() const;
};

struct OpenFile {
  int fd = -1;
  std::string target;  // readlink of /proc/PID/fd/N: "/dev/kvm", "anon_inode:kvm-vcpu:0", "pipe:[123]"
};

struct ProcessInfo {
  pid_t pid = 0;
  std::string name;                 // /proc/PID/comm
  std::vector<ThreadInfo> threads;  // by tid
  uint64_t rss_kib = 0;             // VmRSS in /proc/PID/status
  uint64_t vm_kib = 0;              // VmSize
  std::vector<OpenFile> files;      // by fd; unreadable entries are left out
  uint64_t cpu_ticks() const;       // the sum over threads
};

// Reads /proc/PID. An Error when the process does not exist (any more) or
// /proc cannot be read; a thread or fd that vanishes while being read is
// left out rather than failing the whole read.
Result<ProcessInfo> read_process(pid_t pid);

// Ticks per second of the cpu_ticks fields.
long clock_ticks_per_second();

// CPU use between two readings of the same process, in percent of one host
// CPU (100 = one CPU busy all the time, as top shows it): `wall_seconds`
// is the time between the readings, measured by the caller.
double cpu_percent(uint64_t ticks_before, uint64_t ticks_after, double wall_seconds);

}  // namespace ringscope::machines
