# shellcheck shell=bash
# tests/e2e/lib/netns.sh - sourced helpers for fwctl end-to-end tests.
#
#   . "$(dirname "$0")/lib/netns.sh"
#   e2e_init                      # prefix, temp dir, private bpffs, cleanup trap
#   ns_add alice bob h1           # network namespaces <prefix>alice, ...
#   link_veth alice vlan2 bob vlan2
#   addr alice vlan2 198.51.100.1/24
#   fw alice apply rules.json     # "$FWCTL" --pin-dir <bpffs>/alice apply ...
#   assert_ping_ok h1 10.2.0.2
#   e2e_finish                    # summary; exit 1 if any assertion failed
#
# Everything this file creates (namespaces, mounts, background processes,
# fwctl instances) is recorded and removed by exact name / saved PID on exit.
# Nothing is ever created in the host's network namespace.

set -u

E2E_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system python (a pyenv shim on PATH costs ~100 ms per call under load)
if [ -z "${E2E_PY:-}" ]; then
    if [ -x /usr/bin/python3 ]; then E2E_PY=/usr/bin/python3; else E2E_PY=python3; fi
fi

# ---------------------------------------------------------------- state ----
E2E_PFX=""          # unique per run, e.g. "fw4711"
E2E_TMP=""          # private temp dir of this run
E2E_BPF=""          # private bpffs mount; fwctl pin dir of NS is $E2E_BPF/NS
E2E_NAMESPACES=()   # full names of namespaces we created
E2E_MOUNTS=()       # mount points we mounted (unmounted in reverse order)
E2E_PIDS=()         # background processes we started
E2E_FW_NS=()        # short ns names on which `fw` ran (get `fwctl down`)
E2E_CLEANUP_HOOKS=() # extra functions run first by the cleanup
E2E_PASS=0
E2E_FAIL=0
E2E_FAIL_FAST=${E2E_FAIL_FAST:-0}
E2E_VERBOSE=${E2E_VERBOSE:-0}
E2E_KEEP=${E2E_KEEP:-0}   # 1: leave temp dir (logs) behind; namespaces still go
# Probes wait up to E2E_READY_TRIES x 50 ms for their receiver to bind (a
# python start); the VM lane (TCG, ~3 s per python start) raises it.
E2E_READY_TRIES=${E2E_READY_TRIES:-50}
E2E_CLEANED=0

e2e_log()  { printf '# %s\n' "$*" >&2; }
e2e_die()  { printf 'FATAL: %s\n' "$*" >&2; E2E_FAIL=$((E2E_FAIL + 1)); exit 1; }

# e2e_init [NAME]: set up prefix, temp dir, bpffs, trap. NAME (default: the
# script's basename) only decorates the temp dir; the prefix is "fw" + a
# 4-5 digit number so that "<prefix><ns>" stays short.
e2e_init() {
    local name=${1:-$(basename "${0%.sh}")}
    [ "$(id -u)" = 0 ] || { echo "SKIP: e2e tests need root" >&2; exit 77; }
    local n
    for _ in 1 2 3 4 5 6 7 8; do
        n=$(( (RANDOM * 32768 + RANDOM + $$) % 100000 ))
        E2E_PFX="fw${n}"
        # collision check: none of our namespaces may exist yet
        if ! ls /run/netns 2>/dev/null | grep -q "^${E2E_PFX}"; then break; fi
    done
    E2E_TMP=$(mktemp -d "/tmp/e2e-${name}-${E2E_PFX}.XXXXXX")
    trap e2e_cleanup EXIT
    trap 'e2e_log "interrupted"; exit 130' INT TERM HUP
    E2E_BPF="$E2E_TMP/bpffs"
    mkdir -p "$E2E_BPF"
    mount -t bpf bpf "$E2E_BPF" || e2e_die "cannot mount bpffs on $E2E_BPF"
    E2E_MOUNTS+=("$E2E_BPF")
    export E2E_PFX E2E_TMP E2E_BPF
    e2e_log "prefix=$E2E_PFX tmp=$E2E_TMP bpffs=$E2E_BPF"
}

