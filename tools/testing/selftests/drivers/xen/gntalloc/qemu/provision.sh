#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# provision.sh [-o FILE] PART... - give this Debian 12 machine what the test bed needs,
# idempotently.
#
#   host     host tools, installed with apt-get (only the missing ones; `apt-get update` only then)
#   headers  linux-headers-<abi> + -common + linux-kbuild: a prepared tree to build modules against;
#            for a kernel of another Debian release, also a build root of that release
#            (debootstrap) with the compiler the headers name and dkms, and sid's sparse
#   kernel   linux-image-<abi> and the packages of the same ABI it depends on (7.x splits the
#            image into linux-binary-, linux-modules-, linux-base-): vmlinuz and lib/modules/<abi>
#   xen      xen-hypervisor-$XEN-amd64, gunzipped (QEMU's -kernel wants the multiboot ELF)
#   libxen   libxen-dev of the same Xen: static libxengnttab/libxentoolcore/libxentoollog, headers
#   busybox  busybox-static, the guest's userland (not installed: it conflicts with busybox)
#   toolstack  Xen's own toolstack of the same Xen, for a second domain: xen-utils-$XEN (xl,
#            xenstored, xenconsoled, xen-init-dom0, vchan-socket-proxy), xenstore-utils and
#            their shared-library closure down to libc and its loader, all from XEN's suite
#   qemu-<v> the QEMU the VM boots in: qemu-host is the machine's; another <v> (QEMU_SOURCE_<v> in
#            kernels.mk) is Debian's qemu-system-x86 of that suite with its firmware and library
#            closure, run with its own loader
#   ksft     the kselftest framework files of linux-source-$KSFT_KERNEL, copied into $KSFT_DIR
#   checkpatch  scripts/checkpatch.pl and its data files of linux-source-$KSFT_KERNEL (make style)
#   source   the whole linux-source-<ver> tree, unpacked (1.5 GB; only `make check-debug` needs it)
#   stocksrc drivers/xen/gntalloc.c of linux-source-<ver>: the stock driver's own source, for
#            building it out of tree with tools/xen/stock-gntalloc-fix/'s patch (STOCK=patched)
#   pristine that tree as a bare git repository, commit tagged "base" (make patches)
#
# Environment: KERNEL and XEN (kernels.mk lists them; XEN defaults to KERNEL's own), GNTALLOC_CACHE,
# KSFT_DIR.
# Everything but `host` is fetched with `apt-get download` and unpacked with `dpkg -x` into
# $GNTALLOC_CACHE/<package>_<version>/, never installed: a new version on the mirror gets a new
# directory. Which versions are current is asked from apt-cache once per change of the apt
# lists and remembered, so a warm run costs milliseconds. Packages of the machine's own Debian
# release come through its apt; those of another release (Debian 13's kernel and Xen on a
# Debian 12 machine) through a private apt configuration in $GNTALLOC_CACHE/apt-<release>/,
# from the same mirror: the machine's sources, lists and preferences stay untouched.
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
here=$(cd "$(dirname "$0")" && pwd)
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

