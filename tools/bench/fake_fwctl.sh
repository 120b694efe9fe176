#!/usr/bin/env bash
# A stand-in for fwctl that exercises fw_bench_forward's --fwctl hook before
# the real datapath exists: it takes the same command line
#   fake_fwctl.sh --pin-dir DIR apply FILE | stats --json | down
# and implements the forward chain of FILE (action, proto, dport, policy
# only) with nftables. Run by the benchmark inside the fw namespace.
# Needs jq and nft.
set -euo pipefail
pin_dir=/sys/fs/bpf/fwctl
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--pin-dir) pin_dir=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
set -- "${args[@]}"
[ "$(stat -f -c %T "$(dirname "$pin_dir")")" = bpf_fs ] ||
	{ echo "fake_fwctl: $pin_dir is not on a bpffs" >&2; exit 1; }
mkdir -p "$pin_dir"
case "${1:-}" in
apply)
	f=$2
	tmp=$(mktemp) # a bpffs holds no regular files
	trap 'rm -f "$tmp"' EXIT
	{
		echo "table inet fake_fwctl {"
		jq -r '.forward // [] | to_entries[] |
		  "  counter r\(.key + 1) { }"' "$f"
		echo "  chain forward {"
		echo "    type filter hook forward priority filter; policy $(jq -r '.policy.forward // "accept"' "$f");"
		jq -r '.forward // [] | to_entries[] | .key as $i | .value |
		  "    " + (if .proto then "meta l4proto \(.proto) " else "" end)
		  + (if .dport then "th dport \(.dport) " else "" end)
		  + "counter name r\($i + 1) \(.action)"' "$f"
		echo "  }"
		echo "}"
	} >"$tmp"
	nft delete table inet fake_fwctl 2>/dev/null || true
	nft -f "$tmp"
	;;
stats)
	nft -j list counters table inet fake_fwctl | jq '{chains: {forward: {rules:
	  [.nftables[] | select(.counter) | .counter |
	   {position: (.name[1:] | tonumber), packets, bytes}]}}}'
	;;
down)
	nft delete table inet fake_fwctl 2>/dev/null || true
	rm -rf "$pin_dir"
	;;
*)
	echo "fake_fwctl: unknown command ${1:-}" >&2
	exit 2
	;;
esac