# ---------------------------------------------------------- namespaces ----
# ns_name SHORT -> full namespace name
ns_name() { printf '%s%s' "$E2E_PFX" "$1"; }
# ns_path SHORT -> /run/netns/<full>
ns_path() { printf '/run/netns/%s%s' "$E2E_PFX" "$1"; }

# ns_add SHORT... : create namespaces, lo up, forwarding off, rp_filter 0
ns_add() {
    local s full
    for s in "$@"; do
        full=$(ns_name "$s")
        ip netns add "$full" || e2e_die "ip netns add $full"
        E2E_NAMESPACES+=("$full")
        ip -n "$full" link set lo up
        nsx "$s" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
        mkdir -p "$E2E_TMP/$s"
    done
}

# nsx SHORT CMD... : run CMD in the namespace (network ns only; /sys is NOT
# remounted, the host's mounts, e.g. our bpffs, stay visible)
nsx() { local s=$1; shift; nsenter --net="$(ns_path "$s")" -- "$@"; }

# link_veth NS1 IF1 NS2 IF2 : veth pair created directly inside the two
# namespaces (never in the host namespace), both ends up.
#
# E2E_VLAN_NS=S (where the kernel has 8021q, e.g. the VM lane): S's
# interfaces named vlanN become real 802.1Q devices of id N on a veth parent
# "vlanNt"; the other end gets a device of the same id under its own name,
# on parent "<name>t". Tags travel in the frame (tx VLAN offload off), as on
# a wire.
link_veth() {
    if [ -n "${E2E_VLAN_NS:-}" ]; then
        local vid=""
        [ "$1" = "$E2E_VLAN_NS" ] && [[ $2 =~ ^vlan([0-9]+)$ ]] && vid=${BASH_REMATCH[1]}
        [ "$3" = "$E2E_VLAN_NS" ] && [[ $4 =~ ^vlan([0-9]+)$ ]] && vid=${BASH_REMATCH[1]}
        [ -n "$vid" ] && { link_vlan "$1" "$2" "$3" "$4" "$vid"; return; }
    fi
    local a b
    a=$(ns_name "$1"); b=$(ns_name "$3")
    ip -n "$a" link add "$2" type veth peer name "$4" netns "$b" \
        || e2e_die "veth $1:$2 <-> $3:$4"
    ip -n "$a" link set "$2" up
    ip -n "$b" link set "$4" up
}

# link_vlan NS1 IF1 NS2 IF2 VID: a veth pair IF1t/IF2t carrying 802.1Q
# devices IF1 and IF2 of id VID.
link_vlan() {
    local a b
    a=$(ns_name "$1"); b=$(ns_name "$3")
    ip -n "$a" link add "$2t" type veth peer name "$4t" netns "$b" || e2e_die "veth $1:$2t <-> $3:$4t"
    nsx "$1" ethtool -K "$2t" txvlan off rxvlan off >/dev/null 2>&1
    nsx "$3" ethtool -K "$4t" txvlan off rxvlan off >/dev/null 2>&1
    ip -n "$a" link set "$2t" up
    ip -n "$b" link set "$4t" up
    ip -n "$a" link add link "$2t" name "$2" type vlan id "$5" || e2e_die "vlan $1:$2 id $5"
    ip -n "$b" link add link "$4t" name "$4" type vlan id "$5" || e2e_die "vlan $3:$4 id $5"
    ip -n "$a" link set "$2" up
    ip -n "$b" link set "$4" up
}

# addr NS IF CIDR...
addr() {
    local s=$1 ifc=$2; shift 2
    local c
    for c in "$@"; do ip -n "$(ns_name "$s")" addr add "$c" dev "$ifc" || e2e_die "addr $s $ifc $c"; done
    ip -n "$(ns_name "$s")" link set "$ifc" up
}

# route NS DEST VIA [extra ip-route args]   (DEST may be "default")
route() {
    local s=$1 dst=$2 via=$3; shift 3
    ip -n "$(ns_name "$s")" route add "$dst" via "$via" "$@" || e2e_die "route $s $dst via $via"
}

