#!/usr/bin/env bash
# lint.sh — the habits STYLE.md names, checked in CI (.ci/run):
#   1. clang-format: every host C++ file is formatted (.clang-format; the
#      guest in scenarios/ keeps its xv6 layout and is exempt);
#   2. clang-tidy: the small check set in .clang-tidy finds nothing in the
#      project's own sources (not tests, benchmarks or fuzz targets).
# (-Werror for the project's own code is the third habit: .ci/run builds
# with RINGSCOPE_WERROR=ON, cmake/Warnings.cmake.)
#
#   RINGSCOPE_LINT_BUILD   a configured build tree whose compile_commands.json
#                          clang-tidy reads (default build)
#
# To fix formatting: clang-format -i FILE... (or the list this prints).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

BUILD=${RINGSCOPE_LINT_BUILD:-build}
mapfile -t sources < <(git ls-files -- '*.cpp' '*.h' | grep -v '^scenarios/')

echo "== lint: clang-format (${#sources[@]} files)"
unformatted=()
for f in "${sources[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ ${#unformatted[@]} -gt 0 ]; then
  echo "lint: ${#unformatted[@]} file(s) are not clang-formatted; run: clang-format -i ${unformatted[*]}" >&2
  exit 1
fi

if [ ! -f "$BUILD/compile_commands.json" ]; then
  echo "lint: $BUILD/compile_commands.json is missing; build first (./scripts/build.sh)" >&2
  exit 1
fi
echo "== lint: clang-tidy ($(grep -c '"file"' "$BUILD/compile_commands.json") translation units, .clang-tidy)"
start=$(date +%s)
# The product's own sources: the guest is freestanding C built with gcc's
# flags, and GoogleTest's macros trip several checks by design.
run-clang-tidy -quiet -p "$BUILD" -j"$(nproc)" \
  "^$PWD/(core|cli|labs|sim-modes|visualizer|experiment)/.*\.cpp$" >"$BUILD/clang-tidy.log" 2>&1 || {
  grep -E "(error|warning):" "$BUILD/clang-tidy.log" | sort -u >&2 || cat "$BUILD/clang-tidy.log" >&2
  echo "lint: clang-tidy found the above (full log: $BUILD/clang-tidy.log)" >&2
  exit 1
}
echo "lint: clean ($(($(date +%s) - start)) s of clang-tidy)"
