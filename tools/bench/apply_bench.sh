#!/usr/bin/env bash
# apply_bench.sh: how long `fwctl apply` takes for big rulesets, beside
# `nft -f` of the same rules. Root; see tools/bench/README.md ("apply").
#
#   tools/bench/apply_bench.sh [--fwctl PATH] [--runs R] [--n 1000,10000,65536]
#                              [--shapes ports,prefixes] [--ports-per-prefix K]
#                              [--json FILE] [--no-nft] [-v]
#
# Everything runs in a namespace of its own (fab<pid>) with one veth pair
# (fab<pid>a / fab<pid>b) and a private bpffs under /tmp/fab<pid>; all of it
# is removed on exit by exact name.
set -euo pipefail

fwctl=""
runs=3
ns_list="1000,10000,65536"
shapes="ports,prefixes"
ppp=16
json_out="./apply_bench.json"
do_nft=1
verbose=0
while [ $# -gt 0 ]; do
	case "$1" in
	--fwctl) fwctl=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--n) ns_list=$2; shift 2 ;;
	--shapes) shapes=$2; shift 2 ;;
	--ports-per-prefix) ppp=$2; shift 2 ;;
	--json) json_out=$2; shift 2 ;;
	--no-nft) do_nft=0; shift ;;
	-v) verbose=1; shift ;;
	-h | --help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "apply_bench: unknown option $1" >&2; exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
