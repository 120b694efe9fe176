#!/bin/bash
# Installs every Debian package that fwctl's build, tests, demo and
# benchmarks need, on Debian 12 (bookworm). Idempotent. Needs root.
#
# Why backports: Debian 12's libbpf 1.1 and bpftool 7.1 predate tcx links
# (bpf_link_create with BPF_TCX_EGRESS, libbpf >= 1.3) and gen skeleton of
# newer objects; bookworm-backports has libbpf 1.4 and bpftool 7.5.
#
# The VM lane (tests/vm) needs qemu, busybox-static, debootstrap and kmod
# (depmod/modprobe on the guest kernels' trees); it downloads the guest
# kernels itself with `apt-get download` (never installs them).
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (sudo $0)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo 'deb http://deb.debian.org/debian bookworm-backports main' >/etc/apt/sources.list.d/fwctl-backports.list
fi

PKGS_BPF="libbpf-dev libbpf1 bpftool"
PKGS="clang-16 llvm-16 libclang-rt-16-dev libelf-dev zlib1g-dev libcli11-dev nlohmann-json3-dev doctest-dev
      cmake make g++ pkg-config iproute2 iputils-ping nftables ethtool socat tcpdump python3 procps
      strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins
      systemd
      qemu-system-x86 busybox-static debootstrap kmod e2fsprogs xz-utils zstd util-linux"

need=0
dpkg --compare-versions "$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null || echo 0)" ge 1:1.4 || need=1
dpkg --compare-versions "$(dpkg-query -W -f='${Version}' bpftool 2>/dev/null || echo 0)" ge 7.5 || need=1
for p in $PKGS; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need=1; done
if [ "$need" = 1 ]; then
	apt-get update -q
	apt-get install -y -q -t bookworm-backports $PKGS_BPF
	# strongSwan's packages start charon on install; we run our own per namespace.
	apt-get install -y -q $PKGS
	systemctl disable --now strongswan-starter.service strongswan.service >/dev/null 2>&1 || true
fi
echo "setup.sh: build and test dependencies are installed"
