#!/usr/bin/env bash
# test.sh — the README's second command: set up, build, run every test;
# then run the suite again as a machine without KVM sees it
# (RINGSCOPE_NO_KVM=1, docs/hosts.md): every test that needs KVM must skip
# with its reason, everything else must pass under emulation. Both legs
# always run, each ends with the skipped tests and their reasons; the script
# fails if either leg did.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh

# The reason each skipped test gave (GTEST_SKIP() << why), from ctest's
# JUnit file: ctest itself only says "Skipped".
skip_reasons() {
  [ -f "$1" ] || return 0
  awk '/<testcase name=/ { match($0, /name="[^"]*"/); name = substr($0, RSTART + 6, RLENGTH - 7) }
       /: Skipped$/ { getline why; print "  skipped: " name ": " why }' "$1" |
    sed "s/&apos;/'/g; s/&quot;/\"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g"
}

rc=0
echo "== tests on this host"
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600 --output-junit host.junit.xml || rc=$?
skip_reasons build/host.junit.xml
echo "== tests again as a machine without KVM (RINGSCOPE_NO_KVM=1)"
RINGSCOPE_NO_KVM=1 ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600 \
  --output-junit no-kvm.junit.xml || rc=$?
skip_reasons build/no-kvm.junit.xml
exit "$rc"