# router_topology: the tests' common router, forwarding on:
#   lan (10.1.0.2) --eth0==vlan1-- r --vlan2==eth0-- wan (192.0.2.2)
# with lan and wan routing through r. Namespaces r, lan, wan.
router_topology() {
    ns_add r lan wan
    link_veth r vlan1 lan eth0
    link_veth r vlan2 wan eth0
    addr r vlan1 10.1.0.1/24; addr lan eth0 10.1.0.2/24
    addr r vlan2 192.0.2.1/24; addr wan eth0 192.0.2.2/24
    route lan default 10.1.0.1
    route wan default 192.0.2.1
    forwarding r 1
}

# forwarding NS [1|0]
forwarding() {
    nsx "$1" sysctl -qw "net.ipv4.ip_forward=${2:-1}" net.ipv6.conf.all.forwarding="${2:-1}" >/dev/null
}

# ns_sysctl NS KEY=VAL...
ns_sysctl() { local s=$1; shift; nsx "$s" sysctl -qw "$@" >/dev/null; }

# --------------------------------------------------------- processes ----
# e2e_track_pid PID : kill PID (TERM, then KILL) at cleanup
e2e_track_pid() { E2E_PIDS+=("$1"); }
e2e_untrack_pid() {
    local p out=()
    for p in "${E2E_PIDS[@]}"; do [ "$p" = "$1" ] || out+=("$p"); done
    E2E_PIDS=("${out[@]}")
}

# ns_bg NS LOGFILE CMD... : start CMD in background inside NS, tracked.
# The PID is left in $E2E_LAST_PID; it is CMD's own PID (nsenter execs), so
# killing it kills CMD. Do not use "nsx NS CMD &" for things you must kill:
# nsx is a function, so $! would be a subshell and CMD would survive it.
ns_bg() {
    local s=$1 log=$2; shift 2
    nsenter --net="$(ns_path "$s")" -- "$@" >"$log" 2>&1 &
    E2E_LAST_PID=$!
    e2e_track_pid "$E2E_LAST_PID"
}

