// test_hostile.cpp — the hostile-guest suite: every case of hostile_cases.cpp
// in every mode it can run in. Each must end within its limits with a typed
// failure or the protocol's own error, leave a trace that reads back whole
// and ends with the run's end, and not crash the VMM. The verdicts print as
// a table when the binary exits.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "hostile_cases.h"
#include "ringscope/explain.h"
#include "ringscope/host.h"

namespace ringscope::test {
namespace {

struct Param {
  size_t index;
  HostileMode mode;
};

std::vector<Param> all_params() {
  std::vector<Param> out;
  const auto& cases = hostile_cases();
  for (size_t i = 0; i < cases.size(); i++)
    for (int m = 0; m < kHostileModeCount; m++)
      if (cases[i].modes & (1u << m)) out.push_back({i, static_cast<HostileMode>(m)});
  return out;
}

std::string param_name(const testing::TestParamInfo<Param>& info) {
  std::string mode = hostile_mode_name(info.param.mode);
  for (char& ch : mode)
    if (ch == '-' || ch == '/') ch = '_';
  return std::string(hostile_cases()[info.param.index].name) + "__" + mode;
}

// case name -> mode -> verdict, printed at exit.
std::mutex verdicts_mu;
std::map<std::string, std::map<int, std::string>> verdicts;
void record(const std::string& name, HostileMode mode, std::string verdict) {
  std::lock_guard lock(verdicts_mu);
  verdicts[name][static_cast<int>(mode)] = std::move(verdict);
}

class VerdictTable : public testing::Environment {
 public:
  void TearDown() override {
    if (verdicts.empty()) return;
    std::printf("\nhostile guests: %zu cases in this run\n%-28s", verdicts.size(), "case");
    for (int m = 0; m < kHostileModeCount; m++) std::printf(" %-18s", hostile_mode_name(static_cast<HostileMode>(m)));
    std::printf("\n");
    for (const auto& [name, row] : verdicts) {
      std::printf("%-28s", name.c_str());
      for (int m = 0; m < kHostileModeCount; m++) {
        auto it = row.find(m);
        std::printf(" %-18s", it == row.end() ? "-" : it->second.c_str());
      }
      std::printf("\n");
    }
  }
};
const auto* const kTable = testing::AddGlobalTestEnvironment(new VerdictTable);

class Hostile : public testing::TestWithParam<Param> {};

TEST_P(Hostile, IsContained) {
  const HostileCase& hc = hostile_cases()[GetParam().index];
  HostileMode mode = GetParam().mode;
  if (hostile_mode_uses_kvm(mode)) {
    HostInfo host = probe_host();
    if (!host.kvm_openable) {
      record(hc.name, mode, "skip: no kvm");
      GTEST_SKIP() << "needs /dev/kvm: " << host.kvm_open_error;
    }
  }
  if (!hostile_mode_uses_kvm(mode) && hc.emulation_skip) {
    record(hc.name, mode, "skip: emu");
    GTEST_SKIP() << hc.emulation_skip;
  }
  SCOPED_TRACE(std::string(hc.name) + " in " + hostile_mode_name(mode) + ": " + hc.what);
  std::string error;
  auto elf = build_hostile_guest(hc.source, &error);
  ASSERT_TRUE(elf) << error;
  // RINGSCOPE_HOSTILE_DUMP=DIR keeps each guest as DIR/<case>.elf, to run
  // by hand (`ringscope run --image`) or to measure (bench/).
  if (const char* dump = std::getenv("RINGSCOPE_HOSTILE_DUMP")) {
    std::ofstream(std::string(dump) + "/" + hc.name + ".elf", std::ios::binary)
        .write(reinterpret_cast<const char*>(elf->data()), static_cast<std::streamsize>(elf->size()));
  }
  auto run = run_hostile_guest(*elf, mode, hc.limits);
  ASSERT_TRUE(run) << "the run could not happen";
  const RunResult& r = run->result;
  std::string got(run_end_name(r.end));
  if (r.end == RunEndReason::GuestExit) got += " " + std::to_string(r.guest_status);
  record(hc.name, mode, got);

  bool expected = false;
  for (RunEndReason e : hc.expect.ends) expected |= e == r.end;
  EXPECT_TRUE(expected) << "ended as " << got << ": " << r.message;
  EXPECT_NE(r.end, RunEndReason::VmmError) << "the VMM itself failed: " << r.message;
  if (r.end == RunEndReason::GuestExit && hc.expect.status >= 0) {
    EXPECT_EQ(r.guest_status, hc.expect.status);
  }
  EXPECT_FALSE(r.message.empty()) << "every end explains itself";
  // Within the limits: output never runs past the output limit (plus the
  // byte that trips it), exits never past the exit limit.
  EXPECT_LE(run->console.size(), hc.limits.max_output_bytes + 1);
  EXPECT_LE(r.exits, hc.limits.max_exits);

  // The trace reads back whole and ends with how the run ended.
  ASSERT_TRUE(run->trace_error.empty()) << run->trace_error;
  EXPECT_TRUE(run->trace.complete) << run->trace.warning;
  ASSERT_FALSE(run->trace.events.empty());
  const Event& last = run->trace.events.back();
  EXPECT_EQ(last.kind, EventKind::RunEnd);
  EXPECT_EQ(last.end_reason, r.end);
  if (*hc.expect.trace_says) {
    bool said = std::string(last.text).find(hc.expect.trace_says) != std::string::npos;
    for (const auto& t : run->device_texts) said |= t.find(hc.expect.trace_says) != std::string::npos;
    EXPECT_TRUE(said) << "the trace should say \"" << hc.expect.trace_says << "\"; run_end says: " << last.text;
  }
}

INSTANTIATE_TEST_SUITE_P(Suite, Hostile, testing::ValuesIn(all_params()), param_name);

TEST(HostileSuite, HasAtLeastThirtyCasesEachWithAModeAndAnExpectation) {
  EXPECT_GE(hostile_cases().size(), 30u);
  for (const auto& hc : hostile_cases()) {
    EXPECT_NE(hc.modes, 0) << hc.name;
    EXPECT_FALSE(hc.expect.ends.empty()) << hc.name;
  }
}

}  // namespace
}  // namespace ringscope::test