# What KERNEL and XEN are, from kernels.mk's "NAME := WORDS..." lines.
row() { awk -v n="$1" '$1 == n && $2 == ":=" { $1 = $2 = ""; print }' "$here/kernels.mk"; }
known() { sed -n "s/^$1_\([^ ]*\) *:=.*/\1/p" "$here/kernels.mk" | tr '\n' ' '; }
read -r KSUITE KMETA KXEN <<<"$(row "KERNEL_SOURCE_$KERNEL")" || :
[ -n "${KSUITE:-}" ] || die "KERNEL=$KERNEL is not in kernels.mk (known: $(known KERNEL_SOURCE))"
XEN=${XEN:-$KXEN}
read -r XSUITE <<<"$(row "XEN_SOURCE_$XEN")" || :
[ -n "${XSUITE:-}" ] || die "XEN=$XEN is not in kernels.mk (known: $(known XEN_SOURCE))"
# A suite's release: trixie-backports is trixie's.
# shellcheck disable=SC1091
HOST_RELEASE=$(. /etc/os-release && echo "$VERSION_CODENAME")
KRELEASE=${KSUITE%-backports}
XRELEASE=${XSUITE%-backports}
# mirror: the machine's mirror of its own release, which serves every release (debootstrap too).
mirror() {
	local m=${DEBIAN_MIRROR:-}
	[ -n "$m" ] || m=$(apt-cache policy 2>/dev/null |
		awk -v r="$HOST_RELEASE/main" '$3 == r && $2 ~ /^https?:/ { print $2; exit }')
	echo "${m:-http://deb.debian.org/debian}"
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

# apt_opts SUITE: the apt options that see SUITE. The machine's own release: none. Another
# release: the private configuration, with SUITE preferred (backports are not by default).
apt_opts() {
	local r=${1%-backports} d
	[ "$r" != "$HOST_RELEASE" ] || return 0
	d=$CACHE/apt-$r
	echo "-o Dir::Etc::sourcelist=$d/sources.list -o Dir::Etc::sourceparts=$d/none" \
		"-o Dir::Etc::preferences=$d/preferences -o Dir::Etc::preferencesparts=$d/none" \
		"-o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache" \
		"-o Dir::State::status=$d/status -o APT::Default-Release=$1"
}

# private_apt RELEASE: its configuration and lists, made on first use (the lists are fetched
# once; later a stale version is what brings `apt-get update`, below).
private_apt() {
	local d=$CACHE/apt-$1 k=/usr/share/keyrings/debian-archive-keyring.gpg m s
	[ "$1" != "$HOST_RELEASE" ] || return 0
	mkdir -p "$d/none" # the empty sources.list.d and preferences.d
	if [ -s "$d/sources.list" ] && ls "$d"/lists/*_Packages* >/dev/null 2>&1; then
		return 0
	fi
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	: >"$d/status"
	m=$(mirror)
	# the release and its backports (sid has none)
	for s in "$1" "$1-backports"; do
		[ "$s" != sid-backports ] || continue
		printf 'deb [signed-by=%s] %s %s main\n' "$k" "$m" "$s"
	done >"$d/sources.list"
	say "fetching the package lists of Debian $1 into $d"
	# shellcheck disable=SC2046
	apt-get $(apt_opts "$1") -q update >&2 || die "apt-get update of Debian $1 failed"
}

# show SUITE PKG...: "name version depends" per package, for apt's candidate versions in SUITE.
# Missing packages are stale lists.
show() {
	local got suite=$1
	shift
	# shellcheck disable=SC2046
	got=$(apt-cache $(apt_opts "$suite") show --no-all-versions "$@" 2>/dev/null | awk '
		/^Package: / { p = $2 }
		/^Version: / { v = $2 }
		/^Depends: / { d = substr($0, 10); gsub(/ /, "", d) }
		/^$/ { if (p != "") print p, v, d; p = v = d = "" }
		END { if (p != "") print p, v, d }')
	for p in "$@"; do
		grep -q "^$p " <<<"$got" || stale "no package $p in the apt lists of $suite"
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

# The package lists in use: the machine's, and the private ones of the other releases.
lists() {
	local r
	echo "$APT_LISTS"
	for r in $(printf '%s\n' "$KRELEASE" "$XRELEASE" | sort -u); do
		[ "$r" = "$HOST_RELEASE" ] || echo "$CACHE/apt-$r/lists"
	done
	[ "$KRELEASE" = "$HOST_RELEASE" ] || echo "$CACHE/apt-$SPARSE_SUITE/lists"
}

# Resolve every package name and version for KERNEL and XEN into $CACHE/resolved-$KERNEL-$XEN,
# unless the apt lists are the same as when that file was written (names, sizes and times of
# the files: apt gives a list file the mirror's time, not ours, so "newer than" would miss
# updates). The kernel's ABI (6.1.0-NN-amd64) comes from the metapackage, never from this script.
resolve() {
	local f=$CACHE/resolved-$KERNEL-$XEN s0 s1 s2 s3 s4 s5='' sig p tpkgs
	private_apt "$KRELEASE"
	private_apt "$XRELEASE"
	[ "$KRELEASE" = "$HOST_RELEASE" ] || private_apt "$SPARSE_SUITE"
	# The harness kernel and this script are part of the key: a file resolved for another
	# harness lacks its version, one resolved by another script may lack a variable.
	# shellcheck disable=SC2046
	sig=$({ ls -l --time-style=+%s $(lists) 2>/dev/null; cat "$0" "$here/kernels.mk"; } |
		md5sum | cut -c1-32)-$KSFT_KERNEL
	if [ -s "$f" ] && grep -qx "LISTS=$sig" "$f"; then
		. "$f"
		return
	fi
	s0=$(show "$HOST_RELEASE" busybox-static "linux-source-$KSFT_KERNEL")
	s1=$(show "$KSUITE" "$KMETA" "linux-source-$KERNEL")
	IMAGE_PKG=$(dep "$s1" "$KMETA" '^linux-image-')
	ABI=${IMAGE_PKG#linux-image-}
	ABI=${ABI%-unsigned}
	case $ABI in
	"$KERNEL".*) ;;
	*) die "$KMETA in $KSUITE is $ABI now, not $KERNEL: add it to kernels.mk (README.md here)" ;;
	esac
	HDR_PKG=linux-headers-$ABI
	s2=$(show "$KSUITE" "$IMAGE_PKG" "$HDR_PKG")
	COMMON_PKG=$(dep "$s2" "$HDR_PKG" '^linux-headers-.*-common$')
	KBUILD_PKG=$(dep "$s2" "$HDR_PKG" '^linux-kbuild-')
	# 7.x: the image is a small package; vmlinuz and the modules are in these.
	ABI_PKGS=$(awk -v p="$IMAGE_PKG" -v abi="-$ABI" '$1 == p {
		n = split($3, d, /[,|]/)
		for (i = 1; i <= n; i++) {
			sub(/\(.*/, "", d[i])
			if (substr(d[i], length(d[i]) - length(abi) + 1) == abi)
				printf "%s ", d[i]
		}
	}' <<<"$s2")
	# shellcheck disable=SC2086
	s3=$(show "$KSUITE" "$COMMON_PKG" "$KBUILD_PKG" $ABI_PKGS)
	s4=$(show "$XSUITE" "xen-hypervisor-$XEN-amd64" libxen-dev)
	[ "$KRELEASE" = "$HOST_RELEASE" ] || s5=$(show "$SPARSE_SUITE" sparse)
	IMAGE_PKGS="$IMAGE_PKG=$(version "$s2" "$IMAGE_PKG")"
	tpkgs=$(toolstack_closure)
	for p in $ABI_PKGS; do
		IMAGE_PKGS="$IMAGE_PKGS $p=$(version "$s3" "$p")"
	done
	cat >"$f.tmp" <<-EOF
		LISTS=$sig
		ABI=$ABI
		IMAGE_PKGS="$IMAGE_PKGS"
		IMAGE_PKG=$IMAGE_PKG IMAGE_VER=$(version "$s2" "$IMAGE_PKG")
		HDR_PKG=$HDR_PKG HDR_VER=$(version "$s2" "$HDR_PKG")
		COMMON_PKG=$COMMON_PKG COMMON_VER=$(version "$s3" "$COMMON_PKG")
		KBUILD_PKG=$KBUILD_PKG KBUILD_VER=$(version "$s3" "$KBUILD_PKG")
		XEN_VER=$(version "$s4" "xen-hypervisor-$XEN-amd64")
		LIBXEN_VER=$(version "$s4" libxen-dev)
		BUSYBOX_VER=$(version "$s0" busybox-static)
		SRC_PKG=linux-source-$KERNEL SRC_VER=$(version "$s1" "linux-source-$KERNEL")
		KSFT_PKG=linux-source-$KSFT_KERNEL KSFT_VER=$(version "$s0" "linux-source-$KSFT_KERNEL")
		SPARSE_VER=$(version "$s5" sparse)
		TOOLSTACK_PKGS="$tpkgs"
	EOF
	mv "$f.tmp" "$f"
	. "$f"
}

