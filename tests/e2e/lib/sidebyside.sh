#!/bin/bash
# Cases run side by side in several modes on one topology: fwctl's modes
# assert (PASS/FAIL), nftables' (mode "nft") is the reference and only
# recorded; side_by_side_table prints the results, one column per mode.
# Source after netns.sh.

declare -A RES SEEN
CASES=()

# record MODE CASE OK(0|1) DETAIL
record() {
    local mode=$1 c=$2 ok=$3 detail=$4
    [ -n "${SEEN[$c]:-}" ] || { SEEN[$c]=1; CASES+=("$c"); }
    RES[$mode,$c]=$([ "$ok" = 0 ] && echo pass || echo FAIL)
    if [ "$mode" = nft ]; then
        e2e_log "nftables $c: ${RES[$mode,$c]} ($detail)"
    elif [ "$ok" = 0 ]; then pass "$mode: $c ($detail)"
    else fail "$mode: $c ($detail)"; fi
}

# side_by_side_table CASE_WIDTH MODE...
side_by_side_table() {
    local w=$1 m c
    shift
    printf '\n%-*s' "$w" case
    for m in "$@"; do printf ' %-10s' "$m"; done
    echo
    for c in "${CASES[@]}"; do
        printf '%-*s' "$w" "$c"
        for m in "$@"; do printf ' %-10s' "${RES[$m,$c]:--}"; done
        echo
    done
    echo
}
