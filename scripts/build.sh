#!/usr/bin/env bash
# build.sh — install dependencies (scripts/setup.sh) and build everything
# into ./build. Idempotent; a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# RINGSCOPE_WERROR=ON (as CI sets it): warnings in ringscope's own C++ fail the build.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo ${RINGSCOPE_WERROR:+-DRINGSCOPE_WERROR=$RINGSCOPE_WERROR} >/dev/null
cmake --build build -j"$(nproc)"
