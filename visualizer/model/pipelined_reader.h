// pipelined_reader.h — TraceModel::open's reading, on a second thread.
//
// Opening a trace is two kinds of work on one stream of events: the core
// reader checks and decodes each chunk (for_each_event), then the model
// encodes and indexes each event. Neither needs the other's state, so on a
// machine with two cores they overlap: a reader thread runs for_each_event
// and copies each event (its strings and registers with it) into a batch;
// the calling thread takes the batches in file order and hands each event to
// `consume`. At most a few batches are in flight (about 2.5 MiB whatever the
// length of the trace): no second copy of the trace is held.
//
// The chunks' checks, the warnings and the summary are for_each_event's own,
// so a damaged or cut trace loads exactly as it does without the thread.
#pragma once

#include <functional>
#include <string>

#include "ringscope/event.h"
#include "ringscope/result.h"
#include "ringscope/trace.h"

namespace ringscope::viewer {

// As for_each_event(path, {}, ...), with `consume` called on the calling
// thread for every event, in order (the event valid during the call). An
// exception thrown by `consume` (std::bad_alloc) stops the reader and is
// rethrown here.
Status read_pipelined(const std::string& path, const std::function<void(const Event&)>& consume, TraceHeader& header,
                      ReadSummary& summary);

}  // namespace ringscope::viewer
