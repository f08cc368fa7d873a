// event_store.cpp — the columns and the arena encoding behind EventStore.
//
// An event's arena record is: its shape's id as a varint (shapes are
// interned: a trace has a few dozen), then the value of every field the
// shape lists, in field-id order, as LEB128 varints; strings are an id for
// interned names and (length, bytes) for text. Most fields of most events
// are zero (a step has only rip and bytes) and are not listed; the source
// is part of the shape; a CPL, a trap's rings and the kind's code that the
// columns already hold are left out (the shape says so). The rip is written
// as a zigzag difference from the last rip in the same 16-event block, so
// consecutive instructions cost a byte or two. Field ids are the schema's
// (event_schema.h), so a field added to Event needs nothing here.
//
// Appending runs once per event while a trace opens (10 M times for a big
// one), so it finds the non-zero fields by testing Event's bytes four at a
// time, finds the shape in a per-kind cache of the last one, and writes the
// record through a pointer.
#include "model/event_store.h"

#include <algorithm>
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

// The fast path's view of the same bytes: eight at a time, against a byte
// mask of the fields a kind does not use (KindInfo::others). For nearly
// every event they are all zero, and only the kind's own fields are tested.
static_assert((kScanEnd - kScanBegin) % 8 == 0);

// How a record writes each field id.
enum FieldClass : uint8_t { kClassScalar, kClassRip, kClassDevice, kClassReg, kClassName, kClassText, kClassRegs };
constexpr std::array<uint8_t, kIdCount> kClass = [] {
  std::array<uint8_t, kIdCount> c{};
  for (int f = 0; f < kIdCount; ++f) c[f] = kClassScalar;
  c[field::kRip] = kClassRip;
  c[kDevice] = kClassDevice;
  c[kReg] = kClassReg;
  c[kName] = kClassName;
  c[kText] = kClassText;
  c[kRegs] = kClassRegs;
  return c;
}();

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

// The most one event's record takes besides its text: the shape id, every
// scalar as a 10-byte varint, the strings' and registers' 5-byte varints.
constexpr size_t kMaxRecord = 5 + kIdCount * 10;

// What the columns hold instead of the record (Shape::derived).
constexpr uint8_t kDerivedCpl = 1;   // cpl is flags & kCplMask
constexpr uint8_t kDerivedFrom = 2;  // from_cpl is flags & kCplMask
constexpr uint8_t kDerivedTo = 4;    // to_cpl is the to_cpl column
constexpr uint8_t kDerivedCode = 8;  // the kind's code field is the code column

constexpr uint8_t kRipField = field::kRip;

inline uint64_t zigzag(uint64_t v, uint64_t ref) {
  const auto d = static_cast<int64_t>(v - ref);
  return (static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63);
}
inline uint64_t unzigzag(uint64_t z, uint64_t ref) { return ref + ((z >> 1) ^ (~(z & 1) + 1)); }

inline size_t kind_slot(uint8_t k) { return k < 16 ? k : 15; }  // as kind_spec() clamps

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

uint32_t EventStore::shape_id(uint8_t kind, const Shape& s) {
  LastShape& last = last_shape_[kind_slot(kind)];
  if (last.id != UINT32_MAX && last.shape == s) return last.id;
  uint32_t id;
  if (auto it = shape_ids_.find(s); it != shape_ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<uint32_t>(shapes_.size());
    shapes_.push_back(s);
    shape_ids_.emplace(s, id);
  }
  last = LastShape{s, id};
  return id;
}

void EventStore::learn_kind(EventKind k) {
  static_assert(kScanWords * 8 == kScanEnd - kScanBegin);
  const KindSpec& spec = kind_spec(k);
  KindInfo& ki = kinds_[kind_slot(static_cast<uint8_t>(k))];
  ki.known = true;
  ki.cpl = static_cast<uint8_t>(spec.cpl);
  ki.code = static_cast<uint8_t>(spec.code);
  ki.own = 0;
  for (const FieldId f : spec.fields)
    if (is_scalar(f) && f != kVcpuField && f != field::kSource) ki.own |= uint64_t{1} << f;
  // Every byte of a scalar field the kind does not list (padding and the
  // vCPU and source, kept apart, are not looked at).
  std::array<uint8_t, kScanWords * 8> mask{};
  for (int f = 0; f < kEventFieldCount; ++f) {
    if (!is_scalar(f) || f == kVcpuField || f == field::kSource || (ki.own >> f & 1)) continue;
    for (size_t b = 0; b < kScalars[f].width; ++b) mask[kScalars[f].offset - kScanBegin + b] = 0xff;
  }
  for (size_t w = 0; w < kScanWords; ++w) std::memcpy(&ki.others[w], mask.data() + 8 * w, 8);
}

void EventStore::reserve(size_t events) {
  hot_.reserve(events);
  dt_.reserve(events);
}

