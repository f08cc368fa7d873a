// cpu_list.h — host CPU lists as taskset and cgroups write them ("0", "0-1", "0,2-3").
#pragma once

#include <string_view>
#include <vector>

#include "ringscope/result.h"

namespace ringscope {

// Parses a CPU list: numbers and ranges separated by commas. Every CPU
// must be one this process may run on (sched_getaffinity); a CPU the host
// does not have is a Usage error that names the CPUs it does have.
// Returns the CPUs sorted, each once.
Result<std::vector<int>> parse_cpu_list(std::string_view text);
// The CPUs this process may run on, as a list ("0-1").
std::string allowed_cpus_text();
// Pins the calling thread to these CPUs (empty: leaves it as it is).
// False if the kernel refused.
bool pin_this_thread(const std::vector<int>& cpus);

}  // namespace ringscope
