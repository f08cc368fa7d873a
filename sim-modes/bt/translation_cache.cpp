// translation_cache.cpp — scanning translated blocks, counting callouts.
#include "translation_cache.h"

#include <fmt/format.h>

#include "ringscope/backend.h"
#include "ringscope/bt_insns.h"
#include "ringscope/events.h"
#include "ringscope/paging.h"

namespace ringscope::bt {

namespace {
// The Unicorn register of the segment register a segment move names.
uint8_t segment_of(const cs_insn& insn) {
  if (!insn.detail) return 0;
  const cs_x86& x = insn.detail->x86;
  for (uint8_t i = 0; i < x.op_count; i++) {
    if (x.operands[i].type != X86_OP_REG) continue;
    switch (x.operands[i].reg) {
      case X86_REG_CS: return UC_X86_REG_CS;
      case X86_REG_DS: return UC_X86_REG_DS;
      case X86_REG_ES: return UC_X86_REG_ES;
      case X86_REG_SS: return UC_X86_REG_SS;
      case X86_REG_FS: return UC_X86_REG_FS;
      case X86_REG_GS: return UC_X86_REG_GS;
      default: break;
    }
  }
  return 0;
}

uint64_t table_register(uc_engine* uc, int reg, bool selector) {
  uc_x86_mmr m{};
  uc_reg_read(uc, reg, &m);
  return selector ? m.selector : m.base;
}
}  // namespace

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
  uint64_t t0 = monotonic_ns();
  Block& b = blocks_[address ^ (uint64_t(size) << 48)];
  b.bytes = size;
  bytes_ += size;
  std::vector<uint8_t> code(size);
  size_t got = read_virtual(ram_, cpu_.paging(), address, code.data(), size);
  cs_insn* insn = nullptr;
  size_t n = got ? cs_disasm(cs_, code.data(), got, address, 0, &insn) : 0;
  uint64_t mask = 0;
  for (size_t i = 0; i < n; i++) {
    BtInsn c = classify(insn[i]);
    if (c == BtInsn::None) continue;
    Site site{insn[i].address, c, 0};
    if (c == BtInsn::MovSeg || c == BtInsn::PushSeg || c == BtInsn::PopSeg) site.operand = segment_of(insn[i]);
    if (c == BtInsn::IntN)
      site.operand = insn[i].id == X86_INS_INT3 ? 3 : insn[i].id == X86_INS_INTO ? 4 : insn[i].bytes[1];
    b.sites.push_back(site);
    mask |= bt_insn_bit(c);
  }
  if (n) cs_free(insn, n);
  if (sink_) {
    uint64_t t1 = monotonic_ns();
    Event ev = events::bt_translate({t1, 0, Source::Emulator}, address, size, uint32_t(n), mask,
                                    uint32_t(b.sites.size()), t1 - t0);
    sink_->emit(ev);
  }
  return b;
}

// What each callout did, read off the CPU once its block has run (the
// value's meaning is the instruction's row in bt_insns.h).
void TranslationCache::flush(uint64_t next_rip) {
  const Block* b = pending_;
  pending_ = nullptr;
  if (!b || !sink_ || b->sites.empty()) return;
  uint64_t t = monotonic_ns();
  uc_engine* uc = cpu_.uc();
  for (const Site& s : b->sites) {
    Event e = events::bt_callout({t, 0, Source::Emulator}, s.insn, s.rip, 0);
    switch (s.insn) {
      case BtInsn::Cli: events::callout_value(e, 0); break;
      case BtInsn::Sti: events::callout_value(e, 1); break;
      case BtInsn::IntN: events::callout_vector(e, s.operand); break;
      case BtInsn::Pushf: events::callout_value(e, pending_flags_ & 0x3200); break;  // IF, IOPL as the block began
      case BtInsn::Popf: events::callout_value(e, cpu_.reg(UC_X86_REG_RFLAGS) & 0x3200); break;
      case BtInsn::Lgdt:
      case BtInsn::Sgdt: events::callout_value(e, table_register(uc, UC_X86_REG_GDTR, false)); break;
      case BtInsn::Lidt:
      case BtInsn::Sidt: events::callout_value(e, table_register(uc, UC_X86_REG_IDTR, false)); break;
      case BtInsn::Ltr:
      case BtInsn::Str: events::callout_value(e, table_register(uc, UC_X86_REG_TR, true)); break;
      case BtInsn::Lldt:
      case BtInsn::Sldt: events::callout_value(e, table_register(uc, UC_X86_REG_LDTR, true)); break;
      case BtInsn::Smsw: events::callout_value(e, cpu_.reg(UC_X86_REG_CR0) & 0xffff); break;
      case BtInsn::MovSeg:
      case BtInsn::PushSeg:
      case BtInsn::PopSeg:
        if (s.operand) events::callout_value(e, cpu_.reg(s.operand) & 0xffff);
        break;
      case BtInsn::CallFar:
      case BtInsn::JmpFar:
      case BtInsn::RetFar: events::callout_value(e, cpu_.reg(UC_X86_REG_CS)); break;
      case BtInsn::Iret:
      case BtInsn::Sysret: events::callout_value(e, next_rip); break;
      case BtInsn::Swapgs: events::callout_value(e, cpu_.reg(UC_X86_REG_GS_BASE)); break;
      default: break;
    }
    sink_->emit(e);
  }
}

void TranslationCache::on_block(uc_engine*, uint64_t address, uint32_t size, void* p) {
  auto& s = *static_cast<TranslationCache*>(p);
  s.flush(address);
  if (s.cpu_.cpl() == 3) return;  // the EmuLoop stops before a ring-3 block: it runs directly
  auto it = s.blocks_.find(address ^ (uint64_t(size) << 48));
  Block& b = it != s.blocks_.end() ? it->second : s.translate(address, size);
  b.runs++;
  s.runs_++;
  for (const Site& site : b.sites) {
    s.callouts_[static_cast<size_t>(site.insn)]++;
    s.site_runs_[site.rip]++;
    if (site.insn == BtInsn::Iret || site.insn == BtInsn::Sysret) s.last_return_ = {site.insn, site.rip};
  }
  s.pending_ = &b;  // unordered_map nodes never move
  if (s.sink_ && !b.sites.empty()) s.pending_flags_ = s.cpu_.reg(UC_X86_REG_RFLAGS);
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
      emit_counter(sink, t, 0, Source::Vmm, fmt::format("bt_callouts_{}", bt_insn_name(BtInsn(i))), callouts_[i]);
  auto [rip, n] = hottest_site();
  if (n) {
    emit_counter(sink, t, 0, Source::Vmm, "bt_hottest_callout_rip", rip);
    emit_counter(sink, t, 0, Source::Vmm, "bt_hottest_callout_runs", n);
  }
}

}  // namespace ringscope::bt
