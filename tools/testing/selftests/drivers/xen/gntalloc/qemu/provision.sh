#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# provision.sh PART... - give this Debian 12 machine what the test bed needs, idempotently.
#
#   host     host tools, installed with apt-get (only the missing ones; `apt-get update` only then)
#   headers  linux-headers-<abi> + -common + linux-kbuild: a prepared tree to build modules against
#   kernel   linux-image-<abi>: vmlinuz and /lib/modules/<abi> (depmod'ed)
#   xen      xen-hypervisor-4.17-amd64, gunzipped (QEMU's -kernel wants the multiboot ELF)
#   libxen   libxen-dev: static libxengnttab/libxentoolcore/libxentoollog and their headers
#   busybox  busybox-static, the guest's userland (not installed: it conflicts with busybox)
#   ksft     the kselftest framework files from linux-source-<ver>, copied into $KSFT_DIR
#
# Environment: KERNEL (6.1 or 6.12), GNTALLOC_CACHE, KSFT_DIR.
# Everything but `host` is fetched with `apt-get download` and unpacked with `dpkg -x` into
# $GNTALLOC_CACHE/<package>_<version>/, never installed: a new version on the mirror gets a new
# directory, and a warm run only asks apt-cache which versions are current.
# stdout carries only KEY=VALUE lines (read by the top Makefile); all chatter goes to stderr.
set -euo pipefail

KERNEL=${KERNEL:-6.1}
CACHE=${GNTALLOC_CACHE:-/var/cache/xen-gntalloc}
export DEBIAN_FRONTEND=noninteractive
# Wait for a colleague's apt/dpkg run instead of failing on its lock.
APT_LOCK="-o DPkg::Lock::Timeout=900"

HOST_PACKAGES="qemu-system-x86 cpio kmod xz-utils make gcc-12 libc6-dev libelf1 libssl3 zlib1g
	pahole rsync"

say() { printf 'provision: %s\n' "$*" >&2; }
die() { printf 'provision: ERROR: %s\n' "$*" >&2; exit 1; }
out() { printf '%s=%s\n' "$1" "$2" >&3; }

# Package lists may be missing (fresh machine) or stale (a version vanished from the mirror).
# Either way the work exits with STALE; the wrapper at the bottom updates the lists once and
# starts over, so every version is resolved from the same fresh lists.
STALE=75
stale() {
	say "$1"
	exit $STALE
}

