#!/bin/bash
# The unit tests under ASan/UBSan and the ruleset fuzzer, in a clang build
# of their own (ctest runs the three steps as tests sanitize_build,
# unit_asan, fuzz_ruleset). Usage: tools/sanitize.sh build|unit|fuzz [SECONDS]
# FW_SAN_DIR: the build dir (default build/san). FW_FUZZ_SECONDS: default 60.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${FW_SAN_DIR:-$SRC/build/san}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
case "${1:-}" in
build)
	cmake -S "$SRC" -B "$DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-16 \
		-DCMAKE_CXX_COMPILER=clang++-16 -DFW_SANITIZE=ON -DFW_FUZZ=ON \
		-DCMAKE_CXX_FLAGS="-O1 -fno-sanitize-recover=undefined" >/dev/null
	cmake --build "$DIR" -j"$(nproc)" --target fw_unit_tests fw_fuzz_ruleset
	;;
unit)
	# The classifier proof's 1,500 random rulesets take ~17 s under ASan;
	# 300 keep every kind of case (the plain build runs all 1,500).
	FW_CLS_RULESETS=${FW_CLS_RULESETS:-300} "$DIR/fw_unit_tests"
	;;
fuzz)
	secs=${2:-${FW_FUZZ_SECONDS:-60}}
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	# New inputs go to a scratch dir; the checked-in seeds stay as they are.
	"$DIR/fw_fuzz_ruleset" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-dict="$SRC/tests/fuzz/ruleset.dict" -print_final_stats=1 \
		-artifact_prefix="$work/" "$work" "$SRC/tests/fuzz/corpus" 2>&1 |
		grep -Ev '^#[0-9]+\s+(NEW|REDUCE|pulse|RELOAD)|^"|^###### |Uses: ' | head -150
	status=${PIPESTATUS[0]}
	if ls "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-* >/dev/null 2>&1; then
		for f in "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-*; do
			[ -e "$f" ] && { echo "== $f"; head -c 2000 "$f" | od -c | head -20; }
		done
		exit 1
	fi
	exit "$status"
	;;
*)
	echo "usage: $0 build|unit|fuzz [SECONDS]" >&2
	exit 2
	;;
esac
