#!/usr/bin/env bash
# Install faceterm as a service on Raspberry Pi OS bookworm (64-bit), from this source tree.
#
#   sudo scripts/install.sh [--dry-run] [--device-id ID] [--no-kiosk] [--no-start] [--disable-swap]
#
# Idempotent: run it again after `git pull` to upgrade; nothing that exists is overwritten except
# the code under /opt/faceterm and the unit, udev and journald files. --dry-run prints each action
# ("+ command") or what it skips ("= reason") and changes nothing; it needs no root.
#
# Low write (SD cards wear out): the journal is kept in RAM (systemd/50-faceterm-journald.conf),
# Chromium's profile lives on tmpfs (faceterm-kiosk.service), Python writes no .pyc at run time,
# and --disable-swap removes the dphys-swapfile swap file on the card (use zram if RAM is short).
# Only the outbox and templates in /var/lib/faceterm are written, and those must be durable.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=/opt/faceterm
VENV=$PREFIX/.venv
CONF_DIR=/etc/faceterm
CRED_DIR=$CONF_DIR/credentials
STATE_DIR=/var/lib/faceterm
UNIT_DIR=/etc/systemd/system
USER_NAME=faceterm
KIOSK_USER=faceterm-kiosk
APT_PACKAGES=(python3-venv python3-pip python3-picamera2 python3-libcamera python3-systemd espeak-ng alsa-utils)
KIOSK_PACKAGES=(cage chromium fonts-noto-cjk)

DRY_RUN=0
KIOSK=1
START=1
DISABLE_SWAP=0
DEVICE_ID=$(hostname)

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Write stdin to a file (mode $2) unless it exists; with --dry-run print what would be written
# (or only the description $3, for secrets).
write_new() {
  local path=$1 mode=$2 secret=${3:-}
  if [ -e "$path" ]; then
    say "= $path exists, kept"
    cat >/dev/null
  elif [ "$DRY_RUN" -eq 1 ] && [ -n "$secret" ]; then
    say "+ write $path (mode $mode): $secret"
    cat >/dev/null
  elif [ "$DRY_RUN" -eq 1 ]; then
    say "+ write $path (mode $mode):"
    sed 's/^/|   /'
  else
    (umask 077 && cat >"$path")
    chmod "$mode" "$path"
  fi
}

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --dry-run) DRY_RUN=1 ;;
      --no-kiosk) KIOSK=0 ;;
      --no-start) START=0 ;;
      --disable-swap) DISABLE_SWAP=1 ;;
      --device-id) DEVICE_ID=${2:?--device-id needs a value}; shift ;;
      -h | --help) usage; exit 0 ;;
      *) say "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
  done
  if ! [[ $DEVICE_ID =~ ^[A-Za-z0-9_.-]{1,64}$ ]]; then
    say "install.sh: device id '$DEVICE_ID' must match [A-Za-z0-9_.-]{1,64}" >&2
    exit 2
  fi
}

preflight() {
  if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    say "install.sh: run as root (or with --dry-run)" >&2
    exit 1
  fi
  local codename
  codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null || true)
  codename=${codename:-unknown}
  [ "$codename" = bookworm ] || say "! not bookworm ($codename): package names may differ"
  [ "$(uname -m)" = aarch64 ] || say "! not 64-bit ARM ($(uname -m)): this targets Raspberry Pi OS 64-bit"
  [ -f "$SRC/pyproject.toml" ] || { say "install.sh: no pyproject.toml in $SRC" >&2; exit 1; }
}

