#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-buildroot.sh ROOT CMD... - run CMD in the build root ROOT (a debootstrap of a kernel's own
# Debian release, made by provision.sh), in the current directory. The directories listed in
# BUILDROOT_BIND (space-separated: the checkout, BUILD, GNTALLOC_CACHE) appear inside at their own
# paths, so that paths given to CMD mean the same in and out; /proc is mounted (objtool reads
# it). The mounts are made in a private mount namespace: they vanish with CMD, whatever happens,
# and nobody else on the machine sees them. The environment is kept (MAKEFLAGS carries make's
# jobserver), PATH is the build root's.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 ROOT CMD..." >&2; exit 2; }
root=$1
shift
[ -x "$root/usr/bin/make" ] || { echo "in-buildroot: $root is no build root" >&2; exit 1; }

if [ -z "${IN_BUILDROOT_NS:-}" ]; then
	IN_BUILDROOT_NS=1 exec unshare --mount --propagation private "$0" "$root" "$@"
fi

mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
for d in ${BUILDROOT_BIND:-}; do
	[ -d "$d" ] || continue
	mkdir -p "$root$d"
	mount --bind "$d" "$root$d"
done
# shellcheck disable=SC2016 # expanded by the build root's sh
exec chroot "$root" /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	sh -c 'cd "$1" && shift && exec "$@"' sh "$PWD" "$@"
