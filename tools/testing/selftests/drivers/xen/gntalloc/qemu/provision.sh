#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# provision.sh [-o FILE] PART... - give this Debian 12 machine what the test bed needs,
# idempotently.
#
#   host     host tools, installed with apt-get (only the missing ones; `apt-get update` only then)
#   headers  linux-headers-<abi> + -common + linux-kbuild: a prepared tree to build modules against
#   kernel   linux-image-<abi>: vmlinuz and /lib/modules/<abi> (depmod'ed)
#   xen      xen-hypervisor-4.17-amd64, gunzipped (QEMU's -kernel wants the multiboot ELF)
#   libxen   libxen-dev: static libxengnttab/libxentoolcore/libxentoollog and their headers
#   busybox  busybox-static, the guest's userland (not installed: it conflicts with busybox)
#   ksft     the kselftest framework files of linux-source-$KSFT_KERNEL, copied into $KSFT_DIR
#   checkpatch  scripts/checkpatch.pl and its data files of linux-source-$KSFT_KERNEL (make style)
#   source   the whole linux-source-<ver> tree, unpacked (1.5 GB; only `make check-debug` needs it)
#
# Environment: KERNEL (6.1 or 6.12), GNTALLOC_CACHE, KSFT_DIR.
# Everything but `host` is fetched with `apt-get download` and unpacked with `dpkg -x` into
# $GNTALLOC_CACHE/<package>_<version>/, never installed: a new version on the mirror gets a new
# directory. Which versions are current is asked from apt-cache once per change of the apt
# lists and remembered, so a warm run costs milliseconds.
# stdout carries only KEY=VALUE lines; all chatter goes to stderr. With -o FILE the results go
# to FILE instead, as a make fragment that the top Makefile includes: "P_KEY := VALUE" lines,
# and "P_FILES += PATH" for every path they name, so that make can tell a fragment whose files
# have gone (a wiped cache, make clean) and write it again.
set -euo pipefail

if [ "${1:-}" = -o ]; then
	[ -n "${2:-}" ] || { echo "provision: -o needs a file" >&2; exit 1; }
	export PROVISION_MK=$2
	shift 2
fi

KERNEL=${KERNEL:-6.1}
# One kselftest harness for every kernel under test: the newest supported kernel's, the one an
# upstream series would build with. It is userspace code and runs the same on older kernels.
KSFT_KERNEL=6.12
CACHE=${GNTALLOC_CACHE:-/var/cache/xen-gntalloc}
export DEBIAN_FRONTEND=noninteractive
# Wait for a colleague's apt/dpkg run instead of failing on its lock.
APT_LOCK="-o DPkg::Lock::Timeout=900"
APT_LISTS=/var/lib/apt/lists

# gcc-12 is what Debian's kernels are built with (their Kbuild calls gcc-12); gcc is the `gcc`
# the selftests' lib.mk calls; libelf1, libssl3, zlib1g and pahole are what linux-kbuild's tools
# need; rsync is what lib.mk's install target uses.
# sparse and perl are what make style runs (C=1, checkpatch.pl).
HOST_PACKAGES="qemu-system-x86 cpio kmod xz-utils make gcc gcc-12 libc6-dev libelf1 libssl3 zlib1g
	pahole rsync sparse perl"