# e2e_stop_pid PID [SECONDS]: TERM, wait, KILL
e2e_stop_pid() {
    local pid=$1 t=${2:-3} i
    kill -0 "$pid" 2>/dev/null || { e2e_untrack_pid "$pid"; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < t * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    e2e_untrack_pid "$pid"
    return 0
}

# -------------------------------------------------------------- fwctl ----
# fw NS ARGS... : run "$FWCTL" in NS with that namespace's own pin dir.
# Output/exit code are fwctl's. Records NS for `fwctl down` at cleanup.
fw() {
    local s=$1; shift
    [ -n "${FWCTL:-}" ] || e2e_die "FWCTL is not set (path of the fwctl binary)"
    local seen=0 x
    for x in "${E2E_FW_NS[@]}"; do [ "$x" = "$s" ] && seen=1; done
    [ $seen = 1 ] || E2E_FW_NS+=("$s")
    nsenter --net="$(ns_path "$s")" -- "$FWCTL" --pin-dir "$(fw_pin_dir "$s")" "$@"
}
fw_pin_dir() { printf '%s/%s' "$E2E_BPF" "$1"; }

# ------------------------------------------------------------ cleanup ----
e2e_cleanup() {
    local rc=$?
    [ "$E2E_CLEANED" = 1 ] && return
    E2E_CLEANED=1
    trap - INT TERM HUP
    local h s p m i
    for h in "${E2E_CLEANUP_HOOKS[@]}"; do "$h" || true; done
    if [ -n "${FWCTL:-}" ] && [ -x "${FWCTL:-}" ]; then
        for s in "${E2E_FW_NS[@]}"; do
            timeout 10 nsenter --net="$(ns_path "$s")" -- "$FWCTL" --pin-dir "$(fw_pin_dir "$s")" down \
                >/dev/null 2>&1 || e2e_log "cleanup: fwctl down in $s failed"
        done
    fi
    for p in "${E2E_PIDS[@]}"; do e2e_stop_pid "$p" 3; done
    # Safety net: anything still running inside OUR namespaces keeps them
    # alive; these are processes this test started (by PID, not by name).
    for s in "${E2E_NAMESPACES[@]}"; do
        for p in $(ip netns pids "$s" 2>/dev/null); do
            e2e_log "cleanup: pid $p still in $s, killing: $(ps -o pid=,ppid=,stat=,args= -p "$p" 2>/dev/null)"
            kill -KILL "$p" 2>/dev/null
        done
    done
    for ((i = ${#E2E_MOUNTS[@]} - 1; i >= 0; i--)); do
        m=${E2E_MOUNTS[i]}
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || e2e_log "cleanup: umount $m failed"
    done
    for s in "${E2E_NAMESPACES[@]}"; do
        ip netns del "$s" 2>/dev/null || e2e_log "cleanup: ip netns del $s failed"
    done
    if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
        if [ "$E2E_KEEP" = 1 ] || { [ "$E2E_FAIL" -gt 0 ] && [ "${E2E_KEEP_ON_FAIL:-1}" = 1 ]; }; then
            e2e_log "logs kept in $E2E_TMP"
        else
            rm -rf --one-file-system "$E2E_TMP"
        fi
    fi
    if [ "$E2E_FAIL" -gt 0 ] && [ "$rc" = 0 ]; then rc=1; fi
    exit "$rc"
}

# e2e_on_cleanup FUNC : run FUNC first at cleanup (e.g. to dump logs)
e2e_on_cleanup() { E2E_CLEANUP_HOOKS+=("$1"); }

# ------------------------------------------------------------ asserts ----
pass() { E2E_PASS=$((E2E_PASS + 1)); printf 'PASS: %s\n' "$*"; }
fail() {
    E2E_FAIL=$((E2E_FAIL + 1)); printf 'FAIL: %s\n' "$*"
    [ "$E2E_FAIL_FAST" = 1 ] && exit 1
    return 1
}

# assert_eq EXPECTED ACTUAL MSG
assert_eq() {
    if [ "$1" = "$2" ]; then pass "$3 (= $1)"; else fail "$3: expected '$1', got '$2'"; fi
}
# assert_ne UNEXPECTED ACTUAL MSG
assert_ne() {
    if [ "$1" != "$2" ]; then pass "$3 ($2 != $1)"; else fail "$3: got '$2', which it must not be"; fi
}
# assert_ge MIN ACTUAL MSG   (integers)
assert_ge() {
    if [ "$2" -ge "$1" ] 2>/dev/null; then pass "$3 ($2 >= $1)"; else fail "$3: expected >= $1, got '$2'"; fi
}
# assert_match REGEX ACTUAL MSG   (grep -E)
assert_match() {
    if printf '%s' "$2" | grep -Eq -- "$1"; then pass "$3"; else fail "$3: '$2' does not match /$1/"; fi
}
# assert_ok MSG CMD...  /  assert_fails MSG CMD...
assert_ok() {
    local m=$1; shift
    if "$@" >"$E2E_TMP/last.out" 2>&1; then pass "$m"; else fail "$m (rc=$?: $(tail -c 300 "$E2E_TMP/last.out"))"; fi
}
assert_fails() {
    local m=$1; shift
    if "$@" >"$E2E_TMP/last.out" 2>&1; then fail "$m (command succeeded)"; else pass "$m"; fi
}
# assert_exit CODE MSG CMD...
assert_exit() {
    local want=$1 m=$2 rc; shift 2
    "$@" >"$E2E_TMP/last.out" 2>&1; rc=$?
    if [ "$rc" = "$want" ]; then pass "$m (exit $rc)"; else fail "$m: exit $rc, expected $want ($(tail -c 300 "$E2E_TMP/last.out"))"; fi
}

# ping helpers: short timeouts. E2E_PING_COUNT (default 3; success = >=1 reply)
# Extra ping options after DST (e.g. -I 10.1.0.1, -s 1400, -M do).
_ping() {
    local s=$1 dst=$2; shift 2
    nsx "$s" ping -n -q -c "${E2E_PING_COUNT:-3}" -i 0.2 -W 1 -w "${E2E_PING_DEADLINE:-3}" "$@" "$dst" >"$E2E_TMP/ping.out" 2>&1
}
assert_ping_ok() {
    local s=$1 dst=$2; shift 2
    if _ping "$s" "$dst" "$@"; then pass "ping $s -> $dst $*"
    else fail "ping $s -> $dst $*: no reply ($(grep -E 'transmitted|rror' "$E2E_TMP/ping.out" | tr '\n' ' '))"; fi
}
assert_ping_fails() {
    local s=$1 dst=$2; shift 2
    if E2E_PING_DEADLINE=${E2E_PING_DEADLINE:-2} _ping "$s" "$dst" "$@"; then fail "ping $s -> $dst $*: got a reply, expected none"
    else pass "ping $s -> $dst $* fails as expected"; fi
}
# wait_ping NS DST [SECONDS]: retry until one reply (returns status, no PASS/FAIL)
wait_ping() {
    local s=$1 dst=$2 end=$((SECONDS + ${3:-10}))
    while [ $SECONDS -lt $end ]; do
        nsx "$s" ping -n -q -c 1 -W 1 "$dst" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------- UDP ----
# udp_check FROM_NS TO_NS DST PORT [SPORT] [BIND]
#   Sends one datagram from FROM_NS to DST:PORT (source port SPORT if given),
#   a receiver bound to BIND (default 0.0.0.0):PORT in TO_NS answers it.
#   Returns 0 iff the datagram arrived AND the reply came back.
#   Sets E2E_UDP_SEEN_SRC ("ip:port" as seen by the receiver) and
#   E2E_UDP_REPLY_SRC ("ip:port" the reply came from, as seen by the sender).
udp_check() {
    local from=$1 to=$2 dst=$3 port=$4 sport=${5:-0} bind=${6:-0.0.0.0}
    local tok="e2e-$RANDOM$RANDOM" rx="$E2E_TMP/udp-rx.$$.$RANDOM" ready rpid rc
    ready="$rx.ready"
    E2E_UDP_SEEN_SRC=""; E2E_UDP_REPLY_SRC=""
    nsx "$to" "$E2E_PY" "$E2E_LIB/udp.py" recv --bind "$bind" --port "$port" \
        --timeout "${E2E_UDP_TIMEOUT:-3}" --echo --ready "$ready" >"$rx" 2>&1 &
    rpid=$!
    for _ in $(seq "${E2E_READY_TRIES:-50}"); do [ -e "$ready" ] && break; sleep 0.05; done
    E2E_UDP_REPLY_SRC=$(nsx "$from" "$E2E_PY" "$E2E_LIB/udp.py" send --to "$dst" --port "$port" \
        --sport "$sport" --payload "$tok" --timeout "${E2E_UDP_TIMEOUT:-3}" 2>/dev/null)
    rc=$?
    wait "$rpid" 2>/dev/null
    if grep -q " $tok\$" "$rx" 2>/dev/null; then
        E2E_UDP_SEEN_SRC=$(awk -v t="$tok" '$2 == t {print $1; exit}' "$rx")
    else
        rc=1
    fi
    rm -f "$rx" "$ready"
    return $rc
}
# udp_arrives FROM_NS TO_NS DST PORT [SPORT]: one-way only (no reply needed)
udp_arrives() {
    local from=$1 to=$2 dst=$3 port=$4 sport=${5:-0}
    local tok="e2e-$RANDOM$RANDOM" rx="$E2E_TMP/udp-rx.$$.$RANDOM" rpid rc=1
    nsx "$to" "$E2E_PY" "$E2E_LIB/udp.py" recv --port "$port" --timeout "${E2E_UDP_TIMEOUT:-3}" \
        --ready "$rx.ready" >"$rx" 2>&1 &
    rpid=$!
    for _ in $(seq "${E2E_READY_TRIES:-50}"); do [ -e "$rx.ready" ] && break; sleep 0.05; done
    nsx "$from" "$E2E_PY" "$E2E_LIB/udp.py" send --to "$dst" --port "$port" --sport "$sport" \
        --payload "$tok" --no-reply >/dev/null 2>&1
    wait "$rpid" 2>/dev/null
    grep -q " $tok\$" "$rx" 2>/dev/null && { rc=0; E2E_UDP_SEEN_SRC=$(awk -v t="$tok" '$2 == t {print $1; exit}' "$rx"); }
    rm -f "$rx" "$rx.ready"
    return $rc
}
assert_udp_ok() {
    if udp_check "$@"; then pass "udp $1 -> $2 $3:$4 (seen from $E2E_UDP_SEEN_SRC, reply from $E2E_UDP_REPLY_SRC)"
    else fail "udp $1 -> $2 $3:$4: no exchange (seen='$E2E_UDP_SEEN_SRC' reply='$E2E_UDP_REPLY_SRC')"; fi
}
assert_udp_fails() {
    if E2E_UDP_TIMEOUT=${E2E_UDP_TIMEOUT:-2} udp_arrives "$@"; then fail "udp $1 -> $2 $3:$4: arrived, expected it blocked"
    else pass "udp $1 -> $2 $3:$4 blocked as expected"; fi
}

# ---------------------------------------------- protocols without ports ----
# ipproto_check FROM_NS TO_NS DST PROTO : raw IPv4 packet of protocol PROTO
#   (50 = ESP with a fake ESP header) from FROM_NS to DST, a raw receiver in
#   TO_NS echoes it back. rc 0 iff it arrived and the echo came back.
#   Sets E2E_IP_SEEN_SRC (source seen by the receiver) and E2E_IP_REPLY_SRC.
#   Note: strongSwan with kernel-libipsec never sends proto 50 (ESP is always
#   in UDP 4500), so this is how tests exercise "proto esp" rules.
ipproto_check() {
    local from=$1 to=$2 dst=$3 proto=$4
    local tok="e2e-$RANDOM$RANDOM" rx="$E2E_TMP/ip-rx.$$.$RANDOM" rpid rc
    E2E_IP_SEEN_SRC=""; E2E_IP_REPLY_SRC=""
    nsx "$to" "$E2E_PY" "$E2E_LIB/udp.py" ip-recv --proto "$proto" --timeout "${E2E_UDP_TIMEOUT:-3}" \
        --echo --ready "$rx.ready" >"$rx" 2>&1 &
    rpid=$!
    for _ in $(seq "${E2E_READY_TRIES:-50}"); do [ -e "$rx.ready" ] && break; sleep 0.05; done
    E2E_IP_REPLY_SRC=$(nsx "$from" "$E2E_PY" "$E2E_LIB/udp.py" ip-send --proto "$proto" --to "$dst" \
        --payload "$tok" --timeout "${E2E_UDP_TIMEOUT:-3}" 2>/dev/null)
    rc=$?
    wait "$rpid" 2>/dev/null
    if grep -q " $tok\$" "$rx" 2>/dev/null; then
        E2E_IP_SEEN_SRC=$(awk -v t="$tok" '$2 == t {print $1; exit}' "$rx")
    else
        rc=1
    fi
    rm -f "$rx" "$rx.ready"
    return $rc
}
# ipproto_arrives FROM_NS TO_NS DST PROTO : one way only
ipproto_arrives() {
    local from=$1 to=$2 dst=$3 proto=$4
    local tok="e2e-$RANDOM$RANDOM" rx="$E2E_TMP/ip-rx.$$.$RANDOM" rpid rc=1
    nsx "$to" "$E2E_PY" "$E2E_LIB/udp.py" ip-recv --proto "$proto" --timeout "${E2E_UDP_TIMEOUT:-3}" \
        --ready "$rx.ready" >"$rx" 2>&1 &
    rpid=$!
    for _ in $(seq "${E2E_READY_TRIES:-50}"); do [ -e "$rx.ready" ] && break; sleep 0.05; done
    nsx "$from" "$E2E_PY" "$E2E_LIB/udp.py" ip-send --proto "$proto" --to "$dst" --payload "$tok" \
        --no-reply >/dev/null 2>&1
    wait "$rpid" 2>/dev/null
    grep -q " $tok\$" "$rx" 2>/dev/null && { rc=0; E2E_IP_SEEN_SRC=$(awk -v t="$tok" '$2 == t {print $1; exit}' "$rx"); }
    rm -f "$rx" "$rx.ready"
    return $rc
}
assert_ipproto_ok() {
    if ipproto_check "$@"; then pass "proto $4 $1 -> $2 $3 (seen from $E2E_IP_SEEN_SRC, reply from $E2E_IP_REPLY_SRC)"
    else fail "proto $4 $1 -> $2 $3: no exchange (seen='$E2E_IP_SEEN_SRC' reply='$E2E_IP_REPLY_SRC')"; fi
}
assert_ipproto_fails() {
    if E2E_UDP_TIMEOUT=${E2E_UDP_TIMEOUT:-2} ipproto_arrives "$@"; then fail "proto $4 $1 -> $2 $3: arrived, expected it blocked"
    else pass "proto $4 $1 -> $2 $3 blocked as expected"; fi
}

# --------------------------------------------------------------- JSON ----
# json_get PATH [FILE]: PATH is dot separated, list indexes are numbers
#   (e.g. chains.input.rules.0.packets); "-" or no FILE reads stdin.
#   Prints strings raw, other values as JSON; missing -> empty output, rc 1.
#   Filters: PATH "length" suffix, e.g. "nat.length", gives a length.
json_get() {
    "$E2E_PY" -c '
import json, sys
path, src = sys.argv[1], sys.argv[2]
try:
    v = json.load(sys.stdin if src == "-" else open(src))
    for k in [p for p in path.split(".") if p != ""]:
        if k == "length":
            v = len(v); continue
        v = v[int(k)] if isinstance(v, list) else v[k]
except (KeyError, IndexError, ValueError, TypeError) as e:
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
' "$1" "${2:--}"
}
# json_find ARRAY_JSON KEY=VAL... FIELD: in a JSON array (stdin), the FIELD
#   of the first element whose keys equal the given values (numbers compare as
#   text), e.g.  fw fw conntrack --json | json_find proto=udp dport=500 state
json_find() {
    "$E2E_PY" -c '
import json, sys
arr = json.load(sys.stdin); conds = [a.split("=", 1) for a in sys.argv[1:-1]]; field = sys.argv[-1]
for e in arr:
    if all(str(e.get(k)) == v for k, v in conds):
        v = e.get(field); print(v if isinstance(v, str) else json.dumps(v)); sys.exit(0)
sys.exit(1)
' "$@"
}

# ------------------------------------------------------------ finish ----
e2e_finish() {
    printf '# %s: %d passed, %d failed\n' "$(basename "$0")" "$E2E_PASS" "$E2E_FAIL"
    if [ "$E2E_FAIL" -gt 0 ]; then exit 1; fi
    exit 0
}

# wait_until SECONDS CMD... : poll CMD every 0.2 s; rc 0 when it succeeded
wait_until() {
    local t=$1; shift
    local end=$((SECONDS + t))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.2
    done
}

# capture_start NS IF FILE [FILTER...]: tcpdump in NS on IF, packet-buffered
# into FILE; returns once it is listening (a capture that starts late sees
# nothing and proves nothing). capture_stop ends it (FILE complete).
capture_start() {
    local s=$1 ifc=$2 file=$3; shift 3
    nsx "$s" tcpdump -n -U -i "$ifc" -w "$file" "$@" 2>"$file.err" &
    E2E_CAP_PID=$!
    e2e_track_pid "$E2E_CAP_PID"
    wait_until 30 grep -q "listening on" "$file.err" ||
        fail "tcpdump on $ifc in $s did not start: $(cat "$file.err")"
}
capture_stop() {
    kill "$E2E_CAP_PID" 2>/dev/null
    wait "$E2E_CAP_PID" 2>/dev/null
    e2e_untrack_pid "$E2E_CAP_PID"
}
