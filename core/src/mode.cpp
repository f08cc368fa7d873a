// mode.cpp — the mode names (mode.h).
#include "ringscope/mode.h"

#include <array>

namespace ringscope {

namespace {
constexpr std::array<std::string_view, kModeCount> kModeNames = {"full-virt", "paravirt", "emulation", "bt", "hvm-pv"};
}  // namespace

std::string_view mode_name(Mode m) {
  const auto i = static_cast<size_t>(m);
  return i < kModeNames.size() ? kModeNames[i] : std::string_view{};
}

std::optional<Mode> mode_from_name(std::string_view name) {
  for (size_t i = 0; i < kModeNames.size(); ++i)
    if (kModeNames[i] == name) return static_cast<Mode>(i);
  return std::nullopt;
}

std::string mode_choices() {
  std::string out;
  for (size_t i = 0; i < kModeNames.size(); ++i)
    out += std::string(i == 0 ? "" : i + 1 == kModeNames.size() ? " or " : ", ") + std::string(kModeNames[i]);
  return out;
}

}  // namespace ringscope
