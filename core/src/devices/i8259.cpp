// i8259.cpp — the 8259A interrupt controller pair (kvmtool's hw/i8259 shape,
// the register semantics of the Intel 8259A data sheet).
//
// Initialisation: a write to the command port with bit 4 set is ICW1; it
// clears IMR and ISR and the chip then expects ICW2 (vector base, bits
// 7-3), ICW3 (cascade wiring) unless ICW1 says "single", and ICW4 if ICW1
// asks for it, all on the data port. After that the data port is IMR, and
// the command port takes OCW2 (end of interrupt) and OCW3 (what a read of
// the command port returns: IRR or ISR; poll).
//
// Priority is fixed, IR0 highest, in fully nested mode: a request gets
// through only when no line of equal or higher priority is in service.
//
// Known shortcuts: edge-triggered only (ICW1 LTIM is recorded and ignored;
// every PC device here gives edges); no rotating priority (rotate commands
// end the interrupt and leave priorities fixed), no special mask mode, no
// special fully nested mode, no buffered mode, 8086 mode assumed (ICW4
// µPM). Each refused or ignored request says so in a `device` event.
#include "ringscope/devices/i8259.h"

namespace ringscope {

int I8259::highest(uint8_t bits) {
  for (int i = 0; i < 8; i++)
    if (bits & (1u << i)) return i;
  return -1;
}

void I8259::note(DeviceContext& ctx, std::string_view reg, uint8_t value) {
  ctx.trace_device(name(), reg, Direction::Write, value, 1);
}

std::string_view I8259::register_name(uint64_t offset, Direction dir) const {
  if (offset == kData) return init_step_ ? "ICW" : "IMR";
  if (dir == Direction::In || dir == Direction::Read) return read_isr_ ? "ISR" : "IRR";
  return "command";
}

uint64_t I8259::read(DeviceContext&, uint64_t offset, uint8_t) {
  if (offset == kData) return imr_;
  if (poll_) {
    // Poll: bit 7 = an interrupt is waiting, bits 2-0 its line; the read
    // acts as the acknowledge (the 8259A data sheet, "Poll Command").
    poll_ = false;
    auto line = request();
    if (!line) return 0;
    acknowledge(*line);
    return 0x80 | *line;
  }
  return read_isr_ ? isr_ : irr_;
}

void I8259::write(DeviceContext& ctx, uint64_t offset, uint8_t, uint64_t value) {
  uint8_t v = static_cast<uint8_t>(value);
  if (offset == kCommand)
    write_command(ctx, v);
  else
    write_data(ctx, v);
}

void I8259::write_command(DeviceContext& ctx, uint8_t v) {
  if (v & kIcw1Init) {
    // ICW1 starts (or restarts) initialisation: IMR and ISR clear, IRR
    // reads next, edge sensing is reset.
    icw1_ = v;
    imr_ = 0, isr_ = 0, irr_ = 0;
    read_isr_ = false, poll_ = false, auto_eoi_ = false;
    init_step_ = 2;
    note(ctx, "ICW1", v);
    if (v & kIcw1Ltim) note(ctx, "error: level-triggered mode (ICW1 LTIM) is not modelled; edges are used", v);
    return;
  }
  if (v & kOcw3) {
    if (v & kOcw3Poll) poll_ = true;
    if (v & kOcw3ReadReg) read_isr_ = v & kOcw3ReadIsr;
    if (v & 0x40) note(ctx, "error: special mask mode (OCW3 ESMM) is not modelled", v);
    return;
  }
  // OCW2. Non-specific EOI clears the highest-priority ISR bit; specific
  // EOI the named one. Rotation is not modelled: the EOI part still happens.
  if (!(v & kOcw2Eoi)) {
    if (v & kOcw2Rotate) note(ctx, "error: rotate in automatic EOI mode is not modelled", v);
    return;
  }
  int line = (v & kOcw2Specific) ? (v & 7) : highest(isr_);
  if (line >= 0) isr_ &= static_cast<uint8_t>(~(1u << line));
  note(ctx, (v & kOcw2Specific) ? "EOI (specific)" : "EOI", v);
}

void I8259::write_data(DeviceContext& ctx, uint8_t v) {
  auto next = [&](int after) {
    // ICW3 only in cascade mode, ICW4 only when ICW1 asked for it.
    if (after < 3 && !(icw1_ & kIcw1Single)) return 3;
    if (after < 4 && (icw1_ & kIcw1Icw4)) return 4;
    ready_ = true;
    return 0;
  };
  switch (init_step_) {
    case 0:
      imr_ = v;
      note(ctx, "IMR", v);
      return;
    case 2:
      base_ = v & 0xf8;  // the line number fills bits 2-0
      note(ctx, "ICW2", v);
      init_step_ = next(2);
      return;
    case 3:
      note(ctx, "ICW3", v);  // the wiring is fixed: the slave on IR2, as on every PC
      init_step_ = next(3);
      return;
    default:
      auto_eoi_ = v & kIcw4Auto;
      note(ctx, "ICW4", v);
      if (!(v & kIcw4X86)) note(ctx, "error: 8080/8085 mode (ICW4 uPM = 0) is not modelled; 8086 mode is used", v);
      if (v & kIcw4Sfnm) note(ctx, "error: special fully nested mode (ICW4 SFNM) is not modelled", v);
      init_step_ = next(4);
      return;
  }
}

void I8259::raise(uint8_t line) {
  if (line < 8) irr_ |= static_cast<uint8_t>(1u << line);
}

std::optional<uint8_t> I8259::request(uint8_t cascade) const {
  if (!initialised()) return std::nullopt;
  int want = highest(static_cast<uint8_t>((irr_ | cascade) & ~imr_));
  if (want < 0) return std::nullopt;
  int serving = highest(isr_);
  if (serving >= 0 && serving <= want) return std::nullopt;  // fully nested: equal or higher priority in service
  return static_cast<uint8_t>(want);
}

uint8_t I8259::acknowledge(uint8_t line) {
  irr_ &= static_cast<uint8_t>(~(1u << line));  // edge-triggered: the request is consumed
  if (!auto_eoi_) isr_ |= static_cast<uint8_t>(1u << line);
  return static_cast<uint8_t>(base_ + line);
}

// ---- the pair ----------------------------------------------------------------

uint8_t PicPair::cascade() const { return slave_.request() ? uint8_t(1u << kPicCascadeIrq) : uint8_t(0); }

void PicPair::raise(uint8_t irq) {
  if (irq < 8)
    master_.raise(irq);
  else if (irq < 16)
    slave_.raise(static_cast<uint8_t>(irq - 8));
}

std::optional<uint8_t> PicPair::pending_vector() const {
  auto line = master_.request(cascade());
  if (!line) return std::nullopt;
  if (*line != kPicCascadeIrq) return static_cast<uint8_t>(master_.vector_base() + *line);
  auto s = slave_.request();
  if (!s) return std::nullopt;
  return static_cast<uint8_t>(slave_.vector_base() + *s);
}

uint8_t PicPair::acknowledge() {
  auto line = master_.request(cascade());
  if (!line) return static_cast<uint8_t>(master_.vector_base() + 7);  // spurious IRQ 7
  if (*line != kPicCascadeIrq) return master_.acknowledge(*line);
  auto s = slave_.request();
  master_.acknowledge(kPicCascadeIrq);
  if (!s) return static_cast<uint8_t>(slave_.vector_base() + 7);  // spurious IRQ 15
  return slave_.acknowledge(*s);
}

bool PicPair::unmasked(uint8_t irq) const {
  if (!master_.initialised()) return false;
  if (irq < 8) return !(master_.imr() & (1u << irq));
  if (irq >= 16 || !slave_.initialised()) return false;
  return !(master_.imr() & (1u << kPicCascadeIrq)) && !(slave_.imr() & (1u << (irq - 8)));
}

}  // namespace ringscope
