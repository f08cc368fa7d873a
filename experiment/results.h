// results.h — what an experiment's runs measured, kept as they finish, and
// what they add up to: medians with their spread, and a line fitted to each
// fitted measure (fixed cost + cost per unit).
//
// Files in the output directory (docs/experiments.md):
//   runs.jsonl    one line per finished run, appended as it finishes (what
//                 --resume reads back)
//   results.csv   tidy: one row per run and measure
//   results.json  the spec, the host, every run, the medians and the fits
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ringscope/result.h"
#include "spec.h"

namespace ringscope::experiment {

// One cell of the grid, one repeat.
struct RunKey {
  std::string workload;
  uint64_t value = 0;
  std::string mode;
  int repeat = 1;  // 1-based
  auto operator<=>(const RunKey&) const = default;
};

// The grid in the order it runs: workload, value, repeat, mode (so an
// interrupted experiment has every mode at the smaller sizes first).
std::vector<RunKey> grid(const Spec& spec);

struct MeasureValue {
  std::optional<double> value;  // the measure (per unit or KiB, scaled)
  std::optional<double> raw;    // before "per": the phase's total (scaled), what the fit uses
  std::string problem;          // why there is no value
};

struct RunRecord {
  RunKey key;
  bool ok = false;                               // the guest ended as the scenario expects
  std::string message;                           // guest status, or what went wrong
  std::string trace;                             // the run's trace file, relative to the output directory
  std::map<std::string, MeasureValue> measures;  // by measure id
};

// A mode the host cannot run, with the reason.
struct Skipped {
  std::string mode;
  std::string reason;
};

// runs.jsonl: one record a line.
std::string record_to_json_line(const RunRecord& r);
Result<RunRecord> record_from_json_line(const std::string& line);
// Reads every record of a runs.jsonl (a torn last line, from an interrupted
// write, is dropped).
Result<std::vector<RunRecord>> read_records(const std::filesystem::path& file);

// Fills every relative_to measure of every record: the baseline mode's run
// at the same workload, value and repeat (the runs of one repeat run one
// after the other), its value of the named measure divided by this run's,
// times scale. Without that run, or with a zero, the measure says why.
// Call it whenever records change: it is a function of all of them.
void apply_baseline(const Spec& spec, std::vector<RunRecord>& records);

struct Spread {
  double median = 0, min = 0, max = 0;
  int n = 0;
};
Spread spread_of(std::vector<double> v);

// One point of a chart: a measure of one workload at one value in one mode.
struct Point {
  uint64_t x = 0;
  Spread y;
};
struct Series {
  std::string mode;
  std::vector<Point> points;  // by x
};
// The medians of one measure of one workload, one series per mode that has
// values (modes in the spec's order).
std::vector<Series> series_of(const Spec& spec, const std::vector<RunRecord>& records, const std::string& workload,
                              const std::string& measure);

// raw = a + b * x by least squares over the medians of the raw totals: a
// is the fixed (set-up) cost, b the cost per unit, and a/b the value of x
// where they are equal (set-up dominates below it).
struct Fit {
  std::string workload, measure, mode;
  double a = 0, b = 0;
  std::optional<double> crossover;  // a / b, when both are positive
  int points = 0;
};
std::vector<Fit> fits_of(const Spec& spec, const std::vector<RunRecord>& records);

// Where two modes' lines of a measure cross: the first pair of adjacent
// values between which the sign of (mode1 - mode2) changes.
struct Crossing {
  std::string workload, measure, mode_a, mode_b;
  uint64_t below = 0, above = 0;  // the crossing lies between these values
};
std::vector<Crossing> crossings_of(const Spec& spec, const std::vector<RunRecord>& records);

// What the report and results.json say about where the experiment ran.
struct Provenance {
  std::string tool_version;
  std::string command;  // the exact command line to reproduce it
  std::string kvm_flavour, kernel_release, cpu_model;
  bool kvm_usable = false;
  int cpus = 0;                      // CPUs this process may run on
  bool cpu_is_virtual = false;       // /proc/cpuinfo's "hypervisor" flag: this Linux itself runs in a VM
  std::string load_start, load_end;  // /proc/loadavg's three averages when it started and finished
  std::string started, finished;     // UTC, ISO 8601
};

Status write_csv(const std::filesystem::path& file, const Spec& spec, const std::vector<RunRecord>& records);
Status write_json(const std::filesystem::path& file, const Spec& spec, const std::vector<RunRecord>& records,
                  const std::vector<Skipped>& skipped, const Provenance& prov);

// Writes `text` to `file` through a temporary file and a rename, so a reader
// (or an interruption) never sees half a file.
Status write_file_atomically(const std::filesystem::path& file, const std::string& text);

}  // namespace ringscope::experiment