# cachedir PKG VER: where PKG=VER lives; an epoch's ':' is spelt %3a as apt does in file names.
cachedir() { echo "$CACHE/${1}_${2//:/%3a}"; }

# apt-get download drops root for the fetch and warns if user _apt cannot write the directory.
sandbox() { ! id _apt >/dev/null 2>&1 || chown _apt "$1"; }

# fetch SUITE DIR PKG=VER...: download the packages of SUITE into DIR/debs. Used on DIR.tmp,
# renamed when done: a half-done directory never looks done, and the next run throws it away.
fetch() {
	local suite=$1 dir=$2 p
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir/debs"
	sandbox "$dir/debs"
	for p in "$@"; do
		say "downloading $p"
		# shellcheck disable=SC2046
		(cd "$dir/debs" && apt-get $(apt_opts "$suite") download -q "$p") ||
			stale "cannot download $p"
	done
}

# [FIXUP=fn] unpack SUITE DIR PKG=VER...: fetch and dpkg -x the packages into DIR/root, once.
# The fix-up, if any, runs as "fn DIR.tmp DIR" before DIR appears under its real name.
unpack() {
	local suite=$1 dir=$2 p
	shift 2
	[ ! -d "$dir" ] || return 0
	fetch "$suite" "$dir.tmp" "$@"
	for p in "$dir.tmp"/debs/*.deb; do
		dpkg -x "$p" "$dir.tmp/root"
	done
	rm -rf "$dir.tmp/debs"
	if [ -n "${FIXUP:-}" ]; then
		"$FIXUP" "$dir.tmp" "$dir" || die "$FIXUP failed in $dir.tmp"
	fi
	mv "$dir.tmp" "$dir"
}

# host_install PKG...: apt-get install those of PKG... that the machine lacks.
host_install() {
	local missing
	missing=$({ dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null || :; } |
		awk '$NF == "installed" { ok[$1] = 1 }
		     END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) print w[i] }' \
			want="$*")
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

part_host() {
	# shellcheck disable=SC2086
	host_install $HOST_PACKAGES
}

# The arch headers' Makefile names the -common tree (include) and, on 7.x, itself (KBUILD_OUTPUT)
# by absolute paths under /usr/src: repointed to where they are unpacked. Debian's
# -common headers of 7.x lack scripts/checker-valid.sh, which their Makefile runs for C=1/C=2
# and, when it is missing, turns sparse off with a mere notice: ours asks what these headers need
# of the checker, __typeof_unqual__ (they use it under __CHECKER__); make style then checks that
# sparse did run.
fixup_headers() {
	local common
	sed -i -E "s@^(include |KBUILD_OUTPUT=)/usr/src/@\1$2/root/usr/src/@" \
		"$1/root/usr/src/$HDR_PKG/Makefile"
	common=$1/root/usr/src/$COMMON_PKG
	if grep -q 'scripts/checker-valid.sh' "$common/Makefile" &&
		[ ! -e "$common/scripts/checker-valid.sh" ]; then
		cat >"$common/scripts/checker-valid.sh" <<-'EOF'
			#!/bin/sh
			# Written by the xen-gntalloc test bed (provision.sh): Debian's headers lack the
			# kernel's own. Prints 1 if the checker "$@" knows __typeof_unqual__.
			t=${TMPDIR:-/tmp}/checker-valid.$$.c
			echo 'static inline int f(const int x) { __typeof_unqual__(x) y = x; return y; }' >"$t"
			"$@" "$t" 2>&1 | grep -q . || echo 1
			rm -f "$t"
		EOF
		chmod +x "$common/scripts/checker-valid.sh"
	fi
}

# The packages of the build root, beside the compiler that the headers name: what Kbuild runs for
# an external module (make, libelf for objtool, pahole for BTF, kmod, bc, bison, flex) and dkms
# for make dkms-build; for building a whole 7.x kernel (make check-patches, the built-in debug
# kernel), libssl-dev (certs/) and python3 (W=1's kernel-doc check).
BUILDROOT_PACKAGES="make libc6-dev libelf-dev bc bison flex kmod dwarves dkms libssl-dev python3"
# sparse for those kernels: Debian 13's (0.6.4) cannot parse __typeof_unqual__, which 7.x's
# headers use under __CHECKER__; sid's 0.6.5~rc1 can, and runs in the Debian 13 build root.
SPARSE_SUITE=sid

# buildroot: a minimal Debian $KRELEASE made with debootstrap from the mirror, once per compiler
# version and package list; the chroot that in-buildroot.sh runs the kernel's builds in.
buildroot() {
	local headers=$1 cc ccver dir
	cc=$(sed -n 's/^CC = .*\(gcc-[0-9][0-9]*\)$/\1/p' "$headers/.kernelvariables" 2>/dev/null)
	[ -n "$cc" ] || die "$headers/.kernelvariables names no gcc-N: which compiler built $ABI?"
	ccver=$(version "$(show "$KRELEASE" "$cc")" "$cc")
	dir=$CACHE/buildroot-${KRELEASE}_$cc-${ccver//:/%3a}
	dir=$dir-$(echo "$BUILDROOT_PACKAGES" | md5sum | cut -c1-8)
	if [ ! -d "$dir" ]; then
		host_install debootstrap
		rm -rf "$dir.tmp"
		say "debootstrap $KRELEASE with $cc into $dir (a minute or two)"
		debootstrap --variant=minbase --include="$(echo "$cc $BUILDROOT_PACKAGES" | tr ' ' ,)" \
			"$KRELEASE" "$dir.tmp" "$(mirror)" >&2 || die "debootstrap $KRELEASE failed"
		rm -rf "$dir.tmp"/var/cache/apt/archives/*.deb "$dir.tmp"/var/lib/apt/lists/*_Packages*
		chroot "$dir.tmp" "x86_64-linux-gnu-$cc" --version >/dev/null ||
			die "no working $cc in the build root $dir.tmp"
		mv "$dir.tmp" "$dir"
	fi
	out BUILDROOT "$dir"
}

part_headers() {
	local dir
	# One tree for all three: the headers reach kbuild's scripts through relative symlinks.
	dir=$(cachedir "$HDR_PKG" "$HDR_VER")
	FIXUP=fixup_headers unpack "$KSUITE" "$dir" "$HDR_PKG=$HDR_VER" \
		"$COMMON_PKG=$COMMON_VER" "$KBUILD_PKG=$KBUILD_VER"
	# again on a tree that an older provision.sh unpacked (the fix-up is idempotent)
	fixup_headers "$dir" "$dir"
	out KDIR "$dir/root/usr/src/$HDR_PKG"
	# The machine's compiler builds for its own release's kernels, a build root for the others.
	if [ "$KRELEASE" = "$HOST_RELEASE" ]; then
		out BUILDROOT ""
		out SPARSE ""
	else
		buildroot "$dir/root/usr/src/$HDR_PKG"
		dir=$(cachedir sparse "$SPARSE_VER")
		unpack "$SPARSE_SUITE" "$dir" "sparse=$SPARSE_VER"
		out SPARSE "$dir/root/usr/bin/sparse"
	fi
}

# modules.dep is normally made by the package's postinst. 7.x installs under /usr/lib/modules
# only: /lib/modules, where modprobe -d and depmod -b look, is a link to it, as on a merged-/usr
# system.
fixup_kernel() {
	if [ ! -e "$1/root/lib/modules" ] && [ -d "$1/root/usr/lib/modules" ]; then
		mkdir -p "$1/root/lib"
		ln -s ../usr/lib/modules "$1/root/lib/modules"
	fi
	depmod -b "$1/root" "$ABI"
}

part_kernel() {
	local dir vmlinuz
	dir=$(cachedir "$IMAGE_PKG" "$IMAGE_VER")
	# shellcheck disable=SC2086
	FIXUP=fixup_kernel unpack "$KSUITE" "$dir" $IMAGE_PKGS
	vmlinuz=$dir/root/boot/vmlinuz-$ABI
	[ -e "$vmlinuz" ] || vmlinuz=$dir/root/usr/lib/modules/$ABI/vmlinuz
	[ -e "$vmlinuz" ] || die "no vmlinuz in $IMAGE_PKGS"
	out KABI "$ABI"
	out VMLINUZ "$vmlinuz"
	out KMODROOT "$dir/root"
}

fixup_xen() { gzip -dc "$1/root/boot/xen-$XEN-amd64.gz" >"$1/xen-$XEN-amd64"; }

part_xen() {
	local dir
	dir=$(cachedir "xen-hypervisor-$XEN-amd64" "$XEN_VER")
	FIXUP=fixup_xen unpack "$XSUITE" "$dir" "xen-hypervisor-$XEN-amd64=$XEN_VER"
	out XEN_IMAGE "$dir/xen-$XEN-amd64"
}

part_libxen() {
	local dir
	dir=$(cachedir libxen-dev "$LIBXEN_VER")
	unpack "$XSUITE" "$dir" "libxen-dev=$LIBXEN_VER"
	out LIBXEN_INC "$dir/root/usr/include"
	out LIBXEN_LIB "$dir/root/usr/lib/x86_64-linux-gnu"
}

part_busybox() {
	local dir
	dir=$(cachedir busybox-static "$BUSYBOX_VER")
	unpack "$HOST_RELEASE" "$dir" "busybox-static=$BUSYBOX_VER"
	out BUSYBOX "$dir/root/bin/busybox"
}

# ---- toolstack (xdomain: a second domain made with Xen's own xl; README.md here) ----
# xen-utils-$XEN and xenstore-utils, and the Depends closure under them, first alternatives only, down to libc and its
# loader; Python (xl's helper scripts), xen-utils-common (init scripts, udev rules) and the
# packaging tools are not followed: nothing the busybox dom0 runs needs them.
TOOLSTACK_STOP='^(python3.*|xen-utils-common|debconf.*|perl.*|dpkg|tar|adduser|install-info|lsb-base|sysvinit-utils|udev|init-system-helpers)$'

# closure SUITE STOP SEED...: "pkg=ver ..." of the seeds' Depends closure in SUITE, first
# alternatives only, not following the packages that match the pattern STOP.
closure() {
	local suite=$1 stop=$2 todo seen='' got p d
	shift 2
	todo="$*"
	while [ -n "$todo" ]; do
		# shellcheck disable=SC2086
		got=$(show "$suite" $todo)
		seen="$seen $todo"
		todo=$(awk '{ n = split($3, d, ","); for (i = 1; i <= n; i++) {
				sub(/\|.*/, "", d[i]); sub(/\(.*/, "", d[i]); sub(/:any$/, "", d[i])
				print d[i] } }' <<<"$got" | sort -u | grep -Ev "$stop" |
			while read -r d; do
				case " $seen " in *" $d "*) ;; *) echo "$d" ;; esac
			done | tr '\n' ' ')
		for p in $(awk '{ print $1 "=" $2 }' <<<"$got"); do
			printf '%s ' "$p"
		done
	done
}
# toolstack_closure: the toolstack's packages in XSUITE (resolve() calls it).
toolstack_closure() { closure "$XSUITE" "$TOOLSTACK_STOP" "xen-utils-$XEN" xenstore-utils; }