void EventStore::append(const Event& e) {
  const size_t index = hot_.size();
  const auto kind = static_cast<uint8_t>(e.kind);
  KindInfo& ki = kinds_[kind_slot(kind)];
  if (!ki.known) learn_kind(e.kind);

  // The columns.
  Hot h{};
  h.kind = kind;
  h.vcpu = static_cast<uint8_t>(e.vcpu < kWideVcpu ? e.vcpu : kWideVcpu);
  if (h.vcpu == kWideVcpu) wide_vcpus_.emplace_back(index, e.vcpu);
  Shape shape;
  shape.source = static_cast<uint8_t>(e.source);
  uint64_t drop = uint64_t{1} << kVcpuField | uint64_t{1} << field::kSource;  // what the columns and shape hold
  if (ki.code != field::kFieldCount && is_scalar(ki.code)) {
    const uint64_t code = load(e, kScalars[ki.code]);
    h.code = static_cast<uint16_t>(code);
    if (code <= 0xffff) {
      shape.derived |= kDerivedCode;
      drop |= uint64_t{1} << ki.code;
    }
  }
  // A trap is recorded at the ring it left; the CPL band needs both ends.
  if (ki.cpl == static_cast<uint8_t>(CplAt::Cpl)) {
    h.flags = static_cast<uint8_t>(kCplKnown | (e.cpl & kCplMask));
    h.to_cpl = e.cpl;
    if (e.cpl <= kCplMask) {
      shape.derived |= kDerivedCpl;
      drop |= uint64_t{1} << field::kCpl;
    }
  } else if (ki.cpl == static_cast<uint8_t>(CplAt::FromTo)) {
    h.flags = static_cast<uint8_t>(kCplKnown | (e.from_cpl & kCplMask));
    h.to_cpl = e.to_cpl;
    if (e.from_cpl != e.to_cpl) h.flags |= kRingChange;
    shape.derived |= kDerivedTo;
    drop |= uint64_t{1} << field::kToCpl;
    if (e.from_cpl <= kCplMask) {
      shape.derived |= kDerivedFrom;
      drop |= uint64_t{1} << field::kFromCpl;
    }
  }
  if (e.kind == EventKind::VmExit && e.handled_by == HandledBy::Kernel) h.flags |= kHandledKernel;
  hot_.push_back(h);
  const uint64_t t = e.time_ns;
  if (index % kTimeBlock == 0) time_base_.push_back(t);
  const uint64_t base = time_base_.back();
  if (t >= base && t - base < kFarTime) {
    dt_.push_back(static_cast<uint32_t>(t - base));
  } else {
    dt_.push_back(kFarTime);
    far_times_.emplace_back(index, t);
  }

  // The record.
  if (index % kRecordBlock == 0) {
    record_at_.push_back(arena_.size());
    prev_rip_ = 0;
  }
  uint64_t present = 0;
  uint64_t others = 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(&e) + kScanBegin;
  for (size_t w = 0; w < kScanWords; ++w) {
    uint64_t x;
    std::memcpy(&x, bytes + 8 * w, 8);
    others |= x & ki.others[w];
  }
  if (others == 0) {
    for (uint64_t m = ki.own; m; m &= m - 1) {
      const int f = std::countr_zero(m);
      if (load(e, kScalars[f]) != 0) present |= uint64_t{1} << f;
    }
  } else {
    // A field the kind does not list is set: look at every lane.
    uint64_t maybe = 0;
    for (uint64_t l = nonzero_lanes(e); l; l &= l - 1) {
      present |= kLaneFields.sure[std::countr_zero(l)];
      maybe |= kLaneFields.maybe[std::countr_zero(l)];
    }
    for (uint64_t m = maybe & ~present; m; m &= m - 1) {
      const int f = std::countr_zero(m);
      if (load(e, kScalars[f]) != 0) present |= uint64_t{1} << f;
    }
  }
  if (e.seq != 0 && e.seq != index) present |= uint64_t{1} << kSeqField;
  if (!e.device.empty()) present |= uint64_t{1} << kDevice;
  if (!e.reg.empty()) present |= uint64_t{1} << kReg;
  if (!e.name.empty()) present |= uint64_t{1} << kName;
  if (!e.text.empty()) present |= uint64_t{1} << kText;
  if (e.regs != nullptr) present |= uint64_t{1} << kRegs;
  shape.fields = present & ~drop;

  uint8_t* const start = arena_.tail(kMaxRecord + e.text.size());
  uint8_t* p = put_varint(start, shape_id(kind, shape));
  for (uint64_t m = shape.fields; m; m &= m - 1) {
    const int f = std::countr_zero(m);
    switch (kClass[f]) {
      case kClassScalar: p = put_varint(p, load(e, kScalars[f])); break;
      case kClassRip:
        p = put_varint(p, zigzag(e.rip, prev_rip_));
        prev_rip_ = e.rip;
        break;
      case kClassDevice: p = put_varint(p, intern(0, e.device)); break;
      case kClassReg: p = put_varint(p, intern(1, e.reg)); break;
      case kClassName: p = put_varint(p, intern(2, e.name)); break;
      case kClassText:
        p = put_varint(p, e.text.size());
        std::memcpy(p, e.text.data(), e.text.size());
        p += e.text.size();
        break;
      case kClassRegs:
        p = put_varint(p, regs_.size());
        regs_.push_back(*e.regs);
        break;
      default: break;
    }
  }
  arena_.grow_by(static_cast<size_t>(p - start));
}

