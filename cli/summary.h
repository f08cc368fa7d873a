// summary.h — the few lines printed after a run, and the side-by-side
// table of exits by reason that `demo` prints for several runs.
#pragma once

#include <cstdio>
#include <vector>

#include "session.h"

namespace ringscope::cli {

void print_run_summary(std::FILE* out, const SessionOutcome& o);
// `modelled`: the runs were emulated, so the exits are the VT-x model's and
// there is neither KVM's in-kernel count nor single-stepping to show.
void print_side_by_side(std::FILE* out, const std::vector<SessionOutcome>& runs, bool modelled = false);

}  // namespace ringscope::cli
