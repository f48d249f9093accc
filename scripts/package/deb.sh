#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh OUTDIR - build the Debian packages of this tree with Debian's own tooling (dpkg-buildpackage,
# debhelper, dh-dkms) into OUTDIR, then check them with lintian: any error, warning or info tag
# fails, and none is overridden.
#
# The source package is the tree as git sees it (tracked and new files, without what .gitignore
# names: build/, objects, the kselftest files), copied to OUTDIR/xen-gntalloc-VERSION. VERSION
# is dkms.conf's PACKAGE_VERSION, the one place it is written: debian/changelog is made here, one
# entry for this build, dated by the last commit (so that two builds of one commit are the same).
# Installs the build tools it lacks with apt-get (debhelper, dh-dkms, lintian, ...).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: deb.sh OUTDIR}
say() { printf 'deb: %s\n' "$*" >&2; }
die() {
	printf 'deb: ERROR: %s\n' "$*" >&2
	exit 1
}

# The packages the build needs (debian/control's Build-Depends and what runs the build).
NEED="dpkg-dev debhelper dh-dkms lintian gcc libc6-dev make rsync git"
# shellcheck disable=SC2086 # NEED is a list of words
missing=$({ dpkg-query -W -f='${Package} ${Status}\n' $NEED 2>/dev/null || :; } |
	awk -v want="$NEED" '$NF == "installed" { ok[$1] = 1 }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) print w[i] }')
if [ -n "$missing" ]; then
	missing=$(tr '\n' ' ' <<<"$missing")
	[ "$(id -u)" = 0 ] || die "not root; please install: $missing"
	say "installing the build tools: $missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=900 update -q >&2 || say "WARNING: apt-get update failed; going on"
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing >&2 ||
		die "apt-get install failed"
fi

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ -n "$version" ] || die "no PACKAGE_VERSION=\"...\" in dkms.conf"
maintainer=$(sed -n 's/^Maintainer: //p' "$top/debian/control")
src=$out/xen-gntalloc-$version

rm -rf "$out"
mkdir -p "$src"
cd "$top"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done |
	rsync -a --from0 --files-from=- ./ "$src/"
# One entry: this build. Dated by the last commit, as is everything built from it.
{
	printf 'xen-gntalloc (%s) unstable; urgency=medium\n\n' "$version"
	printf '  * Built by make deb from %s.\n\n' "$(git describe --always --dirty)"
	printf ' -- %s  %s\n' "$maintainer" "$(LC_ALL=C date -R -d "@$(git log -1 --format=%ct)")"
} >"$src/debian/changelog"

say "dpkg-buildpackage in $src"
(cd "$src" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log $out/build.log)"
}
changes=$out/xen-gntalloc_${version}_$(dpkg --print-architecture).changes
say "lintian $changes"
lintian --info --display-info --pedantic --fail-on error,warning,info "$changes" ||
	die "lintian has findings (above)"
say "built $(cd "$out" && echo *.deb) in $out"
