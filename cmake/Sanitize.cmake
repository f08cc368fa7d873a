# Sanitize.cmake — AddressSanitizer + UBSan for the host C++ side, and the
# switch that builds the libFuzzer targets in fuzz/ (docs/testing.md).
#
#   -DRINGSCOPE_SANITIZE=ON  every C++ object and every C++-linked program
#                            (libraries, CLI, tests, fuzzers) gets
#                            -fsanitize=address,undefined; undefined
#                            behaviour aborts instead of printing and
#                            carrying on, so it fails the test that hit it.
#   -DRINGSCOPE_FUZZ=ON      builds fuzz/ (needs clang: -fsanitize=fuzzer).
#
# The guest must never see these flags: the teaching kernel and the user
# programs are freestanding C and assembly with no runtime to host ASan's.
# That is why the flags are keyed on the language (COMPILE_LANGUAGE:CXX,
# LINK_LANGUAGE:CXX) rather than added globally: every guest target is C
# and ASM only and links as C. scripts/sanitize.sh checks the result in
# compile_commands.json. Build the guest with gcc (CC=gcc): its flags are
# gcc's (scenarios/user/sdk_flags.cmake).

option(RINGSCOPE_SANITIZE "Build the host C++ with AddressSanitizer and UBSan" OFF)
option(RINGSCOPE_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)

if(RINGSCOPE_SANITIZE)
  set(RINGSCOPE_SANITIZE_FLAGS
    -fsanitize=address -fsanitize=undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  foreach(flag IN LISTS RINGSCOPE_SANITIZE_FLAGS)
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:${flag}>)
    add_link_options($<$<LINK_LANGUAGE:CXX>:${flag}>)
  endforeach()
endif()

if(RINGSCOPE_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "RINGSCOPE_FUZZ needs clang++ (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                      "(Debian: apt-get install clang libclang-rt-14-dev), or see scripts/sanitize.sh")
endif()
