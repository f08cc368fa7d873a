// unicorn_cpu.cpp — the Unicorn engine, its registers, and the hidden
// segment state.
#include "unicorn_cpu.h"

#include <fmt/format.h>

#include <sys/mman.h>

#include <cstring>
#include <vector>

#include "ringscope/i18n.h"

namespace ringscope::emulation {

namespace {

// QEMU's CPUX86State (target/i386/cpu.h in QEMU 5.0, which Unicorn 2.0 is
// built from) starts with the general registers, RIP, RFLAGS, the lazy
// flags, hflags and the six segment caches; uc_context_save() copies that
// struct verbatim. calibrate() checks these offsets against values written
// through the API before anything relies on them.
constexpr size_t kEnvEip = 128;
constexpr size_t kEnvHflags = 176;
constexpr size_t kEnvSegs = 184;      // ES, CS, SS, DS, FS, GS
constexpr size_t kSegCacheSize = 24;  // selector u32, (pad), base u64, limit u32, flags u32
constexpr size_t kEnvGdtBase = kEnvSegs + 6 * kSegCacheSize + 2 * kSegCacheSize + 8;  // after LDT, TR
enum { kEs = 0, kCs = 1, kSs = 2, kDs = 3 };

// QEMU's hflags bits (target/i386/cpu.h) that follow CS and SS.
constexpr uint32_t kHfCplMask = 3;
constexpr uint32_t kHfCs32 = 1u << 4, kHfSs32 = 1u << 5, kHfAddseg = 1u << 6, kHfCs64 = 1u << 15;

// A segment's attributes the way QEMU keeps them: the descriptor's high
// doubleword (SDM Vol. 3A Figure 3-8) without base and limit bits.
uint32_t qemu_flags(const arch::Segment& s) {
  return uint32_t(s.type & 0xf) << 8 | uint32_t(s.s) << 12 | uint32_t(s.dpl & 3) << 13 | uint32_t(s.present) << 15 |
         uint32_t(s.l) << 21 | uint32_t(s.db) << 22 | uint32_t(s.g) << 23;
}

arch::Segment from_boot(const SegmentState& b) {
  arch::Segment s;
  s.selector = b.selector;
  s.base = b.base;
  s.limit = b.limit;
  s.type = b.type;
  s.s = b.s;
  s.dpl = b.dpl;
  s.present = b.present;
  s.l = b.l;
  s.db = b.db;
  s.g = b.g;
  return s;
}

uint64_t read_msr(uc_engine* uc, uint32_t index) {
  uc_x86_msr m{index, 0};
  uc_reg_read(uc, UC_X86_REG_MSR, &m);
  return m.value;
}

}  // namespace

std::string uc_error_text(uc_err err) { return fmt::format("{} (uc_err {})", uc_strerror(err), int(err)); }

Result<std::unique_ptr<UnicornCpu>> UnicornCpu::create(GuestMemory& ram) {
  std::unique_ptr<UnicornCpu> cpu(new UnicornCpu());
  uc_err err = uc_open(UC_ARCH_X86, UC_MODE_64, &cpu->uc_);
  if (err != UC_ERR_OK)
    return make_error(ErrorKind::Unavailable, trf("cannot open a Unicorn x86-64 engine: {}", uc_error_text(err)));
  err = uc_mem_map_ptr(cpu->uc_, 0, ram.size(), UC_PROT_ALL, ram.host_base());
  if (err != UC_ERR_OK)
    return make_error(ErrorKind::Internal, trf("cannot map guest RAM into Unicorn: {}", uc_error_text(err)));
  err = uc_context_alloc(cpu->uc_, &cpu->ctx_);
  if (err != UC_ERR_OK) return make_error(ErrorKind::Internal, trf("uc_context_alloc failed: {}", uc_error_text(err)));
  TRY(cpu->calibrate());
  TRY(cpu->find_old_exception());
  return cpu;
}

namespace {
constexpr size_t kMaxPlaceholders = 512;
}

UnicornCpu::~UnicornCpu() {
  if (ctx_) uc_context_free(ctx_);
  if (uc_) uc_close(uc_);
  if (placeholder_pool_) munmap(placeholder_pool_, kMaxPlaceholders * 4096);
}

bool UnicornCpu::alias_page(uint64_t va, const GuestMemory& ram) {
  uint64_t page = va & ~0xfffull;
  if (page < ram.size() || !arch::is_canonical(va)) return false;  // guest RAM itself, or nonsense
  auto pa = translate(ram, paging(), page);
  void* host = nullptr;
  bool placeholder = !pa || !ram.contains(*pa, 4096);
  if (!placeholder) {
    host = ram.host_base() + *pa;
  } else {
    if (!placeholder_pool_) {
      void* p = mmap(nullptr, kMaxPlaceholders * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return false;
      placeholder_pool_ = static_cast<uint8_t*>(p);
    }
    if (placeholders_used_ >= kMaxPlaceholders) return false;
    host = placeholder_pool_ + 4096 * placeholders_used_++;
  }
  if (uc_mem_map_ptr(uc_, page, 4096, UC_PROT_ALL, host) != UC_ERR_OK) return false;
  aliases_.push_back({page, placeholder});
  return true;
}

void UnicornCpu::drop_aliases() {
  if (aliases_.empty()) return;
  for (const Alias& a : aliases_) {
    uc_mem_unmap(uc_, a.va, 4096);
    uc_ctl_remove_cache(uc_, a.va, a.va + 4096);  // code translated from the old mapping
  }
  aliases_.clear();
  placeholders_used_ = 0;
  set_reg(UC_X86_REG_CR3, reg(UC_X86_REG_CR3));  // and every TLB entry pointing at it
}

void UnicornCpu::resume_at_block(uint64_t block_pc) {
  // The hook's address is linear (QEMU's TB pc, CS base + RIP); RIP is not,
  // outside 64-bit mode (the APs' real-mode start: CS base = vector << 12).
  uint64_t cs_base = 0;
  if (uc_context_save(uc_, ctx_) == UC_ERR_OK)
    std::memcpy(&cs_base, reinterpret_cast<const uint8_t*>(ctx_) + env_offset_ + kEnvSegs + kCs * kSegCacheSize + 8, 8);
  set_reg(UC_X86_REG_RIP, block_pc - cs_base);
}

uint64_t UnicornCpu::reg(int id) const {
  uint64_t v = 0;
  uc_reg_read(uc_, id, &v);
  if (id == UC_X86_REG_CS || id == UC_X86_REG_SS || id == UC_X86_REG_DS || id == UC_X86_REG_ES) v &= 0xffff;
  return v;
}

void UnicornCpu::set_reg(int id, uint64_t value) { uc_reg_write(uc_, id, &value); }

// Find CPUX86State inside a saved context by writing recognisable values
// through the register API, then check every offset load_segments() uses.
// A Unicorn built differently fails here, with a clear message, instead of
// corrupting the CPU later.
Status UnicornCpu::calibrate() {
  constexpr uint64_t kRax = 0x52696e6753636f70ull, kRip = 0x0000123456789ab0ull;
  constexpr uint32_t kGdtBase = 0x5a5a5000;
  constexpr uint16_t kCsSel = 0x2b;
  set_reg(UC_X86_REG_RAX, kRax);
  set_reg(UC_X86_REG_RIP, kRip);
  uc_x86_mmr gdtr{0, kGdtBase, 0x3f, 0};
  uc_reg_write(uc_, UC_X86_REG_GDTR, &gdtr);
  uint16_t cs = kCsSel;
  uc_reg_write(uc_, UC_X86_REG_CS, &cs);
  uc_context_save(uc_, ctx_);
  const auto* bytes = reinterpret_cast<const uint8_t*>(ctx_);
  size_t size = uc_context_size(uc_);
  bool found = false;
  for (size_t off = 0; off + kEnvGdtBase + 8 <= size && off < 256; off += 4) {
    uint64_t rax, rip, gdt;
    uint32_t sel;
    std::memcpy(&rax, bytes + off, 8);
    if (rax != kRax) continue;
    std::memcpy(&rip, bytes + off + kEnvEip, 8);
    std::memcpy(&gdt, bytes + off + kEnvGdtBase, 8);
    std::memcpy(&sel, bytes + off + kEnvSegs + kCs * kSegCacheSize, 4);
    if (rip == kRip && gdt == kGdtBase && sel == kCsSel) {
      env_offset_ = off;
      found = true;
      break;
    }
  }
  set_reg(UC_X86_REG_RAX, 0);
  if (!found)
    return make_error(ErrorKind::Unavailable,
                      tr("this Unicorn build keeps the CPU state in a layout ringscope does not know (it expects "
                         "Unicorn 2.0.x, as in Debian 12's libunicorn2), so it cannot change privilege levels"));
  return ok_status();
}

// QEMU remembers the exception being delivered (old_exception) to turn a
// second fault during delivery into #DF (SDM Table 6-5) and a third into a
// triple fault, and forgets it once its own delivery code has pushed the
// frame. Unicorn never runs that code (the hook runs instead), so after two
// page faults QEMU believes a #DF is in flight and the third fault silently
// shuts the CPU down. The backend delivers events itself (core/src/arch,
// double faults included) and clears the field after each delivery, as
// QEMU would. Its offset is found on a scratch engine: a #DE, then a #GP,
// which QEMU turns into #DF; the field that went 0 -> 8 and, once reset to
// -1, lets a second #GP arrive as 13, is the one.
Status UnicornCpu::find_old_exception() {
  uc_engine* uc = nullptr;
  if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
    return make_error(ErrorKind::Unavailable, tr("cannot open a scratch Unicorn engine"));
  struct Closer {
    uc_engine* uc;
    uc_context* a = nullptr;
    uc_context* c = nullptr;
    ~Closer() {
      if (a) uc_context_free(a);
      if (c) uc_context_free(c);
      uc_close(uc);
    }
  } closer{uc};
  static const uint8_t code[] = {
      0x31, 0xc9, 0xf7, 0xf1,  // 0x1000: xor ecx,ecx; div ecx        -> #DE
      0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
      0x90, 0x90, 0x66, 0xb8, 0x34, 0x12, 0x8e, 0xd0, 0xf4,  // 0x1010: mov ax,0x1234; mov ss,ax   -> #GP
  };
  uc_mem_map(uc, 0, 0x4000, UC_PROT_ALL);
  uc_mem_write(uc, 0x1000, code, sizeof code);
  uint32_t last = ~0u;
  uc_hook h;
  auto on_intr = +[](uc_engine* e, uint32_t intno, void* p) {
    *static_cast<uint32_t*>(p) = intno;
    uc_emu_stop(e);
  };
  uc_hook_add(uc, &h, UC_HOOK_INTR, reinterpret_cast<void*>(on_intr), &last, 1, 0);
  uc_context_alloc(uc, &closer.a);
  uc_context_alloc(uc, &closer.c);
  uc_emu_start(uc, 0x1000, 0x2000, 0, 0);
  uint32_t first = last;
  uc_context_save(uc, closer.a);
  uc_emu_start(uc, 0x1010, 0x2000, 0, 0);
  uint32_t second = last;
  uc_context_save(uc, closer.c);
  size_t size = uc_context_size(uc);
  if (first == 0 && second == 8) {
    auto* a = reinterpret_cast<uint8_t*>(closer.a);
    auto* c = reinterpret_cast<uint8_t*>(closer.c);
    for (size_t off = env_offset_ + kEnvSegs; off + 4 <= size; off += 4) {
      int32_t va, vc;
      std::memcpy(&va, a + off, 4);
      std::memcpy(&vc, c + off, 4);
      if (va != 0 || vc != 8) continue;
      // Try it: reset the candidate and fault again.
      int32_t none = -1;
      std::memcpy(c + off, &none, 4);
      uc_context_restore(uc, closer.c);
      std::memcpy(c + off, &vc, 4);
      last = ~0u;
      uc_emu_start(uc, 0x1010, 0x2000, 0, 0);
      if (last == 13) {
        old_exception_offset_ = off;
        return ok_status();
      }
    }
  }
  return make_error(ErrorKind::Unavailable,
                    tr("this Unicorn build does not keep its exception state where ringscope expects (Unicorn 2.0.x), "
                       "so repeated faults cannot be emulated"));
}

// Unicorn's register API sets only the *selector* of CS/SS/DS/ES in 64-bit
// mode; a real CPU also loads the hidden part (base, limit, attributes),
// and QEMU derives the CPL from SS's DPL. So the hidden parts are written
// into a saved context and restored: exactly what QEMU's own
// cpu_x86_load_seg_cache() would store, including the CPL bits of hflags.
Status UnicornCpu::load_segments(const arch::Segment* cs, const arch::Segment* ss, const arch::Segment* data) {
  uc_err err = uc_context_save(uc_, ctx_);
  if (err != UC_ERR_OK) return make_error(ErrorKind::Internal, trf("uc_context_save failed: {}", uc_error_text(err)));
  auto* env = reinterpret_cast<uint8_t*>(ctx_) + env_offset_;
  auto put = [&](int index, const arch::Segment& s) {
    uint8_t* c = env + kEnvSegs + size_t(index) * kSegCacheSize;
    uint32_t sel = s.selector, limit = s.limit, flags = qemu_flags(s);
    std::memcpy(c, &sel, 4);
    std::memcpy(c + 8, &s.base, 8);
    std::memcpy(c + 16, &limit, 4);
    std::memcpy(c + 20, &flags, 4);
  };
  uint32_t hflags;
  std::memcpy(&hflags, env + kEnvHflags, 4);
  if (data) {
    put(kDs, *data);
    put(kEs, *data);
  }
  if (ss) {
    put(kSs, *ss);
    hflags = (hflags & ~kHfCplMask) | (ss->dpl & 3u);  // QEMU: CPL := SS.DPL
    hflags = ss->db ? (hflags | kHfSs32) : (hflags & ~kHfSs32);
  }
  if (cs) {
    put(kCs, *cs);
    if (cs->l)
      hflags = (hflags | kHfCs32 | kHfCs64) & ~kHfAddseg;
    else
      hflags = cs->db ? ((hflags | kHfCs32) & ~kHfCs64) : (hflags & ~(kHfCs32 | kHfCs64));
  }
  std::memcpy(env + kEnvHflags, &hflags, 4);
  int32_t none = -1;  // every caller has just delivered an event: nothing is in flight
  std::memcpy(reinterpret_cast<uint8_t*>(ctx_) + old_exception_offset_, &none, 4);
  err = uc_context_restore(uc_, ctx_);
  if (err != UC_ERR_OK)
    return make_error(ErrorKind::Internal, trf("uc_context_restore failed: {}", uc_error_text(err)));
  return ok_status();
}

// Unicorn's 64-bit engine starts in long mode: CR0.PE, EFER.LME|LMA, and
// QEMU's hflags say "64-bit code". The PVH entry wants 32-bit protected
// mode with paging off and EFER 0 instead, and the register API cannot
// write that: EFER.LMA is read-only (WRMSR keeps it), and Unicorn 2.0.1
// stores a new CR0 before QEMU's cpu_x86_update_cr0 compares it with the
// old one, so turning paging on and off through the API never leaves long
// mode either (measured: EFER still reads 0x400). So the CPU state is
// edited the way load_segments() edits segments: find EFER inside a saved
// context (the field that follows WRMSR's LME bit), clear it and QEMU's
// LMA and CS64 hflags, restore. What a CPU does when paging goes off, done
// once before the first instruction.
//
// From there the guest switches itself to long mode as on real hardware:
// Unicorn's 64-bit CPU model advertises long mode in CPUID, so its WRMSR
// keeps EFER.LME, MOV to CR0.PG sets EFER.LMA (QEMU's helper, not the
// API, so the comparison is right), and a far jump to an L=1 code segment
// enters 64-bit mode. (It does not advertise SYSCALL, so EFER.SCE is
// dropped: see quirks::assume_sce in unicorn_quirks.h.)
Status UnicornCpu::leave_long_mode() {
  constexpr uint64_t kEferLme = 1ull << 8, kEferLma = 1ull << 10;
  constexpr uint32_t kHfLma = 1u << 14;
  auto unavailable = [](const std::string& why) {
    return make_error(ErrorKind::Unavailable, trf("this Unicorn build cannot start a kernel at its PVH 32-bit entry "
                                                  "({}); it expects Unicorn 2.0.x, as in Debian 12's libunicorn2",
                                                  why));
  };
  size_t size = uc_context_size(uc_);
  std::vector<uint8_t> with_lme(size), without_lme(size);
  uc_x86_msr efer{arch::kMsrEfer, kEferLme};
  uc_reg_write(uc_, UC_X86_REG_MSR, &efer);
  uc_context_save(uc_, ctx_);
  std::memcpy(with_lme.data(), ctx_, size);
  efer.value = 0;
  uc_reg_write(uc_, UC_X86_REG_MSR, &efer);
  uc_context_save(uc_, ctx_);
  std::memcpy(without_lme.data(), ctx_, size);
  size_t efer_offset = 0;
  int found = 0;
  for (size_t off = env_offset_ + kEnvSegs; off + 8 <= size; off += 8) {
    uint64_t a, b;
    std::memcpy(&a, with_lme.data() + off, 8);
    std::memcpy(&b, without_lme.data() + off, 8);
    if (a == (kEferLme | kEferLma) && b == kEferLma) {
      efer_offset = off;
      found++;
    }
  }
  if (found != 1) return unavailable(fmt::format("EFER found at {} places in its CPU state", found));
  auto* bytes = reinterpret_cast<uint8_t*>(ctx_);
  uint64_t zero = 0;
  std::memcpy(bytes + efer_offset, &zero, 8);
  uint32_t hflags;
  std::memcpy(&hflags, bytes + env_offset_ + kEnvHflags, 4);
  hflags &= ~(kHfLma | kHfCs64);
  std::memcpy(bytes + env_offset_ + kEnvHflags, &hflags, 4);
  uc_err err = uc_context_restore(uc_, ctx_);
  if (err != UC_ERR_OK)
    return make_error(ErrorKind::Internal, trf("uc_context_restore failed: {}", uc_error_text(err)));
  if (uint64_t v = read_msr(uc_, arch::kMsrEfer); v != 0) return unavailable(fmt::format("EFER reads {:#x}", v));
  return ok_status();
}

Status UnicornCpu::apply_boot_state(const BootState& boot) {
  if (boot.entry == BootEntry::Pvh32) TRY(leave_long_mode());
  set_reg(UC_X86_REG_CR3, boot.cr3);
  set_reg(UC_X86_REG_CR4, boot.cr4);
  uc_x86_msr efer{arch::kMsrEfer, boot.efer};
  uc_reg_write(uc_, UC_X86_REG_MSR, &efer);
  set_reg(UC_X86_REG_CR0, boot.cr0);
  uc_x86_mmr gdtr{0, boot.gdt_base, boot.gdt_limit, 0};
  uc_reg_write(uc_, UC_X86_REG_GDTR, &gdtr);
  uc_x86_mmr tr{boot.tr.selector, boot.tr.base, boot.tr.limit, 0};
  uc_reg_write(uc_, UC_X86_REG_TR, &tr);
  // The hidden parts of CS, SS, DS and ES (for Pvh32: 32-bit, base 0,
  // limit 4 GiB), and with them QEMU's CS32/SS32 hflags and the CPL.
  arch::Segment cs = from_boot(boot.cs), ds = from_boot(boot.ds);
  TRY(load_segments(&cs, &ds, &ds));
  set_reg(UC_X86_REG_RBX, boot.rbx);
  set_reg(UC_X86_REG_RFLAGS, boot.rflags);
  set_reg(UC_X86_REG_RIP, boot.rip);
  return ok_status();
}

Status UnicornCpu::start_real_mode(uint8_t vector) {
  constexpr uint64_t kEferLma = 1ull << 10;
  if (read_msr(uc_, arch::kMsrEfer) & kEferLma) {
    TRY(leave_long_mode());
  } else {
    uc_x86_msr efer{arch::kMsrEfer, 0};
    uc_reg_write(uc_, UC_X86_REG_MSR, &efer);
  }
  set_reg(UC_X86_REG_CR0, 0x10);  // ET; PE and PG off
  set_reg(UC_X86_REG_CR4, 0);
  set_reg(UC_X86_REG_CR3, 0);
  uc_x86_mmr idtr{0, 0, 0x3ff, 0};  // the real-mode vector table
  uc_reg_write(uc_, UC_X86_REG_IDTR, &idtr);
  arch::Segment cs, data;
  cs.selector = static_cast<uint16_t>(vector << 8);
  cs.base = uint64_t{vector} << 12;
  cs.limit = 0xffff;
  cs.type = 0xb;  // code, readable, accessed
  cs.s = true;
  cs.present = true;
  data.limit = 0xffff;
  data.type = 0x3;  // data, writable, accessed
  data.s = true;
  data.present = true;
  TRY(load_segments(&cs, &data, &data));
  // QEMU keeps "protected mode" in hflags too (HF_PE, with HF_ADDSEG its
  // complement), and the register API's CR0 write leaves it set here: clear
  // it as cpu_x86_update_cr0 would, in the saved context, as above.
  constexpr uint32_t kHfPe = 1u << 7;
  uc_err err = uc_context_save(uc_, ctx_);
  if (err != UC_ERR_OK) return make_error(ErrorKind::Internal, trf("uc_context_save failed: {}", uc_error_text(err)));
  auto* env = reinterpret_cast<uint8_t*>(ctx_) + env_offset_;
  uint32_t hflags;
  std::memcpy(&hflags, env + kEnvHflags, 4);
  hflags = (hflags & ~(kHfPe | kHfCs32 | kHfSs32 | kHfCs64 | kHfCplMask)) | kHfAddseg;
  std::memcpy(env + kEnvHflags, &hflags, 4);
  err = uc_context_restore(uc_, ctx_);
  if (err != UC_ERR_OK)
    return make_error(ErrorKind::Internal, trf("uc_context_restore failed: {}", uc_error_text(err)));
  set_reg(UC_X86_REG_RFLAGS, 0x2);
  set_reg(UC_X86_REG_RIP, 0);
  return ok_status();
}

PagingState UnicornCpu::paging() const {
  return {reg(UC_X86_REG_CR0), reg(UC_X86_REG_CR3), reg(UC_X86_REG_CR4), read_msr(uc_, arch::kMsrEfer)};
}

arch::CpuState UnicornCpu::read_state() const {
  arch::CpuState c;
  c.rip = reg(UC_X86_REG_RIP);
  c.rsp = reg(UC_X86_REG_RSP);
  c.rflags = reg(UC_X86_REG_RFLAGS);
  c.rcx = reg(UC_X86_REG_RCX);
  c.r11 = reg(UC_X86_REG_R11);
  c.cr0 = reg(UC_X86_REG_CR0);
  c.cr2 = reg(UC_X86_REG_CR2);
  c.cr3 = reg(UC_X86_REG_CR3);
  c.cr4 = reg(UC_X86_REG_CR4);
  c.efer = read_msr(uc_, arch::kMsrEfer);
  c.star = read_msr(uc_, arch::kMsrStar);
  c.lstar = read_msr(uc_, arch::kMsrLstar);
  c.fmask = read_msr(uc_, arch::kMsrFmask);
  uc_x86_mmr m{};
  uc_reg_read(uc_, UC_X86_REG_GDTR, &m);
  c.gdtr = {m.base, static_cast<uint16_t>(m.limit)};
  uc_reg_read(uc_, UC_X86_REG_IDTR, &m);
  c.idtr = {m.base, static_cast<uint16_t>(m.limit)};
  uc_reg_read(uc_, UC_X86_REG_TR, &m);
  c.tr_selector = m.selector;
  c.tr_base = m.base;
  c.tr_limit = m.limit;
  // The hidden parts of CS and SS, from the context (the API gives only selectors).
  uc_context_save(uc_, ctx_);
  const auto* env = reinterpret_cast<const uint8_t*>(ctx_) + env_offset_;
  auto get = [&](int index) {
    const uint8_t* p = env + kEnvSegs + size_t(index) * kSegCacheSize;
    uint32_t sel, limit, flags;
    arch::Segment s;
    std::memcpy(&sel, p, 4);
    std::memcpy(&s.base, p + 8, 8);
    std::memcpy(&limit, p + 16, 4);
    std::memcpy(&flags, p + 20, 4);
    s.selector = static_cast<uint16_t>(sel);
    s.limit = limit;
    s.type = (flags >> 8) & 0xf;
    s.s = (flags >> 12) & 1;
    s.dpl = (flags >> 13) & 3;
    s.present = (flags >> 15) & 1;
    s.l = (flags >> 21) & 1;
    s.db = (flags >> 22) & 1;
    s.g = (flags >> 23) & 1;
    return s;
  };
  c.cs = get(kCs);
  c.ss = get(kSs);
  return c;
}

Status UnicornCpu::write_state(const arch::CpuState& c) {
  TRY(load_segments(&c.cs, &c.ss, nullptr));
  set_reg(UC_X86_REG_RSP, c.rsp);
  set_reg(UC_X86_REG_RFLAGS, c.rflags);
  set_reg(UC_X86_REG_RCX, c.rcx);
  set_reg(UC_X86_REG_R11, c.r11);
  set_reg(UC_X86_REG_CR2, c.cr2);
  set_reg(UC_X86_REG_RIP, c.rip);
  return ok_status();
}

GuestRegs UnicornCpu::regs() const {
  GuestRegs g{};
  g.rax = reg(UC_X86_REG_RAX), g.rbx = reg(UC_X86_REG_RBX), g.rcx = reg(UC_X86_REG_RCX);
  g.rdx = reg(UC_X86_REG_RDX), g.rsi = reg(UC_X86_REG_RSI), g.rdi = reg(UC_X86_REG_RDI);
  g.rbp = reg(UC_X86_REG_RBP), g.rsp = reg(UC_X86_REG_RSP);
  g.r8 = reg(UC_X86_REG_R8), g.r9 = reg(UC_X86_REG_R9), g.r10 = reg(UC_X86_REG_R10), g.r11 = reg(UC_X86_REG_R11);
  g.r12 = reg(UC_X86_REG_R12), g.r13 = reg(UC_X86_REG_R13), g.r14 = reg(UC_X86_REG_R14), g.r15 = reg(UC_X86_REG_R15);
  g.rip = reg(UC_X86_REG_RIP), g.rflags = reg(UC_X86_REG_RFLAGS);
  g.cr0 = reg(UC_X86_REG_CR0), g.cr2 = reg(UC_X86_REG_CR2), g.cr3 = reg(UC_X86_REG_CR3);
  g.cr4 = reg(UC_X86_REG_CR4), g.efer = read_msr(uc_, arch::kMsrEfer);
  g.cs = static_cast<uint16_t>(reg(UC_X86_REG_CS)), g.ss = static_cast<uint16_t>(reg(UC_X86_REG_SS));
  g.cpl = static_cast<uint8_t>(g.cs & 3);
  return g;
}

}  // namespace ringscope::emulation
