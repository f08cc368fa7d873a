// fuzz_lab_json.cpp — lab.json, the file an instructor (or a student
// adapting a lab) writes, and the checks it declares.
//
// load_lab reads <dir>/lab.json, so each input is written to a scratch
// directory first. A lab the loader accepts has every check evaluated on
// a few made-up events per run (markers around a phase, exits, traps), so
// whatever the parser lets through also goes through measure() and
// evaluate() the way `ringscope lab check` would use it.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "checker/lab.h"
#include "fuzz_util.h"

using namespace ringscope;
using namespace ringscope::fuzz;

namespace {

std::vector<Event> sample_events() {
  std::vector<Event> v;
  auto add = [&](EventKind k, auto&& fill) {
    Event e;
    e.seq = v.size();
    e.time_ns = 1000 * (v.size() + 1);
    e.kind = k;
    fill(e);
    v.push_back(e);
  };
  add(EventKind::Marker, [](Event& e) { e.name = "work", e.phase = MarkerPhase::Begin; });
  add(EventKind::VmExit, [](Event& e) { e.reason = 30, e.port = 0x3f8, e.value = 'h', e.direction = Direction::Out; });
  add(EventKind::Trap, [](Event& e) { e.vector = 14, e.from_cpl = 3, e.to_cpl = 0, e.cause = TrapCause::Exception; });
  add(EventKind::Hypercall, [](Event& e) { e.number = 2, e.count = 5; });
  add(EventKind::Marker, [](Event& e) { e.name = "work", e.phase = MarkerPhase::End; });
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Event> events = sample_events();
  write_scratch_file("lab.json", data, size);
  Result<labs::Lab> lab = labs::load_lab(scratch_dir());
  if (!lab.ok()) return 0;
  labs::RunEvents runs;
  for (const labs::LabRun& r : lab.value().runs) runs[r.id] = &events;
  const labs::Answers answers = labs::parse_answers("exits: 1\nratio: 0x10 # hex\n");
  if (!answers.problems.empty()) __builtin_trap();  // a well-formed answers file must parse cleanly
  for (const labs::Check& c : lab.value().checks) (void)labs::evaluate(c, runs, answers.values);
  return 0;
}
