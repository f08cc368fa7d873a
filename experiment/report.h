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

// The sections that set an experiment against its claim (report_summaries.cpp),
// "" when the spec has nothing for them: a baseline mode and a relative_to
// measure (efficiency); workloads whose phases are rows of Adams & Agesen's
// table with an ns_per_op measure (nanobench).
std::string efficiency_summary(const Spec& spec, const std::vector<RunRecord>& records, const Provenance& prov);
std::string nanobench_summary(const Spec& spec, const std::vector<RunRecord>& records);

}  // namespace ringscope::experiment
