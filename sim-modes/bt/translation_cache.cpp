// translation_cache.cpp — scanning translated blocks, catching callouts as
// they run, tracing the guest's page-table pages.
#include "translation_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

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

// A 64-bit general register (or RIP) in Capstone's numbering to Unicorn's; 0 for anything else.
int unicorn_gpr(unsigned reg) {
  switch (reg) {
    case X86_REG_RAX: return UC_X86_REG_RAX;
    case X86_REG_RBX: return UC_X86_REG_RBX;
    case X86_REG_RCX: return UC_X86_REG_RCX;
    case X86_REG_RDX: return UC_X86_REG_RDX;
    case X86_REG_RSI: return UC_X86_REG_RSI;
    case X86_REG_RDI: return UC_X86_REG_RDI;
    case X86_REG_RBP: return UC_X86_REG_RBP;
    case X86_REG_RSP: return UC_X86_REG_RSP;
    case X86_REG_R8: return UC_X86_REG_R8;
    case X86_REG_R9: return UC_X86_REG_R9;
    case X86_REG_R10: return UC_X86_REG_R10;
    case X86_REG_R11: return UC_X86_REG_R11;
    case X86_REG_R12: return UC_X86_REG_R12;
    case X86_REG_R13: return UC_X86_REG_R13;
    case X86_REG_R14: return UC_X86_REG_R14;
    case X86_REG_R15: return UC_X86_REG_R15;
    case X86_REG_RIP: return UC_X86_REG_RIP;
    default: return 0;
  }
}

// The control registers' names, as a cr access's `reg` (static: events keep a view).
constexpr std::string_view kCrNames[16] = {"cr0", "cr1", "cr2",  "cr3",  "cr4",  "cr5",  "cr6",  "cr7",
                                           "cr8", "cr9", "cr10", "cr11", "cr12", "cr13", "cr14", "cr15"};

// Instructions that do not go on to the next one: their callout ends at the
// next block they reach.
bool branches(BtInsn i) {
  switch (i) {
    case BtInsn::IntN:
    case BtInsn::Iret:
    case BtInsn::Sysret:
    case BtInsn::CallFar:
    case BtInsn::JmpFar:
    case BtInsn::RetFar:
    case BtInsn::Hlt: return true;
    default: return false;
  }
}

uint64_t table_register(uc_engine* uc, int reg, bool selector) {
  uc_x86_mmr m{};
  uc_reg_read(uc, reg, &m);
  return selector ? m.selector : m.base;
}

uint64_t mask_of(uint8_t size) { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }
}  // namespace

TranslationCache::TranslationCache(Machine& machine, emulation::UnicornCpu& cpu, EventSink& out, bool tracing)
    : machine_(machine), ram_(machine.memory()), cpu_(cpu), out_(out), sink_(tracing ? &out : nullptr), held_(&out) {}

TranslationCache::~TranslationCache() {
  page_tables_.reset();
  if (cs_) cs_close(&cs_);
}

void TranslationCache::LoopSink::emit(Event& e) {
  if (c_.open_ && c_.sink_)
    c_.held_.emit(e);
  else
    c_.out_.emit(e);
}

void TranslationCache::emit(Event& e) {
  if (open_)
    held_.emit(e);  // after the callout that is open
  else
    sink_->emit(e);
}

Status TranslationCache::install() {
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs_) != CS_ERR_OK)
    return make_error(ErrorKind::Internal, "cannot open Capstone for x86-64");
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  uc_hook h;
  if (uc_hook_add(cpu_.uc(), &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&on_block), this, 1, 0) != UC_ERR_OK)
    return make_error(ErrorKind::Internal, "cannot add the translation-cache block hook");
  TRY(watch_image());
  page_tables_ = std::make_unique<PageTableWatch>(ram_, cpu_.uc(), reinterpret_cast<void*>(&on_pt_store), this);
  page_tables_->follow(cpu_.paging());
  return ok_status();
}

