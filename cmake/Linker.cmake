# Linker.cmake — link the host C++ programs with LLVM's lld when the
# compiler can use it (Debian: package lld, which scripts/setup.sh
# installs). Each test program, benchmark and the CLI carries the whole
# core library with its debug information; GNU ld takes 4–5× as long as lld
# to link them (measured on the CLI: 11.1 s against 2.7 s), and the build
# links about forty of them.
#
#   -DRINGSCOPE_LINKER=auto   lld if it works here, else the default (default)
#   -DRINGSCOPE_LINKER=lld    lld, or stop with the reason
#   -DRINGSCOPE_LINKER=system the compiler's default linker
#
# Only programs linked as C++ get the flag (LINK_LANGUAGE:CXX): the guest is
# C and assembly, links as C, and keeps the linker and the linker scripts
# that scenarios/ gives it.
set(RINGSCOPE_LINKER "auto" CACHE STRING "Linker for the host C++ programs: auto, lld or system")
set_property(CACHE RINGSCOPE_LINKER PROPERTY STRINGS auto lld system)

if(NOT RINGSCOPE_LINKER MATCHES "^(auto|lld|system)$")
  message(FATAL_ERROR "RINGSCOPE_LINKER must be auto, lld or system, not '${RINGSCOPE_LINKER}'")
endif()
if(NOT RINGSCOPE_LINKER STREQUAL "system")
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" RINGSCOPE_HAVE_LLD)
  if(RINGSCOPE_HAVE_LLD)
    add_link_options($<$<LINK_LANGUAGE:CXX>:-fuse-ld=lld>)
  elseif(RINGSCOPE_LINKER STREQUAL "lld")
    message(FATAL_ERROR "RINGSCOPE_LINKER=lld, but ${CMAKE_CXX_COMPILER} cannot link with -fuse-ld=lld: "
                        "install lld (Debian: apt-get install lld) or configure with -DRINGSCOPE_LINKER=auto")
  endif()
endif()
