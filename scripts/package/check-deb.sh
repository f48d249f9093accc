#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-deb.sh DEBDIR ABI SUITE OUT - install the packages of `make deb` as a user would, in a fresh
# Debian build root of SUITE's release, and hand back the module DKMS built:
#
#   1. a minimal Debian (debootstrap --variant=minbase), made once into $GNTALLOC_CACHE;
#   2. apt-get install linux-image-ABI linux-headers-ABI (-t SUITE for backports): the kernel
#      (with the stock xen-gntalloc) and its headers, as on a real host; kept as an overlay
#      layer over 1, once per ABI. Every run uses 2 over 1 through an overlay of its own: it
#      starts from the same fresh system and leaves it so;
#   3. apt-get install ./xen-gntalloc-dkms_*.deb: its postinst has DKMS build and install the
#      module for ABI; it must be in /lib/modules/ABI/updates/dkms/ and be what modprobe finds
#      (modinfo -n) instead of the stock one; it is copied to OUT, uncompressed, for
#      `make check MODULE=OUT`;
#   4. apt-get install ./xen-gntalloc-tools_*.deb: gntstat and its man page; the installed
#      gntstat must pass tools/xen/gntstat/check-fake-tree.sh;
#   5. apt-get purge of both: the module, its DKMS tree, /usr/src and the modprobe.d file go,
#      and modprobe finds the stock module again.
#
# Needs root (debootstrap, chroot, mounts). The downloaded .debs are kept in
# $GNTALLOC_CACHE/debroot-<release>.archives, so a warm run fetches nothing but the package lists.
set -euo pipefail

debdir=$(realpath "${1:?usage: check-deb.sh DEBDIR ABI SUITE OUT}")
abi=${2:?} suite=${3:?} out=${4:?}
release=${suite%-backports}
cache=${GNTALLOC_CACHE:-/var/cache/xen-gntalloc}
root=$cache/debroot-$release
archives=$root.archives
say() { printf 'check-deb: [%ss] %s\n' "$SECONDS" "$*" >&2; }
die() {
	printf 'check-deb: FAIL: %s\n' "$*" >&2
	exit 1
}
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"

mirror=${DEBIAN_MIRROR:-}
[ -n "$mirror" ] || mirror=$(apt-cache policy 2>/dev/null |
	awk '$2 ~ /^https?:/ && $3 ~ /\/main$/ && $2 !~ /security/ { print $2; exit }')
