#!/bin/bash
# The fast path's route cache on a stock kernel, where the route hooks
# (fentry) attach: a route or neighbour change reaches a stream on the
# fast path at once (tests/e2e/route_change.sh unchanged, with the hooks
# required and a 10 ms bound).
. "$VM_SRC/tests/vm/guest/lib.sh"
FW_EXPECT_ROUTE_HOOKS=1 exec /usr/bin/bash "$VM_SRC/tests/e2e/route_change.sh"
