// event_store.cpp — the arena encoding behind EventStore.
//
// An event's arena record is: a field count, then for each field that is not
// zero one byte naming it and its value as a LEB128 varint; strings are
// (field, id) for interned names and (field, length, bytes) for text. Most
// fields of most events are zero (a step has only rip, source and bytes),
// which is why this is small. Field ids are the schema's (event_schema.h),
// so a field added to Event needs nothing here.
//
// Appending runs once per event while a trace opens (10 M times for a big
// one), so it finds the non-zero fields by testing Event's bytes four at a
// time and writes the record through a pointer.
#include "model/event_store.h"

#include <bit>
#include <cstddef>
#include <cstring>

#include "ringscope/event_schema.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ringscope::viewer {

namespace {

// Arena field ids: the schema's field numbers (event_schema.h, the one table
// of Event's fields), then seq, which only this store needs. vcpu is a
// schema field but kept in CompactEvent unless it does not fit there.
struct ScalarField {
  uint16_t offset;
  uint8_t width;
};
constexpr uint8_t kSeqField = kEventFieldCount;
constexpr uint8_t kVcpuField = field::kVcpu;  // only stored when vcpu >= 0xffff
constexpr uint8_t kIdCount = kSeqField + 1;
static_assert(kIdCount <= 64, "field sets are uint64 masks");
constexpr std::array<ScalarField, kIdCount> kScalars = [] {
  std::array<ScalarField, kIdCount> t{};
  for (int f = 0; f < kEventFieldCount; ++f) t[f] = {kEventFields[f].offset, kEventFields[f].width};
  t[kSeqField] = {static_cast<uint16_t>(offsetof(Event, seq)), static_cast<uint8_t>(sizeof(Event::seq))};
  return t;
}();
constexpr bool is_scalar(int f) {
  return f == kSeqField ||
         (f < kEventFieldCount && kEventFields[f].type != FieldType::String && kEventFields[f].type != FieldType::Regs);
}
using field::kDevice, field::kReg, field::kName, field::kText, field::kRegs;

// One 8-byte load and a mask: every field has 8 readable bytes from its
// offset inside Event.
uint64_t load(const Event& e, const ScalarField& f) {
  uint64_t v;
  std::memcpy(&v, reinterpret_cast<const uint8_t*>(&e) + f.offset, 8);
  return f.width >= 8 ? v : v & ((uint64_t{1} << (8 * f.width)) - 1);
}
void store(Event& e, const ScalarField& f, uint64_t v) {
  store_width(reinterpret_cast<uint8_t*>(&e) + f.offset, f.width, v);
}

// Finding the non-zero fields without looking at all 36 of them: the bytes
// from vcpu up to the strings are tested four at a time, and only the
// fields in non-zero lanes are looked at. A lane one field covers whole
// ("sure") is non-zero exactly when that field is.
constexpr size_t kScanBegin = offsetof(Event, vcpu);
constexpr size_t kScanEnd = offsetof(Event, device);
constexpr size_t kLanes = (kScanEnd - kScanBegin) / 4;
static_assert((kScanEnd - kScanBegin) % 4 == 0 && kLanes <= 64);
struct Lanes {
  uint64_t sure[kLanes]{}, maybe[kLanes]{};
  constexpr Lanes() {
    for (uint8_t f = 0; f < kEventFieldCount; ++f) {
      if (!is_scalar(f) || f == kVcpuField) continue;  // vcpu is handled apart
      const size_t begin = kScalars[f].offset - kScanBegin, end = begin + kScalars[f].width;
      for (size_t l = begin / 4; l * 4 < end; ++l) {
        if (begin <= l * 4 && l * 4 + 4 <= end) {
          sure[l] |= uint64_t{1} << f;
        } else {
          maybe[l] |= uint64_t{1} << f;
        }
      }
    }
  }
};
constexpr Lanes kLaneFields{};

uint64_t nonzero_lanes(const Event& e) {
  const auto* p = reinterpret_cast<const uint8_t*>(&e) + kScanBegin;
  uint64_t zero = 0;
#if defined(__SSE2__)
  size_t l = 0;
  for (; l + 4 <= kLanes; l += 4) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 4 * l));
    zero |= static_cast<uint64_t>(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(x, _mm_setzero_si128())))) << l;
  }
  for (; l < kLanes; ++l) {
    uint32_t w;
    std::memcpy(&w, p + 4 * l, 4);
    zero |= static_cast<uint64_t>(w == 0) << l;
  }
#else
  for (size_t l = 0; l < kLanes; ++l) {
    uint32_t w;
    std::memcpy(&w, p + 4 * l, 4);
    zero |= static_cast<uint64_t>(w == 0) << l;
  }
#endif
  return ~zero & ((uint64_t{1} << kLanes) - 1);
}

uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// The arena was written by this process, so it is trusted: no bounds checks
// beyond what a bug would need to be caught in a debug build.
uint64_t get_varint(const uint8_t*& p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

// The most one event's record takes besides its text: the count, every
// scalar as (id, 10-byte varint), four strings or register refs as (id,
// 5-byte varint), the text's (id, length).
constexpr size_t kMaxRecord = 1 + kIdCount * 11;

}  // namespace

