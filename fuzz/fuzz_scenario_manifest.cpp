// fuzz_scenario_manifest.cpp — scenario.json, as a student might write it.
//
// The manifest loader takes a path (it resolves images and the expected
// output relative to the manifest's directory), so each input is written
// to scenario.json in a scratch directory that also holds an expected.txt,
// then loaded. A manifest the loader accepts also has its command line
// built, with and without an override.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_util.h"
#include "ringscope/scenario.h"

using namespace ringscope;
using namespace ringscope::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool once = [] {
    static const uint8_t kExpected[] = "hello from ring 3\n";
    write_scratch_file("expected.txt", kExpected, sizeof kExpected - 1);
    return true;
  }();
  (void)once;
  write_scratch_file("scenario.json", data, size);
  Result<Scenario> s = load_scenario(scratch_dir());
  if (!s.ok()) return 0;
  (void)build_cmdline(s.value(), {});
  std::map<std::string, std::string> overrides;
  if (!s.value().params.empty()) overrides[s.value().params.begin()->first] = "7";
  (void)build_cmdline(s.value(), overrides);
  return 0;
}
