#!/bin/bash
# Scenario 2 with the XDP fast path on: see scenario2.sh.
E2E_FASTPATH=1 exec bash "$(dirname "$0")/scenario2.sh" "$@"
