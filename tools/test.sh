#!/bin/bash
# The whole test suite from nothing: install dependencies, build, run every
# test (unit, datapath through BPF_PROG_TEST_RUN, end to end in network
# namespaces). Needs root. Usage: sudo tools/test.sh [ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
# Everything but the VM lane, then the lane's VMs two at a time (TCG: each
# VM is a CPU-bound qemu; tests/vm/README.md).
rc=0
ctest --test-dir build --output-on-failure -LE vm "$@" || rc=$?
ctest --test-dir build --output-on-failure -L vm -j2 "$@" || rc=$?
exit "$rc"
