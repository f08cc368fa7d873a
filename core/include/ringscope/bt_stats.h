// bt_stats.h — what a `bt` trace adds up to, in the spirit of VirtualBox's
// statistics for its recompiler and patch manager (/PATM/, /REM/): the
// translation cache (blocks, bytes), callouts per instruction and per
// address (the hottest sites), world switches by cause, and the time the
// guest spent in direct execution and in the translator.
//
// Part of TraceStats (trace_stats.h: `stats`, `stats --json`, the viewer's
// statistics): StatsBuilder feeds every event to a BtStatsBuilder. Memory is
// bounded: at most kMaxBtSites distinct callout sites are counted one by one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "ringscope/event.h"

namespace ringscope {

inline constexpr size_t kMaxBtSites = 65'536;  // distinct (rip, instruction) callout sites counted
inline constexpr size_t kBtHotSites = 10;      // sites listed in BtStats::hottest

// One instruction at one address in translated kernel code.
struct BtCalloutSite {
  uint64_t rip = 0;
  BtInsn insn = BtInsn::None;
  uint64_t count = 0;
  uint64_t time_ns = 0;  // the callouts' duration_ns summed
};

// World switches of one cause (and vector, for exceptions, interrupts and int n).
struct BtSwitchCause {
  TrapCause cause = TrapCause::None;
  uint8_t vector = 0;
  BtWorld to = BtWorld::None;
  uint64_t count = 0;
};

struct BtStats {
  // The translation cache: each bt_translate is a block added to it.
  uint64_t blocks = 0;
  uint64_t block_bytes = 0;         // guest code translated
  uint64_t block_instructions = 0;  // instructions translated
  uint64_t blocks_with_callouts = 0;
  uint64_t sensitive_found = 0;  // sensitive or privileged instructions found while translating
  uint64_t translate_ns = 0;     // time translating

  // Callouts: instructions the monitor emulated.
  uint64_t callouts = 0;
  uint64_t callout_ns = 0;
  std::array<uint64_t, kBtInsnCount> callouts_by_insn{};
  std::array<uint64_t, kBtInsnCount> callout_ns_by_insn{};
  uint64_t callout_sites = 0;          // distinct (rip, instruction), up to kMaxBtSites
  uint64_t callouts_unplaced = 0;      // callouts at sites past kMaxBtSites: counted, not placed
  std::vector<BtCalloutSite> hottest;  // at most kBtHotSites, most callouts first

  // World switches.
  uint64_t world_switches = 0;
  uint64_t to_translated = 0, to_direct = 0;
  uint64_t switch_ns = 0;             // the monitor's time for them
  std::vector<BtSwitchCause> causes;  // most frequent first

  // Where the time went, per vCPU from one world switch to the next, summed
  // over vCPUs (before a vCPU's first switch nothing is counted). The
  // translator's share includes the monitor's callouts and translations
  // made from it (monitor_ns).
  uint64_t direct_ns = 0;
  uint64_t translated_ns = 0;
  uint64_t monitor_ns = 0;  // callouts, translations and switches: their duration_ns summed

  bool any() const { return blocks || callouts || world_switches; }
};

// BtStats one event at a time (StatsBuilder calls it for every event).
class BtStatsBuilder {
 public:
  BtStatsBuilder();
  ~BtStatsBuilder();
  // Copyable: a live viewer takes snapshots of the statistics so far
  // (StatsBuilder::snapshot).
  BtStatsBuilder(const BtStatsBuilder& other);
  BtStatsBuilder& operator=(const BtStatsBuilder& other);
  void add(const Event& e);
  // `end_ns`: the trace's last event time, where each vCPU's current world ends.
  BtStats finish(uint64_t end_ns);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ringscope