// One row of the sensitive-instruction table, with what the monitor needs
// to say what it did.
TranslationCache::Site TranslationCache::make_site(const cs_insn& insn) const {
  Site site;
  site.rip = insn.address;
  site.insn = classify(insn);
  site.length = static_cast<uint8_t>(insn.size);
  if (site.insn == BtInsn::None || !insn.detail) return site;
  const cs_x86& x = insn.detail->x86;
  switch (site.insn) {
    case BtInsn::MovSeg:
    case BtInsn::PushSeg:
    case BtInsn::PopSeg: site.operand = segment_of(insn); break;
    case BtInsn::IntN: site.operand = insn.id == X86_INS_INT3 ? 3 : insn.id == X86_INS_INTO ? 4 : insn.bytes[1]; break;
    case BtInsn::In:
    case BtInsn::Out:
      for (uint8_t i = 0; i < x.op_count; i++) {
        const cs_x86_op& op = x.operands[i];
        if (op.type == X86_OP_IMM) site.port = static_cast<int32_t>(op.imm & 0xffff);
        if (op.type == X86_OP_REG && op.reg != X86_REG_DX) site.size = op.size;
      }
      break;
    case BtInsn::Ins:
    case BtInsn::Outs:
      for (uint8_t i = 0; i < x.op_count; i++)
        if (x.operands[i].type == X86_OP_MEM) site.size = x.operands[i].size;
      site.rep = x.prefix[0] == X86_PREFIX_REP;
      break;
    case BtInsn::MovCr:
      if (x.op_count == 2 && x.operands[0].type == X86_OP_REG && x.operands[1].type == X86_OP_REG) {
        site.write = x.operands[0].reg >= X86_REG_CR0 && x.operands[0].reg <= X86_REG_CR15;
        const cs_x86_op& cr = x.operands[site.write ? 0 : 1];
        site.cr = static_cast<uint8_t>(cr.reg - X86_REG_CR0);
        site.gpr = unicorn_gpr(x.operands[site.write ? 1 : 0].reg);
      }
      break;
    case BtInsn::Invlpg:
      for (uint8_t i = 0; i < x.op_count; i++) {
        if (x.operands[i].type != X86_OP_MEM) continue;
        site.mem_base = unicorn_gpr(x.operands[i].mem.base);
        site.mem_index = unicorn_gpr(x.operands[i].mem.index);
        site.mem_scale = static_cast<uint8_t>(x.operands[i].mem.scale);
        site.mem_disp = x.operands[i].mem.disp;
      }
      break;
    default: break;
  }
  return site;
}

