// translation_cache.h — the monitor's view of the translator: each guest
// kernel block the first time Unicorn translates it (scanned with Capstone
// for sensitive instructions, sensitive.h: a `bt_translate` event), and
// each callout as the block runs (a `bt_callout` event per sensitive
// instruction). VirtualBox kept statistics like these for its recompiler;
// they are mode bt's counters.
//
// A block is counted as it starts (Unicorn's block hook); a block cut
// short by a fault still counts its later callouts, as a block's
// instruction count does under emulation. Callouts are recorded once the
// block has run (at the next block, or at flush()), so that what they did
// (the flags popf loaded, the table lgdt loaded) can be read off the CPU.
#pragma once

#include <capstone/capstone.h>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "emulation/unicorn_cpu.h"
#include "ringscope/event.h"
#include "ringscope/guest_memory.h"
#include "ringscope/result.h"
#include "sensitive.h"

namespace ringscope::bt {

class TranslationCache {
 public:
  // `sink` null: count only (trace level off).
  TranslationCache(GuestMemory& ram, emulation::UnicornCpu& cpu, EventSink* sink);
  ~TranslationCache();
  TranslationCache(const TranslationCache&) = delete;
  TranslationCache& operator=(const TranslationCache&) = delete;

  Status install();  // the block hook, beside the EmuLoop's
  // Records the callouts of the block that ran last; `next_rip`: where the
  // guest went on (an IRETQ's target), 0 if unknown.
  void flush(uint64_t next_rip = 0);

  struct Site {
    uint64_t rip = 0;
    BtInsn insn = BtInsn::None;
    uint8_t operand = 0;  // int n: n; a segment move: the Unicorn register of the segment
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
  // The sensitive instruction that ran most often: its address and count.
  std::pair<uint64_t, uint64_t> hottest_site() const;
  // The IRETQ or SYSRETQ that ran last (the cause of a switch to direct execution).
  std::pair<BtInsn, uint64_t> last_return() const { return last_return_; }
  void emit_counters(EventSink& sink, uint64_t time_ns) const;

 private:
  static void on_block(uc_engine* uc, uint64_t address, uint32_t size, void* self);
  Block& translate(uint64_t address, uint32_t size);

  GuestMemory& ram_;
  emulation::UnicornCpu& cpu_;
  EventSink* sink_;
  csh cs_ = 0;
  std::unordered_map<uint64_t, Block> blocks_;  // key: address ^ (size << 48)
  std::unordered_map<uint64_t, uint64_t> site_runs_;
  const Block* pending_ = nullptr;  // ran last; its callouts not yet recorded
  uint64_t pending_flags_ = 0;      // RFLAGS as it began (what a pushf in it showed)
  uint64_t bytes_ = 0, runs_ = 0;
  std::array<uint64_t, kBtInsnCount> callouts_{};
  std::pair<BtInsn, uint64_t> last_return_{BtInsn::None, 0};
};

}  // namespace ringscope::bt