mirror=${mirror:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The pristine root, once (under the cache's lock: several people share this machine).
if [ ! -d "$root" ]; then
	command -v debootstrap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
			--no-install-recommends debootstrap >&2
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -d "$root" ]; then
		say "debootstrap $release into $root (once; a minute or two)"
		rm -rf "$root.tmp"
		debootstrap --variant=minbase "$release" "$root.tmp" "$mirror" >&2 ||
			die "debootstrap $release failed"
		{
			echo "deb $mirror $release main"
			echo "deb $mirror $release-updates main"
			echo "deb $security $release-security main"
			echo "deb $mirror $release-backports main"
		} >"$root.tmp/etc/apt/sources.list"
		rm -rf "$root.tmp"/var/cache/apt/archives/*.deb
		mv "$root.tmp" "$root"
	fi
	exec 9>&-
fi
mkdir -p "$archives/partial"

# The rest in a private mount namespace: the overlays and the mounts inside vanish with it.
if [ -z "${CHECK_DEB_NS:-}" ]; then
	CHECK_DEB_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

# r is the root that in_root and apt_get run in.
r=
in_root() {
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}
apt_get() { in_root apt-get -q -y -o APT::Sandbox::User=root "$@"; }

# open_root LOWER DIR: DIR/root, an overlay of LOWER (colon-separated layers) whose changes go to
# DIR/upper, with /proc, /dev, the shared apt archives and the machine's resolv.conf; r is set.
open_root() {
	mkdir -p "$2/upper" "$2/work" "$2/root"
	mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root"
	r=$2/root
	mount -t proc proc "$r/proc"
	mount --rbind /dev "$r/dev"
	mount --bind "$archives" "$r/var/cache/apt/archives"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
}
# (lazily if need be: on Debian 13 something in /dev stays busy; the namespace goes anyway)
close_root() { umount -R "$1/root" 2>/dev/null || umount -R -l "$1/root"; }

# The kernel layer, once per ABI: the root plus linux-image-ABI and linux-headers-ABI (the kernel,
# with the stock xen-gntalloc, and its headers, as on a real host), kept as an overlay layer.
layer=$cache/debroot-$release-$abi.layer
if [ ! -d "$layer" ]; then
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -d "$layer" ]; then
		rm -rf "$layer.tmp"
		open_root "$root" "$layer.tmp"
		# The kernel's postinst would build an initramfs (twice: postinst and trigger), a
		# minute or more that tests nothing of ours (DKMS does not put xen-gntalloc in it):
		# diverted away, as image builders do in a chroot.
		in_root dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
		ln -s /bin/true "$r/usr/sbin/update-initramfs"
		say "installing linux-image-$abi and linux-headers-$abi into a layer over the root (once" \
			"per kernel ABI)"
		apt_get update >&2 || die "apt-get update failed"
		# A backports kernel comes with its own dependencies from backports (-t SUITE).
		# initramfs-tools, Debian's default, is named: left to choose, Debian 13's apt takes
		# dracut, which fails in a chroot (and is not diverted).
		target=()
		[ "$suite" = "$release" ] || target=(-t "$suite")
		apt_get install --no-install-recommends "${target[@]}" "linux-image-$abi" \
			"linux-headers-$abi" initramfs-tools >&2 ||
			die "cannot install linux-image-$abi and linux-headers-$abi"
		# The layer holds them unpacked: their .debs would only take room in the cache.
		apt_get clean >&2
		rm -f "$r/etc/resolv.conf"
		close_root "$layer.tmp"
		mv "$layer.tmp/upper" "$layer"
		rm -rf "$layer.tmp"
	fi
	exec 9>&-
fi

# This run's root: the layer over the root, its changes in a scratch directory thrown away.
work=$(mktemp -d "${TMPDIR:-/tmp}/check-deb.XXXXXX")
trap 'close_root "$work" || :; rm -rf "$work"' EXIT
open_root "$layer:$root" "$work"
mkdir -p "$r/debs"
cp "$debdir"/xen-gntalloc-dkms_*_all.deb "$debdir"/xen-gntalloc-tools_*.deb "$r/debs/"
dkms_deb=$(cd "$r/debs" && echo xen-gntalloc-dkms_*_all.deb)
tools_deb=$(cd "$r/debs" && echo xen-gntalloc-tools_*.deb)

say "apt-get update in a fresh Debian $release with linux-image-$abi and linux-headers-$abi"
apt_get update >&2 || die "apt-get update failed"
stock=$(in_root modinfo -k "$abi" -n xen-gntalloc) || die "the kernel has no stock xen-gntalloc"

say "apt-get install ./$dkms_deb"
apt_get install --no-install-recommends "/debs/$dkms_deb" >&2 ||
	die "installing xen-gntalloc-dkms failed"
in_root dkms status >&2
in_root dkms status -m xen-gntalloc -k "$abi" | grep -q ': installed' ||
	die "DKMS did not install xen-gntalloc for $abi"
ko=$(cd "$r" && ls lib/modules/"$abi"/updates/dkms/xen-gntalloc.ko* 2>/dev/null) ||
	die "no xen-gntalloc.ko in /lib/modules/$abi/updates/dkms"
found=$(in_root modinfo -k "$abi" -n xen-gntalloc) || die "modinfo -k $abi xen-gntalloc failed"
[ "$found" = "/$ko" ] || die "modprobe would load $found, not /$ko"
[ "$found" != "$stock" ] || die "modprobe finds the stock module"
case $ko in
*.xz) xz -dc "$r/$ko" ;;
*.zst) zstd -dc "$r/$ko" ;;
*) cat "$r/$ko" ;;
esac >"$out"
say "DKMS built and installed /$ko; modprobe finds it; copied to $out"

say "apt-get install ./$tools_deb"
apt_get install --no-install-recommends "/debs/$tools_deb" >&2 ||
	die "installing xen-gntalloc-tools failed"
in_root gntstat --help | grep -q -- --prometheus || die "the packaged gntstat does not run"
# The packaged gntstat against a made-up sysfs tree (the test needs the UAPI header's list)
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$r/check/tools/xen/gntstat" "$r/check/include/uapi/xen"
cp "$top/tools/xen/gntstat/check-fake-tree.sh" "$r/check/tools/xen/gntstat/"
cp "$top/include/uapi/xen/gntalloc.h" "$r/check/include/uapi/xen/"
in_root /check/tools/xen/gntstat/check-fake-tree.sh /usr/sbin/gntstat >&2 ||
	die "the packaged gntstat fails check-fake-tree.sh"
[ -s "$r/usr/share/man/man8/gntstat.8.gz" ] || die "no gntstat(8)"
[ -s "$r/etc/modprobe.d/xen-gntalloc.conf" ] || die "no /etc/modprobe.d/xen-gntalloc.conf"
! grep -v '^#' "$r/etc/modprobe.d/xen-gntalloc.conf" | grep -q . ||
	die "/etc/modprobe.d/xen-gntalloc.conf sets something: it must be all comments"

say "apt-get purge xen-gntalloc-dkms xen-gntalloc-tools"
apt_get purge xen-gntalloc-dkms xen-gntalloc-tools >&2 || die "purge failed"
left=$(cd "$r" && ls -d lib/modules/"$abi"/updates/dkms/xen-gntalloc.ko* var/lib/dkms/xen-gntalloc \
	usr/src/xen-gntalloc-* etc/modprobe.d/xen-gntalloc.conf usr/sbin/gntstat 2>/dev/null) || :
[ -z "$left" ] || die "left behind after purge: $left"
found=$(in_root modinfo -k "$abi" -n xen-gntalloc) || :
[ "$found" = "$stock" ] || die "after purge modprobe finds '$found', not the stock $stock"
say "purged: the module, its DKMS tree, /usr/src/xen-gntalloc-*, gntstat and the modprobe.d file are" \
	"gone; modprobe finds the stock $stock again"
