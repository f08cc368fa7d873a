#!/usr/bin/env bash
# make-pictures.sh — the README's pictures, made by the tool from real runs
# on this machine: traces recorded by `ringscope run`, rendered headless by
# `ringscope view --screenshot` under Xvfb. Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
R=${RINGSCOPE:-./build/ringscope}
out=docs/images
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

$R run syscalls --level full --quiet --trace "$work/syscalls.rtrace" 2>/dev/null
$R run pagefault --level full --quiet --trace "$work/pagefault.rtrace" 2>/dev/null
$R run console-write --quiet --trace "$work/console-write.full-virt.rtrace" 2>/dev/null
$R run console-write --mode paravirt --quiet --trace "$work/console-write.paravirt.rtrace" 2>/dev/null
$R run tick --irqchip vmm --quiet --trace "$work/tick-vmm-pic.rtrace" 2>/dev/null
$R run tick --irqchip kernel --quiet --trace "$work/tick-kvm-pic.rtrace" 2>/dev/null

# The first ring-3 -> ring-0 trap of each trace, selected in the picture.
first_trap() { $R show "$1" --kind trap --json 2>/dev/null | sed -n '1s/.*"seq":\([0-9]*\).*/\1/p'; }
last_trap() { $R show "$1" --kind trap --json 2>/dev/null | tail -n 1 | sed 's/.*"seq":\([0-9]*\).*/\1/'; }

xvfb-run -a $R view "$work/syscalls.rtrace" --select "$(last_trap "$work/syscalls.rtrace")" \
  --screenshot "$out/syscalls-trap.png" --size 1600x1000
# The same moment with the viewer in Korean (--lang ko; docs/i18n.md).
xvfb-run -a $R --lang ko view "$work/syscalls.rtrace" --select "$(last_trap "$work/syscalls.rtrace")" \
  --screenshot "$out/syscalls-trap.ko.png" --size 1600x1000
xvfb-run -a $R view "$work/pagefault.rtrace" --select "$(first_trap "$work/pagefault.rtrace")" \
  --screenshot "$out/pagefault.png" --size 1600x1000
xvfb-run -a $R view "$work/console-write.full-virt.rtrace" "$work/console-write.paravirt.rtrace" \
  --panels timeline,compare --screenshot "$out/compare-console-write.png" --size 1600x1000
# 50 ms of timer ticks (from 5 ms into both runs' tick phase, aligned on its marker) with the VMM's own PIC and PIT, and with KVM's.
xvfb-run -a $R view "$work/tick-vmm-pic.rtrace" "$work/tick-kvm-pic.rtrace" --panels timeline,compare \
  --align "tick: 20 timer interrupts" --range 5000000:55000000 --screenshot "$out/compare-tick-irqchip.png" --size 1600x1000
# The viewer as virt-manager (docs/viewer.md "Machines"): a live `hello` VM
# started paused and stepped 150 exits, paused at an IN from the UART's line
# status in the middle of its second line; its console, its trace and the exit explained.
xvfb-run -a $R view --new-vm hello --step-exits 150 --screenshot "$out/live-viewer.png" --size 1600x1000
echo "pictures in $out/"
