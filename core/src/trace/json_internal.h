// json_internal.h — the JSON object of an event, shared by event_to_json()
// and the exporters (which put the same keys into their "args").
#pragma once

#include <string>

#include "nlohmann/json.hpp"
#include "ringscope/event.h"
#include "ringscope/terminal_text.h"

namespace ringscope::trace {

using Json = nlohmann::ordered_json;  // keeps seq, time_ns, ... in docs/trace-format.md's order

Json event_json(const Event& e);

// Guest output is arbitrary bytes: invalid UTF-8 becomes U+FFFD instead of
// an exception.
// C1 controls, which JSON allows raw, are \u-escaped too, so a JSON line
// printed on a terminal cannot carry an escape sequence (terminal_text.h).
inline std::string dump(const Json& j) {
  return json_terminal_safe(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace ringscope::trace