uint32_t EventStore::intern(int field, std::string_view s) {
  LastString& last = last_[field];
  if (s == last.s && !last.s.empty()) return last.id;
  uint32_t id;
  if (auto it = string_ids_.find(s); it != string_ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<uint32_t>(strings_.size());
    const std::string& kept = strings_.emplace_back(s);
    string_bytes_ += kept.capacity() + sizeof(std::string);
    string_ids_.emplace(kept, id);
  }
  last = LastString{strings_[id], id};
  return id;
}

void EventStore::append(const Event& e) {
  CompactEvent c;
  c.time_ns = e.time_ns;
  c.kind = static_cast<uint8_t>(e.kind);
  c.vcpu = static_cast<uint16_t>(e.vcpu < 0xffff ? e.vcpu : 0xffff);
  const uint64_t off = arena_.size();
  c.blob_lo = static_cast<uint32_t>(off);
  c.blob_hi = static_cast<uint8_t>(off >> 32);
  const KindSpec& kind = kind_spec(e.kind);
  if (kind.code != field::kFieldCount) c.code = static_cast<uint16_t>(field_value(e, kind.code));
  if (const auto ends = event_cpl_ends(e)) {
    // A trap is recorded at the ring it left; the CPL band needs both ends.
    c.flags |= kCplKnown | (ends->from & kCplMask);
    c.to_cpl = ends->to;
    if (ends->from != ends->to) c.flags |= kRingChange;
  }
  if (e.kind == EventKind::VmExit && e.handled_by == HandledBy::Kernel) c.flags |= kHandledKernel;

  // The record: a field count, then (id, varint) per non-zero field.
  const size_t index = compact_.size();
  uint8_t* const start = arena_.tail(kMaxRecord + e.text.size());
  uint8_t* p = start + 1;
  uint8_t n = 0;
  uint64_t present = 0, maybe = 0;
  for (uint64_t l = nonzero_lanes(e); l; l &= l - 1) {
    present |= kLaneFields.sure[std::countr_zero(l)];
    maybe |= kLaneFields.maybe[std::countr_zero(l)];
  }
  for (uint64_t m = maybe & ~present; m; m &= m - 1) {
    const int f = std::countr_zero(m);
    if (load(e, kScalars[f]) != 0) present |= uint64_t{1} << f;
  }
  if (e.seq != 0 && e.seq != index) present |= uint64_t{1} << kSeqField;
  if (e.vcpu >= 0xffff) present |= uint64_t{1} << kVcpuField;
  for (uint64_t m = present; m; m &= m - 1) {
    const int f = std::countr_zero(m);
    *p++ = static_cast<uint8_t>(f);
    p = put_varint(p, load(e, kScalars[f]));
    ++n;
  }
  auto put_interned = [&](uint8_t field, std::string_view s) {
    if (s.empty()) return;
    *p++ = field;
    p = put_varint(p, intern(field - kDevice, s));
    ++n;
  };
  put_interned(kDevice, e.device);
  put_interned(kReg, e.reg);
  put_interned(kName, e.name);
  if (!e.text.empty()) {
    *p++ = kText;
    p = put_varint(p, e.text.size());
    std::memcpy(p, e.text.data(), e.text.size());
    p += e.text.size();
    ++n;
  }
  if (e.regs != nullptr) {
    *p++ = kRegs;
    p = put_varint(p, regs_.size());
    regs_.push_back(*e.regs);
    ++n;
  }
  *start = n;
  arena_.grow_by(static_cast<size_t>(p - start));
  compact_.push_back(c);
}

Event EventStore::decode(size_t i) const {
  const CompactEvent& c = compact_[i];
  Event e;
  e.seq = i;
  e.time_ns = c.time_ns;
  e.kind = static_cast<EventKind>(c.kind);
  e.vcpu = c.vcpu;
  e.source = Source{};  // the arena leaves out zero fields, and Event defaults source to Vmm
  const uint8_t* p = arena_.data() + (static_cast<uint64_t>(c.blob_hi) << 32 | c.blob_lo);
  const uint8_t count = *p++;
  for (uint8_t k = 0; k < count; ++k) {
    const uint8_t f = *p++;
    const uint64_t v = get_varint(p);
    if (is_scalar(f)) {
      store(e, kScalars[f], v);
    } else if (f == kDevice) {
      e.device = strings_[v];
    } else if (f == kReg) {
      e.reg = strings_[v];
    } else if (f == kName) {
      e.name = strings_[v];
    } else if (f == kText) {
      e.text = std::string_view(reinterpret_cast<const char*>(p), v);
      p += v;
    } else if (f == kRegs) {
      e.regs = &regs_[v];
    }
  }
  return e;
}

size_t EventStore::memory_bytes() const {
  return compact_.capacity() * sizeof(CompactEvent) + arena_.capacity() + string_bytes_ +
         string_ids_.size() * (sizeof(std::string_view) + sizeof(uint32_t) + 16) + regs_.size() * sizeof(GuestRegs);
}

void EventStore::shrink_to_fit() {
  compact_.shrink_to_fit();
  arena_.shrink_to_fit();
}

}  // namespace ringscope::viewer
