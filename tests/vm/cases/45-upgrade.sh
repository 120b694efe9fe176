#!/bin/bash
# tests/e2e/upgrade.sh on Debian's kernels: the in-place takeover where the
# host suite cannot go: with the kernel IPsec and route hooks attached
# (fentry: detached and attached again as this build's), and on 6.1 with TC
# egress through clsact (no tcx), whose filter is replaced in place. The
# older fwctl is the one the host's e2e_upgrade built into the build tree
# (read-only here, nothing can be built): skipped until it exists.
. "$VM_SRC/tests/vm/guest/lib.sh"
from=${FWCTL_UPGRADE_FROM:-$(sed -n 's/^FROM=\${FWCTL_UPGRADE_FROM:-\([0-9a-f]*\)}$/\1/p' "$VM_SRC/tests/e2e/upgrade.sh")}
sha=$(git -c safe.directory='*' -C "$VM_SRC" rev-parse --short=12 "$from^{commit}" 2>/dev/null) ||
    { echo "SKIP: $from is not in $VM_SRC's history"; exit 77; }
[ -x "$VM_BUILD/upgrade-from/$sha/build/fwctl" ] ||
    { echo "SKIP: no fwctl of $from in $VM_BUILD/upgrade-from/$sha (the host's e2e_upgrade builds it)"; exit 77; }
FW_SRC=$VM_SRC FW_EXPECT_ROUTE_HOOKS=1 exec /usr/bin/bash "$VM_SRC/tests/e2e/upgrade.sh"