[ -n "$fwctl" ] || fwctl=${FW_BENCH_FWCTL:-$here/../../build/fwctl}
fwctl=$(realpath "$fwctl")
[ -x "$fwctl" ] || { echo "apply_bench: no fwctl at $fwctl (--fwctl PATH)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "apply_bench: needs root" >&2; exit 1; }

tag=fab$$
ns=$tag
va=${tag}a
vb=${tag}b
work=/tmp/$tag
bpffs=$work/bpffs
pin=$bpffs/fwctl

cleanup() {
	set +e
	if [ -e "/run/netns/$ns" ]; then
		in_ns "$fwctl" --pin-dir "$pin" down >/dev/null 2>&1
		ip netns del "$ns"
	fi
	mountpoint -q "$bpffs" 2>/dev/null && umount -l "$bpffs"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
log() { [ "$verbose" = 0 ] || echo "apply_bench: $*" >&2; }

mkdir -p "$work" "$bpffs"
mount -t bpf -o mode=0700 bpffs "$bpffs"
ip netns add "$ns"
ip -n "$ns" link add "$va" type veth peer name "$vb"
ip -n "$ns" link set "$va" up
ip -n "$ns" link set "$vb" up
ip -n "$ns" link set lo up

# --- rule files ---------------------------------------------------------
# ports:    N-1 `udp dport P drop` (P = 20000..., see port_of) + `udp dport 9000 accept`,
#           forward policy drop: fw_bench_forward's nft-linear variant.
# prefixes: rule i: saddr 10.x.y.0/24 (prefix i/K, distinct per K rules),
#           proto tcp, dport from K service ports (i%K), accept unless i%3==0;
#           prefixes alternate direction (in A out B / in B out A).
# Ports 20000... as fw_bench_forward; past 65535 they wrap to 1... (65,536
# rules need repeats; 9000, the accepted port, is never one of them).
awk_port_of='function port_of(i, p) { p = 20000 + i; if (p > 65535) p -= 65535; if (p == 9000) p = 65535; return p }'
gen_fwctl() { # shape n file [changed]
	awk -v shape="$1" -v n="$2" -v k="$ppp" -v a="$va" -v b="$vb" -v changed="${4:-0}" "$awk_port_of"'
	BEGIN {
		printf "{\"version\":1,\"interfaces\":[\"%s\",\"%s\"],", a, b
		printf "\"policy\":{\"input\":\"accept\",\"forward\":\"drop\"},\"forward\":[\n"
		for (i = 0; i < n; i++) {
			sep = i < n - 1 ? ",\n" : "\n"
			if (shape == "ports") {
				if (i < n - 1) {
					p = port_of(i)
					if (changed && i == int(n / 2)) p = 19999
					printf "{\"action\":\"drop\",\"proto\":\"udp\",\"dport\":%d}%s", p, sep
				} else {
					printf "{\"action\":\"accept\",\"proto\":\"udp\",\"dport\":9000}%s", sep
				}
			} else {
				j = int(i / k); port = 1000 + (i % k) * 7
				if (changed && i == int(n / 2)) port = 999
				x = int(j / 256) % 256; y = j % 256
				act = (i % 3 == 0) ? "drop" : "accept"
				in_if = (j % 2) ? b : a; out_if = (j % 2) ? a : b
				printf "{\"action\":\"%s\",\"in\":\"%s\",\"out\":\"%s\",\"saddr\":\"10.%d.%d.0/24\",\"proto\":\"tcp\",\"dport\":%d}%s", act, in_if, out_if, x, y, port, sep
			}
		}
		printf "]}\n"
	}' >"$3"
}

gen_nft() { # shape n file
	awk -v shape="$1" -v n="$2" -v k="$ppp" -v a="$va" -v b="$vb" "$awk_port_of"'
	BEGIN {
		print "table inet fwbench {"
		print "  chain forward {"
		print "    type filter hook forward priority filter; policy drop;"
		for (i = 0; i < n; i++) {
			if (shape == "ports") {
				if (i < n - 1) printf "    udp dport %d drop\n", port_of(i)
				else print "    udp dport 9000 accept"
			} else {
				j = int(i / k); port = 1000 + (i % k) * 7
				x = int(j / 256) % 256; y = j % 256
				act = (i % 3 == 0) ? "drop" : "accept"
				in_if = (j % 2) ? b : a; out_if = (j % 2) ? a : b
				printf "    iifname \"%s\" oifname \"%s\" ip saddr 10.%d.%d.0/24 tcp dport %d %s\n", in_if, out_if, x, y, port, act
			}
		}
		print "  }"
		print "}"
	}' >"$3"
}

# --- timing -------------------------------------------------------------
now_ns() { date +%s%N; }
# Runs a command in the namespace; prints its wall time in ms; fails loudly.
timed() {
	local t0 t1 out
	t0=$(now_ns)
	if ! out=$(in_ns "$@" 2>&1); then
		echo "apply_bench: failed: $*" >&2
		echo "$out" >&2
		return 1
	fi
	t1=$(now_ns)
	log "$* -> $out"
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1e6 }'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "null"; exit }
	if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

fw() { echo "$fwctl" --pin-dir "$pin"; }

results=()   # JSON objects
rows=()      # table lines
IFS=, read -ra shape_arr <<<"$shapes"
IFS=, read -ra n_arr <<<"$ns_list"
for shape in "${shape_arr[@]}"; do
	for n in "${n_arr[@]}"; do
		f=$work/$shape-$n.json
		f2=$work/$shape-$n-changed.json
		nf=$work/$shape-$n.nft
		gen_fwctl "$shape" "$n" "$f"
		gen_fwctl "$shape" "$n" "$f2" 1
		gen_nft "$shape" "$n" "$nf"
		first=() reapply=() change=() nft=() check=()
		for ((r = 0; r < runs; r++)); do
			in_ns $(fw) down >/dev/null
			first+=("$(timed $(fw) apply "$f")")
			reapply+=("$(timed $(fw) apply "$f")")
			change+=("$(timed $(fw) apply "$f2")")
			in_ns $(fw) apply "$f" >/dev/null # back to the base file
			check+=("$(timed "$fwctl" check "$f")")
			if [ "$do_nft" = 1 ]; then
				in_ns nft flush ruleset
				nft+=("$(timed nft -f "$nf")")
				in_ns nft flush ruleset
			fi
		done
		in_ns $(fw) down >/dev/null
		m_first=$(echo "${first[*]}" | median)
		m_re=$(echo "${reapply[*]}" | median)
		m_ch=$(echo "${change[*]}" | median)
		m_check=$(echo "${check[*]}" | median)
		m_nft=null
		[ "$do_nft" = 1 ] && m_nft=$(echo "${nft[*]}" | median)
		arr() { local IFS=,; echo "[$*]"; }
		results+=("{\"shape\":\"$shape\",\"n\":$n,\"runs\":$runs,\"median_ms\":{\"first_apply\":$m_first,\"reapply\":$m_re,\"reapply_one_changed\":$m_ch,\"check\":$m_check,\"nft_f\":$m_nft},\"runs_ms\":{\"first_apply\":$(arr "${first[@]}"),\"reapply\":$(arr "${reapply[@]}"),\"reapply_one_changed\":$(arr "${change[@]}"),\"check\":$(arr "${check[@]}"),\"nft_f\":$(arr "${nft[@]:-}")}}")
		rows+=("$(printf '| %s | %d | %s | %s | %s | %s | %s |' "$shape" "$n" "$m_first" "$m_re" "$m_ch" "$m_check" "$m_nft")")
		echo "apply_bench: $shape $n: first ${first[*]} | reapply ${reapply[*]} | changed ${change[*]} | check ${check[*]} | nft ${nft[*]:-}" >&2
	done
done

echo "fwctl apply vs nft -f, wall ms, median of $runs runs ($(uname -r), $(nproc) CPUs)"
echo
echo "| shape | N | fwctl apply (first) | re-apply (same) | re-apply (1 changed) | fwctl check | nft -f (fresh) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
{
	echo "{\"tool\":\"apply_bench\",\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"fwctl\":\"$fwctl\",\"ports_per_prefix\":$ppp,\"results\":["
	(IFS=,; echo "${results[*]}")
	echo "]}"
} >"$json_out"
echo
echo "JSON: $json_out"
