// event_store.cpp — the arena encoding behind EventStore.
//
// An event's arena record is: a field count, then for each field that is not
// zero one byte naming it and its value as a LEB128 varint; strings are
// (field, id) for interned names and (field, length, bytes) for text. Most
// fields of most events are zero (a step has only rip, source and bytes),
// which is why this is small. The table below is the only place that lists
// Event's fields, so a field added to Event needs one line here.
#include "model/event_store.h"

#include <cstring>

namespace ringscope::viewer {

namespace {

struct ScalarField {
  uint64_t (*get)(const Event&);
  void (*set)(Event&, uint64_t);
};

#define RS_FIELD(member)                                                          \
  ScalarField {                                                                   \
    [](const Event& e) { return static_cast<uint64_t>(e.member); },               \
        [](Event& e, uint64_t v) { e.member = static_cast<decltype(e.member)>(v); } \
  }

// Fields carried in the arena. Indices are the on-arena field ids.
const ScalarField kScalars[] = {
    RS_FIELD(source),     RS_FIELD(reason),    RS_FIELD(handled_by), RS_FIELD(duration_ns), RS_FIELD(rip),
    RS_FIELD(cpl),        RS_FIELD(direction), RS_FIELD(size),       RS_FIELD(port),        RS_FIELD(count),
    RS_FIELD(value),      RS_FIELD(gpa),       RS_FIELD(length),     RS_FIELD(vector),      RS_FIELD(error_code),
    RS_FIELD(has_error_code), RS_FIELD(cr2),   RS_FIELD(from_cpl),   RS_FIELD(to_cpl),      RS_FIELD(cause),
    RS_FIELD(rip_to),     RS_FIELD(number),    RS_FIELD(args[0]),    RS_FIELD(args[1]),     RS_FIELD(args[2]),
    RS_FIELD(args[3]),    RS_FIELD(result),    RS_FIELD(transport),  RS_FIELD(cr0),         RS_FIELD(cr4),
    RS_FIELD(efer),       RS_FIELD(prev_cr0),  RS_FIELD(prev_cr4),   RS_FIELD(prev_efer),   RS_FIELD(phase),
    RS_FIELD(end_reason), RS_FIELD(seq),       RS_FIELD(vcpu),
};
#undef RS_FIELD

constexpr uint8_t kScalarCount = sizeof(kScalars) / sizeof(kScalars[0]);
constexpr uint8_t kSeqField = kScalarCount - 2;   // only stored when seq != index
constexpr uint8_t kVcpuField = kScalarCount - 1;  // only stored when vcpu >= 0xffff
// String and register fields follow the scalars.
constexpr uint8_t kDevice = kScalarCount, kReg = kScalarCount + 1, kName = kScalarCount + 2,
                  kText = kScalarCount + 3, kRegs = kScalarCount + 4;

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
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

bool carries_cpl(EventKind k) {
  return k == EventKind::Step || k == EventKind::VmExit || k == EventKind::Trap || k == EventKind::TrapReturn ||
         k == EventKind::Hypercall;
}

}  // namespace

uint32_t EventStore::intern(std::string_view s) {
  if (auto it = string_ids_.find(s); it != string_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(strings_.size());
  const std::string& kept = strings_.emplace_back(s);
  string_bytes_ += kept.capacity() + sizeof(std::string);
  string_ids_.emplace(kept, id);
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
  switch (e.kind) {
    case EventKind::VmExit: c.code = e.reason; break;
    case EventKind::Trap:
    case EventKind::TrapReturn: c.code = e.vector; break;
    case EventKind::Marker: c.code = static_cast<uint16_t>(e.phase); break;
    case EventKind::Hypercall: c.code = static_cast<uint16_t>(e.number); break;
    default: break;
  }
  if (carries_cpl(e.kind)) {
    // A trap is recorded at the ring it left; the CPL band needs both ends.
    const bool trap = e.kind == EventKind::Trap || e.kind == EventKind::TrapReturn;
    c.flags |= kCplKnown | ((trap ? e.from_cpl : e.cpl) & kCplMask);
    c.to_cpl = trap ? e.to_cpl : e.cpl;
    if (trap && e.from_cpl != e.to_cpl) c.flags |= kRingChange;
  }
  if (e.kind == EventKind::VmExit && e.handled_by == HandledBy::Kernel) c.flags |= kHandledKernel;

  // Count the fields first so the record can start with its field count.
  const size_t index = compact_.size();
  uint8_t fields[kScalarCount];
  uint8_t n = 0;
  for (uint8_t f = 0; f < kScalarCount; ++f) {
    const uint64_t v = kScalars[f].get(e);
    if (v == 0) continue;
    if (f == kSeqField && v == index) continue;
    if (f == kVcpuField && v < 0xffff) continue;
    fields[n++] = f;
  }
  const bool has_regs = e.regs != nullptr;
  const uint8_t strings = !e.device.empty() + !e.reg.empty() + !e.name.empty() + !e.text.empty() + has_regs;
  arena_.push_back(static_cast<uint8_t>(n + strings));
  for (uint8_t i = 0; i < n; ++i) {
    arena_.push_back(fields[i]);
    put_varint(arena_, kScalars[fields[i]].get(e));
  }
  auto put_interned = [&](uint8_t field, std::string_view s) {
    if (s.empty()) return;
    arena_.push_back(field);
    put_varint(arena_, intern(s));
  };
  put_interned(kDevice, e.device);
  put_interned(kReg, e.reg);
  put_interned(kName, e.name);
  if (!e.text.empty()) {
    arena_.push_back(kText);
    put_varint(arena_, e.text.size());
    arena_.insert(arena_.end(), e.text.begin(), e.text.end());
  }
  if (has_regs) {
    arena_.push_back(kRegs);
    put_varint(arena_, regs_.size());
    regs_.push_back(*e.regs);
  }
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
    if (f < kScalarCount) {
      kScalars[f].set(e, v);
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
