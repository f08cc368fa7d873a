// lab.h — a classroom lab as data, and the checks that grade it.
//
// A lab is a directory under labs/ with a handout (handout.md) and a
// lab.json that says what to run and what to check:
//
//   runs    what the checker runs: the student's program (built from their
//           C files with the SDK), or a built-in scenario; in which mode
//           (with a mode to fall back to where the host has no KVM), at
//           which trace level, with which parameters.
//   checks  questions put to the traces those runs wrote: a query counts
//           events (by kind, source, exit reason, port, ring, marker
//           phase, ...) or takes a value; an expectation compares it with
//           a number, or with the student's own answer from answers.txt.
//
// This file knows nothing of running guests: it parses lab.json and
// evaluates checks on events, so it is tested on made-up traces. The
// `ringscope lab` verb (cli/cmd_lab.cpp) runs the guests.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ringscope/event.h"
#include "ringscope/event_filter.h"
#include "ringscope/mode.h"
#include "ringscope/result.h"

namespace ringscope::labs {

// One run of a guest.
struct LabRun {
  std::string id;                             // how checks name it
  std::vector<std::string> program;           // the student's source files (built with `ringscope build`)
  std::string program_name;                   // its name in markers ("run NAME"); default: the run id
  std::string scenario;                       // or a built-in scenario
  std::map<std::string, std::string> params;  // scenario parameters
  std::string append;                         // kernel command line for a program
  Mode mode = Mode::Emulation;                // full-virt, paravirt, emulation
  std::optional<Mode> fallback_mode;          // used where the host has no usable /dev/kvm
  std::string level = "exits";                // exits or full
  std::string devices;                        // emulation: legacy or virtio
  std::string irqchip;                        // KVM modes: vmm or kernel (docs/interrupts.md)
  std::string io;                             // KVM modes with virtio: vcpu or offload (docs/modes.md)
  std::string vmx_profile;                    // emulation: the VT-x model's profile
  int expect_status = 0;                      // the guest's exit status a good run ends with
  int vcpus = 0;                              // the guest's CPUs (`run --vcpus`, 1..8); 0: the scenario's own
  // Host CPUs every vCPU thread is pinned to (`run --vcpu-affinity`): a
  // taskset-style list, or "first": the first CPU the checker may use (the
  // same lab then works in a container limited to other CPUs).
  std::string vcpu_affinity;
  // With vcpu_affinity: the checker runs a host CPU hog (a thread that only
  // computes) pinned to the same CPUs for as long as this run lasts.
  bool host_hog = false;
  // The run's disk (docs/virtio.md, "Disk cache modes"): an image file of
  // this name in the lab's work directory ("" : a scratch image), made of
  // disk_fill bytes of pseudo-random data when it is missing (a fresh image
  // is a hole, which the host reads without its disk); the host's cache
  // mode for it (`run --disk-cache`; "" : writeback) and whether its pages
  // are dropped from the host page cache first (`run --disk-cache-drop`).
  std::string disk;
  uint64_t disk_fill = 0;
  std::string disk_cache;
  bool disk_cache_drop = false;
  uint64_t ram_mib = 0;  // guest RAM ("ram", MiB); 0: run's default
  // A virtio-balloon asked to shrink the guest to this many MiB when it ends
  // the phase balloon_after names (`run --balloon-target`, --balloon-after).
  uint64_t balloon_target_mib = 0;
  std::string balloon_after;
  // A program run: the marker phases the student's program is asked to
  // open and close (the handout names them). Checks may only measure
  // `between` phases the run can have: these, the teaching kernel's "boot"
  // and "run PROGRAM_NAME", or a scenario's declared `markers`.
  std::vector<std::string> markers;
};

// A number measured on one run's events: how many events match
// ("count"), the sum of their `value`s or `count`s ("sum_value",
// "sum_count"), the last value on each vCPU lane, summed ("sum_last_value":
// a running total such as host.vcpu_cpu_ns over all vCPU threads), a field
// of the last one that does ("last_value",
// "last_vector", "last_port", "last_reason", "last_count", "last_number":
// a hypercall's number), how far a counter's value climbed above its first
// ("rise_value": the largest minus the first) or fell back from its peak
// ("fall_value": the largest minus the last), or the time
// from the first to the last ("span_ns"; a whole phase, marker to marker,
// when no kind is given).
// Which events: the one EventFilter of `show` and the viewer
// (ringscope/event_filter.h says what each key matches), from the query's
// keys: "kind" (one or a list), "source", "reason", "port", "vector", "cpl",
// "from_cpl", "to_cpl", "cause", "direction", "device", "register", "name",
// "value", "vcpu" (the event's lane: 0..7).
struct Query {
  std::string run;
  EventFilter filter;
  std::string between;  // only inside the first marker phase with this label
  std::string measure = "count";
};

struct Expectation {
  std::optional<double> equals, at_least, at_most;
  std::string answer;    // the student's answer to this key in answers.txt must equal the measure
  double tolerance = 0;  // relative, for answers and `equals`
};

struct Check {
  std::string id;
  std::string say;              // what is checked, in a sentence for the student
  std::string hint;             // what to look at when it fails
  std::string say_ko, hint_ko;  // the same in Korean ("say_ko", "hint_ko"; optional)
  Query query;
  std::optional<Query> divide_by;  // the measure is query / divide_by (another query) ...
  double divide_by_number = 1;     // ... and / this number ("divide_by": 16)
  Expectation expect;
};

struct Lab {
  int number = 0;
  std::string title;
  std::string title_ko;       // "title_ko", optional
  std::string language;       // "language": "en" or "ko", the course's; graders' reports (--json) use it
  std::filesystem::path dir;  // where lab.json and handout.md are
  std::vector<LabRun> runs;
  std::vector<Check> checks;
  std::vector<std::string> answers;  // keys answers.txt must have
};

// Reads and validates dir/lab.json (a regular file, size-capped); a
// BadData error names the file and the field that is wrong. Besides the
// schema it refuses what can never match: a `between` label no run of that
// kind emits (a scenario's labels come from its manifest's `markers`), an
// unknown exit reason, a port above 0xffff, a vector above 255, a CPL
// above 3, a param the scenario lacks.
Result<Lab> load_lab(const std::filesystem::path& dir);
// Every lab under `root` (directories with a lab.json), by number.
Result<std::vector<Lab>> load_labs(const std::filesystem::path& root);

// One query in lab.json's form ({"kind": ..., "between": ..., "measure": ...},
// no "run" key), for tools outside a lab (`ringscope experiment`). A BadData
// error names `where` and the key that is wrong.
Result<Query> parse_query_object(const nlohmann::json& j, const std::string& where);

// A manifest's marker template with a run's params: "{ticks}" is the value,
// "{sectors*2}" the value times 2.
Result<std::string> expand_label(const std::string& tmpl, const std::map<std::string, std::string>& params,
                                 const std::string& scenario);

// The labels of the marker phases a run can have (see LabRun::markers).
// Errors: the scenario is unknown, or a template names a param it lacks.
Result<std::vector<std::string>> run_phase_labels(const LabRun& run);

// answers.txt: one "key: value" per line, '#' starts a comment; values are
// numbers (decimal, or hex with 0x). Every line is judged on its own: a bad
// line is a problem naming its line number and what is wrong, and the other
// lines still count. A key given twice is a problem and counts neither
// time. With `keys`, a key the lab does not ask for is a problem too.
struct Answers {
  std::map<std::string, double> values;
  std::vector<std::string> problems;  // "answers.txt line 3: ..."
  std::set<std::string> rejected;     // keys whose line (or lines) had a problem
};
Answers parse_answers(const std::string& text, const std::vector<std::string>& keys = {});

// What one query measured on one run.
struct Measured {
  std::optional<double> value;  // nothing when it could not be measured ...
  std::string problem;          // ... and why ("the phase \"x\" is not in the trace")
};

// Measures one query on a stream of events with bounded state: feed every
// event of the query's run in order, then take the result. A `between`
// phase that never begins is a problem, not a silent 0.
class QueryMeter {
 public:
  explicit QueryMeter(const Query& q) : q_(&q) {}
  void feed(const Event& e);
  Measured result() const;

