# Shell helpers shared by install.sh and uninstall.sh (sourced, not run). Both set DRY_RUN.
# shellcheck shell=bash

say() { printf '%s\n' "$*"; }

# Run a command, or only print it with --dry-run.
run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '+'
    local arg
    for arg in "$@"; do
      if [[ $arg =~ ^[A-Za-z0-9_./=:,@%+-]+$ ]]; then printf ' %s' "$arg"; else printf ' %q' "$arg"; fi
    done
    printf '\n'
  else
    "$@"
  fi
}
