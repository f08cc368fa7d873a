// chunk_decoder.cpp — decode and validate one chunk's events.
//
// Each event starts as a copy of its reference (a recent event of its kind,
// or a default Event) and then takes the fields its mask lists. Only those
// fields need a range check: the rest come from an event that passed its
// own.
#include "chunk_decoder.h"

#include <algorithm>
#include <bit>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "fmt/format.h"
#include "varint.h"

namespace ringscope::trace {
namespace {

// 23 uint64 registers, then cs, ss, cpl: 26 varints (chunk_encoder.cpp put_regs).
bool get_regs(ByteReader& r, GuestRegs& g) {
  uint64_t* wide[] = {&g.rax, &g.rbx, &g.rcx, &g.rdx, &g.rsi, &g.rdi,    &g.rbp, &g.rsp, &g.r8,  &g.r9,  &g.r10, &g.r11,
                      &g.r12, &g.r13, &g.r14, &g.r15, &g.rip, &g.rflags, &g.cr0, &g.cr2, &g.cr3, &g.cr4, &g.efer};
  for (uint64_t* x : wide) {
    if (!r.varint(*x)) return false;
  }
  uint64_t cs = 0, ss = 0, cpl = 0;
  if (!r.varint(cs) || !r.varint(ss) || !r.varint(cpl)) return false;
  if (cs > 0xffff || ss > 0xffff || cpl > 0xff) return false;
  g.cs = static_cast<uint16_t>(cs);
  g.ss = static_cast<uint16_t>(ss);
  g.cpl = static_cast<uint8_t>(cpl);
  return true;
}

}  // namespace

// A plain `cur = ref` compiles to `rep movsq`, whose start-up cost was a
// third of the decoder's time; 16-byte moves of a hot entry are a few cycles.
void ChunkDecoder::copy_entry(Entry& to, const Entry& from) {
#if defined(__SSE2__)
  auto* d = reinterpret_cast<__m128i*>(&to);
  const auto* s = reinterpret_cast<const __m128i*>(&from);
#pragma GCC unroll 32
  for (size_t i = 0; i < sizeof(Entry) / 16; ++i) _mm_store_si128(d + i, _mm_load_si128(s + i));
#else
  to = from;
#endif
}

ChunkDecoder::ChunkDecoder() {
  pool_[kDefaultEntry].event = Event{};
  pool_[kDefaultEntry].ids = {};
}

void ChunkDecoder::reset() {
  recent_.reset(kDefaultEntry);
  free_count_ = 0;
  for (int i = kPoolSize - 1; i > kDefaultEntry; --i) free_[free_count_++] = static_cast<uint8_t>(i);
  table_.clear();
  regs_.clear();
}

bool ChunkDecoder::check(const ChunkInfo& chunk, size_t& error_offset, std::string& error) {
  size_t done = 0;
  return run(chunk, chunk.count, nullptr, done, error_offset, error) == Outcome::Done;
}

bool ChunkDecoder::deliver(const ChunkInfo& chunk, size_t n, DecodedEventSink& sink, size_t& taken) {
  size_t error_offset = 0;
  std::string error;
  taken = 0;
  return run(chunk, n, &sink, taken, error_offset, error) != Outcome::Stopped;  // check() passed: not Failed
}

ChunkDecoder::Outcome ChunkDecoder::run(const ChunkInfo& chunk, size_t n, DecodedEventSink* sink, size_t& done,
                                        size_t& error_offset, std::string& error) {
  reset();
  ByteReader r(chunk.payload, chunk.payload + chunk.length);
  uint64_t time = chunk.first_time_ns;
  uint8_t scratch = free_[--free_count_];  // the entry the next event is built in

  for (uint32_t i = 0; i < n; ++i) {
    const size_t event_start = r.offset();
    auto fail = [&](std::string why) {
      error_offset = event_start;
      error = fmt::format("event {} of the chunk: {}", i, why);
      return Outcome::Failed;
    };

    uint8_t tag = 0;
    if (!r.byte(tag)) return fail("the payload ends inside the event");
    if (tag & kTagReserved) return fail(fmt::format("tag byte 0x{:02x} has the reserved bit set", tag));
    const uint8_t kind_bits = tag & kTagKindMask;
    if (!kind_defined(static_cast<EventKind>(kind_bits))) return fail(fmt::format("unknown event kind {}", kind_bits));
    const auto kind = static_cast<EventKind>(kind_bits);
    const int ref_pos = (tag & kTagRefMask) >> kTagRefShift;
    if (ref_pos >= recent_.size(kind))
      return fail(fmt::format("refers to recent event {} of its kind, but only {} exist", ref_pos, recent_.size(kind)));

    uint64_t zz = 0, mask = 0;
    if (!r.varint(zz)) return fail("bad time delta varint");
    if (i == 0 && zz != 0) return fail("the first event's time differs from the chunk's first timestamp");
    time = unzigzag_delta(zz, time);
    if ((tag & kTagHasMask) && (!r.varint(mask) || mask == 0)) return fail("bad field mask");
    if (mask >> kFieldCount) return fail(fmt::format("field mask 0x{:x} names unknown fields", mask));

    const Entry& ref = pool_[recent_.at(kind, ref_pos)];
    Entry& cur = pool_[scratch];
    copy_entry(cur, ref);
    Event& e = cur.event;
    StringIds& ids = cur.ids;
    e.seq = chunk.first_seq + i;
    e.time_ns = time;
    e.kind = kind;
    e.regs = nullptr;  // references never carry registers

    const KindOrder& order = kind_order(kind);
    const uint8_t* ref_num = numeric(ref.event);
    uint8_t* num = numeric(e);
    uint64_t present = 0;         // canonical field bits that this event carries
    int bad_field = kFieldCount;  // the lowest field out of its range, reported after parsing
    uint64_t bad_value = 0;
    for (uint64_t m = mask; m; m &= m - 1) {
      const auto f = static_cast<Field>(order.field_at[std::countr_zero(m)]);
      present |= uint64_t{1} << f;
      uint64_t x = 0;
      if (numeric_field(f)) [[likely]] {  // Raw or Delta
        if (!r.varint(x)) return fail(fmt::format("bad varint in field {}", int(f)));
        if (kFields[f].coding == Coding::Delta) x = unzigzag_delta(x, load_field(ref_num, f));
        if (x <= kFields[f].max) {
          store_field(num, f, x);
        } else if (f < bad_field) {
          bad_field = f;
          bad_value = x;
        }
      } else if (f != kRegs) {
        if (!r.varint(x)) return fail("bad string reference");
        std::string_view s;
        StringId& id = ids[f - kDevice];
        if (x == kStrEmpty) {
          id = 0;
        } else if (x == kStrInline) {
          if (!r.bytes(s, kMaxEventString)) return fail("inline string longer than the limit or the payload");
          id = kIdInline;
        } else if (x == kStrInlineInterned) {
          if (!r.bytes(s, kMaxInternedLength)) return fail("interned string longer than the limit or the payload");
          if (s.empty()) return fail("interned string is empty");
          if (table_.size() >= kMaxInternedPerChunk) return fail("too many interned strings in one chunk");
          table_.push_back(s);
          id = static_cast<StringId>(table_.size());
        } else {
          const uint64_t sid = x - kStrFirstId + 1;
          if (sid > table_.size()) return fail(fmt::format("string id {} is not defined in this chunk", sid));
          id = static_cast<StringId>(sid);
          s = table_[sid - 1];
        }
        string_field(e, f) = s;
      } else {
        GuestRegs& g = regs_.emplace_back();
        if (!get_regs(r, g)) return fail("bad register block");
        e.regs = &g;
      }
    }
    // Strings this event shares with its reference came with the copy; an
    // inline string is never shared.
    if ((ids[0] | ids[1] | ids[2] | ids[3]) != 0) {
      for (int s = 0; s < kStringFields; ++s) {
        if (!(present & (uint64_t{1} << (kDevice + s))) && ids[s] == kIdInline)
          return fail("reuses an inline string of an earlier event");
      }
    }
    if (bad_field < kFieldCount)
      return fail(
          fmt::format("field {} has value {}, out of range (max {})", bad_field, bad_value, kFields[bad_field].max));

    if (sink != nullptr) {
      ++done;
      if (!sink->event(e, ids, *this)) return Outcome::Stopped;
    }

    const int found = recent_.find(
        kind, [&](uint8_t slot) { return same_key(num, ids, numeric(pool_[slot].event), pool_[slot].ids); });
    uint8_t left = 0;
    if (recent_.push(kind, found, scratch, left) && left != kDefaultEntry) {
      scratch = left;
    } else {
      scratch = free_[--free_count_];
    }
  }
  if (n == chunk.count && !r.at_end()) {
    error_offset = r.offset();
    error = fmt::format("{} bytes follow the chunk's {} events", r.remaining(), chunk.count);
    return Outcome::Failed;
  }
  return Outcome::Done;
}

}  // namespace ringscope::trace
