// exit_reasons.h — VT-x basic exit reasons (Intel SDM Vol. 3C, Appendix C).
//
// The one table of exit reasons. The KVM backend maps every KVM exit onto
// one of these (also on AMD-V and PVM hosts, where the trace header says the
// numbers are the VT-x equivalent), the VT-x model produces them, and the
// CLI and viewer print their names and explanations from here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ringscope {

namespace exit_reason {
inline constexpr uint16_t kExceptionNmi = 0;
inline constexpr uint16_t kExternalInterrupt = 1;
inline constexpr uint16_t kTripleFault = 2;
inline constexpr uint16_t kInterruptWindow = 7;
inline constexpr uint16_t kCpuid = 10;
inline constexpr uint16_t kHlt = 12;
inline constexpr uint16_t kInvlpg = 14;
inline constexpr uint16_t kRdtsc = 16;
inline constexpr uint16_t kVmcall = 18;
inline constexpr uint16_t kCrAccess = 28;
inline constexpr uint16_t kIoInstruction = 30;
inline constexpr uint16_t kRdmsr = 31;
inline constexpr uint16_t kWrmsr = 32;
inline constexpr uint16_t kEntryFailGuestState = 33;
inline constexpr uint16_t kMonitorTrapFlag = 37;
inline constexpr uint16_t kApicAccess = 44;
inline constexpr uint16_t kEptViolation = 48;
inline constexpr uint16_t kEptMisconfig = 49;
inline constexpr uint16_t kPreemptionTimer = 52;
}  // namespace exit_reason

struct ExitReasonInfo {
  uint16_t number;
  std::string_view name;         // Intel's name, snake_case: "io_instruction"
  std::string_view title;        // for people: "I/O instruction"
  std::string_view explanation;  // one or two sentences for a student
};

// All known reasons, ascending by number.
std::span<const ExitReasonInfo> exit_reasons();
// nullptr for a number not in the table.
const ExitReasonInfo* find_exit_reason(uint16_t number);
std::optional<uint16_t> exit_reason_from_name(std::string_view name);
// "io_instruction" or "reason_77" for unknown numbers.
std::string exit_reason_name(uint16_t number);

}  // namespace ringscope
