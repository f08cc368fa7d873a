// chunk_encoder.cpp — one event: tag byte, time delta, presence mask, then
// only the fields that differ from a recent event of the same kind
// (docs/trace-format.md "Events").
#include "chunk_encoder.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "varint.h"

namespace ringscope::trace {
namespace {

uint8_t* put_regs(uint8_t* p, const GuestRegs& r) {
  for (uint64_t v : {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
                     r.r14, r.r15, r.rip, r.rflags, r.cr0, r.cr2, r.cr3, r.cr4, r.efer}) {
    p = put_varint(p, v);
  }
  p = put_varint(p, r.cs);
  p = put_varint(p, r.ss);
  return put_varint(p, r.cpl);
}

constexpr size_t kRegsWorstCase = 26 * kMaxVarint;  // 23 registers, cs, ss, cpl
// Tag, time, mask, and every numeric field at its longest.
constexpr size_t kFixedWorstCase = 1 + 3 * kMaxVarint + kFieldCount * kMaxVarint + kRegsWorstCase;

std::string_view clip(std::string_view s) { return s.substr(0, kMaxEventString); }

}  // namespace

ChunkEncoder::ChunkEncoder() {
  capacity_ = 2 * kChunkTarget;  // a full chunk plus room for the event that fills it
  buf_ = std::make_unique<uint8_t[]>(capacity_);
  reset();
}

void ChunkEncoder::reset() {
  size_ = 0;
  count_ = 0;
  first_time_ = prev_time_ = 0;
  history_.reset();
  strings_.reset();
}

size_t ChunkEncoder::worst_case_size(const Event& e) {
  return kFixedWorstCase + clip(e.device).size() + clip(e.reg).size() + clip(e.name).size() + clip(e.text).size();
}

void ChunkEncoder::grow(size_t at_least) {
  if (capacity_ - size_ >= at_least) return;
  const size_t cap = std::max(capacity_ * 2, size_ + at_least);
  auto bigger = std::make_unique<uint8_t[]>(cap);
  std::memcpy(bigger.get(), buf_.get(), size_);
  buf_ = std::move(bigger);
  capacity_ = cap;
}

uint64_t ChunkEncoder::string_ref(std::string_view s) const {
  if (s.empty()) return 0;
  if (s.size() > kMaxInternedLength) return kIdInline;
  if (uint32_t id = strings_.find(s)) return id;
  return strings_.full() ? kIdInline : kIdNew;
}

uint8_t* ChunkEncoder::put_string(uint8_t* p, Field f, std::string_view s) {
  uint64_t& id_slot = history_.scratch().v[f];
  const uint64_t id = id_slot;
  if (id == 0) return put_varint(p, kStrEmpty);
  if (id < kIdNew) return put_varint(p, id - 1 + kStrFirstId);
  s = clip(s);
  if (id == kIdNew) {
    // Interned now, at the moment its definition is written, so reader and
    // writer number strings in the same order.
    if (uint32_t existing = strings_.find(s)) {  // the same new string in two fields of one event
      id_slot = existing;
      return put_varint(p, existing - 1 + kStrFirstId);
    }
    id_slot = strings_.insert(s);
    p = put_varint(p, kStrInlineInterned);
  } else {
    p = put_varint(p, kStrInline);
  }
  p = put_varint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

void ChunkEncoder::encode(const Event& e) {
  Fields& cur = history_.scratch();  // becomes the newest reference in commit()
  auto& v = cur.v;
  v[kVcpu] = e.vcpu;
  v[kSource] = static_cast<uint64_t>(e.source);
  v[kReason] = e.reason;
  v[kHandledBy] = static_cast<uint64_t>(e.handled_by);
  v[kDuration] = e.duration_ns;
  v[kRip] = e.rip;
  v[kCpl] = e.cpl;
  v[kDirection] = static_cast<uint64_t>(e.direction);
  v[kSize] = e.size;
  v[kPort] = e.port;
  v[kCount] = e.count;
  v[kValue] = e.value;
  v[kGpa] = e.gpa;
  v[kLength] = e.length;
  v[kVector] = e.vector;
  v[kErrorCode] = e.error_code;
  v[kHasErrorCode] = e.has_error_code ? 1 : 0;
  v[kCr2] = e.cr2;
  v[kFromCpl] = e.from_cpl;
  v[kToCpl] = e.to_cpl;
  v[kCause] = static_cast<uint64_t>(e.cause);
  v[kRipTo] = e.rip_to;
  v[kNumber] = e.number;
  v[kArg0] = e.args[0];
  v[kArg1] = e.args[1];
  v[kArg2] = e.args[2];
  v[kArg3] = e.args[3];
  v[kResult] = e.result;
  v[kTransport] = static_cast<uint64_t>(e.transport);
  v[kCr0] = e.cr0;
  v[kCr4] = e.cr4;
  v[kEfer] = e.efer;
  v[kPrevCr0] = e.prev_cr0;
  v[kPrevCr4] = e.prev_cr4;
  v[kPrevEfer] = e.prev_efer;
  v[kPhase] = static_cast<uint64_t>(e.phase);
  v[kEndReason] = static_cast<uint64_t>(e.end_reason);
  v[kDevice] = string_ref(e.device);
  v[kReg] = string_ref(e.reg);
  v[kName] = string_ref(e.name);
  v[kText] = string_ref(e.text);
  v[kRegs] = e.regs != nullptr ? 1 : 0;

  // Reference: the latest event of this kind with the same key, else the
  // latest of this kind.
  const int found = history_.find(e.kind);
  const int ref_pos = found >= 0 ? found : 0;
  const Fields& ref = history_.at(e.kind, ref_pos);

  uint64_t changed = changed_fields(cur, ref);
  // Inline and not-yet-defined strings are always written.
  for (Field f : {kDevice, kReg, kName, kText}) changed |= static_cast<uint64_t>(v[f] >= kIdNew) << f;
  const KindOrder& order = kind_order(e.kind);
  uint64_t mask = 0;
  for (uint64_t c = changed; c; c &= c - 1) mask |= uint64_t{1} << order.bit_of[std::countr_zero(c)];

  if (count_ == 0) first_time_ = prev_time_ = e.time_ns;
  uint8_t* p = buf_.get() + size_;
  *p++ = static_cast<uint8_t>(static_cast<uint8_t>(e.kind) | (ref_pos << kTagRefShift) | (mask ? kTagHasMask : 0));
  p = put_varint(p, zigzag_delta(e.time_ns, prev_time_));
  prev_time_ = e.time_ns;
  if (mask) p = put_varint(p, mask);

  for (uint64_t m = mask; m; m &= m - 1) {
    const auto f = static_cast<Field>(order.field_at[std::countr_zero(m)]);
    switch (kFields[f].coding) {
      case Coding::Raw: p = put_varint(p, v[f]); break;
      case Coding::Delta: p = put_varint(p, zigzag_delta(v[f], ref.v[f])); break;
      case Coding::String: {
        const std::string_view s = f == kDevice ? e.device : f == kReg ? e.reg : f == kName ? e.name : e.text;
        p = put_string(p, f, s);
        break;
      }
      case Coding::Regs: p = put_regs(p, *e.regs); break;
    }
  }
  size_ = static_cast<size_t>(p - buf_.get());
  ++count_;

  v[kRegs] = 0;  // references never carry registers: a later event re-sends them
  history_.commit(e.kind, found);
}

}  // namespace ringscope::trace
