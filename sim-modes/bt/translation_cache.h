// translation_cache.h — the monitor's view of the translator: each guest
// kernel block the first time Unicorn translates it (scanned with Capstone
// for sensitive instructions, sensitive.h), and each callout as the block
// runs. VirtualBox kept statistics like these for its recompiler; they are
// mode bt's counters and its `bt_translate` / `bt_callout` events.
#pragma once

#include <capstone/capstone.h>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
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

  struct Site {
    uint64_t rip = 0;
    Callout kind = Callout::None;
    std::string text;  // "out dx, al"
  };
  struct Block {
    uint32_t bytes = 0;
    uint64_t runs = 0;
    std::vector<Site> sites;
  };
  uint64_t blocks() const { return blocks_.size(); }
  uint64_t bytes() const { return bytes_; }
  uint64_t block_runs() const { return runs_; }  // blocks started (reuse: runs / blocks)
  uint64_t callouts(Callout c) const { return callouts_[static_cast<size_t>(c)]; }
  uint64_t callouts() const;
  // The sensitive instruction that ran most often: its address and count.
  std::pair<uint64_t, uint64_t> hottest_site() const;
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
  uint64_t bytes_ = 0, runs_ = 0;
  std::array<uint64_t, kCalloutCount> callouts_{};
};

}  // namespace ringscope::bt
