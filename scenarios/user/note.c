// note.c — the program's name, as an ELF note the kernel reads (exec.c):
// name "ringscope", type 2, desc = the name. Compiled once per program with
// -DRS_PROG_NAME="..." by ringscope_add_program (program.cmake). The name
// shows in markers ("run hello") and in kill messages.
#ifndef RS_PROG_NAME
#define RS_PROG_NAME "prog"
#endif

struct note {
  unsigned namesz, descsz, type;
  char name[12];
  char desc[(sizeof(RS_PROG_NAME) + 3) & ~3UL];
};

__attribute__((section(".note.ringscope"), aligned(4), used)) static const struct note progname = {
  10, sizeof(RS_PROG_NAME), 2, "ringscope", RS_PROG_NAME,
};
