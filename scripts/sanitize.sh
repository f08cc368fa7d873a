#!/usr/bin/env bash
# sanitize.sh — the test suite under AddressSanitizer + UBSan, then a short
# libFuzzer run of every target in fuzz/ (docs/testing.md).
#
# One clang build in its own directory (build-asan) serves both: the host
# C++ is compiled with -fsanitize=address,undefined (undefined behaviour
# aborts), the fuzz targets link libFuzzer. The guest (kernel, user
# programs) is freestanding C built by gcc with its own flags and must get
# none of this; the script checks that it did not.
#
#   RINGSCOPE_FUZZ_SECONDS   seconds of fuzzing per target (default 10)
#   RINGSCOPE_ASAN_BUILD     build directory (default build-asan)
#
# Exit status: 0 when every test passed and no fuzzer found anything; a
# crash leaves its input in $BUILD/fuzz/artifacts/<target>/ (rerun it with
# `$BUILD/fuzz/fuzz_<target> FILE`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

BUILD=${RINGSCOPE_ASAN_BUILD:-build-asan}
FUZZ_SECONDS=${RINGSCOPE_FUZZ_SECONDS:-10}
JOBS=$(nproc)
start=$(date +%s)

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# CC=gcc: the guest's flags are gcc's. CXX=clang++: libFuzzer is clang's.
# Benchmarks measure speed, which a sanitized build does not have: off.
# -O1 and line tables only (-gline-tables-only): what the sanitizers'
# documentation recommends for speed, and their reports need file:line in
# their stack traces, not types and variables; full debug information and
# -O2 made this build the longest part of CI.
CC=gcc CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DRINGSCOPE_SANITIZE=ON -DRINGSCOPE_FUZZ=ON -DRINGSCOPE_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" -j"$JOBS"
built=$(date +%s)

# The guest must not have been sanitized: no guest source compiled with a
# -fsanitize flag, no ASan/UBSan symbol in a guest image.
if grep -A1 -e '-fsanitize' "$BUILD/compile_commands.json" | grep -qF "\"file\": \"$PWD/scenarios/"; then
  echo "sanitize: a guest source was compiled with -fsanitize (see cmake/Sanitize.cmake)" >&2
  exit 70
fi
for elf in "$BUILD"/guest/*.elf; do
  if nm "$elf" 2>/dev/null | grep -qE '__(asan|ubsan|sanitizer)_'; then
    echo "sanitize: $elf contains sanitizer symbols; the guest must be built without them" >&2
    exit 70
  fi
done

# halt_on_error/abort: the first report fails the test; ASan's own checks
# of the C++ library (container overflow) are on by default.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Leaks inside libraries we do not own, each with its reason (lsan.supp).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
# Every test runs, including the fuzz targets over their seeds (label
# "fuzz"), except:
#   QemuCrossCheck.*  boots the guest images under QEMU: none of our host
#                     C++ runs there (the manifest loading it does is in
#                     the Manifest.* tests, which do run), the guest is not
#                     sanitized, and the boots take minutes. scripts/test.sh
#                     runs them.
# viewer_gl_tests and viewer_machines_gl_tests (the tests that open a GL
# context) run apart, with leak detection off: Mesa's GL driver
# (dlopen'ed by GLFW and unloaded at exit) leaves allocations LeakSanitizer
# cannot attribute to any module; every other ASan and UBSan check stays on.
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" --timeout 900 -E 'QemuCrossCheck|^viewer_gl_tests$|^viewer_machines_gl_tests$'
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" ctest --test-dir "$BUILD" --output-on-failure --timeout 900 \
  -R '^viewer_gl_tests$|^viewer_machines_gl_tests$'

tested=$(date +%s)

# A short fuzzing run per target, from its seeds; any crash, leak, timeout
# or out-of-memory fails. New inputs go to a scratch corpus in the build
# directory, never into the source tree.
failed=()
for fuzzer in "$BUILD"/fuzz/fuzz_*; do
  [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
  name=${fuzzer##*/fuzz_}
  [ "$name" = seeds ] && continue
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds+=("fuzz/corpus/$name")
  [ -d "$BUILD/fuzz/corpus/$name" ] && seeds+=("$BUILD/fuzz/corpus/$name")
  dict=()
  [ -f "fuzz/dict/$name.dict" ] && dict=(-dict="fuzz/dict/$name.dict")
  work="$BUILD/fuzz/work/$name" artifacts="$BUILD/fuzz/artifacts/$name"
  mkdir -p "$work" "$artifacts"
  echo "sanitize: fuzzing $name for ${FUZZ_SECONDS}s"
  if ! "$fuzzer" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$work" "${seeds[@]}" >"$BUILD/fuzz/$name.log" 2>&1; then
    tail -n 40 "$BUILD/fuzz/$name.log" >&2
    failed+=("$name")
  else
    grep -E '^stat::number_of_executed_units' "$BUILD/fuzz/$name.log" | sed "s/^/sanitize: $name /"
  fi
done
end=$(date +%s)
echo "sanitize: build $((built - start))s, tests $((tested - built))s, fuzzing $((end - tested))s, total $((end - start))s"
if [ ${#failed[@]} -ne 0 ]; then
  echo "sanitize: fuzzers found problems in: ${failed[*]} (inputs in $BUILD/fuzz/artifacts/)" >&2
  exit 1
fi
