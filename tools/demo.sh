#!/bin/bash
# The demo: installs what it needs, builds, then runs a router in network
# namespaces (veths vlan1/vlan2), applies a ruleset, shows traffic passing
# and blocked and the counters, and cleans everything up.
#   sudo tools/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
export FWCTL=$PWD/build/fwctl
exec bash tools/demo/scenario.sh
