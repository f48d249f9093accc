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
. "$here/initramfs-lib.sh"
[ -x "$GUEST_ROLE" ] || die "no role program $GUEST_ROLE"

initramfs_base "$root"
cp "$here/guest-init.sh" "$root/init"
cp "$GUEST_ROLE" "$root/usr/bin/gntalloc_xdomain_guest"

initramfs_modules "$root" xen-evtchn xenfs xen-gntdev xen-gntalloc
if [ "$DRIVER" = ours ]; then
	mkdir -p "$root/gntalloc"
	cp "$MODULE" "$root/gntalloc/xen-gntalloc.ko"
fi
printf 'DRIVER=%s\n' "$DRIVER" >"$root/etc/guest.conf"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
rm -rf "$root"
