#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT - assemble dom0's initramfs (an uncompressed newc cpio) from parts built
# and provisioned elsewhere. Rebuilt for every boot: it takes well under a second.
#
# Environment (the top Makefile sets it):
#   BUSYBOX KMODROOT KABI	busybox-static, and the unpacked linux-image (lib/modules/KABI)
#   MODE DRIVER INTERACTIVE	written to /etc/testbed.conf for init.sh
#   MODULE			our xen-gntalloc.ko (DRIVER=ours; empty when built into the kernel)
#   KSFT			an installed kselftest tree (MODE=check)
#   DEMO			the gntalloc-demo binary
#   PAYLOAD			the script or static binary to run (MODE=vm-run)
#   VM_FILES			optional: more files (space-separated paths) copied into /usr/bin
#   DEBUG			optional: 1 for the debug kernel of make check-debug (init-debug.sh)
#   XDOMAIN TOOLSTACK VMLINUZ GUEST_ROLE
#				optional: XDOMAIN=1 adds a second domain's makings (only for the
#				runs that need them): Xen's toolstack (provision.sh toolstack)
#				in /opt/xen (its loader at /lib64) with a wrapper per program
#				in /usr/sbin,
#				xdomain-dom0.sh, and the guest's kernel and initramfs
#				(mkguest.sh, with GUEST_ROLE) in /xdomain
set -eu

here=$(dirname "$0")
out=$1
root=$out.d
die() { echo "mkinitramfs: $*" >&2; exit 1; }
. "$here/initramfs-lib.sh"

initramfs_base "$root" root
rm "$root/usr/bin/timeout"
cp "$here/timeout.sh" "$root/usr/bin/timeout"
cp "$here/init.sh" "$root/init"
[ "${DEBUG:-0}" = 0 ] || cp "$here/init-debug.sh" "$root/init-debug.sh"

# The stock modules init.sh loads, with whatever they depend on.
initramfs_modules "$root" xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc

# (no MODULE: our driver is built into the kernel, the built-in debug kernel's case)
if { [ "$DRIVER" = ours ] || [ "$DRIVER" = stock-patched ]; } && [ -n "${MODULE:-}" ]; then
	mkdir -p "$root/gntalloc"
	cp "$MODULE" "$root/gntalloc/xen-gntalloc.ko"
fi
[ -z "${KSFT:-}" ] || cp -a "$KSFT" "$root/kselftest"
[ -z "${DEMO:-}" ] || cp "$DEMO" "$root/usr/bin/gntalloc-demo"
if [ -n "${PAYLOAD:-}" ]; then
	cp "$PAYLOAD" "$root/payload"
	chmod +x "$root/payload"
fi
for f in ${VM_FILES:-}; do
	cp "$f" "$root/usr/bin/"
done
# ---- xdomain: Xen's toolstack and a guest domain's kernel and initramfs ----
if [ "${XDOMAIN:-0}" = 1 ]; then
	mkdir -p "$root/opt/xen" "$root/xdomain"
	cp -a "$TOOLSTACK/bin" "$TOOLSTACK/lib" "$root/opt/xen/"
	# The toolstack's own loader and libc (Xen 4.20's are Debian 13's). Everything else here is
	# static, so its loader takes the standard path (the programs' PT_INTERP): running it
	# explicitly (ld.so --library-path) crashed now and then in glibc 2.36's argument
	# shuffling at start-up.
	[ ! -e "$root/lib64/ld-linux-x86-64.so.2" ] || die "dom0 has a loader of its own"
	mkdir -p "$root/lib64"
	ln -s /opt/xen/lib/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
	for b in "$TOOLSTACK"/bin/*; do
		printf '#!/bin/sh\nLD_LIBRARY_PATH=/opt/xen/lib exec /opt/xen/bin/%s "$@"\n' \
			"${b##*/}" >"$root/usr/sbin/${b##*/}"
		chmod +x "$root/usr/sbin/${b##*/}"
	done
	cp "$here/xdomain-dom0.sh" "$root/xdomain-dom0.sh"
	cp "$here/xdomain-demo.sh" "$root/usr/bin/xdomain-demo"
	cp "$GUEST_ROLE" "$root/usr/bin/gntalloc_xdomain_guest"
	cp "$VMLINUZ" "$root/xdomain/vmlinuz"
	"$here/mkguest.sh" "$root/xdomain/guest.cpio.gz"
fi
printf 'MODE=%s\nDRIVER=%s\nINTERACTIVE=%s\nDEBUG=%s\nXDOMAIN=%s\n' "$MODE" "$DRIVER" \
	"$INTERACTIVE" "${DEBUG:-0}" "${XDOMAIN:-0}" >"$root/etc/testbed.conf"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out"
