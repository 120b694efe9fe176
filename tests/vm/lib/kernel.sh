# Fetches and unpacks one of Debian's stock kernels for the VM lane, cached
# under the build tree. Never installs anything on the host: `apt-get
# download` + `dpkg -x` into a private directory, then `depmod -b`.
#
#   vm_kernel_fetch KERNEL CACHE   KERNEL: "6.1" (Debian 12) or "6.12" (bookworm-backports)
# Sets VM_KVER (the uname -r), VM_KROOT (the unpacked tree, with
# lib/modules/$VM_KVER) and VM_VMLINUZ.

# The exact package behind the linux-image-amd64 meta-package: 6.12 is the
# backports version, 6.1 the newest one from Debian 12 itself.
vm_kernel_package() {
	local want=$1 ver
	if [ "$want" = 6.12 ]; then
		ver=$(apt-cache madison linux-image-amd64 | awk -F'|' '$2 ~ /bpo12/ {gsub(/ /,"",$2); print $2; exit}')
	else
		ver=$(apt-cache madison linux-image-amd64 | awk -F'|' '$2 !~ /bpo/ {gsub(/ /,"",$2); print $2; exit}')
	fi
	[ -n "$ver" ] || { echo "vm: no linux-image-amd64 for $want in apt (run tools/setup.sh; it adds bookworm-backports)" >&2; return 1; }
	apt-cache show "linux-image-amd64=$ver" | sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1
}

vm_kernel_fetch() {
	local want=$1 cache=$2 pkg dir deb
	pkg=$(vm_kernel_package "$want") || return 1
	[ -n "$pkg" ] || { echo "vm: cannot resolve the kernel package for $want" >&2; return 1; }
	dir=$cache/kernel/$pkg
	if [ ! -e "$dir/.unpacked" ]; then
		mkdir -p "$dir/deb"
		if ! ls "$dir/deb/"*.deb >/dev/null 2>&1; then
			# apt drops privileges to _apt for downloads; a directory it can write.
			chmod 777 "$dir/deb"
			(cd "$dir/deb" && apt-get download -q "$pkg") >&2 || return 1
		fi
		deb=$(ls "$dir/deb/"*.deb | head -1)
		rm -rf "$dir/root" && mkdir -p "$dir/root"
		dpkg -x "$deb" "$dir/root"
		touch "$dir/.unpacked"
	fi
	VM_KROOT=$dir/root
	VM_KVER=$(ls "$VM_KROOT/lib/modules" | head -1)
	VM_VMLINUZ=$VM_KROOT/boot/vmlinuz-$VM_KVER
	if [ ! -e "$VM_KROOT/lib/modules/$VM_KVER/modules.dep" ]; then
		depmod -b "$VM_KROOT" "$VM_KVER"
	fi
	[ -r "$VM_VMLINUZ" ] || { echo "vm: no vmlinuz in $deb" >&2; return 1; }
}
