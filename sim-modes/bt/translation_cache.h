// translation_cache.h — the monitor's view of the translator: each guest
// kernel block the first time Unicorn translates it (scanned with Capstone
// for sensitive instructions, sensitive.h: a `bt_translate` event), and
// each callout as it happens (a `bt_callout` event per sensitive
// instruction run, and per store into the guest's page tables,
// page_table_watch.h). VirtualBox kept statistics like these for its
// recompiler; they are mode bt's counters.
//
// Callouts are caught at the instruction. Before the run the kernel image
// is decoded and every sensitive instruction in it gets a Unicorn code hook
// on its address, and one on the address after it: the first opens the
// callout (the monitor is entered, the clock starts), the second closes it
// (back in translated code), and what the instruction did — the port, size
// and value of an `in` or `out`, the register and value of a `mov cr`, the
// MSR of a `wrmsr` — is read off the CPU then. A branching instruction
// (iretq, int, a far jump) closes at the next block it reaches. Events the
// devices emit during a callout are held and recorded after it, so a trace
// reads callout, then what it caused (as a VM exit, then its device work).
//
// Code outside the kernel image (a guest that copies code elsewhere) has no
// hooks: its callouts are recorded, without a duration, once its block has
// run (at the next block), as a block's instruction count is.
#pragma once

#include <capstone/capstone.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "emulation/unicorn_cpu.h"
#include "page_table_watch.h"
#include "ringscope/deferred_sink.h"
#include "ringscope/event.h"
#include "ringscope/guest_memory.h"
#include "ringscope/machine.h"
#include "ringscope/result.h"
#include "sensitive.h"

namespace ringscope::bt {

class TranslationCache {
 public:
  // `out`: the run's sink; `tracing` false: count only (trace level off).
  TranslationCache(Machine& machine, emulation::UnicornCpu& cpu, EventSink& out, bool tracing);
  ~TranslationCache();
  TranslationCache(const TranslationCache&) = delete;
  TranslationCache& operator=(const TranslationCache&) = delete;

  // The block hook (beside the EmuLoop's), the hooks on the kernel image's
  // sensitive instructions and the page-table watch. Before the run starts.
  Status install();
  // The sink to hand the EmuLoop: events emitted while a callout is open
  // (the device work an `out` caused) are recorded after the callout.
  EventSink& loop_sink() { return loop_sink_; }
  // Records whatever callout is still open, or the callouts of the block
  // that ran last (outside the image); `next_rip`: where the guest went on
  // (an IRETQ's target), 0 if unknown.
  void flush(uint64_t next_rip = 0);

  struct Site {
    uint64_t rip = 0;
    BtInsn insn = BtInsn::None;
    uint8_t operand = 0;  // int n: n; a segment move: the Unicorn register of the segment
    uint8_t length = 0;
    uint8_t size = 0;      // in, out, ins, outs: the access size in bytes
    int32_t port = -1;     // in, out: the immediate port; -1: the port is in DX
    uint8_t cr = 0;        // mov_cr: which control register
    int gpr = 0;           // mov_cr: the Unicorn register it moves from or to
    bool write = false;    // mov_cr: a write to the control register
    bool rep = false;      // ins, outs: a REP prefix
    bool watched = false;  // hooked at its address (recorded as it runs)
    // invlpg: its memory operand (Unicorn registers, 0: none; RIP-relative: base UC_X86_REG_RIP)
    int mem_base = 0, mem_index = 0;
    uint8_t mem_scale = 1;
    int64_t mem_disp = 0;
  };
  struct Block {
    uint32_t bytes = 0;
    uint64_t runs = 0;
    std::vector<Site> sites;
  };
  uint64_t blocks() const { return blocks_.size(); }
  uint64_t bytes() const { return bytes_; }
  uint64_t block_runs() const { return runs_; }  // blocks started (reuse: runs / blocks)
  uint64_t callouts(BtInsn i) const { return callouts_[static_cast<size_t>(i)]; }
  uint64_t callouts() const;
  // The monitor's time in callouts (hooked ones: entered to returned), in all and per instruction.
  uint64_t callout_ns() const;
  uint64_t callout_ns(BtInsn i) const { return callout_ns_[static_cast<size_t>(i)]; }
  uint64_t watched_sites() const { return watched_.size(); }
  // The sensitive instruction that ran most often: its address and count.
  std::pair<uint64_t, uint64_t> hottest_site() const;
  // The IRETQ or SYSRETQ that ran last (the cause of a switch to direct execution).
  std::pair<BtInsn, uint64_t> last_return() const { return last_return_; }
  // The guest's page tables as the monitor traces them (CR3 followed here first).
  PageTableWatch& page_tables();
  void emit_counters(EventSink& sink, uint64_t time_ns) const;

 private:
  static void on_block(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  static void on_code(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  static void on_pt_store(uc_engine* uc, uc_mem_type type, uint64_t address, int size, int64_t value, void* self);
  Block& translate(uint64_t address, uint32_t size);
  Site make_site(const cs_insn& insn) const;
  Status watch_image();
  void count(const Site& s);
  void open(const Site& s, uint64_t t);
  void close(uint64_t next_rip);
  // What the callout at `s` did, read off the CPU after it ran.
  void describe(Event& e, const Site& s, uint64_t next_rip) const;
  void emit(Event& e);

  // Holds the EmuLoop's events while a callout is open.
  class LoopSink final : public EventSink {
   public:
    explicit LoopSink(TranslationCache& c) : c_(c) {}
    void emit(Event& e) override;

   private:
    TranslationCache& c_;
  };

  Machine& machine_;
  GuestMemory& ram_;
  emulation::UnicornCpu& cpu_;
  EventSink& out_;
  EventSink* sink_;  // &out_ when tracing
  LoopSink loop_sink_{*this};
  DeferredSink held_;
  csh cs_ = 0;
  std::unordered_map<uint64_t, Block> blocks_;  // key: address ^ (size << 48)
  std::unordered_map<uint64_t, Site> watched_;  // hooked sites by address
  std::unordered_map<uint64_t, uint64_t> site_runs_;
  const Block* pending_ = nullptr;  // ran last; its unwatched callouts not yet recorded
  uint64_t pending_flags_ = 0;      // RFLAGS as it began (what a pushf in it showed)
  // The callout open now (a hooked site entered, not yet returned from).
  bool open_ = false;
  Site open_site_;
  uint64_t open_at_ = 0, open_flags_ = 0, open_rax_ = 0, open_rcx_ = 0, open_address_ = 0;
  uint64_t bytes_ = 0, runs_ = 0, code_hooks_ = 0;
  std::array<uint64_t, kBtInsnCount> callouts_{};
  std::array<uint64_t, kBtInsnCount> callout_ns_{};
  std::pair<BtInsn, uint64_t> last_return_{BtInsn::None, 0};
  std::unique_ptr<PageTableWatch> page_tables_;
};

}  // namespace ringscope::bt
