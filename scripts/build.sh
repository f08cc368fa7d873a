#!/usr/bin/env bash
# build.sh — install dependencies (scripts/setup.sh) and build everything
# into ./build. Idempotent; a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# RINGSCOPE_WERROR=ON (as CI sets it): warnings in ringscope's own C++ fail the build.
# RINGSCOPE_DEBUG_INFO=off (as CI sets it): -O2 without -g, the same code and
# the same warnings in about two thirds of the time; a developer's build keeps
# its debug information (the default, on).
debug_flags=()
case "${RINGSCOPE_DEBUG_INFO:-on}" in
  on) debug_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG") ;;
  off) debug_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -DNDEBUG") ;;
  *) echo "build.sh: RINGSCOPE_DEBUG_INFO must be on or off, not '$RINGSCOPE_DEBUG_INFO'" >&2; exit 64 ;;
esac
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${debug_flags[@]}" ${RINGSCOPE_WERROR:+-DRINGSCOPE_WERROR=$RINGSCOPE_WERROR} >/dev/null
cmake --build build -j"$(nproc)"
