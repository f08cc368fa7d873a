// i8259.h — the PC's two Intel 8259A programmable interrupt controllers:
// the master at I/O ports 0x20/0x21 (IRQ 0-7), the slave at 0xa0/0xa1
// (IRQ 8-15) cascaded into the master's IR2.
//
// A device raises an IRQ line; the chip latches it in its request register
// (IRR), and if the line is not masked (IMR) and nothing of equal or higher
// priority is in service (ISR), the chip asks the CPU for an interrupt. When
// the CPU takes it (the INTA cycle; here: the backend injecting it), the
// chip moves the request from IRR to ISR and hands over its vector, the
// base the guest chose in ICW2 plus the line number. The handler's
// end-of-interrupt command (EOI) clears the ISR bit and lets the next
// request through.
//
// Devices see offsets (0 = command port, 1 = data port), never absolute
// ports; PicPair wires the two chips together and is what the Machine and
// the backends talk to.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ringscope/device.h"

namespace ringscope {

inline constexpr uint16_t kPicMasterBase = 0x20;
inline constexpr uint16_t kPicSlaveBase = 0xa0;
inline constexpr uint16_t kPicWindow = 2;
inline constexpr uint8_t kPicCascadeIrq = 2;  // the slave's INT pin drives the master's IR2

class I8259 final : public Device {
 public:
  enum Port : uint8_t { kCommand = 0, kData = 1 };
  // ICW1 (command port, bit 4 set).
  static constexpr uint8_t kIcw1Init = 0x10, kIcw1Ltim = 0x08, kIcw1Single = 0x02, kIcw1Icw4 = 0x01;
  // ICW4.
  static constexpr uint8_t kIcw4Auto = 0x02, kIcw4Sfnm = 0x10, kIcw4X86 = 0x01;
  // OCW2 (command port, bits 4-3 = 00): R SL EOI in bits 7-5, level in 2-0.
  static constexpr uint8_t kOcw2Eoi = 0x20, kOcw2Specific = 0x40, kOcw2Rotate = 0x80;
  // OCW3 (command port, bits 4-3 = 01).
  static constexpr uint8_t kOcw3 = 0x08, kOcw3ReadReg = 0x02, kOcw3ReadIsr = 0x01, kOcw3Poll = 0x04;

  explicit I8259(std::string_view name) : name_(name) {}
  std::string_view name() const override { return name_; }
  uint64_t read(DeviceContext& ctx, uint64_t offset, uint8_t width) override;
  void write(DeviceContext& ctx, uint64_t offset, uint8_t width, uint64_t value) override;
  std::string_view register_name(uint64_t offset, Direction dir) const override;

  // An edge on input line `line` (0..7): latched in IRR until taken.
  void raise(uint8_t line);
  // The line the chip would hand the CPU now, if any (nothing changes).
  // `cascade`: input lines held up by a chip behind this one (the slave on
  // the master's IR2), seen as requests without being latched.
  std::optional<uint8_t> request(uint8_t cascade = 0) const;
  // INTA: IRR -> ISR for `line` (auto-EOI: ISR stays clear); the vector.
  uint8_t acknowledge(uint8_t line);
  uint8_t vector_base() const { return base_; }
  uint8_t irr() const { return irr_; }
  uint8_t isr() const { return isr_; }
  uint8_t imr() const { return imr_; }
  bool initialised() const { return init_step_ == 0 && ready_; }

 private:
  void write_command(DeviceContext& ctx, uint8_t value);
  void write_data(DeviceContext& ctx, uint8_t value);
  void note(DeviceContext& ctx, std::string_view reg, uint8_t value);
  static int highest(uint8_t bits);  // the highest-priority set bit (IR0 first), or -1

  std::string_view name_;
  uint8_t irr_ = 0, isr_ = 0;
  // Before the first ICW1 the chip passes nothing on: its vector base is
  // whatever the firmware left, and ringscope has no firmware.
  uint8_t imr_ = 0xff;
  uint8_t base_ = 0;
  uint8_t icw1_ = 0;
  int init_step_ = 0;   // 0: operating; 2, 3, 4: the next word is ICW2, ICW3, ICW4
  bool ready_ = false;  // ICW1..ICW4 done at least once
  bool auto_eoi_ = false;
  bool read_isr_ = false;  // OCW3: the command port reads ISR (else IRR)
  bool poll_ = false;      // OCW3 poll: the next command-port read is a poll word
};

// The master and the slave, cascaded on IR2. IRQs 0-15 as on a PC.
class PicPair {
 public:
  PicPair() : master_("pic-master"), slave_("pic-slave") {}
  I8259& master() { return master_; }
  I8259& slave() { return slave_; }
  // An edge on IRQ 0..15 (other numbers are ignored).
  void raise(uint8_t irq);
  // The vector the pair would deliver now, if any (nothing changes).
  std::optional<uint8_t> pending_vector() const;
  // The INTA cycle: the highest-priority request moves to ISR (on both
  // chips for a slave IRQ) and its vector is returned. With nothing to
  // deliver the master answers with its spurious IRQ 7 vector, as the chip
  // does, and sets no ISR bit.
  uint8_t acknowledge();
  // Whether IRQ `irq` would get through IMR (on both chips for 8-15).
  bool unmasked(uint8_t irq) const;

 private:
  uint8_t cascade() const;  // the master's IR2 as the slave drives it
  I8259 master_, slave_;
};

}  // namespace ringscope