# The unpacked closure, flattened for an initramfs: bin/ the programs, lib/ every shared
# library and the loader (one directory, so that the loader finds them with --library-path).
# Xen 4.20's binaries are Debian 13's and need its libc: they always run with the libc and the
# loader of their own release, never with anything of the machine or the dom0 initramfs.
TOOLSTACK_BINS="xl xenstored xenconsoled xen-init-dom0 vchan-socket-proxy xenstore-read
	xenstore-write xenstore-ls xenstore-rm xenstore-list xenstore-watch xenstore-exists xenstore-chmod"
# flatten_libs DIR WHAT: every shared library of DIR/root, and its loader, into DIR/lib.
flatten_libs() {
	local d
	mkdir -p "$1/bin" "$1/lib"
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
		[ ! -d "$1/root/$d" ] || find "$1/root/$d" -maxdepth 1 -name '*.so*' \
			-exec cp -a {} "$1/lib/" \;
	done
	[ -e "$1/lib/ld-linux-x86-64.so.2" ] || die "no loader in the closure of $2"
}

fixup_toolstack() {
	local b f
	flatten_libs "$1" "the toolstack of Xen $XEN"
	for b in $TOOLSTACK_BINS; do
		f=$(find "$1/root/usr/lib/xen-$XEN/bin" "$1/root/usr/bin" "$1/root/usr/sbin" \
			-maxdepth 1 -name "$b" 2>/dev/null | head -n 1)
		[ -n "$f" ] || die "no $b in the toolstack of Xen $XEN"
		cp -L "$f" "$1/bin/$b"
	done
}