install_packages() {
  local wanted=("${APT_PACKAGES[@]}") missing=() pkg
  [ "$KIOSK" -eq 1 ] && wanted+=("${KIOSK_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "= apt packages installed"
    return
  fi
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

ensure_user() {
  local name=$1 home=$2 groups=$3
  if id -u "$name" >/dev/null 2>&1; then
    say "= user $name exists"
    run usermod --append --groups "$groups" "$name"
  else
    run useradd --system --user-group --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin --groups "$groups" "$name"
  fi
}

create_users() {
  ensure_user "$USER_NAME" "$STATE_DIR" video,dialout,audio
  [ "$KIOSK" -eq 1 ] && ensure_user "$KIOSK_USER" /run/faceterm-kiosk video,render,input
  return 0
}

create_directories() {
  run install -d -o root -g root -m 0755 "$PREFIX"
  # config.set writes faceterm.toml (and .previous/.pending beside it) as the service user.
  run install -d -o root -g "$USER_NAME" -m 0770 "$CONF_DIR"
  run install -d -o root -g root -m 0700 "$CRED_DIR"
  run install -d -o "$USER_NAME" -g "$USER_NAME" -m 0700 "$STATE_DIR"
}

install_code() {
  if [ -x "$VENV/bin/python" ]; then
    say "= venv $VENV exists"
  else
    # --system-site-packages: picamera2, libcamera and systemd-python come from apt.
    run python3 -m venv --system-site-packages "$VENV"
  fi
  # numpy < 2: the apt picamera2/simplejpeg and tflite-runtime are built against numpy 1.
  printf 'numpy<2\n' | write_new "$PREFIX/constraints.txt" 0644
  run "$VENV/bin/pip" install --quiet --no-cache-dir --constraint "$PREFIX/constraints.txt" "$SRC"
  run install -d -m 0755 "$PREFIX/models" "$PREFIX/docs"
  run cp -a "$SRC/models/." "$PREFIX/models/"
  run cp -a "$SRC/docs/." "$PREFIX/docs/"
}

install_config() {
  write_new "$CONF_DIR/faceterm.toml" 0644 <<EOF
# faceterm configuration (written by scripts/install.sh; edit freely, install.sh keeps it).
# Check it with: faceterm --config $CONF_DIR/faceterm.toml config validate
[device]
id = "$DEVICE_ID"
state_dir = "$STATE_DIR"

[vision]
models_dir = "$PREFIX/models"

[identity]
# Private keys reach the service as systemd credentials (LoadCredential= in faceterm.service).
device_key = "/run/credentials/faceterm.service/device.key"
bureau_public_key = "$CONF_DIR/bureau.pub.jwk"

[mqtt]
ca_cert = "$CONF_DIR/ca.crt"
client_cert = "$CONF_DIR/device.crt"
client_key = "/run/credentials/faceterm.service/device.tls.key"
EOF
  run "$VENV/bin/faceterm" --config "$CONF_DIR/faceterm.toml" config validate
}

provision() {
  if [ -e "$CRED_DIR/device.key" ]; then
    say "= device keys exist in $CRED_DIR"
  else
    run "$VENV/bin/faceterm" --config "$CONF_DIR/faceterm.toml" provision \
      --state-dir "$CRED_DIR" --device-id "$DEVICE_ID"
  fi
  # The key that encrypts enrolled templates at rest (32 random bytes).
  head -c 32 /dev/urandom | write_new "$CRED_DIR/templates.key" 0600 "32 random bytes"
  if [ ! -e "$CONF_DIR/device.crt" ]; then
    say "! have $CRED_DIR/device.csr signed and put the certificate in $CONF_DIR/device.crt;"
    say "! put the broker CA in $CONF_DIR/ca.crt and the bureau key in $CONF_DIR/bureau.pub.jwk"
  fi
}

install_system_files() {
  run install -m 0644 "$SRC/systemd/faceterm.service" "$UNIT_DIR/faceterm.service"
  [ "$KIOSK" -eq 1 ] && run install -m 0644 "$SRC/systemd/faceterm-kiosk.service" \
    "$UNIT_DIR/faceterm-kiosk.service"
  run install -m 0644 "$SRC/systemd/99-faceterm-idcard.rules" /etc/udev/rules.d/99-faceterm-idcard.rules
  run install -d -m 0755 /etc/systemd/journald.conf.d
  run install -m 0644 "$SRC/systemd/50-faceterm-journald.conf" \
    /etc/systemd/journald.conf.d/50-faceterm.conf
  run systemctl daemon-reload
  run udevadm control --reload-rules
  run udevadm trigger --subsystem-match=tty --action=add
  run systemctl restart systemd-journald.service
}

low_write() {
  [ "$DISABLE_SWAP" -eq 1 ] || return 0
  if [ -e /lib/systemd/system/dphys-swapfile.service ] || [ "$DRY_RUN" -eq 1 ]; then
    run systemctl disable --now dphys-swapfile.service
    run dphys-swapfile uninstall
  else
    say "= no dphys-swapfile"
  fi
}

enable_services() {
  run systemctl enable faceterm.service
  if [ "$KIOSK" -eq 1 ]; then
    run systemctl enable faceterm-kiosk.service
    run systemctl set-default graphical.target
  fi
  if [ "$START" -eq 1 ]; then
    run systemctl restart faceterm.service
    [ "$KIOSK" -eq 1 ] && run systemctl restart faceterm-kiosk.service
  fi
  return 0
}

main() {
  parse_args "$@"
  preflight
  install_packages
  create_users
  create_directories
  install_code
  install_config
  provision
  install_system_files
  low_write
  enable_services
  say "faceterm installed: systemctl status faceterm; journalctl -t faceterm -f"
}

main "$@"
