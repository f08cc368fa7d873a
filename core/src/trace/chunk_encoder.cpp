// chunk_encoder.cpp — one event: tag byte, time delta, presence mask, then
// only the fields that differ from a recent event of the same kind
// (docs/trace-format.md "Events").
//
// Finding what differs is the hot part: Event has 41 numeric and string
// fields, and a typical exit changes two or three. Instead of comparing them
// one by one, the numeric span of the event is compared with the reference's
// copy 16 bytes at a time, and single fields are looked at only where bytes
// differ.
#include "chunk_encoder.h"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ringscope::trace {
namespace {

uint8_t* put_regs(uint8_t* p, const GuestRegs& r) {
  for (uint64_t v : {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,    r.rbp, r.rsp, r.r8,  r.r9,  r.r10, r.r11,
                     r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags, r.cr0, r.cr2, r.cr3, r.cr4, r.efer}) {
    p = put_varint(p, v);
  }
  p = put_varint(p, r.cs);
  p = put_varint(p, r.ss);
  return put_varint(p, r.cpl);
}

// One bit per 4-byte lane of the numeric span where `e` differs from `ref`.
// Padding bytes take part: a lane that differs only there costs a few field
// compares, nothing else.
uint64_t diff_lanes(const uint8_t* e, const uint8_t* ref) {
  uint64_t same = 0;
#if defined(__SSE2__)
  // Four blocks' lane results packed into 16 bytes, one movemask for 16
  // lanes (a block past the span counts as equal; those bits are masked).
  const auto block = [&](size_t b) {
    if (b >= kNumericBlocks) return _mm_set1_epi32(-1);
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(e + 16 * b));
    const __m128i y = _mm_load_si128(reinterpret_cast<const __m128i*>(ref + 16 * b));
    return _mm_cmpeq_epi32(x, y);
  };
#pragma GCC unroll 4
  for (size_t b = 0; b < kNumericBlocks; b += 4) {
    const __m128i lo = _mm_packs_epi32(block(b), block(b + 1)), hi = _mm_packs_epi32(block(b + 2), block(b + 3));
    same |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_packs_epi16(lo, hi)))) << (4 * b);
  }
#else
  for (size_t l = 0; l < kNumericLanes; ++l)
    same |= static_cast<uint64_t>(std::memcmp(e + 4 * l, ref + 4 * l, 4) == 0) << l;
#endif
  static_assert(kNumericLanes <= 64);
  return ~same & (kNumericLanes == 64 ? ~uint64_t{0} : (uint64_t{1} << kNumericLanes) - 1);
}

// Copies a numeric span in 16-byte moves (a memcpy of this size can become
// `rep movsq`, whose start-up cost is most of the copy).
void copy_numeric(uint8_t* to, const uint8_t* from) {
#pragma GCC unroll 16
  for (size_t b = 0; b < kNumericBlocks; ++b) std::memcpy(to + 16 * b, from + 16 * b, 16);
}

}  // namespace

ChunkEncoder::ChunkEncoder() {
  // field_order(k) is element k of one array of kMaxEventKinds orders
  // (kinds defined at run time included), so the first one's address
  // indexes them all.
  orders_ = &kind_order(EventKind{});
  capacity_ = 2 * kChunkTarget;  // a full chunk plus room for the event that fills it
  buf_ = std::make_unique<uint8_t[]>(capacity_);
  // The default entry: a default Event's numeric span, no strings.
  static const Event kDefault{};
  std::memcpy(pool_[kDefaultEntry].num.data(), numeric(kDefault), pool_[kDefaultEntry].num.size());
  pool_[kDefaultEntry].ids = {};
  reset();
}

void ChunkEncoder::reset() {
  size_ = 0;
  count_ = 0;
  first_time_ = prev_time_ = 0;
  recent_.reset(kDefaultEntry);
  free_count_ = 0;
  for (int i = kPoolSize - 1; i > kDefaultEntry; --i) free_[free_count_++] = static_cast<uint8_t>(i);
  scratch_ = take_free();
  strings_.reset();
}

