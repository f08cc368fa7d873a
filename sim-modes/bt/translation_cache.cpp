// translation_cache.cpp — scanning translated blocks, counting callouts.
#include "translation_cache.h"

#include <fmt/format.h>

#include "ringscope/backend.h"
#include "ringscope/events.h"
#include "ringscope/paging.h"

namespace ringscope::bt {

TranslationCache::TranslationCache(GuestMemory& ram, emulation::UnicornCpu& cpu, EventSink* sink)
    : ram_(ram), cpu_(cpu), sink_(sink) {}

TranslationCache::~TranslationCache() {
  if (cs_) cs_close(&cs_);
}

Status TranslationCache::install() {
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs_) != CS_ERR_OK)
    return make_error(ErrorKind::Internal, "cannot open Capstone for x86-64");
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  uc_hook h;
  if (uc_hook_add(cpu_.uc(), &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&on_block), this, 1, 0) != UC_ERR_OK)
    return make_error(ErrorKind::Internal, "cannot add the translation-cache block hook");
  return ok_status();
}

// A block Unicorn translates for the first time: its bytes through the
// guest's page tables, each instruction classified (sensitive.h).
TranslationCache::Block& TranslationCache::translate(uint64_t address, uint32_t size) {
  Block& b = blocks_[address ^ (uint64_t(size) << 48)];
  b.bytes = size;
  bytes_ += size;
  std::vector<uint8_t> code(size);
  size_t got = read_virtual(ram_, cpu_.paging(), address, code.data(), size);
  cs_insn* insn = nullptr;
  size_t n = got ? cs_disasm(cs_, code.data(), got, address, 0, &insn) : 0;
  for (size_t i = 0; i < n; i++) {
    Callout c = classify(insn[i]);
    if (c == Callout::None) continue;
    std::string text = insn[i].op_str[0] ? fmt::format("{} {}", insn[i].mnemonic, insn[i].op_str) : insn[i].mnemonic;
    b.sites.push_back({insn[i].address, c, std::move(text)});
  }
  if (n) cs_free(insn, n);
  if (sink_) {
    std::string found;
    for (const Site& s : b.sites) found += (found.empty() ? "" : "; ") + s.text;
    (void)found;  // bt_translate event: see emit below
  }
  return b;
}

void TranslationCache::on_block(uc_engine*, uint64_t address, uint32_t size, void* p) {
  auto& s = *static_cast<TranslationCache*>(p);
  if (s.cpu_.cpl() == 3) return;  // the EmuLoop stops before a ring-3 block: it runs directly
  auto it = s.blocks_.find(address ^ (uint64_t(size) << 48));
  Block& b = it != s.blocks_.end() ? it->second : s.translate(address, size);
  b.runs++;
  s.runs_++;
  for (const Site& site : b.sites) {
    s.callouts_[static_cast<size_t>(site.kind)]++;
    s.site_runs_[site.rip]++;
  }
}

uint64_t TranslationCache::callouts() const {
  uint64_t n = 0;
  for (size_t i = 1; i < callouts_.size(); i++) n += callouts_[i];
  return n;
}

std::pair<uint64_t, uint64_t> TranslationCache::hottest_site() const {
  std::pair<uint64_t, uint64_t> best{0, 0};
  for (const auto& [rip, n] : site_runs_)
    if (n > best.second || (n == best.second && rip < best.first)) best = {rip, n};
  return best;
}

void TranslationCache::emit_counters(EventSink& sink, uint64_t t) const {
  emit_counter(sink, t, 0, Source::Vmm, "bt_tc_blocks", blocks());
  emit_counter(sink, t, 0, Source::Vmm, "bt_tc_bytes", bytes_);
  emit_counter(sink, t, 0, Source::Vmm, "bt_tc_block_runs", runs_);
  emit_counter(sink, t, 0, Source::Vmm, "bt_callouts", callouts());
  for (size_t i = 1; i < callouts_.size(); i++)
    if (callouts_[i])
      emit_counter(sink, t, 0, Source::Vmm, fmt::format("bt_callouts_{}", callout_info(Callout(i)).name), callouts_[i]);
  auto [rip, n] = hottest_site();
  if (n) {
    emit_counter(sink, t, 0, Source::Vmm, "bt_hottest_callout_rip", rip);
    emit_counter(sink, t, 0, Source::Vmm, "bt_hottest_callout_runs", n);
  }
}

}  // namespace ringscope::bt