// Before the run: every sensitive instruction of the kernel image gets a
// code hook at its address and one after it (the callout's entry and
// return). Each code segment is decoded from its start, and again from the
// boot entry point (a header before the code can throw the first decoding
// out of step); a byte that does not decode is stepped over, and runs of
// zero bytes (.bss) are skipped. Hooks go in before anything is
// translated, so every block sees them.
Status TranslationCache::watch_image() {
  // [first, last] instruction addresses to hook: a site and the instruction after it.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  cs_insn* insn = cs_malloc(cs_);
  auto sweep = [&](const std::vector<uint8_t>& image, uint64_t base, uint64_t from) {
    const uint8_t* code = image.data() + (from - base);
    size_t left = image.size() - (from - base);
    uint64_t at = from;
    while (left) {
      if (left >= 8 && !std::memcmp(code, "\0\0\0\0\0\0\0\0", 8)) {
        while (left && !*code) code++, left--, at++;
        continue;
      }
      if (!cs_disasm_iter(cs_, &code, &left, &at, insn)) {
        code++, left--, at++;
        continue;
      }
      Site site = make_site(*insn);
      if (site.insn == BtInsn::None || watched_.count(site.rip)) continue;
      site.watched = true;
      watched_[site.rip] = site;
      ranges.emplace_back(site.rip, branches(site.insn) ? site.rip : site.rip + site.length);
    }
  };
  // The code: the segments that hold an entry point (the image keeps no
  // segment flags). Decoding data too would only add hooks that never fire
  // but that every hooked instruction pays for.
  const uint64_t entry = machine_.boot().rip, elf_entry = machine_.kernel_image().elf_entry;
  auto holds = [](const GpaRange& seg, uint64_t a) { return a >= seg.begin && a < seg.end; };
  for (const GpaRange& seg : machine_.kernel_image().segments) {
    if (seg.end <= seg.begin || !ram_.contains(seg.begin, seg.end - seg.begin)) continue;
    if (!holds(seg, entry) && !holds(seg, elf_entry)) continue;
    std::vector<uint8_t> image(seg.end - seg.begin);
    ram_.read(seg.begin, image.data(), image.size());
    sweep(image, seg.begin, seg.begin);
    if (entry > seg.begin && holds(seg, entry)) sweep(image, seg.begin, entry);
  }
  cs_free(insn, 1);
  // One hook per cluster of ranges less than kHookGap apart: Unicorn 2.0
  // walks its whole list of code hooks at each hooked instruction, so the
  // list must stay short. A merged hook also fires for the instructions
  // between its sites, which on_code turns away after one lookup. A range
  // [site, next] holds exactly those two instructions in straight-line
  // code (no instruction starts inside the site). Measured on io-burst
  // (16 KiB): one hook per site, 361 hooks, ran 5-10x slower than without
  // hooks; with this gap, 20 hooks, 2-4x.
  constexpr uint64_t kHookGap = 256;
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 0; i < ranges.size();) {
    uint64_t begin = ranges[i].first, end = ranges[i].second;
    size_t j = i + 1;
    for (; j < ranges.size() && ranges[j].first <= end + kHookGap; j++) end = std::max(end, ranges[j].second);
    uc_hook h;
    if (uc_hook_add(cpu_.uc(), &h, UC_HOOK_CODE, reinterpret_cast<void*>(&on_code), this, begin, end) != UC_ERR_OK)
      return make_error(ErrorKind::Internal, fmt::format("cannot hook the callout sites at {:#x}", begin));
    code_hooks_++;
    i = j;
  }
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
    Site site = make_site(insn[i]);
    if (site.insn == BtInsn::None) continue;
    site.watched = watched_.count(site.rip) != 0;
    b.sites.push_back(site);
    mask |= bt_insn_bit(site.insn);
  }
  if (n) cs_free(insn, n);
  if (sink_) {
    uint64_t t1 = monotonic_ns();
    Event ev = events::bt_translate({t1, 0, Source::Emulator}, address, size, uint32_t(n), mask,
                                    uint32_t(b.sites.size()), t1 - t0);
    emit(ev);
  }
  return b;
}

void TranslationCache::count(const Site& s) {
  callouts_[static_cast<size_t>(s.insn)]++;
  site_runs_[s.rip]++;
  if (s.insn == BtInsn::Iret || s.insn == BtInsn::Sysret) last_return_ = {s.insn, s.rip};
}

// The monitor is entered: the instruction at s.rip is about to run.
void TranslationCache::open(const Site& s, uint64_t t) {
  open_ = true;
  open_site_ = s;
  open_at_ = t;
  if (sink_) {
    open_flags_ = cpu_.reg(UC_X86_REG_RFLAGS);
    open_rax_ = cpu_.reg(UC_X86_REG_RAX);
    open_rcx_ = cpu_.reg(UC_X86_REG_RCX);
    open_address_ = 0;
    if (s.insn == BtInsn::Invlpg) {
      uint64_t base = s.mem_base == UC_X86_REG_RIP ? s.rip + s.length : s.mem_base ? cpu_.reg(s.mem_base) : 0;
      uint64_t index = s.mem_index ? cpu_.reg(s.mem_index) : 0;
      open_address_ = base + index * s.mem_scale + uint64_t(s.mem_disp);
    }
  }
  // hlt: the monitor's part is to notice it; the wait that follows is idle time, not the monitor's.
  if (s.insn == BtInsn::Hlt) close(s.rip + s.length);
}