uint64_t EventStore::far_time(size_t i) const {
  auto it = std::lower_bound(far_times_.begin(), far_times_.end(), std::pair<uint64_t, uint64_t>(i, 0));
  return it != far_times_.end() && it->first == i ? it->second : time_base_[i / kTimeBlock];
}

uint32_t EventStore::wide_vcpu(size_t i) const {
  auto it = std::lower_bound(wide_vcpus_.begin(), wide_vcpus_.end(), std::pair<uint64_t, uint32_t>(i, 0));
  return it != wide_vcpus_.end() && it->first == i ? it->second : kWideVcpu;
}

size_t EventStore::lower_bound(uint64_t t) const {
  size_t lo = 0, n = size();
  while (n > 0) {
    const size_t half = n / 2;
    if (time(lo + half) < t) {
      lo += half + 1;
      n -= half + 1;
    } else {
      n = half;
    }
  }
  return lo;
}

size_t EventStore::upper_bound(uint64_t t) const {
  size_t lo = 0, n = size();
  while (n > 0) {
    const size_t half = n / 2;
    if (time(lo + half) <= t) {
      lo += half + 1;
      n -= half + 1;
    } else {
      n = half;
    }
  }
  return lo;
}

const uint8_t* EventStore::record(size_t i, uint64_t& prev_rip) const {
  const uint8_t* p = arena_.data() + record_at_[i / kRecordBlock];
  prev_rip = 0;
  // Past the records before i in its block, keeping the rip they leave.
  for (size_t j = i - i % kRecordBlock; j < i; ++j) {
    const Shape& s = shapes_[get_varint(p)];
    for (uint64_t m = s.fields; m; m &= m - 1) {
      const int f = std::countr_zero(m);
      const uint64_t v = get_varint(p);
      if (f == kRipField) {
        prev_rip = unzigzag(v, prev_rip);
      } else if (f == kText) {
        p += v;
      }
    }
  }
  return p;
}

Event EventStore::decode(size_t i) const {
  const Hot& h = hot_[i];
  Event e;
  e.seq = i;
  e.time_ns = time(i);
  e.kind = static_cast<EventKind>(h.kind);
  e.vcpu = vcpu(i);
  uint64_t prev_rip = 0;
  const uint8_t* p = record(i, prev_rip);
  const Shape& s = shapes_[get_varint(p)];
  e.source = static_cast<Source>(s.source);
  if (s.derived & kDerivedCpl) e.cpl = h.flags & kCplMask;
  if (s.derived & kDerivedFrom) e.from_cpl = h.flags & kCplMask;
  if (s.derived & kDerivedTo) e.to_cpl = h.to_cpl;
  if (s.derived & kDerivedCode) store(e, kScalars[kinds_[kind_slot(h.kind)].code], h.code);
  for (uint64_t m = s.fields; m; m &= m - 1) {
    const int f = std::countr_zero(m);
    const uint64_t v = get_varint(p);
    if (is_scalar(f)) {
      store(e, kScalars[f], f == kRipField ? unzigzag(v, prev_rip) : v);
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
  return hot_.capacity() * sizeof(Hot) + dt_.capacity() * sizeof(uint32_t) +
         (time_base_.capacity() + record_at_.capacity()) * sizeof(uint64_t) + arena_.capacity() +
         far_times_.capacity() * sizeof(far_times_[0]) + wide_vcpus_.capacity() * sizeof(wide_vcpus_[0]) +
         shapes_.size() * (sizeof(Shape) * 2 + sizeof(uint32_t) + 16) + string_bytes_ +
         string_ids_.size() * (sizeof(std::string_view) + sizeof(uint32_t) + 16) + regs_.size() * sizeof(GuestRegs);
}

void EventStore::shrink_to_fit() {
  hot_.shrink_to_fit();
  dt_.shrink_to_fit();
  time_base_.shrink_to_fit();
  record_at_.shrink_to_fit();
  arena_.shrink_to_fit();
  far_times_.shrink_to_fit();
  wide_vcpus_.shrink_to_fit();
}

}  // namespace ringscope::viewer