 private:
  const Query* q_;
  enum class Phase { Before, Inside, After } phase_ = Phase::Before;
  double sum_ = 0;
  std::optional<uint64_t> first_, last_, begin_ns_, end_ns_;
  std::map<uint32_t, uint64_t> lane_last_;  // sum_last_value: each lane's last value (at most 8 lanes are kept)
  uint64_t first_value_ = 0, max_value_ = 0, last_value_ = 0;  // rise_value, fall_value
};
Measured measure(const Query& q, const std::vector<Event>& events);

struct CheckResult {
  const Check* check = nullptr;
  bool passed = false;
  std::optional<double> measured;
  std::string detail;  // what was measured against what was expected
};

// Grades a lab from its runs' event streams without keeping them: one meter
// per query. Feed each run's events (in file order, one run after another
// or interleaved), mark the runs that happened, then read the results.
class Grader {
 public:
  explicit Grader(const Lab& lab);
  Grader(const Grader&) = delete;
  Grader& operator=(const Grader&) = delete;
  void feed(const std::string& run, const Event& e);
  void run_done(const std::string& run);  // its trace was read (an empty one counts)
  std::vector<CheckResult> results(const std::map<std::string, double>& answers) const;

 private:
  const Lab& lab_;
  std::vector<QueryMeter> meters_;                     // one per query
  std::vector<std::pair<size_t, size_t>> slots_;       // per check: its query's meter, its divide_by's
  std::map<std::string, std::vector<size_t>> by_run_;  // run id -> indexes into meters_
  std::set<std::string> done_;
};

// One check on events in memory (tests): the runs' events by run id.
using RunEvents = std::map<std::string, const std::vector<Event>*>;
CheckResult evaluate(const Check& c, const RunEvents& runs, const std::map<std::string, double>& answers);

// `ringscope lab validate DIR`: everything about a lab that can be checked
// without running it (load_lab's checks, handout.md present and readable,
// and, when given, a reference answers.txt with exactly the lab's keys).
// Empty: valid. Each problem is one sentence.
std::vector<std::string> validate_lab(const std::filesystem::path& dir,
                                      const std::optional<std::filesystem::path>& answers = std::nullopt);

}  // namespace ringscope::labs
