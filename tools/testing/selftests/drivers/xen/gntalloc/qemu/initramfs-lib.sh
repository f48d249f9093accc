# SPDX-License-Identifier: GPL-2.0
#
# initramfs-lib.sh - what dom0's initramfs (mkinitramfs.sh) and a guest's (mkguest.sh) are both
# made of, sourced by them. Needs BUSYBOX, KMODROOT and KABI in the environment and die().

# initramfs_base ROOT [DIR...]: an empty tree with /dev/console (the kernel opens it for init
# before anything is mounted) and busybox with a link per applet; DIR... are made as well.
initramfs_base() {
	local root=$1 applet
	shift
	rm -rf "$root"
	mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin "$root"/etc \
		"$root"/proc "$root"/sys "$root"/dev "$root"/tmp "$root/lib/modules/$KABI"
	for d in "$@"; do
		mkdir -p "$root/$d"
	done
	mknod "$root/dev/console" c 5 1
	cp "$BUSYBOX" "$root/bin/busybox"
	for applet in $("$BUSYBOX" --list-full); do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

# initramfs_modules ROOT MODULE...: the kernel's own modules MODULE... with whatever they depend
# on, and depmod. 6.12 and 7.3 ship them xz-compressed: stored plain, so that busybox modprobe
# needs no decompressor.
initramfs_modules() {
	local root=$1 mods m rel f
	shift
	mods=$(modprobe -D -a -d "$KMODROOT" -S "$KABI" "$@" | sed -n 's/^insmod //p' | sort -u)
	[ -n "$mods" ] || die "no modules found under $KMODROOT for $KABI"
	for m in $mods; do
		rel=${m#"$KMODROOT/lib/modules/$KABI/"}
		mkdir -p "$root/lib/modules/$KABI/$(dirname "$rel")"
		case $m in
		*.xz) xz -dc "$m" >"$root/lib/modules/$KABI/${rel%.xz}" ;;
		*) cp "$m" "$root/lib/modules/$KABI/$rel" ;;
		esac
	done
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ ! -e "$KMODROOT/lib/modules/$KABI/$f" ] || cp "$KMODROOT/lib/modules/$KABI/$f" \
			"$root/lib/modules/$KABI/"
	done
	depmod -b "$root" "$KABI"
}
