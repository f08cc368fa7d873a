#!/usr/bin/env bash
# test.sh — the README's second command: set up, build, run every test;
# then run the suite again as a machine without KVM sees it
# (RINGSCOPE_NO_KVM=1, docs/hosts.md): every test that needs KVM must skip
# with its reason, everything else must pass under emulation. Both legs
# always run; the script fails if either did.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
rc=0
echo "== tests on this host"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600 || rc=$?
echo "== tests again as a machine without KVM (RINGSCOPE_NO_KVM=1)"
RINGSCOPE_NO_KVM=1 ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600 || rc=$?
exit "$rc"