void ChunkEncoder::grow(size_t at_least) {
  if (capacity_ - size_ >= at_least) return;
  const size_t cap = std::max(capacity_ * 2, size_ + at_least);
  auto bigger = std::make_unique<uint8_t[]>(cap);
  std::memcpy(bigger.get(), buf_.get(), size_);
  buf_ = std::move(bigger);
  capacity_ = cap;
}

StringId ChunkEncoder::string_ref(std::string_view s) const {
  if (s.empty()) return 0;
  if (s.size() > kMaxInternedLength) return kIdInline;
  if (uint32_t id = strings_.find(s)) return id;
  return strings_.full() ? kIdInline : kIdNew;
}

uint8_t* ChunkEncoder::put_string(uint8_t* p, StringId& id, std::string_view s) {
  if (id == 0) return put_varint(p, kStrEmpty);
  if (id < kIdNew) return put_varint(p, id - 1 + kStrFirstId);
  s = clip(s);
  if (id == kIdNew) {
    // Interned now, at the moment its definition is written, so reader and
    // writer number strings in the same order.
    if (uint32_t existing = strings_.find(s)) {  // the same new string in two fields of one event
      id = existing;
      return put_varint(p, existing - 1 + kStrFirstId);
    }
    id = strings_.insert(s);
    p = put_varint(p, kStrInlineInterned);
  } else {
    p = put_varint(p, kStrInline);
  }
  p = put_varint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

void ChunkEncoder::encode(const Event& e) {
  StringIds ids{};
  if ((e.device.size() | e.reg.size() | e.name.size() | e.text.size()) != 0) {
    for (int i = 0; i < kStringFields; ++i) ids[i] = string_ref(string_field(e, static_cast<Field>(kDevice + i)));
  }

  // Reference: the latest event of this kind with the same key, else the
  // latest of this kind.
  const uint8_t* num = numeric(e);
  const int found =
      recent_.find(e.kind, [&](uint8_t slot) { return same_key(num, ids, pool_[slot].num.data(), pool_[slot].ids); });
  const int ref_pos = found >= 0 ? found : 0;
  const Entry& ref = pool_[recent_.at(e.kind, ref_pos)];

  uint64_t changed = 0, maybe = 0;
  for (uint64_t d = diff_lanes(num, ref.num.data()); d; d &= d - 1) {
    changed |= kLaneFields.sure[std::countr_zero(d)];
    maybe |= kLaneFields.maybe[std::countr_zero(d)];
  }
  for (uint64_t c = maybe & ~changed; c; c &= c - 1) {
    const auto f = static_cast<Field>(std::countr_zero(c));
    changed |= static_cast<uint64_t>(load_field(num, f) != load_field(ref.num.data(), f)) << f;
  }
  // Inline and not-yet-defined strings are always written.
  if ((ids[0] | ids[1] | ids[2] | ids[3] | ref.ids[0] | ref.ids[1] | ref.ids[2] | ref.ids[3]) != 0) {
    for (int i = 0; i < kStringFields; ++i)
      changed |= static_cast<uint64_t>(ids[i] != ref.ids[i] || ids[i] >= kIdNew) << (kDevice + i);
  }
  changed |= static_cast<uint64_t>(e.regs != nullptr) << kRegs;  // references never carry registers

  const KindOrder& order = orders_[static_cast<uint8_t>(e.kind) < kMaxEventKinds ? static_cast<uint8_t>(e.kind) : 0];
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
    if (numeric_field(f)) [[likely]] {  // Raw or Delta
      const uint64_t x = load_field(num, f);
      p = put_varint(p, kFields[f].coding == Coding::Delta ? zigzag_delta(x, load_field(ref.num.data(), f)) : x);
    } else if (f == kRegs) {
      p = put_regs(p, *e.regs);
    } else {
      p = put_string(p, ids[f - kDevice], string_field(e, f));
    }
  }
  size_ = static_cast<size_t>(p - buf_.get());
  ++count_;

  // The event becomes the newest reference of its kind.
  Entry& cur = pool_[scratch_];
  copy_numeric(cur.num.data(), num);
  cur.ids = ids;
  uint8_t left = 0;
  if (recent_.push(e.kind, found, scratch_, left) && left != kDefaultEntry) {
    scratch_ = left;
  } else {
    scratch_ = take_free();
  }
}

}  // namespace ringscope::trace
