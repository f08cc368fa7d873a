// insn_decoder.cpp — Capstone over guest memory, with a per-block cache.
#include "insn_decoder.h"

#include <vector>

namespace ringscope::emulation {

ReturnKind return_kind(const uint8_t* b, size_t len) {
  size_t i = 0;
  // Legacy prefixes, then at most one REX prefix (SDM Vol. 2A §2.1, §2.2.1).
  while (i < len && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 || b[i] == 0xf2 || b[i] == 0xf3 ||
                     b[i] == 0x2e || b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x64 || b[i] == 0x65))
    i++;
  if (i < len && (b[i] & 0xf0) == 0x40) i++;
  if (i < len && b[i] == 0xcf) return ReturnKind::Iret;                                   // IRET/IRETD/IRETQ
  if (i + 1 < len && b[i] == 0x0f && b[i + 1] == 0x07) return ReturnKind::Sysret;        // SYSRET
  return ReturnKind::None;
}

InsnDecoder::InsnDecoder() {
  cs_open(CS_ARCH_X86, CS_MODE_64, &cs_);
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
}

InsnDecoder::~InsnDecoder() {
  if (cs_) cs_close(&cs_);
}

const InsnDecoder::Block& InsnDecoder::block(const GuestMemory& memory, const PagingState& paging, uint64_t rip,
                                             uint32_t size) {
  uint64_t key = rip ^ (uint64_t(size) << 48);
  auto it = blocks_.find(key);
  if (it != blocks_.end()) return it->second;
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
  }
  cs_option(cs_, CS_OPT_DETAIL, CS_OPT_ON);
  cs_free(insn, 1);
  if (b.count == 0) b.count = 1;  // an undecodable block still ran (or faulted on) one instruction
  return blocks_.emplace(key, b).first->second;
}

bool InsnDecoder::writes_memory(const GuestMemory& memory, const PagingState& paging, uint64_t rip) {
  uint8_t buf[16];
  size_t got = read_virtual(memory, paging, rip, buf, 15);
  cs_insn* insn = nullptr;
  size_t n = cs_disasm(cs_, buf, got, rip, 1, &insn);
  if (n == 0) return false;
  bool write = false;
  switch (insn->id) {
    case X86_INS_PUSH: case X86_INS_PUSHFQ: case X86_INS_PUSHF: case X86_INS_CALL: case X86_INS_ENTER:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
      write = true;
      break;
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