say() { printf 'provision: %s\n' "$*" >&2; }
die() {
	printf 'provision: ERROR: %s\n' "$*" >&2
	exit 1
}
out() {
	if [ -z "${PROVISION_MK:-}" ]; then
		printf '%s=%s\n' "$1" "$2" >&3
		return
	fi
	printf 'P_%s := %s\n' "$1" "$2" >&3
	case $2 in /*) need "$2" ;; esac
}
# need PATH: the fragment is stale once PATH is gone.
need() { [ -z "${PROVISION_MK:-}" ] || printf 'P_FILES += %s\n' "$1" >&3; }

# Package lists may be missing (fresh machine) or stale (a version vanished from the mirror).
# Either way the work exits with STALE; the wrapper at the bottom updates the lists once and
# starts over, so every version is resolved from the same fresh lists.
STALE=75
stale() {
	say "$1"
	exit $STALE
}

# show PKG...: "name version depends" per package, for apt's candidate versions. Missing
# packages are stale lists.
show() {
	local got
	got=$(apt-cache show --no-all-versions "$@" 2>/dev/null | awk '
		/^Package: / { p = $2 }
		/^Version: / { v = $2 }
		/^Depends: / { d = substr($0, 10); gsub(/ /, "", d) }
		/^$/ { if (p != "") print p, v, d; p = v = d = "" }
		END { if (p != "") print p, v, d }')
	for p in "$@"; do
		grep -q "^$p " <<<"$got" || stale "no package $p in the apt lists"
	done
	echo "$got"
}
# (the first match: with KERNEL=KSFT_KERNEL one package is asked for twice)
version() { awk -v p="$2" '$1 == p { print $2; exit }' <<<"$1"; }
# dep SHOWN PKG PATTERN: the first dependency of PKG whose name matches PATTERN
dep() {
	awk -v p="$2" '$1 == p { print $3 }' <<<"$1" | tr ',|' '\n\n' | sed 's/(.*//' |
		grep -E -m1 "$3" || die "$2 has no dependency matching $3"
}

# Resolve every package name and version for KERNEL into $CACHE/resolved-$KERNEL, unless the
# apt lists are the same as when that file was written (names, sizes and times of the files:
# apt gives a list file the mirror's time, not ours, so "newer than" would miss updates).
# The kernel's ABI (6.1.0-NN-amd64) comes from the metapackage, never from this script.
resolve() {
	local f=$CACHE/resolved-$KERNEL s1 s2 s3 sig META
	case $KERNEL in
	6.1) META=linux-image-amd64 ;;
	6.12) META=linux-image-6.12-amd64 ;;
	*) die "KERNEL=$KERNEL: only 6.1 (default) and 6.12 can be provisioned; KDIR= builds for others" ;;
	esac
	# The harness kernel is part of the key: a file resolved for another one lacks its version.
	sig=$(ls -l --time-style=+%s "$APT_LISTS" 2>/dev/null | md5sum | cut -c1-32)-$KSFT_KERNEL
	if [ -s "$f" ] && grep -qx "LISTS=$sig" "$f"; then
		. "$f"
		return
	fi
	s1=$(show "$META" xen-hypervisor-4.17-amd64 libxen-dev busybox-static "linux-source-$KERNEL" \
		"linux-source-$KSFT_KERNEL")
	IMAGE_PKG=$(dep "$s1" "$META" '^linux-image-')
	ABI=${IMAGE_PKG#linux-image-}
	ABI=${ABI%-unsigned}
	HDR_PKG=linux-headers-$ABI
	s2=$(show "$IMAGE_PKG" "$HDR_PKG")
	COMMON_PKG=$(dep "$s2" "$HDR_PKG" '^linux-headers-.*-common$')
	KBUILD_PKG=$(dep "$s2" "$HDR_PKG" '^linux-kbuild-')
	s3=$(show "$COMMON_PKG" "$KBUILD_PKG")
	cat >"$f.tmp" <<-EOF
		LISTS=$sig
		ABI=$ABI
		IMAGE_PKG=$IMAGE_PKG IMAGE_VER=$(version "$s2" "$IMAGE_PKG")
		HDR_PKG=$HDR_PKG HDR_VER=$(version "$s2" "$HDR_PKG")
		COMMON_PKG=$COMMON_PKG COMMON_VER=$(version "$s3" "$COMMON_PKG")
		KBUILD_PKG=$KBUILD_PKG KBUILD_VER=$(version "$s3" "$KBUILD_PKG")
		XEN_VER=$(version "$s1" xen-hypervisor-4.17-amd64)
		LIBXEN_VER=$(version "$s1" libxen-dev)
		BUSYBOX_VER=$(version "$s1" busybox-static)
		SRC_PKG=linux-source-$KERNEL SRC_VER=$(version "$s1" "linux-source-$KERNEL")
		KSFT_PKG=linux-source-$KSFT_KERNEL KSFT_VER=$(version "$s1" "linux-source-$KSFT_KERNEL")
	EOF
	mv "$f.tmp" "$f"
	. "$f"
}

