// tiny_elf.h — builds minimal kernel ELF images in memory for tests: one
// PT_LOAD at 1 MiB holding `code`, and a PT_NOTE with the PVH entry note
// (entry = 1 MiB) and/or the ringscope 64-bit entry note (entry = 1 MiB).
#pragma once

#include <elf.h>

#include <unistd.h>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ringscope/elf_loader.h"

namespace ringscope::test {

struct TinyKernel {
  std::vector<uint8_t> code = {0xf4};  // hlt
  bool entry64 = true;
  bool pvh = true;
  uint64_t memsz = 0x2000;
};

inline std::vector<uint8_t> make_tiny_kernel(const TinyKernel& k) {
  constexpr uint64_t kBase = 0x100000, kNotes = 0x200, kCode = 0x400;
  std::vector<uint8_t> f(kCode + k.code.size(), 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = kBase;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  std::memcpy(f.data(), &eh, sizeof eh);

  std::vector<uint8_t> notes;
  auto add_note = [&](const char* name, uint32_t type, const void* desc, uint32_t dlen) {
    Elf64_Nhdr nh{static_cast<Elf64_Word>(strlen(name) + 1), dlen, type};
    const auto* p = reinterpret_cast<const uint8_t*>(&nh);
    notes.insert(notes.end(), p, p + sizeof nh);
    std::vector<uint8_t> n((strlen(name) + 1 + 3) & ~size_t(3), 0);
    std::memcpy(n.data(), name, strlen(name));
    notes.insert(notes.end(), n.begin(), n.end());
    const auto* d = static_cast<const uint8_t*>(desc);
    notes.insert(notes.end(), d, d + dlen);
    notes.resize((notes.size() + 3) & ~size_t(3), 0);
  };
  uint32_t pvh = kBase;
  uint64_t e64 = kBase;
  if (k.pvh) add_note("Xen", kXenElfnotePhys32Entry, &pvh, 4);
  if (k.entry64) add_note("ringscope", kRingscopeNoteEntry64, &e64, 8);
  if (!notes.empty()) std::memcpy(f.data() + kNotes, notes.data(), notes.size());  // no notes: data() may be null

  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_offset = kCode;
  load.p_vaddr = load.p_paddr = kBase;
  load.p_filesz = k.code.size();
  load.p_memsz = std::max<uint64_t>(k.memsz, k.code.size());
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = kNotes;
  note.p_filesz = notes.size();
  std::memcpy(f.data() + sizeof eh, &load, sizeof load);
  std::memcpy(f.data() + sizeof eh + sizeof load, &note, sizeof note);
  std::memcpy(f.data() + kCode, k.code.data(), k.code.size());
  return f;
}

inline std::filesystem::path write_temp_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  auto path = std::filesystem::temp_directory_path() / (name + "." + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return path;
}

}  // namespace ringscope::test
