#!/usr/bin/env bash
# test.sh — the README's second command: set up, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
