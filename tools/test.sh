#!/bin/bash
# The whole test suite from nothing: install dependencies, build, run every
# test (unit, datapath through BPF_PROG_TEST_RUN, end to end in network
# namespaces). Needs root. Usage: sudo tools/test.sh [ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
