#!/bin/bash
# The Debian package: builds it (`--target package`), installs it on this
# machine with apt-get, checks the unit, the man page and `fwctl --version`
# (version and the build's commit), then purges it. Skips (77) with a
# message where dpkg/apt cannot be used, or where an fwctl package that is
# not ours is installed (we would replace it). Installing starts nothing: the
# maintainer scripts only enable units (see packaging/debian/postinst).
set -u
BUILD=${FW_BUILD:?build dir}
: "${FWCTL:?path of the fwctl binary}"
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
fails=0
[ "$(id -u)" = 0 ] || skip "needs root (apt-get install)"
command -v dpkg >/dev/null && command -v apt-get >/dev/null || skip "no dpkg/apt-get here"
dpkg --audit >/dev/null 2>&1 || skip "dpkg's database is busy or broken"
if dpkg-query -W -f='${Status}' fwctl 2>/dev/null | grep -q "ok installed"; then
	skip "an fwctl package is installed already; not replacing it"
fi
cmake --build "$BUILD" --target package >/dev/null || { echo "FAIL: cmake --build --target package"; exit 1; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
deb=$(ls "$BUILD"/fwctl_"${version}"_amd64.deb 2>/dev/null) || { echo "FAIL: no fwctl_${version}_amd64.deb"; exit 1; }
echo "package: $deb"
deps=$(dpkg-deb -f "$deb" Depends)
echo "$deps" | grep -q 'libelf1' || fail "Depends does not name libelf1 (shlibdeps): $deps"
# libbpf linked in (the build found libbpf.a): no libbpf1 to depend on, so
# the package installs on Debian 12 without backports; else 1.4 from there.
if ldd "$FWCTL" | grep -q 'libbpf\.so'; then
	echo "$deps" | grep -q 'libbpf1 (>= 1:1.4)' || fail "shared libbpf, but Depends lacks libbpf1 (>= 1:1.4): $deps"
else
	echo "$deps" | grep -q 'libbpf1' && fail "libbpf is linked in, yet Depends names libbpf1: $deps"
fi
# libsystemd is opened by `fwctl log --journal` only (dlopen), not needed.
echo "$deps" | grep -q 'libsystemd0' && fail "Depends names libsystemd0, which fwctl no longer links: $deps"
cleanup() { DEBIAN_FRONTEND=noninteractive apt-get purge -y -q fwctl >/dev/null 2>&1; }
trap cleanup EXIT
(cd "$(dirname "$deb")" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "./$(basename "$deb")") \
	>"$BUILD/deb-install.log" 2>&1 || { cat "$BUILD/deb-install.log"; echo "FAIL: apt-get install"; exit 1; }
echo "ok: apt-get install ./$(basename "$deb")"

[ -x /usr/sbin/fwctl ] || fail "/usr/sbin/fwctl missing"
want=$("$FWCTL" --version)
got=$(/usr/sbin/fwctl --version)
[ "$got" = "$want" ] && echo "ok: fwctl --version: $got" || fail "installed --version '$got', build says '$want'"
echo "$got" | grep -Eq "^fwctl $version \(commit [0-9a-f]{7,}" || fail "--version lacks version or commit: $got"
if [ -d /run/systemd/system ]; then
	systemctl cat fwctl.service | grep -q '^ExecStart=/usr/sbin/fwctl run /etc/fwctl/rules.json' &&
		echo "ok: systemctl cat fwctl.service" || fail "systemctl cat fwctl.service"
	systemctl is-active --quiet fwctl.service && fail "installing started fwctl.service"
else
	echo "note: systemd is not PID 1 here: systemctl cat cannot run; checking the installed unit file instead"
	grep -q '^ExecStart=/usr/sbin/fwctl run /etc/fwctl/rules.json' /usr/lib/systemd/system/fwctl.service &&
		echo "ok: /usr/lib/systemd/system/fwctl.service" || fail "installed fwctl.service"
	SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no /usr/lib/systemd/system/fwctl*.service \
		/usr/lib/systemd/system/fwctl-metrics.timer && echo "ok: systemd-analyze verify (installed units)" ||
		fail "systemd-analyze verify on the installed units"
fi
man -w fwctl | grep -q '/usr/share/man/man8/fwctl.8' && echo "ok: man -w fwctl: $(man -w fwctl)" || fail "man -w fwctl"
[ -r /usr/share/bash-completion/completions/fwctl ] && echo "ok: bash completion installed" || fail "no completion"
[ -r /usr/share/doc/fwctl/ops.md ] || fail "no docs"
[ -e /etc/fwctl/rules.json ] && fail "the package wrote a start-up ruleset"

cleanup
trap - EXIT
[ -e /usr/sbin/fwctl ] && fail "purge left /usr/sbin/fwctl"
dpkg-query -W -f='${Status}' fwctl 2>/dev/null | grep -q "installed" && fail "still installed after purge"
[ -e /etc/systemd/system/sysinit.target.wants/fwctl.service ] && fail "purge left fwctl.service enabled"
echo "ok: purged"
[ "$fails" = 0 ] && echo "PASS: package" || echo "FAIL: $fails"
exit $((fails > 0))
