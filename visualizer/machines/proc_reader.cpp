// proc_reader.cpp — /proc/PID/{comm,status,task/*/comm,task/*/stat,fd/*}.
#include "machines/proc_reader.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ringscope/i18n.h"

namespace ringscope::machines {

namespace {

bool slurp(const std::string& path, std::string& out) {
  std::ifstream f(path);
  if (!f) return false;
  std::ostringstream s;
  s << f.rdbuf();
  out = s.str();
  return true;
}

std::string first_line(const std::string& path) {
  std::string s;
  if (!slurp(path, s)) return {};
  return s.substr(0, s.find('\n'));
}

// Numeric entries of a /proc directory, sorted.
std::vector<long> numeric_entries(const std::string& dir) {
  std::vector<long> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long v = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0') out.push_back(v);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// "pid (comm) S ppid ... utime stime ...": the comm may hold spaces and
// parentheses, so fields are counted from the last ')'.
bool parse_stat(const std::string& stat, char& state, uint64_t& ticks) {
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  // After ')': state is field 3; utime and stime are fields 14 and 15.
  std::vector<std::string> f;
  while (in >> field && f.size() < 13) f.push_back(field);
  if (f.size() < 13) return false;
  state = f[0].empty() ? '?' : f[0][0];
  ticks = std::stoull(f[11]) + std::stoull(f[12]);
  return true;
}

uint64_t status_kib(const std::string& status, const char* key) {
  const size_t at = status.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + std::strlen(key), nullptr, 10);
}

}  // namespace

double ThreadInfo::cpu_seconds() const {
  return static_cast<double>(cpu_ticks) / static_cast<double>(clock_ticks_per_second());
}

uint64_t ProcessInfo::cpu_ticks() const {
  uint64_t t = 0;
  for (const auto& th : threads) t += th.cpu_ticks;
  return t;
}

long clock_ticks_per_second() {
  static const long hz = [] {
    const long v = sysconf(_SC_CLK_TCK);
    return v > 0 ? v : 100;
  }();
  return hz;
}

double cpu_percent(uint64_t ticks_before, uint64_t ticks_after, double wall_seconds) {
  if (wall_seconds <= 0 || ticks_after < ticks_before) return 0;
  return 100.0 * static_cast<double>(ticks_after - ticks_before) / static_cast<double>(clock_ticks_per_second()) /
         wall_seconds;
}

Result<ProcessInfo> read_process(pid_t pid) {
  const std::string base = "/proc/" + std::to_string(pid);
  ProcessInfo p;
  p.pid = pid;
  std::string status;
  if (!slurp(base + "/status", status))
    return make_error(ErrorKind::NoInput, trf("process {} is gone (no {}/status)", pid, base));
  p.name = first_line(base + "/comm");
  p.rss_kib = status_kib(status, "VmRSS:");
  p.vm_kib = status_kib(status, "VmSize:");
  for (const long tid : numeric_entries(base + "/task")) {
    const std::string t = base + "/task/" + std::to_string(tid);
    ThreadInfo th;
    th.tid = static_cast<pid_t>(tid);
    std::string stat;
    if (!slurp(t + "/stat", stat) || !parse_stat(stat, th.state, th.cpu_ticks)) continue;  // ended meanwhile
    th.name = first_line(t + "/comm");
    p.threads.push_back(std::move(th));
  }
  for (const long fd : numeric_entries(base + "/fd")) {
    char buf[512];
    const std::string link = base + "/fd/" + std::to_string(fd);
    const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    if (n <= 0) continue;
    p.files.push_back({static_cast<int>(fd), std::string(buf, static_cast<size_t>(n))});
  }
  return p;
}

}  // namespace ringscope::machines
