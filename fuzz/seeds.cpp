// seeds.cpp — writes the binary seed corpora at build time (fuzz_seeds).
//
// The text seeds (manifests, lab.json files) are checked in under
// fuzz/corpus/. The binary ones are made here instead, with the project's
// own writers, so no built artifact is committed and a format change
// changes the seeds with it:
//   trace_reader  small .rtrace files from TraceWriter: every event kind,
//                 several chunks; one closed, one cut off mid-chunk
//   elf_loader    tiny PVH / 64-bit-entry kernels (tests/support/tiny_elf.h)
//                 and the first 4 KiB (headers and notes) of the real
//                 guest kernels, when the guest directory is given
//   virtqueue     virtio-blk and virtio-console requests in a small RAM image
//   ata           the port sequences the teaching kernel's ide.c makes
//
// Usage: fuzz_seeds OUT_DIR [GUEST_DIR]
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ringscope/devices/virtio_queue.h"
#include "ringscope/trace.h"
#include "support/tiny_elf.h"
#include "virtqueue_input.h"

using namespace ringscope;
namespace fs = std::filesystem;

namespace {

void save(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// ---- trace_reader -----------------------------------------------------------

std::vector<uint8_t> trace_seed(bool close, size_t keep_bytes) {
  TraceHeader h;
  h.scenario = "syscalls";
  h.mode = "full-virt";
  h.level = "exits";
  h.params = "n=4";
  h.host_kernel = "6.1.0";
  h.kvm_flavour = "PVM";
  h.cpu_model = "fuzz";
  h.tool_version = "0.1.0";
  h.start_mono_ns = 1000;
  h.vcpus = 2;
  auto w = TraceWriter::create_in_memory(h);
  static const GuestRegs regs{.rax = 1, .rip = 0x100000, .cr0 = 0x80000011, .cs = 8, .cpl = 0};
  uint64_t t = 1000;
  for (int round = 0; round < 3; round++) {
    for (int k = 0; k < kEventKindCount; k++) {
      Event e;
      e.time_ns = t += 37 + k;
      e.vcpu = k % 2;
      e.kind = static_cast<EventKind>(k);
      e.source = static_cast<Source>(k % kSourceCount);
      e.reason = 30;
      e.handled_by = HandledBy::Vmm;
      e.rip = 0x100000 + k;
      e.cpl = k % 4;
      e.direction = Direction::Out;
      e.size = 1;
      e.port = 0x3f8;
      e.value = 'h';
      e.vector = 14;
      e.from_cpl = 3;
      e.cause = TrapCause::Exception;
      e.number = 2;
      e.args = {1, 2, 3, 4};
      e.transport = Transport::Port;
      e.device = "uart";
      e.reg = "THR";
      e.name = k % 2 ? "work" : "exits";
      e.text = "h";
      if (k == kEventKindCount - 1) e.regs = &regs;
      w->emit(e);
    }
    (void)w->flush();  // one chunk per round
  }
  if (close) (void)w->close();
  std::vector<uint8_t> bytes = w->memory_bytes();
  if (keep_bytes && keep_bytes < bytes.size()) bytes.resize(keep_bytes);
  return bytes;
}

// ---- elf_loader -------------------------------------------------------------

void elf_seeds(const fs::path& out, const fs::path& guest) {
  test::TinyKernel both, pvh, e64;
  pvh.entry64 = false;
  e64.pvh = false;
  e64.code = {0xfa, 0xf4, 0xeb, 0xfd};
  save(out, "tiny-both.elf", test::make_tiny_kernel(both));
  save(out, "tiny-pvh.elf", test::make_tiny_kernel(pvh));
  save(out, "tiny-entry64.elf", test::make_tiny_kernel(e64));
  if (guest.empty()) return;
  for (const char* name : {"kernel.elf", "kernel-pv.elf", "syscalls.elf"}) {
    std::ifstream in(guest / name, std::ios::binary);
    if (!in) continue;
    std::vector<uint8_t> head(4096);
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    head.resize(static_cast<size_t>(in.gcount()));
    save(out, std::string("head-") + name, head);
  }
}

// ---- virtqueue --------------------------------------------------------------

struct Ram {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(0xc00, 0);
  template <typename T>
  void put(uint64_t at, T v) {
    std::memcpy(&bytes[at], &v, sizeof v);
  }
  void desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    put(table + 16 * i, addr);
    put(table + 16 * i + 8, len);
    put(table + 16 * i + 12, flags);
    put(table + 16 * i + 14, next);
  }
};

std::vector<uint8_t> with_header(const fuzz::VirtqueueInput& h, const Ram& ram) {
  std::vector<uint8_t> v(sizeof h);
  std::memcpy(v.data(), &h, sizeof h);
  v.insert(v.end(), ram.bytes.begin(), ram.bytes.end());
  return v;
}

void virtqueue_seeds(const fs::path& out) {
  // Rings of queue 0 at 0x000 (descriptors), 0x100 (avail), 0x200 (used);
  // queue 1 at the same plus 0x400; buffers from 0x800.
  fuzz::VirtqueueInput h{};
  h.queue_log2 = 3;  // 8 entries
  h.notifies = 1;
  h.desc = 0x000, h.avail = 0x100, h.used = 0x200;
  h.features_ok = 1;

  // virtio-blk: a write of sector 2, then a read of it, a flush and GET_ID.
  Ram blk;
  struct {
    uint32_t type, reserved;
    uint64_t sector;
  } out_req{1, 0, 2}, in_req{0, 0, 2}, flush{4, 0, 0}, getid{8, 0, 0};
  blk.put(0x800, out_req), blk.put(0x810, in_req), blk.put(0x820, flush), blk.put(0x830, getid);
  for (int i = 0; i < 512; i += 4) blk.put<uint8_t>(0x900 + i / 4, 0x5a);
  blk.desc(0, 0, 0x800, 16, kVirtqDescNext, 1);
  blk.desc(0, 1, 0x900, 512, kVirtqDescNext, 2);
  blk.desc(0, 2, 0xb00, 1, kVirtqDescWrite, 0);
  blk.desc(0, 3, 0x810, 16, kVirtqDescNext, 4);
  blk.desc(0, 4, 0x900, 512, kVirtqDescNext | kVirtqDescWrite, 5);
  blk.desc(0, 5, 0xb01, 1, kVirtqDescWrite, 0);
  blk.desc(0, 6, 0x820, 16, kVirtqDescNext, 7);
  blk.desc(0, 7, 0xb02, 1, kVirtqDescWrite, 0);
  blk.put<uint16_t>(0x102, 3);  // avail.idx
  blk.put<uint16_t>(0x104, 0), blk.put<uint16_t>(0x106, 3), blk.put<uint16_t>(0x108, 6);
  save(out, "blk-write-read-flush", with_header(h, blk));

  Ram id = blk;
  id.desc(0, 0, 0x830, 16, kVirtqDescNext, 1);
  id.desc(0, 1, 0xa00, 20, kVirtqDescNext | kVirtqDescWrite, 2);
  id.put<uint16_t>(0x102, 1);
  save(out, "blk-get-id", with_header(h, id));

  // virtio-console: one receive buffer posted, two transmit buffers.
  h.device = 1;
  h.notifies = 2;
  h.notify_queue = 1;
  h.input_len = 5;
  Ram con;
  con.desc(0x000, 0, 0x800, 64, kVirtqDescWrite, 0);
  con.put<uint16_t>(0x102, 1);
  const char msg[] = "hello, virtio\n";
  std::memcpy(&con.bytes[0x900], msg, sizeof msg - 1);
  con.desc(0x400, 0, 0x900, 7, kVirtqDescNext, 1);
  con.desc(0x400, 1, 0x907, sizeof msg - 8, 0, 0);
  con.put<uint16_t>(0x502, 1);
  save(out, "console-rx-tx", with_header(h, con));
}

// ---- ata --------------------------------------------------------------------

void ata_seeds(const fs::path& out) {
  // See fuzz_ata.cpp for the encoding: 0x2r = write byte to register r,
  // 0x48 = 256 16-bit data reads, 0x68 = 256 16-bit data writes.
  auto task = [](uint8_t count, uint8_t lba, uint8_t cmd) {
    return std::vector<uint8_t>{0x22, count, 0x23, lba, 0x24, 0, 0x25, 0, 0x26, 0xe0, 0x27, cmd};
  };
  auto cat = [](std::vector<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> v;
    for (auto& p : parts) v.insert(v.end(), p.begin(), p.end());
    return v;
  };
  save(out, "identify", cat({{0x27, 0xec, 0x07}, {0x48, 0x07}}));
  save(out, "write-read",
       cat({task(1, 3, 0x30), {0x07, 0x68, 0x34, 0x12, 0x07}, task(1, 3, 0x20), {0x07, 0x48, 0x07}}));
  save(out, "beyond-and-flush", cat({task(2, 31, 0x20), {0x07, 0x01, 0x48}, task(0, 0, 0xe7), {0x07}}));
  save(out, "reset", {0xa0, 0x04, 0xa0, 0x00, 0x80, 0x27, 0xec, 0x08, 0x10});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR [GUEST_DIR]\n");
    return 64;
  }
  fs::path out = argv[1];
  save(out / "trace_reader", "closed.rtrace", trace_seed(true, 0));
  std::vector<uint8_t> open = trace_seed(false, 0);
  save(out / "trace_reader", "cut.rtrace", trace_seed(false, open.size() - 20));
  elf_seeds(out / "elf_loader", argc > 2 ? fs::path(argv[2]) : fs::path());
  virtqueue_seeds(out / "virtqueue");
  ata_seeds(out / "ata");
  return 0;
}
