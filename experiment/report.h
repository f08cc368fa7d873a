// report.h — report.md: what the seed claims, what was measured, the
// charts, the medians, the fits, where it ran and how to run it again.
#pragma once

#include <string>
#include <vector>

#include "results.h"
#include "spec.h"

namespace ringscope::experiment {

// The chart file of one workload and measure ("console-exits_per_kib.png").
std::string chart_file(const Workload& w, const Measure& m);

// `charts_note`: "" when the charts were drawn, else why not (the report
// says so instead of showing broken images).
std::string report_markdown(const Spec& spec, const std::vector<RunRecord>& records,
                            const std::vector<Skipped>& skipped, const Provenance& prov,
                            const std::string& charts_note);

}  // namespace ringscope::experiment
