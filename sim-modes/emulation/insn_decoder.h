// insn_decoder.h — what the emulation backend needs to know about guest
// instructions it did not execute itself: how many a translated block holds
// (instruction counts at trace level `exits`), whether a block ends in a
// ring-changing return (IRETQ, SYSRETQ: Unicorn runs those, the trace must
// still show them), and whether a faulting instruction wrote memory (the
// W bit of a page-fault error code, which Unicorn 2.0 does not report).
#pragma once

#include <capstone/capstone.h>

#include <cstdint>
#include <unordered_map>

#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"

namespace ringscope::emulation {

enum class ReturnKind : uint8_t { None, Iret, Sysret };

// Classifies one instruction from its bytes (prefixes skipped): IRET*, SYSRET.
ReturnKind return_kind(const uint8_t* bytes, size_t len);

class InsnDecoder {
 public:
  InsnDecoder();
  ~InsnDecoder();
  InsnDecoder(const InsnDecoder&) = delete;
  InsnDecoder& operator=(const InsnDecoder&) = delete;

  struct Block {
    uint32_t count = 0;  // instructions in the block
    uint64_t last_rip = 0;
    ReturnKind last = ReturnKind::None;
  };
  // The block Unicorn is about to run at `rip` (`size` bytes), decoded once
  // and cached. The cache is keyed by virtual address, so the caller flushes
  // it when the address space changes (CR3).
  const Block& block(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint32_t size);
  void flush() { blocks_.clear(); }

  // Does the instruction at `rip` write memory (explicitly or by push, call,
  // string stores)? Used to rebuild a page fault's error code.
  bool writes_memory(const GuestMemory& memory, const PagingState& paging, uint64_t rip);

 private:
  csh cs_ = 0;
  std::unordered_map<uint64_t, Block> blocks_;  // key: rip ^ (size << 48)
};

}  // namespace ringscope::emulation
