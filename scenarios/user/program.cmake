# program.cmake — the user-side SDK's CMake function.
#
#   ringscope_add_program(NAME source.c [more.c ...])
#
# builds ${RINGSCOPE_GUEST_OUTPUT_DIR}/NAME.elf: a freestanding ring-3
# program linked at 0x8000000000 with the SDK's start-up code, system-call
# stubs and ulib, carrying its name in a "ringscope" ELF note. The host gcc
# does it all; no cross compiler is needed. Include this file after
# setting RINGSCOPE_GUEST_OUTPUT_DIR (scenarios/CMakeLists.txt does).

set(RINGSCOPE_USER_DIR ${CMAKE_CURRENT_LIST_DIR})

# The flags: one table, read here and by `ringscope build` (cli/).
include(${CMAKE_CURRENT_LIST_DIR}/sdk_flags.cmake)

function(ringscope_guest_flags target)
  target_compile_options(${target} PRIVATE ${RINGSCOPE_GUEST_CFLAGS})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
endfunction()

# User programs live at 0x8000000000, beyond the +-2 GiB that the default
# (small, non-PIC) code model can address with 32-bit absolute addresses.
# Position-independent code addresses everything relative to RIP instead,
# which works at any address; the link is still static and not PIE.
function(ringscope_user_flags target)
  ringscope_guest_flags(${target})
  target_compile_options(${target} PRIVATE ${RINGSCOPE_USER_EXTRA_CFLAGS})
endfunction()

if(NOT TARGET ringscope_ulib)
  add_library(ringscope_ulib STATIC
    ${RINGSCOPE_USER_DIR}/ulib.c ${RINGSCOPE_USER_DIR}/usys.S)
  target_include_directories(ringscope_ulib PUBLIC ${RINGSCOPE_USER_DIR}/include)
  ringscope_user_flags(ringscope_ulib)
endif()

function(ringscope_add_program name)
  set(target guest_prog_${name})
  add_executable(${target} ${ARGN}
    ${RINGSCOPE_USER_DIR}/start.S ${RINGSCOPE_USER_DIR}/note.c)
  ringscope_user_flags(${target})
  target_compile_definitions(${target} PRIVATE "RS_PROG_NAME=\"${name}\"")
  target_link_libraries(${target} PRIVATE ringscope_ulib gcc)
  target_link_options(${target} PRIVATE ${RINGSCOPE_GUEST_LDFLAGS}
    -T ${RINGSCOPE_USER_DIR}/${RINGSCOPE_USER_LINKER_SCRIPT})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name} SUFFIX ".elf"
    RUNTIME_OUTPUT_DIRECTORY ${RINGSCOPE_GUEST_OUTPUT_DIR}
    LINK_DEPENDS ${RINGSCOPE_USER_DIR}/${RINGSCOPE_USER_LINKER_SCRIPT})
  if(TARGET guest_images)
    add_dependencies(guest_images ${target})
  endif()
endfunction()

# ---- host builds ---------------------------------------------------------------
#   ringscope_add_host_program(NAME source.c [more.c ...])
#
# builds ${RINGSCOPE_GUEST_OUTPUT_DIR}/host/NAME: the same program, compiled
# from the same source with the same flags and the same ulib.c, as a plain
# static Linux executable: host/start.S takes Linux's argc/argv and
# host/usys.c maps each SDK system call onto the Linux one that does the same
# work. `ringscope experiment efficiency` runs it as the "native" baseline.
if(NOT TARGET ringscope_ulib_host)
  add_library(ringscope_ulib_host STATIC
    ${RINGSCOPE_USER_DIR}/ulib.c ${RINGSCOPE_USER_DIR}/host/usys.c)
  target_include_directories(ringscope_ulib_host PUBLIC ${RINGSCOPE_USER_DIR}/include)
  ringscope_user_flags(ringscope_ulib_host)
endif()

function(ringscope_add_host_program name)
  set(target host_prog_${name})
  add_executable(${target} ${ARGN} ${RINGSCOPE_USER_DIR}/host/start.S)
  ringscope_user_flags(${target})
  target_link_libraries(${target} PRIVATE ringscope_ulib_host gcc)
  target_link_options(${target} PRIVATE ${RINGSCOPE_GUEST_LDFLAGS})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${RINGSCOPE_GUEST_OUTPUT_DIR}/host)
  if(TARGET guest_images)
    add_dependencies(guest_images ${target})
  endif()
endfunction()
