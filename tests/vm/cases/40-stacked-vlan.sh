#!/bin/bash
# 802.1Q on the stock kernel (docs/stacked.md): tests/e2e/stacked_vlan.sh,
# which skips where VLAN devices cannot be made, run where they can.
. "$VM_SRC/tests/vm/guest/lib.sh"
vm_modprobe 8021q || { echo "SKIP: no 8021q module"; exit 77; }
exec /usr/bin/bash "$VM_SRC/tests/e2e/stacked_vlan.sh"
