#!/bin/bash
# all.sh: every row of RESULTS.md's default-configuration section in one
# invocation, then the ratios against the fast-by-default targets (issue
# 15), each against its reference row of the same invocation.
#
#   sudo tools/bench/all.sh [BUILD_DIR] [OUT_DIR]   # ~8 minutes
#
#  1. one flow, 10,000 rules: bare XDP router (xdp-fwd) and bare XDP_DROP
#     (xdp-drop) on the same device; fwctl default, with masquerade, drop at
#     the last rule; nftables conntrack + masquerade
#  2. drop floods of many flows: a new source port every packet (250
#     addresses, 64,000 ports each), and a new source address every packet
#  3. new connections per second (a new flow every packet), 1 and 10,000
#     rules: fwctl, nftables conntrack (linear, and one set)
#  4. one, then two generator threads on two CPUs (two rx queues), back
#     to back
#  5. apply: first apply of one rule, re-apply of 10,000, beside nft -f
#  6. memory (fwctl status): one rule, 10,000 rules
# Figures are per run; ratios are medians over the same invocation's runs,
# with each run's own ratio beside them (the machine's noise).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
OUT=${2:-$BUILD/bench-all}
FWD=$BUILD/tools/bench/fw_bench_forward
mkdir -p "$OUT"
[ -x "$FWD" ] && [ -x "$BUILD/fwctl" ] || { echo "build first (cmake --build $BUILD)" >&2; exit 2; }
RUNS=${BENCH_RUNS:-3}
fwd() { # NAME ARGS...
	local name=$1; shift
	echo "== $name: $*" >&2
	"$FWD" --fwctl "$BUILD/fwctl" --runs "$RUNS" --json "$OUT/$name.json" "$@" | tee "$OUT/$name.txt"
}
echo "all.sh $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/summary.txt"
fwd forward --n 10000 --only xdp-fwd,xdp-drop,fwctl,fwctl-nat,fwctl-drop,nft-ct-masq
# One core and two cores back to back: this machine's neighbours move the
# rates by tens of percent from one minute to the next.
fwd onecore --n 10000 --only xdp-fwd,fwctl,fwctl-nat
fwd twocores --n 10000 --threads 2 --only xdp-fwd,fwctl,fwctl-nat
fwd newsrc-drop --n 10000 --flows 64000 --sources 250 --only xdp-drop,fwctl-drop
# A new source address every packet (60,000 before one repeats): more flows
# than the drop memo holds, every packet judged.
fwd newaddr-drop --n 10000 --flows 1 --sources 60000 --only xdp-drop,fwctl-drop
fwd newconns --n 1,10000 --flows 64000 --sources 250 --only fwctl,nft-ct,nft-ct-set
echo "== apply" >&2
# Seven runs (a few seconds each): on a shared VM one slow minute moved a
# median of three by 40 ms.
bash "$SRC/tools/bench/apply_bench.sh" --fwctl "$BUILD/fwctl" --runs "${APPLY_RUNS:-7}" --n 1,10000 --shapes ports \
	--json "$OUT/apply.json" | tee "$OUT/apply.txt"
echo "== memory" >&2
MEM_CONNS=${MEM_CONNS:-200000} bash "$SRC/tools/bench/mem_report.sh" "$BUILD" | tee "$OUT/memory.txt"

python3 - "$OUT" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
out = sys.argv[1]
def result(name, variant, n):
    for r in json.load(open(f"{out}/{name}.json"))["results"]:
        if r["variant"] == variant and (r["n"] == n or n is None):
            return r
    return None
def med(name, variant, n):
    r = result(name, variant, n)
    return r["median_pps"] if r else None
# The ratio run by run (run k of one against run k of the other, seconds
# apart): how far the machine moved during the invocation.
def rounds(a, b):
    if not a or not b:
        return ""
    pb = {x["run"]: x["pps"] for x in b["runs"]}
    rs = [x["pps"] / pb[x["run"]] for x in a["runs"] if pb.get(x["run"])]
    return "; run by run " + " ".join(f"{r:.2f}" for r in rs) if rs else ""
def row(what, a, b, target, fmt="{:.2f}x"):
    ra, rb = a and result(*a), b and result(*b)
    a, b = ra and ra["median_pps"], rb and rb["median_pps"]
    if not a or not b:
        print(f"{what:58s} n/a"); return
    r = a / b
    ok = "" if target is None else ("  target %.2f: %s" % (target, "met" if r >= target else "NOT met"))
    print(f"{what:58s} {fmt.format(r)} ({a:,.0f} / {b:,.0f}{rounds(ra, rb)}){ok}")
print("load at the end: " + open("/proc/loadavg").read().strip())
row("forwarding, 10k rules, default / bare XDP router", ("forward", "fwctl", 10000), ("forward", "xdp-fwd", None), 0.85)
row("forwarding + masquerade, 10k rules / bare XDP router", ("forward", "fwctl-nat", 10000), ("forward", "xdp-fwd", None), 0.85)
row("drop at the last of 10k rules / bare XDP_DROP", ("forward", "fwctl-drop", 10000), ("forward", "xdp-drop", None), 0.50)
row("drop, new source port every packet / bare XDP_DROP", ("newsrc-drop", "fwctl-drop", 10000), ("newsrc-drop", "xdp-drop", None), None)
row("drop, new source address every packet / bare XDP_DROP", ("newaddr-drop", "fwctl-drop", 10000), ("newaddr-drop", "xdp-drop", None), 0.33)
row("two cores / one core, bare XDP router (reference)", ("twocores", "xdp-fwd", None), ("onecore", "xdp-fwd", None), None)
row("two cores / one core, fwctl default", ("twocores", "fwctl", 10000), ("onecore", "fwctl", 10000), 1.8)
row("two cores / one core, fwctl + masquerade", ("twocores", "fwctl-nat", 10000), ("onecore", "fwctl-nat", 10000), 1.8)
for n in (1, 10000):
    row(f"new connections/s, {n} rules: fwctl / nft conntrack", ("newconns", "fwctl", n), ("newconns", "nft-ct", n), None)
    row(f"new connections/s, {n} rules: fwctl / nft conntrack + set", ("newconns", "fwctl", n), ("newconns", "nft-ct-set", n), None)
try:
    for r in json.load(open(f"{out}/apply.json"))["results"]:
        print(f"apply {r.get('shape')} N={r.get('n')}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("shape", "n")))
except Exception as e:
    print(f"apply: {e}")
PY
echo "details: $OUT/*.txt, JSON: $OUT/*.json"
