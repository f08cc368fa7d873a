// fuzz_elf_loader.cpp — the ELF/PVH loader and the boot set-up after it.
//
// Students hand their own kernels to `run --image`, so every header,
// program header and note is hostile. An image the loader accepts is then
// booted as far as the VMM goes without a CPU: start_info, the module
// list, the command line and (for the 64-bit entry) the boot page tables.
// The last input byte picks the entry (PVH forced or not) and how much of
// the input's tail is handed over as a boot module.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ringscope/boot.h"
#include "ringscope/elf_loader.h"

using namespace ringscope;

namespace {
constexpr uint64_t kRam = 4ull << 20;  // the kernel lives at 1 MiB; modules go above it
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<uint8_t> ram(kRam);
  GuestMemory memory(ram.data(), ram.size());
  std::span<const uint8_t> image(data, size);

  Result<ElfImage> inspected = inspect_elf(image, "fuzz.elf");
  Result<ElfImage> loaded = load_elf(image, memory, "fuzz.elf");
  if (loaded.ok() && !inspected.ok()) __builtin_trap();  // loading checks at least as much as inspecting
  if (!loaded.ok()) return 0;
  const ElfImage& img = loaded.value();
  if (img.lowest_paddr > img.highest_paddr || !memory.contains(img.lowest_paddr, img.highest_paddr - img.lowest_paddr))
    __builtin_trap();  // the loader said it fits

  uint8_t knob = size ? data[size - 1] : 0;
  std::vector<BootModule> modules;
  size_t module_bytes = (knob >> 1) % 64 * 64;
  for (int i = 0; i < (knob >> 7) + 1; i++)
    modules.push_back(
        {"prog" + std::to_string(i), std::vector<uint8_t>(data + size - std::min(size, module_bytes), data + size)});
  (void)prepare_boot(memory, img, modules, "n=16 verbose=1", (knob & 1) != 0);
  return 0;
}