part_toolstack() {
	local dir
	dir=$CACHE/toolstack-$XEN-$(echo "$TOOLSTACK_PKGS" | md5sum | cut -c1-8)
	# shellcheck disable=SC2086
	FIXUP=fixup_toolstack unpack "$XSUITE" "$dir" $TOOLSTACK_PKGS
	out TOOLSTACK "$dir"
}

# ---- qemu-<v> (QEMU=<v>: the emulator the test bed boots in; README.md here, "QEMU") ----
# qemu-host: the machine's own qemu-system-x86_64 (HOST_PACKAGES). qemu-<v>, for a QEMU_SOURCE_<v>
# of kernels.mk: qemu-system-x86 of that suite with the firmware it depends on (seabios, the option
# ROMs of qemu-system-data) and its shared-library closure down to libc and its loader, flattened
# like the toolstack's: bin/, lib/ (run with lib/'s loader and --library-path, never with the
# machine's libc) and share/qemu/ (its firmware, -L).
# qemu-system-common (helpers, audio and braille libraries) and the packaging tools are not
# followed: a QEMU with -nographic, -vga none and -nic none needs none of them.
QEMU_STOP='^(qemu-system-common|qemu-system-gui|python3.*|debconf.*|perl.*|dpkg|tar|adduser|lsb-base|init-system-helpers|udev|systemd.*)$'

