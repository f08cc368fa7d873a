#!/usr/bin/env bash
# setup.sh — install everything ringscope needs from Debian's archive.
# Idempotent: packages already present are not reinstalled, and apt-get is
# not run at all when nothing is missing. Needs root (or sudo) to install.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config          # host toolchain (gcc builds the guest too)
  libgtest-dev libgmock-dev libbenchmark-dev # tests and benchmarks
  nlohmann-json3-dev libcli11-dev libfmt-dev libzstd-dev
  libcapstone-dev                            # disassembly of guest instructions
  libunicorn-dev                             # emulation mode
  libimgui-dev libglfw3-dev libpng-dev fonts-dejavu-core  # the viewer (PNG screenshots, a font with µ and arrows)
  gettext                                    # msgfmt/xgettext: the message catalogues (po/)
  fonts-nanum libfontconfig-dev              # the viewer in Korean: a Hangul font, found with fontconfig
  xvfb xauth libgl1-mesa-dri                 # headless viewer tests
  qemu-system-x86                            # cross-check: the guest under a VMM nobody here wrote
  lld                                        # tests link a third-party PVH guest with ld.lld too (tests/guests/pvh)
  clang libclang-rt-14-dev                   # scripts/sanitize.sh: ASan/UBSan and libFuzzer (clang 14's runtimes)
  clang-format clang-tidy                    # scripts/lint.sh: the style checks CI runs
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 69; }
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
