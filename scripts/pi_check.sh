#!/usr/bin/env bash
# `make pi-check`: faceterm on aarch64 (Raspberry Pi OS bookworm 64-bit) under user-mode qemu,
# compared with this machine's x86 run. Everything is cached under .cache/pi/.
#
# - sysroot: Debian bookworm arm64 from Debian's own packages (debootstrap first stage only;
#   there is no binfmt here, so the second stage cannot run: the .debs are unpacked instead);
# - wheels: the aarch64 wheels of the runtime dependencies, unzipped onto PYTHONPATH;
# - /proc/cpuinfo: qemu-user shows the guest the host's x86 /proc/cpuinfo, on which
#   ai-edge-litert >= 2.2's CPU detection crashes (SIGSEGV creating an Interpreter). A Pi's kernel
#   reports its ARM cores, so the sysroot gets the cpuinfo of the emulated Pi (qemu's -L prefix is
#   looked up first for every path the guest opens). Without it: `pi_check.sh repro`.
# Emulated run times are not speeds and are not reported.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CACHE=.cache/pi
SYSROOT=$CACHE/sysroot
SITE=$CACHE/site
PAIRS=${PI_CHECK_PAIRS:-50}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
VENV_PY=${VENV_PY:-.venv/bin/python}
OUT=reports/pi
PLATFORMS=(--only-binary=:all: --python-version 3.11 --implementation cp
  --platform manylinux_2_17_aarch64 --platform manylinux_2_27_aarch64
  --platform manylinux_2_28_aarch64 --platform manylinux_2_34_aarch64
  --platform manylinux2014_aarch64)

sysroot() {
  [ -x "$SYSROOT/usr/bin/python3.11" ] && return 0
  if ! command -v qemu-aarch64-static >/dev/null || ! command -v debootstrap >/dev/null; then
    echo "pi-check: needs qemu-user-static and debootstrap (scripts/install-deps.sh)" >&2
    exit 1
  fi
  rm -rf "$CACHE/debootstrap" "$SYSROOT"
  say "debootstrap --foreign arm64 bookworm (Debian packages, first stage)"
  debootstrap --foreign --arch=arm64 --variant=minbase --include=python3 \
    bookworm "$CACHE/debootstrap" "$MIRROR" >"$CACHE/debootstrap.log"
  mkdir -p "$SYSROOT"
  for deb in "$CACHE"/debootstrap/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
}

# The runtime requirements of pyproject.toml as pip sees them on aarch64 (markers evaluated there).
requirements() {
  "$VENV_PY" - <<'EOF'
import tomllib
from packaging.requirements import Requirement
env = {"platform_machine": "aarch64", "sys_platform": "linux", "python_version": "3.11"}
for line in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    req = Requirement(line)
    if req.marker is None or req.marker.evaluate(env):
        req.marker = None
        print(req)
EOF
}

site() {
  [ -f "$SITE/.complete" ] && [ "$SITE/.complete" -nt pyproject.toml ] && return 0
  rm -rf "$SITE" "$CACHE/wheels"
  say "pip download: aarch64 wheels of the runtime dependencies"
  mapfile -t reqs < <(requirements)
  "$VENV_PY" -m pip download -q "${PLATFORMS[@]}" -d "$CACHE/wheels" "${reqs[@]}" 2>&1 \
    | grep -v "^WARNING: Location" || true
  mkdir -p "$SITE"
  for wheel in "$CACHE"/wheels/*.whl; do (cd "$SITE" && unzip -qo "../wheels/$(basename "$wheel")"); done
  touch "$SITE/.complete"
}

# The /proc/cpuinfo a Raspberry Pi's kernel prints: Pi 4 (4x Cortex-A72) or Pi 5 (4x Cortex-A76).
cpuinfo() {
  local part variant revision features core
  case "$1" in
    cortex-a72) part=0xd08 variant=0x0 revision=3 features="fp asimd evtstrm crc32 cpuid" ;;
    cortex-a76) part=0xd0b variant=0x4 revision=1
      features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
  esac
  mkdir -p "$SYSROOT/proc"
  for core in 0 1 2 3; do
    printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\n' "$core" "$features"
    printf 'CPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\nCPU revision\t: %s\n\n' "$variant" "$part" "$revision"
  done >"$SYSROOT/proc/cpuinfo"
}

emulated() {  # CPU ARGS...: the aarch64 Python 3.11 of the sysroot under qemu
  local cpu=$1
  shift
  env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 PYTHONNOUSERSITE=1 PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH="$PWD:$PWD/$SITE" qemu-aarch64-static -cpu "$cpu" -L "$SYSROOT" \
    "$SYSROOT/usr/bin/python3.11" "$@"
}

repro() {  # the ai-edge-litert crash, with the host's x86 /proc/cpuinfo and with a Pi's
  rm -f "$SYSROOT/proc/cpuinfo"
  local model=models/face_detection_short_range.tflite code
  for cpu in cortex-a72 cortex-a76; do
    set +e; emulated "$cpu" scripts/pi_check.py probe "$model" >/dev/null 2>&1; code=$?; set -e
    echo "host /proc/cpuinfo, -cpu $cpu: exit $code$([ "$code" = 139 ] && echo ' (SIGSEGV)')"
    cpuinfo "$cpu"
    set +e; emulated "$cpu" scripts/pi_check.py probe "$model" >/dev/null 2>&1; code=$?; set -e
    echo "Pi /proc/cpuinfo,   -cpu $cpu: exit $code"
    rm -f "$SYSROOT/proc/cpuinfo"
  done
}

main() {
  sysroot
  site
  mkdir -p "$OUT"
  if [ "${1:-}" = repro ]; then repro; return; fi
  say "x86_64 reference ($PAIRS lfw-dev pairs)"
  "$VENV_PY" scripts/pi_check.py run --out "$OUT/x86_64.json" --pairs "$PAIRS" 2>"$OUT/x86_64.log"
  local runs=() cpu
  for cpu in cortex-a72 cortex-a76; do
    say "aarch64 under qemu -cpu $cpu"
    cpuinfo "$cpu"
    emulated "$cpu" scripts/pi_check.py run --out "$OUT/aarch64-$cpu.json" --pairs "$PAIRS" \
      2>"$OUT/aarch64-$cpu.log"
    runs+=("$OUT/aarch64-$cpu.json")
  done
  rm -f "$SYSROOT/proc/cpuinfo"
  "$VENV_PY" scripts/pi_check.py compare "$OUT/x86_64.json" "${runs[@]}" | tee "$OUT/pi_check.md"
}

main "$@"
