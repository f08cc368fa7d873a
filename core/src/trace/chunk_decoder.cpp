// chunk_decoder.cpp — decode and validate one chunk's events.
#include "chunk_decoder.h"

#include <bit>

#include "fmt/format.h"
#include "varint.h"

namespace ringscope::trace {

std::string_view StringStore::keep(std::string_view s) {
  if (s.empty()) return {};
  return storage_.emplace_back(s);
}

std::string_view StringStore::keep_shared(std::string_view s) {
  if (s.empty()) return {};
  if (auto it = shared_.find(s); it != shared_.end()) return it->second;
  std::string_view kept = keep(s);
  shared_.emplace(kept, kept);
  return kept;
}

namespace {

// 23 uint64 registers, then cs, ss, cpl: 26 varints (chunk_encoder.cpp put_regs).
bool get_regs(ByteReader& r, GuestRegs& g) {
  uint64_t* wide[] = {&g.rax, &g.rbx, &g.rcx, &g.rdx, &g.rsi, &g.rdi, &g.rbp,    &g.rsp,
                      &g.r8,  &g.r9,  &g.r10, &g.r11, &g.r12, &g.r13, &g.r14,    &g.r15,
                      &g.rip, &g.rflags, &g.cr0, &g.cr2, &g.cr3, &g.cr4, &g.efer};
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

bool ChunkDecoder::decode(const ChunkInfo& chunk, std::vector<Event>& out, size_t& error_offset,
                          std::string& error) {
  history_.reset();
  table_.clear();
  ByteReader r(chunk.payload, chunk.payload + chunk.length);
  uint64_t time = chunk.first_time_ns;
  std::string_view str[4];  // device, reg, name, text of the current event

  for (uint32_t i = 0; i < chunk.count; ++i) {
    const size_t event_start = r.offset();
    auto fail = [&](std::string why) {
      error_offset = event_start;
      error = fmt::format("event {} of the chunk: {}", i, why);
      return false;
    };

    uint8_t tag = 0;
    if (!r.byte(tag)) return fail("the payload ends inside the event");
    if (tag & kTagReserved) return fail(fmt::format("tag byte 0x{:02x} has the reserved bit set", tag));
    const uint8_t kind_bits = tag & kTagKindMask;
    if (kind_bits >= kEventKindCount) return fail(fmt::format("unknown event kind {}", kind_bits));
    const auto kind = static_cast<EventKind>(kind_bits);
    const int ref_pos = (tag & kTagRefMask) >> kTagRefShift;
    if (ref_pos >= history_.size(kind))
      return fail(fmt::format("refers to recent event {} of its kind, but only {} exist", ref_pos,
                              history_.size(kind)));
    const Fields& ref = history_.at(kind, ref_pos);

    uint64_t zz = 0, mask = 0;
    if (!r.varint(zz)) return fail("bad time delta varint");
    if (i == 0 && zz != 0) return fail("the first event's time differs from the chunk's first timestamp");
    time = unzigzag_delta(zz, time);
    if ((tag & kTagHasMask) && (!r.varint(mask) || mask == 0)) return fail("bad field mask");
    if (mask >> kFieldCount) return fail(fmt::format("field mask 0x{:x} names unknown fields", mask));

    Fields& cur = history_.scratch();  // becomes the newest reference in commit()
    cur = ref;
    const KindOrder& order = kind_order(kind);
    uint64_t present = 0;  // canonical field bits that this event carries
    GuestRegs* regs = nullptr;
    for (uint64_t m = mask; m; m &= m - 1) {
      const auto f = static_cast<Field>(order.field_at[std::countr_zero(m)]);
      present |= uint64_t{1} << f;
      uint64_t x = 0;
      switch (kFields[f].coding) {
        case Coding::Raw:
          if (!r.varint(x)) return fail(fmt::format("bad varint in field {}", int(f)));
          cur.v[f] = x;
          break;
        case Coding::Delta:
          if (!r.varint(x)) return fail(fmt::format("bad varint in field {}", int(f)));
          cur.v[f] = unzigzag_delta(x, ref.v[f]);
          break;
        case Coding::String: {
          if (!r.varint(x)) return fail("bad string reference");
          std::string_view s;
          if (x == kStrEmpty) {
            cur.v[f] = 0;
          } else if (x == kStrInline) {
            if (!r.bytes(s, kMaxEventString)) return fail("inline string longer than the limit or the payload");
            cur.v[f] = kIdInline;
            s = strings_.keep(s);
          } else if (x == kStrInlineInterned) {
            if (!r.bytes(s, kMaxInternedLength)) return fail("interned string longer than the limit or the payload");
            if (s.empty()) return fail("interned string is empty");
            if (table_.size() >= kMaxInternedPerChunk) return fail("too many interned strings in one chunk");
            table_.push_back(strings_.keep_shared(s));
            cur.v[f] = table_.size();
            s = table_.back();
          } else {
            const uint64_t id = x - kStrFirstId + 1;
            if (id > table_.size()) return fail(fmt::format("string id {} is not defined in this chunk", id));
            cur.v[f] = id;
            s = table_[id - 1];
          }
          str[f - kDevice] = s;
          break;
        }
        case Coding::Regs:
          regs = &regs_.emplace_back();
          if (!get_regs(r, *regs)) return fail("bad register block");
          cur.v[f] = 1;
          break;
      }
    }
    // Strings this event shares with its reference come from the table.
    for (Field f : {kDevice, kReg, kName, kText}) {
      if (present & (uint64_t{1} << f)) continue;
      const uint64_t id = cur.v[f];
      if (id == kIdInline) return fail("reuses an inline string of an earlier event");
      str[f - kDevice] = id == 0 ? std::string_view{} : table_[id - 1];
    }
    for (int f = 0; f < kFieldCount; ++f) {
      if (kFields[f].coding != Coding::String && cur.v[f] > kFields[f].max)
        return fail(fmt::format("field {} has value {}, out of range (max {})", f, cur.v[f], kFields[f].max));
    }

    Event& e = out.emplace_back();
    const auto& v = cur.v;
    e.seq = chunk.first_seq + i;
    e.time_ns = time;
    e.kind = kind;
    e.vcpu = static_cast<uint32_t>(v[kVcpu]);
    e.source = static_cast<Source>(v[kSource]);
    e.reason = static_cast<uint16_t>(v[kReason]);
    e.handled_by = static_cast<HandledBy>(v[kHandledBy]);
    e.duration_ns = v[kDuration];
    e.rip = v[kRip];
    e.cpl = static_cast<uint8_t>(v[kCpl]);
    e.direction = static_cast<Direction>(v[kDirection]);
    e.size = static_cast<uint8_t>(v[kSize]);
    e.port = static_cast<uint16_t>(v[kPort]);
    e.count = static_cast<uint32_t>(v[kCount]);
    e.value = v[kValue];
    e.gpa = v[kGpa];
    e.length = static_cast<uint32_t>(v[kLength]);
    e.vector = static_cast<uint8_t>(v[kVector]);
    e.error_code = static_cast<uint32_t>(v[kErrorCode]);
    e.has_error_code = v[kHasErrorCode] != 0;
    e.cr2 = v[kCr2];
    e.from_cpl = static_cast<uint8_t>(v[kFromCpl]);
    e.to_cpl = static_cast<uint8_t>(v[kToCpl]);
    e.cause = static_cast<TrapCause>(v[kCause]);
    e.rip_to = v[kRipTo];
    e.number = v[kNumber];
    e.args = {v[kArg0], v[kArg1], v[kArg2], v[kArg3]};
    e.result = v[kResult];
    e.transport = static_cast<Transport>(v[kTransport]);
    e.cr0 = v[kCr0];
    e.cr4 = v[kCr4];
    e.efer = v[kEfer];
    e.prev_cr0 = v[kPrevCr0];
    e.prev_cr4 = v[kPrevCr4];
    e.prev_efer = v[kPrevEfer];
    e.phase = static_cast<MarkerPhase>(v[kPhase]);
    e.end_reason = static_cast<RunEndReason>(v[kEndReason]);
    e.device = str[0];
    e.reg = str[1];
    e.name = str[2];
    e.text = str[3];
    e.regs = regs;

    cur.v[kRegs] = 0;  // as the encoder does
    history_.commit(kind, history_.find(kind));
  }
  if (!r.at_end()) {
    error_offset = r.offset();
    error = fmt::format("{} bytes follow the chunk's {} events", r.remaining(), chunk.count);
    return false;
  }
  return true;
}

}  // namespace ringscope::trace