fixup_qemu() {
	local f t
	flatten_libs "$1" "QEMU $QEMU_V"
	mkdir -p "$1/share/qemu"
	cp "$1/root/usr/bin/qemu-system-x86_64" "$1/bin/"
	# Its firmware path (/usr/share/qemu, /usr/share/seabios, ipxe's) as one -L directory; the
	# links point into other packages, relative or absolute: followed inside the unpacked root,
	# never into the machine's.
	for f in "$1/root/usr/share/qemu"/* "$1/root/usr/share/seabios"/* \
		"$1/root/usr/lib/ipxe/qemu"/*; do
		t=$f
		while [ -L "$t" ]; do
			case $(readlink "$t") in
			/*) t=$1/root$(readlink "$t") ;;
			*) t=$(dirname "$t")/$(readlink "$t") ;;
			esac
		done
		[ ! -e "$t" ] || cp -a --dereference "$t" "$1/share/qemu/$(basename "$f")"
	done
	[ -e "$1/share/qemu/bios-256k.bin" ] || die "no bios-256k.bin in the closure of QEMU $QEMU_V"
	rm -rf "$1/root"
}

part_qemu() {
	local v=$1 suite pkgs dir
	if [ "$v" = host ]; then
		out QEMU_ROOT ""
		return
	fi
	read -r suite <<<"$(row "QEMU_SOURCE_$v")" || :
	[ -n "${suite:-}" ] || die "QEMU=$v is not in kernels.mk (known: host $(known QEMU_SOURCE))"
	private_apt "${suite%-backports}"
	pkgs=$(closure "$suite" "$QEMU_STOP" qemu-system-x86)
	case " $pkgs" in
	*" qemu-system-x86=1:$v".*) ;;
	*) die "qemu-system-x86 of $suite is not $v: $pkgs" ;;
	esac
	dir=$CACHE/qemu-$v-$(echo "$pkgs" | md5sum | cut -c1-8)
	# shellcheck disable=SC2086
	QEMU_V=$v FIXUP=fixup_qemu unpack "$suite" "$dir" $pkgs
	# QEMU finds its modules and data under the directory of /proc/self/exe, here lib/ (the
	# loader), + qemu-bundle/ + the built-in path if that directory exists, else at the built-in
	# path itself: where the machine's QEMU keeps its own modules (10.0 tries to load them). An
	# empty qemu-bundle: no modules (none is needed), the firmware from -L.
	mkdir -p "$dir/lib/qemu-bundle"
	out QEMU_ROOT "$dir"
	need "$dir/bin/qemu-system-x86_64"
}
# ---- end of qemu

# The kselftest framework files (harness, lib.mk, runner) of linux-source-$KSFT_KERNEL. Only
# these members of the 140 MB source tarball are needed: stream it once, keep them.
KSFT_FILES="lib.mk kselftest.h kselftest_harness.h kselftest_module.h kselftest kselftest_deps.sh"

part_ksft() {
	local dir top f
	dir=$(cachedir "$KSFT_PKG" "$KSFT_VER")
	top=linux-source-$KSFT_KERNEL/tools/testing/selftests
	if [ ! -d "$dir" ]; then
		fetch "$HOST_RELEASE" "$dir.tmp" "$KSFT_PKG=$KSFT_VER"
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
		fetch "$HOST_RELEASE" "$dir.tmp" "$KSFT_PKG=$KSFT_VER"
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
		fetch "$KSUITE" "$dir.tmp" "$SRC_PKG=$SRC_VER"
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

# ---- stocksrc (issue 19): the stock driver's source, one file of linux-source-<ver> ----
# From the unpacked tree when `source` made one (6.1 for make check-debug), else streamed from
# the package once; kept as $CACHE/linux-source-<k>_<ver>.stocksrc/gntalloc.c.
part_stocksrc() {
	local dir tree member=drivers/xen/gntalloc.c
	dir=$(cachedir "$SRC_PKG" "$SRC_VER").stocksrc
	tree=$(cachedir "$SRC_PKG" "$SRC_VER").tree/linux-source-$KERNEL
	if [ ! -d "$dir" ]; then
		rm -rf "$dir.tmp"
		if [ -f "$tree/$member" ]; then
			mkdir -p "$dir.tmp"
		else
			fetch "$KSUITE" "$dir.tmp" "$SRC_PKG=$SRC_VER"
			say "extracting $member from $SRC_PKG=$SRC_VER"
			dpkg-deb --fsys-tarfile "$dir.tmp"/debs/*.deb |
				tar -xO "./usr/src/linux-source-$KERNEL.tar.xz" |
				tar -xJ -C "$dir.tmp" "linux-source-$KERNEL/$member"
			tree=$dir.tmp/linux-source-$KERNEL
		fi
		[ -f "$tree/$member" ] || die "no $member in $SRC_PKG=$SRC_VER"
		cp "$tree/$member" "$dir.tmp/gntalloc.c"
		rm -rf "$dir.tmp/debs" "$dir.tmp/linux-source-$KERNEL"
		mv "$dir.tmp" "$dir"
	fi
	out STOCK_SRC "$dir/gntalloc.c"
	out STOCK_SRC_VER "$SRC_VER"
}
# ---- end stocksrc ----

# ---- pristine (make patches, make check-patches, the built-in debug kernel: scripts/patches.mk)
# The source tree as a bare git repository with one commit, tagged "base": what the upstream
# series is written against and applied to. Made once from the `source` tree (about 2 minutes);
# its users clone it with --shared, so nobody copies its 1.8 GB.
part_pristine() {
	local repo tree
	tree=$(cachedir "$SRC_PKG" "$SRC_VER").tree/linux-source-$KERNEL
	repo=$(cachedir "$SRC_PKG" "$SRC_VER").git
	if [ ! -d "$repo" ]; then
		command -v git >/dev/null || host_install git
		rm -rf "$repo.tmp"
		say "making a git repository of $SRC_PKG=$SRC_VER in $repo"
		git init -q --bare "$repo.tmp"
		# -f: every file of the package, whatever the tree's .gitignore says
		git --git-dir="$repo.tmp" --work-tree="$tree" -c core.bare=false add -A -f
		# a fixed identity and date: the same package gives the same commit everywhere
		GIT_AUTHOR_DATE='2000-01-01 00:00:00 +0000' GIT_COMMITTER_DATE='2000-01-01 00:00:00 +0000' \
			git --git-dir="$repo.tmp" --work-tree="$tree" -c core.bare=false \
			-c user.name="Debian $SRC_PKG" -c user.email=debian-kernel@lists.debian.org \
			commit -q -m "$SRC_PKG $SRC_VER (Debian), unpacked"
		rm -f "$repo.tmp/index"
		git --git-dir="$repo.tmp" tag base
		git --git-dir="$repo.tmp" gc -q --auto
		mv "$repo.tmp" "$repo"
	fi
	out PRISTINE "$repo"
}
# ---- end of pristine

[ $# -gt 0 ] || die "usage: $0 [-o FILE] host|headers|kernel|xen|libxen|busybox|toolstack|qemu-<v>|ksft|checkpatch|source|stocksrc|pristine..."

if [ -z "${PROVISION_INNER:-}" ]; then
	rc=0
	PROVISION_INNER=1 "$0" "$@" || rc=$?
	[ $rc = $STALE ] && [ -z "${PROVISION_UPDATED:-}" ] || exit $rc
	say "running apt-get update and retrying"
	apt-get $APT_LOCK update -q >&2 || say "WARNING: apt-get update reported errors; going on"
	for r in $(printf '%s\n' "$KRELEASE" "$XRELEASE" "$SPARSE_SUITE" | sort -u); do
		if [ "$r" = "$HOST_RELEASE" ] || [ ! -s "$CACHE/apt-$r/sources.list" ]; then
			continue
		fi
		# shellcheck disable=SC2046
		apt-get $(apt_opts "$r") -q update >&2 ||
			say "WARNING: apt-get update of Debian $r reported errors; going on"
	done
	PROVISION_INNER=1 PROVISION_UPDATED=1 exec "$0" "$@"
fi

if [ -n "${PROVISION_MK:-}" ]; then
	mkdir -p "$(dirname "$PROVISION_MK")"
	exec 3>"$PROVISION_MK.tmp" 1>&2
	printf '# Written by provision.sh %s for KERNEL=%s, XEN=%s, GNTALLOC_CACHE=%s: do not edit.\n' \
		"$*" "$KERNEL" "$XEN" "$CACHE" >&3
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
	headers | kernel | xen | libxen | busybox | toolstack | ksft | checkpatch | source | stocksrc)
		[ -n "${ABI:-}" ] || resolve
		"part_$part"
		;;
	qemu-*) part_qemu "${part#qemu-}" ;;
	pristine)
		[ -n "${ABI:-}" ] || resolve
		part_source
		part_pristine
		;;
	*) die "unknown part '$part'" ;;
	esac
done
# The fragment appears whole or not at all.
[ -z "${PROVISION_MK:-}" ] || mv "$PROVISION_MK.tmp" "$PROVISION_MK"