# cachedir PKG VER: where PKG=VER lives; an epoch's ':' is spelt %3a as apt does in file names.
cachedir() { echo "$CACHE/${1}_${2//:/%3a}"; }

# apt-get download drops root for the fetch and warns if user _apt cannot write the directory.
sandbox() { ! id _apt >/dev/null 2>&1 || chown _apt "$1"; }

# fetch DIR PKG=VER...: download the packages into DIR/debs. Used on DIR.tmp, renamed when done:
# a half-done directory never looks done, and the next run throws it away.
fetch() {
	local dir=$1 p
	shift
	rm -rf "$dir"
	mkdir -p "$dir/debs"
	sandbox "$dir/debs"
	for p in "$@"; do
		say "downloading $p"
		(cd "$dir/debs" && apt-get download -q "$p") || stale "cannot download $p"
	done
}

# [FIXUP=fn] unpack DIR PKG=VER...: fetch and dpkg -x the packages into DIR/root, once. The
# fix-up, if any, runs as "fn DIR.tmp DIR" before DIR appears under its real name.
unpack() {
	local dir=$1 p
	shift
	[ ! -d "$dir" ] || return 0
	fetch "$dir.tmp" "$@"
	for p in "$dir.tmp"/debs/*.deb; do
		dpkg -x "$p" "$dir.tmp/root"
	done
	rm -rf "$dir.tmp/debs"
	[ -z "${FIXUP:-}" ] || "$FIXUP" "$dir.tmp" "$dir"
	mv "$dir.tmp" "$dir"
}

part_host() {
	local missing
	# shellcheck disable=SC2086
	missing=$({ dpkg-query -W -f='${Package} ${Status}\n' $HOST_PACKAGES 2>/dev/null || :; } |
		awk '$NF == "installed" { ok[$1] = 1 }
		     END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) print w[i] }' \
			want="$(echo $HOST_PACKAGES)")
	[ -n "$missing" ] || return 0
	[ "$(id -u)" = 0 ] || die "not root; please install:" $missing
	say "installing host tools:" $missing
	if [ -z "${PROVISION_UPDATED:-}" ]; then
		apt-get $APT_LOCK update -q || say "WARNING: apt-get update reported errors; going on"
		PROVISION_UPDATED=1
	fi
	# shellcheck disable=SC2086
	apt-get $APT_LOCK install -y -q --no-install-recommends $missing ||
		die "apt-get install failed"
}

# The arch headers' Makefile includes the -common one by absolute path under /usr/src.
fixup_headers() {
	sed -i "s|^include /usr/src/|include $2/root/usr/src/|" "$1/root/usr/src/$HDR_PKG/Makefile"
}

part_headers() {
	local dir
	# One tree for all three: the headers reach kbuild's scripts through relative symlinks.
	dir=$(cachedir "$HDR_PKG" "$HDR_VER")
	FIXUP=fixup_headers unpack "$dir" "$HDR_PKG=$HDR_VER" "$COMMON_PKG=$COMMON_VER" \
		"$KBUILD_PKG=$KBUILD_VER"
	out KDIR "$dir/root/usr/src/$HDR_PKG"
}

# modules.dep is normally made by the package's postinst.
fixup_kernel() { depmod -b "$1/root" "$ABI"; }

part_kernel() {
	local dir
	dir=$(cachedir "$IMAGE_PKG" "$IMAGE_VER")
	FIXUP=fixup_kernel unpack "$dir" "$IMAGE_PKG=$IMAGE_VER"
	out KABI "$ABI"
	out VMLINUZ "$dir/root/boot/vmlinuz-$ABI"
	out KMODROOT "$dir/root"
}

fixup_xen() { gzip -dc "$1"/root/boot/xen-4.17-amd64.gz >"$1/xen-4.17-amd64"; }

part_xen() {
	local dir
	dir=$(cachedir xen-hypervisor-4.17-amd64 "$XEN_VER")
	FIXUP=fixup_xen unpack "$dir" "xen-hypervisor-4.17-amd64=$XEN_VER"
	out XEN_IMAGE "$dir/xen-4.17-amd64"
}

part_libxen() {
	local dir
	dir=$(cachedir libxen-dev "$LIBXEN_VER")
	unpack "$dir" "libxen-dev=$LIBXEN_VER"
	out LIBXEN_INC "$dir/root/usr/include"
	out LIBXEN_LIB "$dir/root/usr/lib/x86_64-linux-gnu"
}

part_busybox() {
	local dir
	dir=$(cachedir busybox-static "$BUSYBOX_VER")
	unpack "$dir" "busybox-static=$BUSYBOX_VER"
	out BUSYBOX "$dir/root/bin/busybox"
}

# The kselftest framework files (harness, lib.mk, runner) of linux-source-$KSFT_KERNEL. Only
# these members of the 140 MB source tarball are needed: stream it once, keep them.
KSFT_FILES="lib.mk kselftest.h kselftest_harness.h kselftest_module.h kselftest kselftest_deps.sh"

part_ksft() {
	local dir top f
	dir=$(cachedir "$KSFT_PKG" "$KSFT_VER")
	top=linux-source-$KSFT_KERNEL/tools/testing/selftests
	if [ ! -d "$dir" ]; then
		fetch "$dir.tmp" "$KSFT_PKG=$KSFT_VER"
		# tar complains about the members that a release lacks (kselftest_deps.sh...).
		dpkg-deb --fsys-tarfile "$dir.tmp"/debs/*.deb |
			tar -xO "./usr/src/linux-source-$KSFT_KERNEL.tar.xz" |
			tar -xJ -C "$dir.tmp" $(for f in $KSFT_FILES; do echo "$top/$f"; done) \
				2>/dev/null || true
		[ -e "$dir.tmp/$top/lib.mk" ] || die "no lib.mk in $KSFT_PKG=$KSFT_VER"
		mv "$dir.tmp/$top" "$dir.tmp/selftests"
		rm -rf "$dir.tmp/debs" "$dir.tmp/linux-source-$KSFT_KERNEL"
		mv "$dir.tmp" "$dir"
	fi
	[ -n "${KSFT_DIR:-}" ] || die "KSFT_DIR is not set"
	# Copied unmodified into the checkout (gitignored); replaced when KSFT_KERNEL's package changes.
	if [ "$(cat "$KSFT_DIR/.kselftest-from" 2>/dev/null)" != "${KSFT_PKG}_$KSFT_VER" ]; then
		say "copying the kselftest files of ${KSFT_PKG}_$KSFT_VER into $KSFT_DIR"
		for f in $KSFT_FILES; do
			rm -rf "${KSFT_DIR:?}/$f"
			[ ! -e "$dir/selftests/$f" ] || cp -a "$dir/selftests/$f" "$KSFT_DIR/"
		done
		echo "${KSFT_PKG}_$KSFT_VER" >"$KSFT_DIR/.kselftest-from"
	fi
	out KSFT_FROM "${KSFT_PKG}_$KSFT_VER"
	need "$KSFT_DIR/lib.mk"
}

# checkpatch.pl with the data files it reads from its own directory (--no-tree), from the same
# linux-source as the kselftest harness: the newest kernel's, the one an upstream series meets.
CHECKPATCH_FILES="checkpatch.pl spelling.txt const_structs.checkpatch"

part_checkpatch() {
	local dir top f
	dir=$(cachedir "$KSFT_PKG" "$KSFT_VER").checkpatch
	top=linux-source-$KSFT_KERNEL/scripts
	if [ ! -d "$dir" ]; then
		fetch "$dir.tmp" "$KSFT_PKG=$KSFT_VER"
		dpkg-deb --fsys-tarfile "$dir.tmp"/debs/*.deb |
			tar -xO "./usr/src/linux-source-$KSFT_KERNEL.tar.xz" |
			tar -xJ -C "$dir.tmp" $(for f in $CHECKPATCH_FILES; do echo "$top/$f"; done)
		for f in $CHECKPATCH_FILES; do
			[ -e "$dir.tmp/$top/$f" ] || die "no scripts/$f in $KSFT_PKG=$KSFT_VER"
		done
		mv "$dir.tmp/$top" "$dir.tmp/scripts"
		rm -rf "$dir.tmp/debs" "$dir.tmp/linux-source-$KSFT_KERNEL"
		mv "$dir.tmp" "$dir"
	fi
	out CHECKPATCH "$dir/scripts/checkpatch.pl"
}

# The whole source tree, for building a kernel (debug-kernel.sh). Its own directory: the ksft
# one keeps only the kselftest files.
part_source() {
	local dir
	dir=$(cachedir "$SRC_PKG" "$SRC_VER").tree
	if [ ! -d "$dir" ]; then
		fetch "$dir.tmp" "$SRC_PKG=$SRC_VER"
		say "unpacking $SRC_PKG=$SRC_VER"
		dpkg-deb --fsys-tarfile "$dir.tmp"/debs/*.deb |
			tar -xO "./usr/src/linux-source-$KERNEL.tar.xz" | tar -xJ -C "$dir.tmp"
		[ -f "$dir.tmp/linux-source-$KERNEL/Makefile" ] ||
			die "no linux-source-$KERNEL/Makefile in $SRC_PKG=$SRC_VER"
		rm -rf "$dir.tmp/debs"
		mv "$dir.tmp" "$dir"
	fi
	out SRC_TREE "$dir/linux-source-$KERNEL"
	out SRC_VER "$SRC_VER"
}

[ $# -gt 0 ] || die "usage: $0 [-o FILE] host|headers|kernel|xen|libxen|busybox|ksft|checkpatch|source..."

if [ -z "${PROVISION_INNER:-}" ]; then
	rc=0
	PROVISION_INNER=1 "$0" "$@" || rc=$?
	[ $rc = $STALE ] && [ -z "${PROVISION_UPDATED:-}" ] || exit $rc
	say "running apt-get update and retrying"
	apt-get $APT_LOCK update -q >&2 || say "WARNING: apt-get update reported errors; going on"
	PROVISION_INNER=1 PROVISION_UPDATED=1 exec "$0" "$@"
fi

if [ -n "${PROVISION_MK:-}" ]; then
	mkdir -p "$(dirname "$PROVISION_MK")"
	exec 3>"$PROVISION_MK.tmp" 1>&2
	printf '# Written by provision.sh %s for KERNEL=%s, GNTALLOC_CACHE=%s: do not edit.\n' \
		"$*" "$KERNEL" "$CACHE" >&3
else
	exec 3>&1 1>&2
fi
mkdir -p "$CACHE"
# One provisioning at a time per cache: several people share this machine.
exec 9>"$CACHE/.lock"
flock 9
for part in "$@"; do
	case $part in
	host) part_host ;;
	headers | kernel | xen | libxen | busybox | ksft | checkpatch | source)
		[ -n "${ABI:-}" ] || resolve
		"part_$part"
		;;
	*) die "unknown part '$part'" ;;
	esac
done
# The fragment appears whole or not at all.
[ -z "${PROVISION_MK:-}" ] || mv "$PROVISION_MK.tmp" "$PROVISION_MK"
