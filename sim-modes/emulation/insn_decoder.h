// insn_decoder.h — what the emulation backend needs to know about guest
// instructions it did not execute itself: how many a translated block holds
// (instruction counts at trace level `exits`), whether a block ends in a
// ring-changing return (IRETQ, SYSRETQ: Unicorn runs those, the trace must
// still show them), and whether a faulting instruction wrote memory (the
// W bit of a page-fault error code, which Unicorn 2.0 does not report).
#pragma once

#include <capstone/capstone.h>

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ringscope/guest_memory.h"
#include "ringscope/paging.h"

namespace ringscope::emulation {

enum class ReturnKind : uint8_t { None, Iret, Sysret };

// Classifies one instruction from its bytes (prefixes skipped): IRET*, SYSRET.
ReturnKind return_kind(const uint8_t* bytes, size_t len);

// Does the instruction hold off interrupts until after the next one (STI,
// MOV SS)? QEMU ends a translated block right after either.
bool opens_interrupt_shadow(const uint8_t* bytes, size_t len);

// PAUSE (F3 90): a spin-wait loop's hint. With several vCPUs it ends the
// vCPU's turn, as QEMU's round-robin TCG does (and VT-x's PAUSE-loop exiting).
bool is_pause(const uint8_t* bytes, size_t len);

// Can the instruction set RFLAGS.IF (STI, POPF, IRET, SYSRET)?
bool may_set_if(const uint8_t* bytes, size_t len);

// Instructions VT-x can intercept that Unicorn runs without telling anyone
// (it has no hook for RDMSR, WRMSR, MOV CR or INVLPG). The VT-x model must
// see them, so the loop watches their addresses (emu_loop_vmx.cpp, "sensitive
// instructions").
enum class Sensitive : uint8_t { None, Cpuid, Rdmsr, Wrmsr, Rdtsc, MovToCr, MovFromCr, Invlpg };
struct SensitiveInsn {
  Sensitive kind = Sensitive::None;
  uint8_t cr = 0;   // MOV CR: the control register (0-15)
  uint8_t gpr = 0;  // MOV CR: the general register (0 RAX ... 15 R15)
};
SensitiveInsn sensitive_kind(const uint8_t* bytes, size_t len);

// A port-I/O instruction: IN, OUT, INS, OUTS.
struct IoInsn {
  uint64_t rip = 0;
  bool string = false, rep = false;
};

std::optional<IoInsn> io_kind(const uint8_t* bytes, size_t len);  // rip left 0

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
    bool shadow = false;     // the last instruction opens an interrupt shadow (STI, MOV SS)
    bool sets_if = false;    // an instruction in it may set RFLAGS.IF (may_set_if)
    bool pause = false;      // it holds a PAUSE (is_pause)
    std::vector<IoInsn> io;  // its port-I/O instructions, in order
  };
  // The block Unicorn is about to run at `rip` (`size` bytes), decoded once
  // and cached. The cache is keyed by virtual address, so the caller flushes
  // it when the address space changes (CR3).
  // Inline for the hot hit: the block hook asks for every block executed.
  const Block& block(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint32_t size) {
    const Hot& hot = hot_[hot_index(rip, size)];
    if (hot.key == hot_key(rip, size)) return *hot.block;
    return block_slow(memory, paging, rip, size);
  }
  void flush() {
    hot_.fill({});
    blocks_.clear();
    io_.clear();
  }

  // The port-I/O instruction (IN, OUT, INS, OUTS) Unicorn is executing when
  // its I/O hook runs with RIP = `rip`. Unicorn 2.0.1 updates RIP before an
  // I/O hook only where an earlier helper left it, so for the first I/O of a
  // block (and the first element of a REP INS/OUTS) RIP may still point at
  // an earlier instruction of the block; the I/O instruction is then the
  // first one from there on. Cached like blocks.
  const IoInsn& io_insn(const GuestMemory& memory, const PagingState& paging, uint64_t rip);

  // The addresses of the sensitive instructions (sensitive_kind, CPUID
  // excepted) in `size` bytes of code loaded at `address`, decoded from the
  // start (a byte that does not decode is skipped).
  std::vector<uint64_t> find_sensitive(const uint8_t* code, size_t size, uint64_t address);

  // Does the instruction at `rip` write memory (explicitly or by push, call,
  // string stores)? Used to rebuild a page fault's error code.
  bool writes_memory(const GuestMemory& memory, const PagingState& paging, uint64_t rip);

 private:
  csh cs_ = 0;
  std::unordered_map<uint64_t, Block> blocks_;  // key: rip ^ (size << 48)
  // A direct-mapped cache in front of blocks_ (its nodes never move): the
  // block hook runs before every block executed, and a hash lookup there
  // was a quarter of an interrupt storm's time.
  struct Hot {
    uint64_t key = ~0ull;
    const Block* block = nullptr;
  };
  static constexpr size_t kHotEntries = 1024;
  std::array<Hot, kHotEntries> hot_{};
  static uint64_t hot_key(uint64_t rip, uint32_t size) { return rip ^ (uint64_t(size) << 48); }
  static size_t hot_index(uint64_t rip, uint32_t size) { return (rip ^ (rip >> 10) ^ size) % kHotEntries; }
  const Block& block_slow(const GuestMemory& memory, const PagingState& paging, uint64_t rip, uint32_t size);
  std::unordered_map<uint64_t, IoInsn> io_;
};

}  // namespace ringscope::emulation