# candidate PKG: the version apt would install now
candidate() {
	local v
	v=$(apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$v" ] || stale "no package $1 in the apt lists"
	echo "$v"
}

# depends PKG PATTERN: the first dependency of PKG's candidate whose name matches PATTERN
depends() {
	candidate "$1" >/dev/null
	apt-cache show --no-all-versions "$1" | sed -n 's/^Depends: //p' | head -n1 |
		tr ',|' '\n\n' | awk '{print $1}' | grep -E -m1 "$2" || die "$1 has no dependency $2"
}

# apt-get download drops root for the fetch and warns if user _apt cannot write the directory.
sandbox() { ! id _apt >/dev/null 2>&1 || chown _apt "$1"; }

# unpack DIR PKG=VER...: download and unpack the packages into DIR/root, once. A half-done
# directory (no .done stamp; the caller writes it after its fix-ups) is thrown away and redone.
unpack() {
	local dir=$1 p
	shift
	if [ ! -e "$dir/.done" ]; then
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp/debs"
		sandbox "$dir.tmp/debs"
		for p in "$@"; do
			say "downloading $p"
			(cd "$dir.tmp/debs" && apt-get download -q "$p") || stale "cannot download $p"
		done
		for p in "$dir.tmp"/debs/*.deb; do
			dpkg -x "$p" "$dir.tmp/root"
		done
		rm -rf "$dir.tmp/debs"
		mv "$dir.tmp" "$dir"
	fi
}

done_stamp() { touch "$1/.done"; }

# cachedir PKG VER: where PKG=VER lives; an epoch's ':' is spelt %3a as apt does in file names.
cachedir() { echo "$CACHE/${1}_${2//:/%3a}"; }

kernel_meta() {
	case $KERNEL in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) die "KERNEL=$KERNEL: only 6.1 (default) and 6.12 are provisioned; use KDIR= for others" ;;
	esac
}

# The kernel's ABI name (6.1.0-NN-amd64) comes from the metapackage, never from this script.
resolve_kernel() {
	META=$(kernel_meta)
	IMAGE_PKG=$(depends "$META" '^linux-image-')
	ABI=${IMAGE_PKG#linux-image-}
	ABI=${ABI%-unsigned}
	IMAGE_VER=$(candidate "$IMAGE_PKG")
}

part_host() {
	local p missing=
	for p in $HOST_PACKAGES; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q ' installed$' ||
			missing="$missing $p"
	done
	[ -n "$missing" ] || return 0
	[ "$(id -u)" = 0 ] || die "not root; please install:$missing"
	say "installing host tools:$missing"
	if [ -z "${PROVISION_UPDATED:-}" ]; then
		apt-get $APT_LOCK update -q || die "apt-get update failed"
		PROVISION_UPDATED=1
	fi
	# shellcheck disable=SC2086
	apt-get $APT_LOCK install -y -q --no-install-recommends $missing ||
		die "apt-get install failed"
}

part_headers() {
	local pkg ver common common_ver kbuild kbuild_ver dir
	resolve_kernel
	pkg=linux-headers-$ABI
	ver=$(candidate "$pkg")
	common=$(depends "$pkg" '^linux-headers-.*-common$')
	common_ver=$(candidate "$common")
	kbuild=$(depends "$pkg" '^linux-kbuild-')
	kbuild_ver=$(candidate "$kbuild")
	# One tree for all three: the headers reach kbuild's scripts through relative symlinks.
	dir=$(cachedir "$pkg" "$ver")
	unpack "$dir" "$pkg=$ver" "$common=$common_ver" "$kbuild=$kbuild_ver"
	if [ ! -e "$dir/.done" ]; then
		# The arch Makefile includes the -common one by absolute path under /usr/src.
		sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
			"$dir/root/usr/src/$pkg/Makefile"
		done_stamp "$dir"
	fi
	out KDIR "$dir/root/usr/src/$pkg"
}

part_kernel() {
	local dir
	resolve_kernel
	dir=$(cachedir "$IMAGE_PKG" "$IMAGE_VER")
	unpack "$dir" "$IMAGE_PKG=$IMAGE_VER"
	if [ ! -e "$dir/.done" ]; then
		# modules.dep is normally made by the package's postinst.
		depmod -b "$dir/root" "$ABI"
		done_stamp "$dir"
	fi
	out KABI "$ABI"
	out VMLINUZ "$dir/root/boot/vmlinuz-$ABI"
	out KMODROOT "$dir/root"
}

part_xen() {
	local pkg=xen-hypervisor-4.17-amd64 ver dir
	ver=$(candidate $pkg)
	dir=$(cachedir "$pkg" "$ver")
	unpack "$dir" "$pkg=$ver"
	if [ ! -e "$dir/.done" ]; then
		gzip -dc "$dir"/root/boot/xen-4.17-amd64.gz >"$dir/xen-4.17-amd64"
		done_stamp "$dir"
	fi
	out XEN_IMAGE "$dir/xen-4.17-amd64"
}

part_libxen() {
	local pkg=libxen-dev ver dir
	ver=$(candidate $pkg)
	dir=$(cachedir "$pkg" "$ver")
	unpack "$dir" "$pkg=$ver"
	[ -e "$dir/.done" ] || done_stamp "$dir"
	out LIBXEN_INC "$dir/root/usr/include"
	out LIBXEN_LIB "$dir/root/usr/lib/x86_64-linux-gnu"
}

part_busybox() {
	local pkg=busybox-static ver dir
	ver=$(candidate $pkg)
	dir=$(cachedir "$pkg" "$ver")
	unpack "$dir" "$pkg=$ver"
	[ -e "$dir/.done" ] || done_stamp "$dir"
	out BUSYBOX "$dir/root/bin/busybox"
}

# The kselftest framework must come from the same release as the kernel under test. Only a few
# members of the 140 MB source tarball are needed: stream it once, keep those.
KSFT_FILES="lib.mk kselftest.h kselftest_harness.h kselftest_module.h kselftest kselftest_deps.sh"

part_ksft() {
	local pkg=linux-source-$KERNEL ver dir top f
	ver=$(candidate "$pkg")
	dir=$(cachedir "$pkg" "$ver")
	if [ ! -e "$dir/.done" ]; then
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		sandbox "$dir.tmp"
		say "downloading $pkg=$ver (only a few files are kept)"
		(cd "$dir.tmp" && apt-get download -q "$pkg=$ver") || stale "cannot download $pkg=$ver"
		top=linux-source-$KERNEL/tools/testing/selftests
		dpkg-deb --fsys-tarfile "$dir.tmp"/*.deb |
			tar -xO "./usr/src/linux-source-$KERNEL.tar.xz" |
			tar -xJ -C "$dir.tmp" --wildcards \
				$(for f in $KSFT_FILES; do echo "$top/$f"; done) \
				2>/dev/null || true
		[ -e "$dir.tmp/$top/lib.mk" ] || die "no lib.mk in $pkg"
		mv "$dir.tmp/linux-source-$KERNEL" "$dir.tmp/src"
		rm -f "$dir.tmp"/*.deb
		mv "$dir.tmp" "$dir"
		done_stamp "$dir"
	fi
	[ -n "${KSFT_DIR:-}" ] || die "KSFT_DIR is not set"
	# Copy unmodified into the checkout (gitignored); refresh when the kernel changes.
	if [ "$(cat "$KSFT_DIR/.kselftest-from" 2>/dev/null)" != "${pkg}_$ver" ]; then
		say "copying kselftest files of ${pkg}_$ver into $KSFT_DIR"
		for f in $KSFT_FILES; do
			rm -rf "${KSFT_DIR:?}/$f"
			[ ! -e "$dir/src/tools/testing/selftests/$f" ] ||
				cp -a "$dir/src/tools/testing/selftests/$f" "$KSFT_DIR/"
		done
		echo "${pkg}_$ver" >"$KSFT_DIR/.kselftest-from"
	fi
	out KSFT_FROM "${pkg}_$ver"
}

[ $# -gt 0 ] || die "usage: $0 host|headers|kernel|xen|libxen|busybox|ksft..."

if [ -z "${PROVISION_INNER:-}" ]; then
	rc=0
	PROVISION_INNER=1 "$0" "$@" || rc=$?
	[ $rc = $STALE ] && [ -z "${PROVISION_UPDATED:-}" ] || exit $rc
	say "running apt-get update and retrying"
	apt-get $APT_LOCK update -q >&2 || die "apt-get update failed"
	PROVISION_INNER=1 PROVISION_UPDATED=1 exec "$0" "$@"
fi

exec 3>&1 1>&2

mkdir -p "$CACHE"
# One provisioning at a time per cache: several people share this machine.
exec 9>"$CACHE/.lock"
flock 9
for part in "$@"; do
	case $part in
	host | headers | kernel | xen | libxen | busybox | ksft) "part_$part" ;;
	*) die "unknown part '$part'" ;;
	esac
done
