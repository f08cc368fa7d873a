// event_kinds.h — inside core: the built-in kinds' rows (event_kinds.cpp)
// and the per-kind words they point to (explain.cpp).
#pragma once

#include <span>
#include <string>

#include "ringscope/event_schema.h"

namespace ringscope {

// EventKind's enumerators, in order: the registry starts with these.
std::span<const KindSpec> builtin_kinds();

// explain.cpp (explain_bt.cpp for the bt kinds): one summary line and one
// explanation per built-in kind.
namespace kind_text {
std::string vm_exit_summary(const Event& e);
std::string trap_summary(const Event& e);
std::string trap_return_summary(const Event& e);
std::string hypercall_summary(const Event& e);
std::string device_summary(const Event& e);
std::string irq_inject_summary(const Event& e);
std::string mode_change_summary(const Event& e);
std::string step_summary(const Event& e);
std::string counter_summary(const Event& e);
std::string output_summary(const Event& e);
std::string marker_summary(const Event& e);
std::string run_end_summary(const Event& e);
// "out 0x3f8 size 1 value 0x68 'h'": an access's words, for the kinds that carry one.
std::string access_words(const Event& e, AccessKind access);
std::string world_switch_summary(const Event& e);  // explain_bt.cpp, with the two below and the explanations
std::string bt_translate_summary(const Event& e);
std::string bt_callout_summary(const Event& e);

std::string vm_exit_explain(const Event& e);
std::string trap_explain(const Event& e);
std::string trap_return_explain(const Event& e);
std::string hypercall_explain(const Event& e);
std::string device_explain(const Event& e);
std::string irq_inject_explain(const Event& e);
std::string mode_change_explain(const Event& e);
std::string step_explain(const Event& e);
std::string counter_explain(const Event& e);
std::string output_explain(const Event& e);
std::string marker_explain(const Event& e);
std::string run_end_explain(const Event& e);
std::string world_switch_explain(const Event& e);
std::string bt_translate_explain(const Event& e);
std::string bt_callout_explain(const Event& e);
}  // namespace kind_text

}  // namespace ringscope
