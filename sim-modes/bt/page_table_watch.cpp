// page_table_watch.cpp — tracing the guest's page-table pages (page_table_watch.h).
#include "page_table_watch.h"

#include <algorithm>
#include <cstring>

namespace ringscope::bt {

namespace {
// Past this many hooks (tables of address spaces no longer current), the
// next walk starts the hooks afresh: each store's check walks the list.
constexpr size_t kMaxHooks = 256;
constexpr uint64_t kAccessedDirty = 0x60;
}  // namespace

PageTableWatch::PageTableWatch(GuestMemory& ram, uc_engine* uc, void* hook, void* user)
    : ram_(ram), uc_(uc), hook_(hook), user_(user), hooked_(ram.size() / 4096 + 1, 0) {}

PageTableWatch::~PageTableWatch() { disarm_all(); }

void PageTableWatch::disarm_all() {
  for (auto& [pfn, h] : hooks_) uc_hook_del(uc_, h);
  hooks_.clear();
  std::fill(hooked_.begin(), hooked_.end(), 0);
}

void PageTableWatch::follow(const PagingState& paging) {
  uint64_t root = paging.cr3 & 0x000ffffffffff000ull;
  if (!(paging.cr0 & (1ull << 31))) return;  // paging off: no tables yet
  if (!have_root_ || root != set_.root()) {
    set_.reload(ram_, paging.cr3);
    have_root_ = true;
    walks_++;
    armed_pages_ = 0;
    identity_ok_ = true;
    if (hooks_.size() > kMaxHooks) disarm_all();
  }
  arm(paging);
}

// Hooks the pages of the set not looked at yet, a run of contiguous pages
// per hook.
void PageTableWatch::arm(const PagingState& paging) {
  const std::vector<uint64_t>& pages = set_.pages();
  std::vector<uint64_t> fresh;
  for (; armed_pages_ < pages.size(); armed_pages_++) {
    uint64_t pfn = pages[armed_pages_];
    if (pfn >= hooked_.size() || hooked_[pfn]) continue;
    auto pa = translate(ram_, paging, pfn << 12);
    if (!pa || *pa != pfn << 12) {
      identity_ok_ = false;  // written through another address: a hook here would not see it
      continue;
    }
    fresh.push_back(pfn);
  }
  std::sort(fresh.begin(), fresh.end());
  for (size_t i = 0; i < fresh.size();) {
    size_t j = i + 1;
    while (j < fresh.size() && fresh[j] == fresh[j - 1] + 1) j++;
    uint64_t begin = fresh[i] << 12, end = ((fresh[j - 1] + 1) << 12) - 1;
    uc_hook h;
    if (uc_hook_add(uc_, &h, UC_HOOK_MEM_WRITE, hook_, user_, begin, end) == UC_ERR_OK) {
      hooks_[fresh[i]] = h;
      for (size_t k = i; k < j; k++) hooked_[fresh[k]] = 1;
    } else {
      identity_ok_ = false;
    }
    i = j;
  }
  complete_ = identity_ok_ && !set_.truncated();
}

std::optional<PageTableWatch::Store> PageTableWatch::on_write(uint64_t va, int size, uint64_t value,
                                                              const PagingState& paging) {
  uint64_t gpa = va;  // hooks sit on identity addresses only
  if (gpa >= ram_.size()) return std::nullopt;
  uint8_t levels = set_.levels(gpa);
  if (!levels) return std::nullopt;
  Store s;
  s.gpa = gpa;
  s.size = static_cast<uint8_t>(std::clamp(size, 1, 8));
  s.value = s.size == 8 ? value : value & ((1ull << (8 * s.size)) - 1);
  s.entry = vmx::table_entry_name(levels);
  uint64_t at = gpa & ~7ull, old = 0;
  if ((gpa & 7) + s.size > 8) {
    s.changed = true;  // straddles two entries: say it changed
  } else if (ram_.contains(at, 8)) {
    ram_.read(at, &old, 8);
    uint64_t now = old;
    std::memcpy(reinterpret_cast<uint8_t*>(&now) + (gpa & 7), &s.value, s.size);
    s.changed = ((old ^ now) & ~kAccessedDirty) != 0;
  }
  if (s.changed) dirty_ = true;
  size_t before = set_.size();
  set_.note_write(ram_, gpa, s.size, s.value);
  if (set_.size() != before) arm(paging);  // a table linked in: trace it too
  return s;
}

}  // namespace ringscope::bt
