#!/usr/bin/env bash
# Remove the faceterm service installed by scripts/install.sh.
#
#   sudo scripts/uninstall.sh [--dry-run] [--purge]
#
# Keeps the configuration and keys (/etc/faceterm), the state (/var/lib/faceterm: outbox with
# results not yet delivered, enrolled templates) and the users, unless --purge. Idempotent:
# what is already gone is skipped ("= reason"). --dry-run prints each action ("+ command").
set -euo pipefail

PREFIX=/opt/faceterm
CONF_DIR=/etc/faceterm
STATE_DIR=/var/lib/faceterm
UNIT_DIR=/etc/systemd/system
UNITS=(faceterm-kiosk.service faceterm.service)
FILES=(
  "$UNIT_DIR/faceterm-kiosk.service"
  "$UNIT_DIR/faceterm.service"
  /etc/udev/rules.d/99-faceterm-idcard.rules
  /etc/systemd/journald.conf.d/50-faceterm.conf
)

DRY_RUN=0
PURGE=0

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --dry-run) DRY_RUN=1 ;;
      --purge) PURGE=1 ;;
      -h | --help) sed -n '2,7s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) say "uninstall.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
  done
  if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    say "uninstall.sh: run as root (or with --dry-run)" >&2
    exit 1
  fi
}

remove_path() {
  if [ -e "$1" ] || [ -L "$1" ]; then
    run rm -rf -- "$1"
  else
    say "= $1 already gone"
  fi
}

stop_units() {
  local unit
  for unit in "${UNITS[@]}"; do
    if [ -e "$UNIT_DIR/$unit" ]; then
      run systemctl disable --now "$unit"
    else
      say "= $unit not installed"
    fi
  done
}

remove_files() {
  local file
  for file in "${FILES[@]}"; do
    remove_path "$file"
  done
  run systemctl daemon-reload
  run udevadm control --reload-rules
  run systemctl restart systemd-journald.service
  remove_path "$PREFIX"
}

purge() {
  if [ "$PURGE" -eq 0 ]; then
    say "= kept $CONF_DIR and $STATE_DIR (and the users); --purge removes them"
    return
  fi
  remove_path "$STATE_DIR"
  remove_path "$CONF_DIR"
  local name
  for name in faceterm-kiosk faceterm; do
    if id -u "$name" >/dev/null 2>&1; then
      run userdel "$name"
    else
      say "= user $name already gone"
    fi
  done
}

main() {
  parse_args "$@"
  stop_units
  remove_files
  purge
  say "faceterm removed"
}

main "$@"
