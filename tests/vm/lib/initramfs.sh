# Builds the busybox initramfs that boots every VM of the lane. It holds only
# busybox, tests/vm/guest/init and the modules needed to reach the host's
# 9p shares (virtio-pci, 9pnet_virtio, 9p, plus ext4/virtio-blk for the
# systemd boot test); everything else (bash, iproute2, python3, strongSwan,
# fwctl) comes read-only from the host over 9p, so the guest has the same
# tools as the host's e2e tests.
#
#   vm_initramfs_build KROOT KVER SRC OUT.cpio.gz

VM_BOOT_MODULES="virtio_pci 9pnet_virtio 9p virtio_blk ext4 virtio_net"

vm_initramfs_build() {
	local kroot=$1 kver=$2 src=$3 out=$4 stage m line path base order=""
	stage=$(mktemp -d) || return 1
	mkdir -p "$stage"/{bb,kmod,proc,sys,dev,usr,etc,host/etc,kroot,run,tmp,root,mnt,newroot}
	cp /bin/busybox "$stage/bb/busybox"
	cp "$src/tests/vm/guest/init" "$stage/init"
	chmod 755 "$stage/init"
	for m in $VM_BOOT_MODULES; do
		while read -r line; do
			case $line in insmod\ *) ;; *) continue ;; esac
			path=${line#insmod }; path=${path%% *}
			base=$(basename "$path"); base=${base%.xz}; base=${base%.zst}
			case " $order " in *" $base "*) continue ;; esac
			case $path in
			*.xz) xz -dc "$path" >"$stage/kmod/$base" ;;
			*.zst) zstd -qdc "$path" >"$stage/kmod/$base" ;;
			*) cp "$path" "$stage/kmod/$base" ;;
			esac
			order="$order $base"
		done < <(modprobe -d "$kroot" -S "$kver" --show-depends "$m")
	done
	echo "$order" | tr ' ' '\n' | sed '/^$/d' >"$stage/kmod/order"
	(cd "$stage" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp" &&
		mv "$out.tmp" "$out"
	local rc=$?
	rm -rf "$stage"
	return $rc
}
