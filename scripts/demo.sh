#!/usr/bin/env bash
# demo.sh — the README's first command: set up, build, and run the demo
# (hello and syscalls under KVM, then their VM exits side by side). On a
# machine without a usable /dev/kvm the demo runs them under emulation and
# says so; `ringscope doctor` above it explains what runs there.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
echo
./build/ringscope doctor || true   # exits 69 without KVM; the demo still runs (under emulation)
echo
exec ./build/ringscope demo --dir ringscope-demo