// Back in translated code at `next_rip`: the callout's time and what it did.
void TranslationCache::close(uint64_t next_rip) {
  if (!open_) return;
  uint64_t t1 = monotonic_ns();
  const Site s = open_site_;
  uint64_t ns = t1 > open_at_ ? t1 - open_at_ : 0;
  callout_ns_[static_cast<size_t>(s.insn)] += ns;
  open_ = false;
  if (s.insn == BtInsn::MovCr && s.cr == 3 && s.write && page_tables_) page_tables_->follow(cpu_.paging());
  if (!sink_) return;
  Event e = events::bt_callout({open_at_, 0, Source::Emulator}, s.insn, s.rip, 0, ns);
  describe(e, s, next_rip);
  sink_->emit(e);
  held_.drain(*sink_);  // what the callout caused, after it
}

// What the callout did, read off the CPU once it has run (the open_*
// values: as it began). The value's meaning is the instruction's row in
// bt_insns.h.
void TranslationCache::describe(Event& e, const Site& s, uint64_t next_rip) const {
  uc_engine* uc = cpu_.uc();
  switch (s.insn) {
    case BtInsn::In:
    case BtInsn::Out: {
      uint8_t size = s.size ? s.size : 1;
      uint16_t port = s.port >= 0 ? uint16_t(s.port) : uint16_t(cpu_.reg(UC_X86_REG_RDX));
      events::port_access(e, port, size, s.insn == BtInsn::In ? Direction::In : Direction::Out,
                          cpu_.reg(UC_X86_REG_RAX) & mask_of(size));
      break;
    }
    case BtInsn::Ins:
    case BtInsn::Outs:
      events::port_access(e, uint16_t(cpu_.reg(UC_X86_REG_RDX)), s.size ? s.size : 1,
                          s.insn == BtInsn::Ins ? Direction::In : Direction::Out, 0, s.rep ? uint32_t(open_rcx_) : 1);
      break;
    case BtInsn::MovCr:
      if (s.gpr)
        events::cr_access(e, kCrNames[s.cr & 15], s.write ? Direction::Write : Direction::Read, cpu_.reg(s.gpr));
      break;
    case BtInsn::Lmsw:
    case BtInsn::Clts: events::cr_access(e, kCrNames[0], Direction::Write, cpu_.reg(UC_X86_REG_CR0)); break;
    case BtInsn::Rdmsr:
    case BtInsn::Wrmsr:
      events::msr_access(e, uint32_t(cpu_.reg(UC_X86_REG_RCX)),
                         s.insn == BtInsn::Wrmsr ? Direction::Write : Direction::Read,
                         (cpu_.reg(UC_X86_REG_RDX) << 32) | (cpu_.reg(UC_X86_REG_RAX) & 0xffffffff));
      break;
    case BtInsn::Cpuid: events::cpuid_exit(e, open_rax_ & 0xffffffff); break;
    case BtInsn::Invlpg: events::callout_value(e, open_address_); break;
    case BtInsn::Cli: events::callout_value(e, 0); break;
    case BtInsn::Sti: events::callout_value(e, 1); break;
    case BtInsn::IntN: events::callout_vector(e, s.operand); break;
    case BtInsn::Pushf: events::callout_value(e, open_flags_ & 0x3200); break;  // IF, IOPL as it began
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
}

// The open callout (returned to translated code at `next_rip`), then the
// callouts of the last block that had no hooks, read off the CPU now that
// it has run.
void TranslationCache::flush(uint64_t next_rip) {
  close(next_rip);
  const Block* b = pending_;
  pending_ = nullptr;
  if (!b) return;
  bool follow_cr3 = false;
  for (const Site& s : b->sites) {
    if (s.watched) continue;
    if (s.insn == BtInsn::MovCr && s.cr == 3 && s.write) follow_cr3 = true;
    if (!sink_) continue;
    Event e = events::bt_callout({monotonic_ns(), 0, Source::Emulator}, s.insn, s.rip, 0);
    open_flags_ = pending_flags_;
    describe(e, s, next_rip);
    sink_->emit(e);
  }
  if (follow_cr3 && page_tables_) page_tables_->follow(cpu_.paging());
}

void TranslationCache::on_block(uc_engine*, uint64_t address, uint32_t size, void* p) {
  auto& s = *static_cast<TranslationCache*>(p);
  s.flush(address);
  if (s.cpu_.cpl() == 3) return;  // the EmuLoop stops before a ring-3 block: it runs directly
  auto it = s.blocks_.find(address ^ (uint64_t(size) << 48));
  Block& b = it != s.blocks_.end() ? it->second : s.translate(address, size);
  b.runs++;
  s.runs_++;
  bool unwatched = false;
  for (const Site& site : b.sites) {
    if (site.watched) continue;  // counted as it runs (on_code)
    s.count(site);
    unwatched = true;
  }
  if (!unwatched) return;
  s.pending_ = &b;  // unordered_map nodes never move
  if (s.sink_) s.pending_flags_ = s.cpu_.reg(UC_X86_REG_RFLAGS);
}

// A hooked address: the return from the open callout, or a callout's entry.
void TranslationCache::on_code(uc_engine*, uint64_t address, uint32_t, void* p) {
  auto& s = *static_cast<TranslationCache*>(p);
  const bool closes = s.open_ && address == s.open_site_.rip + s.open_site_.length;
  auto it = s.watched_.find(address);
  if (!closes && it == s.watched_.end()) return;  // an instruction between sites in a merged hook
  uint64_t t = monotonic_ns();
  if (closes) s.close(address);
  if (it == s.watched_.end()) return;
  s.close(address);  // a callout a branch left open
  s.count(it->second);
  s.open(it->second, t);
}

// A store into a page that holds the guest's page tables (the hooks cover
// only those pages; a stale hook's store is let through).
void TranslationCache::on_pt_store(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t value, void* p) {
  auto& s = *static_cast<TranslationCache*>(p);
  uint64_t t0 = monotonic_ns();
  auto st = s.page_tables_->on_write(address, size, static_cast<uint64_t>(value), s.cpu_.paging());
  if (!st) return;
  uint64_t rip = s.cpu_.reg(UC_X86_REG_RIP);
  s.callouts_[static_cast<size_t>(BtInsn::PtStore)]++;
  s.site_runs_[rip]++;
  uint64_t ns = monotonic_ns() - t0;
  s.callout_ns_[static_cast<size_t>(BtInsn::PtStore)] += ns;
  if (!s.sink_) return;
  Event e = events::bt_callout({t0, 0, Source::Emulator}, BtInsn::PtStore, rip, 0, ns);
  events::callout_page_table_store(e, st->entry, st->gpa, st->size, st->value);
  s.emit(e);
}

PageTableWatch& TranslationCache::page_tables() {
  page_tables_->follow(cpu_.paging());
  return *page_tables_;
}

uint64_t TranslationCache::callouts() const {
  uint64_t n = 0;
  for (size_t i = 1; i < callouts_.size(); i++) n += callouts_[i];
  return n;
}

uint64_t TranslationCache::callout_ns() const {
  uint64_t n = 0;
  for (uint64_t ns : callout_ns_) n += ns;
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
  emit_counter(sink, t, 0, Source::Vmm, "bt_callout_ns", callout_ns());
  emit_counter(sink, t, 0, Source::Vmm, "bt_callout_sites_hooked", watched_.size());
  emit_counter(sink, t, 0, Source::Vmm, "bt_callout_hooks", code_hooks_);
  for (size_t i = 1; i < callouts_.size(); i++)
    if (callouts_[i])
      emit_counter(sink, t, 0, Source::Vmm, fmt::format("bt_callouts_{}", bt_insn_name(BtInsn(i))), callouts_[i]);
  if (page_tables_) {
    emit_counter(sink, t, 0, Source::Vmm, "bt_pt_tables", page_tables_->tables());
    emit_counter(sink, t, 0, Source::Vmm, "bt_pt_walks", page_tables_->walks());
  }
  auto [rip, n] = hottest_site();
  if (n) {
    emit_counter(sink, t, 0, Source::Vmm, "bt_hottest_callout_rip", rip);
    emit_counter(sink, t, 0, Source::Vmm, "bt_hottest_callout_runs", n);
  }
}

}  // namespace ringscope::bt
