#!/bin/bash
# `systemd-analyze verify` on the units in packaging/ as `cmake --install`
# installs them (ExecStart pointing at this build's fwctl, since verify
# insists the binary exists). Exit 77 (skipped) only when systemd-analyze is
# missing.
set -eu
SRC=${FW_SRC:?source dir}
: "${FWCTL:?path of the fwctl binary}"
if ! command -v systemd-analyze >/dev/null; then
    echo "SKIP: systemd-analyze not installed (apt-get install systemd)" >&2
    exit 77
fi
tmp=$(mktemp -d /tmp/fw-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for u in "$SRC"/packaging/*.service; do
    sed "s|/usr/sbin/fwctl|$FWCTL|g" "$u" >"$tmp/$(basename "$u")"
done
# Units that ours name but that only exist on a booted system are fine to
# be absent; every other message is an error.
out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp"/*.service 2>&1) || {
    echo "$out"
    echo "FAIL: systemd-analyze verify" >&2
    exit 1
}
if [ -n "$out" ]; then
    echo "$out"
    echo "FAIL: systemd-analyze verify printed warnings" >&2
    exit 1
fi
for u in "$tmp"/*.service; do echo "ok: $(basename "$u")"; done
