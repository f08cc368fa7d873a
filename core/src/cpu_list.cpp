// cpu_list.cpp — parsing taskset-style CPU lists and pinning threads (cpu_list.h).
#include "ringscope/cpu_list.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "ringscope/i18n.h"

namespace ringscope {

namespace {

std::vector<int> allowed_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return out;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

std::string list_text(const std::vector<int>& cpus) {
  std::string s;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) j++;
    if (!s.empty()) s += ',';
    s += std::to_string(cpus[i]);
    if (j > i) s += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return s;
}

bool number(std::string_view t, int& out) {
  if (t.empty()) return false;
  auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && out >= 0 && out < CPU_SETSIZE;
}

}  // namespace

std::string allowed_cpus_text() { return list_text(allowed_cpus()); }

Result<std::vector<int>> parse_cpu_list(std::string_view text) {
  std::vector<int> cpus;
  auto bad = [&] {
    return make_error(ErrorKind::Usage,
                      trf("'{}' is not a CPU list: write CPUs as taskset does, e.g. 0, 0-1 or 0,2", std::string(text)));
  };
  if (text.empty()) return bad();
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t dash = item.find('-');
    int lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!number(item, lo)) return bad();
      hi = lo;
    } else if (!number(item.substr(0, dash), lo) || !number(item.substr(dash + 1), hi) || hi < lo) {
      return bad();
    }
    for (int c = lo; c <= hi; c++) cpus.push_back(c);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  const std::vector<int> allowed = allowed_cpus();
  for (int c : cpus)
    if (!std::binary_search(allowed.begin(), allowed.end(), c))
      return make_error(ErrorKind::Usage, trf("this host has no CPU {} that ringscope may use; its CPUs are {} "
                                              "(nproc, taskset -p $$)",
                                              c, list_text(allowed)));
  return cpus;
}

bool pin_this_thread(const std::vector<int>& cpus) {
  if (cpus.empty()) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace ringscope
