// backends.h — which backend runs which mode. One table, read by `run`,
// `demo`, `doctor` and (later) `compare`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ringscope/backend.h"
#include "ringscope/result.h"

namespace ringscope::cli {

struct ModeInfo {
  std::string_view name;         // "full-virt"
  std::string_view description;  // one line
  bool needs_kvm;                // needs /dev/kvm
  bool available;                // built in this version
};
const std::vector<ModeInfo>& modes();
const ModeInfo* find_mode(std::string_view name);

// The backend for a mode, or an error saying which modes exist / that this
// one is not built yet.
Result<std::unique_ptr<Backend>> make_backend(std::string_view mode);

}  // namespace ringscope::cli
