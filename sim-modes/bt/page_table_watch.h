// page_table_watch.h — the monitor traces the pages that hold the guest's
// page tables, as VMware's did: a store by translated kernel code into one
// of them is a callout (`pt_store`), because the monitor keeps a copy of
// the tables that must follow them (here: KVM's shadow of them, which
// direct execution runs on).
//
// The pages are the paging structures reachable from the translator's CR3
// (core's vmx::PageTableSet, the same walk the VT-x model's shadow paging
// uses), re-walked when CR3 changes and grown when a store links a new
// table in. The trace is cheap: one Unicorn write hook per run of
// contiguous table pages, on exactly those pages' addresses, re-armed when
// the set changes; stores elsewhere do not call the monitor.
//
// The hooks are on the tables' identity addresses (virtual == physical),
// which is where the teaching kernel writes them (its direct map,
// scenarios/kernel/memlayout.h). complete() says whether every table is
// reachable that way and the set was not truncated: only then can the
// monitor trust "no store landed" (DirectExecution skips its fingerprint).
#pragma once

#include <unicorn/unicorn.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"
#include "ringscope/vmx/page_tables.h"

namespace ringscope::bt {

class PageTableWatch {
 public:
  // `hook` is Unicorn's UC_HOOK_MEM_WRITE callback, called with `user`.
  PageTableWatch(GuestMemory& ram, uc_engine* uc, void* hook, void* user);
  ~PageTableWatch();
  PageTableWatch(const PageTableWatch&) = delete;
  PageTableWatch& operator=(const PageTableWatch&) = delete;

  // Walks the tables again if `paging.cr3` is not the root watched now, and
  // arms the hooks for whatever pages are new. Cheap when nothing changed.
  void follow(const PagingState& paging);

  struct Store {
    uint64_t gpa = 0;
    uint8_t size = 0;
    uint64_t value = 0;
    std::string_view entry;  // "pte", "pde", "pdpte", "pml4e"
    bool changed = false;    // it changed an entry beyond the accessed and dirty bits
  };
  // A store of `size` bytes at `va` (the write hook, before it lands): what
  // it does to a table, or nothing if it misses them (a stale hook).
  std::optional<Store> on_write(uint64_t va, int size, uint64_t value, const PagingState& paging);

  // Every table hooked at its identity address, and the set not truncated.
  bool complete() const { return complete_; }
  // A store changed an entry (beyond A/D) since the last call; clears it.
  bool take_dirty() {
    bool d = dirty_;
    dirty_ = false;
    return d;
  }
  uint64_t root() const { return set_.root(); }
  size_t tables() const { return set_.size(); }
  size_t hooks() const { return hooks_.size(); }
  uint64_t walks() const { return walks_; }

 private:
  void arm(const PagingState& paging);
  void disarm_all();

  GuestMemory& ram_;
  uc_engine* uc_;
  void* hook_;
  void* user_;
  vmx::PageTableSet set_;
  bool have_root_ = false;
  std::unordered_map<uint64_t, uc_hook> hooks_;  // first page frame of a run -> its hook
  std::vector<uint8_t> hooked_;                  // per page frame: 1 when a hook covers it
  size_t armed_pages_ = 0;                       // set_.pages() entries already looked at
  bool complete_ = false;
  bool identity_ok_ = true;
  bool dirty_ = false;
  uint64_t walks_ = 0;
};

}  // namespace ringscope::bt
