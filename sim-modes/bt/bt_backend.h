// bt_backend.h — mode `bt`: software full virtualisation by binary
// translation, as VMware and VirtualBox ran x86 guests before VT-x.
//
// Guest user code (CPL 3) runs directly on the CPU, under KVM
// (direct.h); guest kernel code (CPL 0) never does: it runs in Unicorn,
// QEMU's dynamic binary translator (sim-modes/emulation), where the
// sensitive instructions are the monitor's to emulate. Both work on one
// host mapping of guest RAM. The EmuLoop drives the run and hands ring 3
// over through its Ring3Runner seam (emu_loop.h). docs/bt.md teaches it.
#pragma once

#include <cstdint>
#include <utility>

#include "ringscope/backend.h"

namespace ringscope::bt {

// What the last run measured (bench_bt and the tests read it).
struct BtFigures {
  uint64_t world_switches = 0;      // into direct execution (each is a pair: in and back out)
  uint64_t direct_ns = 0;           // ring 3, direct (KVM_RUN and the switches around it)
  uint64_t switch_ns = 0;           // of which: moving state and the monitor's tables
  uint64_t translated_ns = 0;       // the rest of the run: the translator and the monitor
  uint64_t ring3_instructions = 0;  // ring-3 instructions the translator ran (must be 0)
  uint64_t kernel_instructions = 0;
  uint64_t tlb_flushes = 0;
  uint64_t pvm_fixups = 0;
  uint64_t tc_blocks = 0, tc_bytes = 0, tc_block_runs = 0;  // the translation cache (reuse: runs / blocks)
  uint64_t callouts = 0, io_callouts = 0;
  uint64_t callout_ns = 0;                              // the monitor's time in callouts (entered to returned)
  uint64_t pt_store_callouts = 0;                       // stores into the guest's page tables (traced pages)
  uint64_t fingerprints = 0, fingerprints_skipped = 0;  // page-table walks at entry, and entries the trace answered
  std::pair<uint64_t, uint64_t> hottest_callout;        // address, runs
};

class BtBackend final : public Backend {
 public:
  std::string_view name() const override { return "bt"; }
  Result<RunResult> run(Machine& machine, EventSink& sink, const RunOptions& options) override;
  const BtFigures& figures() const { return figures_; }

 private:
  BtFigures figures_;
};

}  // namespace ringscope::bt
