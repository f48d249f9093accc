#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkguest.sh OUT - the initramfs of a test-bed guest domain (gzipped newc cpio), which dom0's
# tests boot with xl create (gntalloc_xdomain.h): busybox, the stock Xen device modules of the
# same kernel as dom0, the same xen-gntalloc (ours, or the stock one for DRIVER=stock), the
# role program and guest-init.sh as /init. Called by mkinitramfs.sh; about 3 MB.
#
# Environment: BUSYBOX KMODROOT KABI DRIVER MODULE (as mkinitramfs.sh), GUEST_ROLE (the static
# gntalloc_xdomain_guest).
set -eu

here=$(dirname "$0")
out=$1
root=$out.d
die() { echo "mkguest: $*" >&2; exit 1; }
[ -x "$GUEST_ROLE" ] || die "no role program $GUEST_ROLE"

rm -rf "$root"
mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin "$root"/etc "$root"/proc \
	"$root"/sys "$root"/dev "$root"/tmp "$root/lib/modules/$KABI"
mknod "$root/dev/console" c 5 1
cp "$BUSYBOX" "$root/bin/busybox"
for applet in $("$BUSYBOX" --list-full); do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cp "$here/guest-init.sh" "$root/init"
cp "$GUEST_ROLE" "$root/usr/bin/gntalloc_xdomain_guest"

mods=$(modprobe -D -a -d "$KMODROOT" -S "$KABI" xen-evtchn xenfs xen-gntdev xen-gntalloc |
	sed -n 's/^insmod //p' | sort -u)
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
if [ "$DRIVER" = ours ]; then
	mkdir -p "$root/gntalloc"
	cp "$MODULE" "$root/gntalloc/xen-gntalloc.ko"
fi
printf 'DRIVER=%s\n' "$DRIVER" >"$root/etc/guest.conf"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
rm -rf "$root"
