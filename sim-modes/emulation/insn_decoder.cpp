// insn_decoder.cpp — Capstone over guest memory, with a per-block cache.
#include "insn_decoder.h"

#include <optional>
#include <vector>

namespace ringscope::emulation {

ReturnKind return_kind(const uint8_t* b, size_t len) {
  size_t i = 0;
  // Legacy prefixes, then at most one REX prefix (SDM Vol. 2A §2.1, §2.2.1).
  while (i < len && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
                     b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
    i++;
  if (i < len && (b[i] & 0xf0) == 0x40) i++;
  if (i < len && b[i] == 0xcf) return ReturnKind::Iret;                            // IRET/IRETD/IRETQ
  if (i + 1 < len && b[i] == 0x0f && b[i + 1] == 0x07) return ReturnKind::Sysret;  // SYSRET
  return ReturnKind::None;
}

// Where the opcode starts: after the legacy prefixes and at most one REX
// prefix (SDM Vol. 2A §2.1, §2.2.1).
static size_t opcode_at(const uint8_t* b, size_t len) {
  size_t i = 0;
  while (i < len && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
                     b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
    i++;
  if (i < len && (b[i] & 0xf0) == 0x40) i++;
  return i;
}

// STI (FB) and MOV Sreg,r/m (8E /r) with ModRM.reg = 2, i.e. SS (SDM Vol.
// 2B, MOV: "loading the SS register inhibits all interrupts until after
// the next instruction").
bool is_pause(const uint8_t* b, size_t len) { return len >= 2 && b[0] == 0xf3 && b[1] == 0x90; }

bool opens_interrupt_shadow(const uint8_t* b, size_t len) {
  size_t i = opcode_at(b, len);
  if (i < len && b[i] == 0xfb) return true;
  return i + 1 < len && b[i] == 0x8e && ((b[i + 1] >> 3) & 7) == 2;
}

bool may_set_if(const uint8_t* b, size_t len) {
  size_t i = opcode_at(b, len);
  if (i < len && (b[i] == 0xfb || b[i] == 0x9d || b[i] == 0xcf)) return true;  // STI, POPF, IRET
  return i + 1 < len && b[i] == 0x0f && b[i + 1] == 0x07;                      // SYSRET
}

// Two-byte opcodes 0F xx (SDM Vol. 2A, Appendix A): CPUID 0F A2, RDMSR
// 0F 32, WRMSR 0F 30, RDTSC 0F 31, MOV r64,CR 0F 20 /r, MOV CR,r64 0F 22 /r
// (ModRM.reg the CR, ModRM.rm the register, REX.R/REX.B their high bits),
// INVLPG 0F 01 /7 with a memory operand.
SensitiveInsn sensitive_kind(const uint8_t* b, size_t len) {
  size_t i = 0;
  while (i < len && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
                     b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
    i++;
  uint8_t rex = 0;
  if (i < len && (b[i] & 0xf0) == 0x40) rex = b[i++];
  if (i + 1 >= len || b[i] != 0x0f) return {};
  uint8_t op = b[i + 1];
  switch (op) {
    case 0xa2: return {Sensitive::Cpuid};
    case 0x32: return {Sensitive::Rdmsr};
    case 0x30: return {Sensitive::Wrmsr};
    case 0x31: return {Sensitive::Rdtsc};
    default: break;
  }
  if (i + 2 >= len) return {};
  uint8_t modrm = b[i + 2];
  uint8_t reg = (modrm >> 3) & 7, rm = modrm & 7;
  if (op == 0x20 || op == 0x22) {
    SensitiveInsn s{op == 0x22 ? Sensitive::MovToCr : Sensitive::MovFromCr};
    s.cr = uint8_t(reg | ((rex & 4) ? 8 : 0));
    s.gpr = uint8_t(rm | ((rex & 1) ? 8 : 0));
    return s;
  }
  if (op == 0x01 && reg == 7 && (modrm >> 6) != 3) return {Sensitive::Invlpg};
  return {};
}

// IN E4-E7/EC-EF... and OUT, INS 6C/6D, OUTS 6E/6F (SDM Vol. 2A), with a REP (F3) prefix or not.
std::optional<IoInsn> io_kind(const uint8_t* b, size_t len) {
  size_t i = 0;
  bool rep = false;
  while (i < len && (b[i] == 0xf3 || b[i] == 0xf2 || b[i] == 0x66 || b[i] == 0x67)) rep |= b[i++] == 0xf3;
  if (i < len && (b[i] & 0xf0) == 0x40) i++;  // REX
  if (i >= len) return std::nullopt;
  uint8_t op = b[i];
  bool string = op >= 0x6c && op <= 0x6f;
  if (!string && !((op >= 0xe4 && op <= 0xe7) || (op >= 0xec && op <= 0xef))) return std::nullopt;
  return IoInsn{0, string, string && rep};
}

InsnDecoder::InsnDecoder() {
  cs_open(CS_ARCH_X86, CS_MODE_64, &cs_);
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
}

InsnDecoder::~InsnDecoder() {
  if (cs_) cs_close(&cs_);
}

const InsnDecoder::Block& InsnDecoder::block_slow(const GuestMemory& memory, const PagingState& paging, uint64_t rip,
                                                  uint32_t size) {
  uint64_t key = hot_key(rip, size);
  Hot& hot = hot_[hot_index(rip, size)];
  auto it = blocks_.find(key);
  if (it != blocks_.end()) {
    hot = {key, &it->second};
    return it->second;
  }
  Block b;
  std::vector<uint8_t> bytes(size ? size : 1);
  size_t got = read_virtual(memory, paging, rip, bytes.data(), size);
  const uint8_t* code = bytes.data();
  size_t left = got;
  uint64_t addr = rip;
  // Decode one at a time (no detail needed: length and bytes are enough).
  cs_insn* insn = cs_malloc(cs_);
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_OFF);
  while (left > 0 && cs_disasm_iter(cs_, &code, &left, &addr, insn)) {
    b.count++;
    b.last_rip = insn->address;
    b.last = return_kind(insn->bytes, insn->size);
    b.shadow = opens_interrupt_shadow(insn->bytes, insn->size);
    b.sets_if = b.sets_if || may_set_if(insn->bytes, insn->size);
    b.pause = b.pause || is_pause(insn->bytes, insn->size);
    if (auto io = io_kind(insn->bytes, insn->size)) b.io.push_back({insn->address, io->string, io->rep});
  }
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  cs_free(insn, 1);
  if (b.count == 0) b.count = 1;  // an undecodable block still ran (or faulted on) one instruction
  const Block& stored = blocks_.emplace(key, b).first->second;
  hot = {key, &stored};
  return stored;
}

std::vector<uint64_t> InsnDecoder::find_sensitive(const uint8_t* code, size_t size, uint64_t address) {
  std::vector<uint64_t> out;
  cs_insn* insn = cs_malloc(cs_);
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_OFF);
  while (size > 0) {
    if (!cs_disasm_iter(cs_, &code, &size, &address, insn)) {
      code++, size--, address++;  // data or padding: step over one byte
      continue;
    }
    Sensitive k = sensitive_kind(insn->bytes, insn->size).kind;
    if (k != Sensitive::None && k != Sensitive::Cpuid) out.push_back(insn->address);
  }
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  cs_free(insn, 1);
  return out;
}

const IoInsn& InsnDecoder::io_insn(const GuestMemory& memory, const PagingState& paging, uint64_t rip) {
  auto it = io_.find(rip);
  if (it != io_.end()) return it->second;
  IoInsn io{rip, false, false};
  uint8_t buf[64];
  size_t got = read_virtual(memory, paging, rip, buf, sizeof buf);
  const uint8_t* code = buf;
  size_t left = got;
  uint64_t addr = rip;
  cs_insn* insn = cs_malloc(cs_);
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_OFF);
  for (int n = 0; n < 16 && left > 0 && cs_disasm_iter(cs_, &code, &left, &addr, insn); n++) {
    if (auto k = io_kind(insn->bytes, insn->size)) {
      io = {insn->address, k->string, k->rep};
      break;
    }
  }
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  cs_free(insn, 1);
  return io_.emplace(rip, io).first->second;
}

bool InsnDecoder::writes_memory(const GuestMemory& memory, const PagingState& paging, uint64_t rip) {
  uint8_t buf[16];
  size_t got = read_virtual(memory, paging, rip, buf, 15);
  cs_insn* insn = nullptr;
  size_t n = cs_disasm(cs_, buf, got, rip, 1, &insn);
  if (n == 0) return false;
  bool write = false;
  switch (insn->id) {
    case X86_INS_PUSH:
    case X86_INS_PUSHFQ:
    case X86_INS_PUSHF:
    case X86_INS_CALL:
    case X86_INS_ENTER:
    case X86_INS_STOSB:
    case X86_INS_STOSW:
    case X86_INS_STOSD:
    case X86_INS_STOSQ:
    case X86_INS_MOVSB:
    case X86_INS_MOVSW:
    case X86_INS_MOVSD:
    case X86_INS_MOVSQ: write = true; break;
    default:
      for (uint8_t i = 0; i < insn->detail->x86.op_count; i++) {
        const cs_x86_op& op = insn->detail->x86.operands[i];
        if (op.type == X86_OP_MEM && (op.access & CS_AC_WRITE)) write = true;
      }
  }
  cs_free(insn, n);
  return write;
}

}  // namespace ringscope::emulation
