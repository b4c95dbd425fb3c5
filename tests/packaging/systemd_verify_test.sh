#!/usr/bin/env bash
# systemd-analyze verify finds nothing to say about systemd/ewsd.service.
# Usage: systemd_verify_test.sh UNIT EWSD_BINARY
# The copy that is checked names the built binary instead of /usr/bin/ewsd,
# which verify requires to exist. A missing systemd-analyze is a failure, not
# a skip: scripts/install-deps installs it.
set -euo pipefail
unit=$1
binary=$2

if ! command -v systemd-analyze >/dev/null; then
  echo "FAIL: systemd-analyze not found (package systemd; run scripts/install-deps)"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#/usr/bin/ewsd#$binary#g" "$unit" >"$tmp/ewsd.service"
if ! grep -q "^ExecStart=$binary run " "$tmp/ewsd.service"; then
  echo "FAIL: the unit's ExecStart does not run /usr/bin/ewsd"
  exit 1
fi

status=0
output=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --generators=no \
  "$tmp/ewsd.service" 2>&1) || status=$?
if [ "$status" -ne 0 ] || [ -n "$output" ]; then
  echo "FAIL: systemd-analyze verify exited $status and said:"
  echo "$output"
  exit 1
fi
echo "systemd-analyze verify: clean"
