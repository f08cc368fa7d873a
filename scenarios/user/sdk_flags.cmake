# sdk_flags.cmake — how guest code is compiled and linked: the one table
# of flags, read by program.cmake (the CMake build of the kernel and the
# built-in programs) and by cli/CMakeLists.txt, which compiles it into
# `ringscope build` so a student's program gets exactly the same.

# Flags every guest object (kernel and programs) is compiled with:
#  -ffreestanding -nostdlib  no host libc: the guest has none
#  -fno-pie -no-pie          linked where it runs (programs: -fpie, below)
#  -mno-red-zone             traps push onto the interrupted stack (kernel)
#  -mgeneral-regs-only       no SSE: the kernel never saves FPU/SSE state
#  -fno-stack-protector      no TLS canary to read
#  -fno-tree-loop-distribute-patterns  gcc must not turn memset's own loop
#                            into a call to memset
set(RINGSCOPE_GUEST_CFLAGS
  -ffreestanding -fno-pie -fno-stack-protector -fno-builtin -mno-red-zone
  -mgeneral-regs-only -fno-asynchronous-unwind-tables -fcf-protection=none
  -fno-tree-loop-distribute-patterns
  -O2 -Wall -Wextra -Wno-unused-parameter)
set(RINGSCOPE_GUEST_LDFLAGS -nostdlib -static -no-pie -Wl,--build-id=none
  -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack)

# User programs only: position-independent code (see ringscope_user_flags
# in program.cmake), the files every program is linked with besides its
# own, and the linker script that places it at 0x8000000000.
set(RINGSCOPE_USER_EXTRA_CFLAGS -fpie)
set(RINGSCOPE_USER_SDK_SOURCES start.S note.c ulib.c usys.S)
set(RINGSCOPE_USER_LINKER_SCRIPT user.ld)
