#!/usr/bin/env bash
# demo.sh — the README's first command: set up, build, and run the demo
# (hello and syscalls under KVM, then their VM exits side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
echo
./build/ringscope doctor || true
echo
exec ./build/ringscope demo --dir ringscope-demo
