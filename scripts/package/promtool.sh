#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# promtool.sh - print the path of promtool, from the machine's Debian `prometheus` package,
# fetched with apt-get download and unpacked with dpkg -x into $GNTALLOC_CACHE once per version:
# never installed (that would start a Prometheus server). promtool needs only libc.
set -euo pipefail

cache=${GNTALLOC_CACHE:-/var/cache/xen-gntalloc}
die() {
	printf 'promtool: ERROR: %s\n' "$*" >&2
	exit 1
}
version=$(apt-cache policy prometheus 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
	apt-get -o DPkg::Lock::Timeout=900 update -q >&2 || :
	version=$(apt-cache policy prometheus 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
fi
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
	die "no prometheus package in the apt lists"
fi
dir=$cache/prometheus_${version//:/%3a}
if [ ! -x "$dir/root/usr/bin/promtool" ]; then
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -x "$dir/root/usr/bin/promtool" ]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp/debs"
		! id _apt >/dev/null 2>&1 || chown _apt "$dir.tmp/debs"
		printf 'promtool: downloading prometheus=%s\n' "$version" >&2
		(cd "$dir.tmp/debs" && apt-get download -q "prometheus=$version" >&2) ||
			die "cannot download prometheus=$version"
		# Only promtool is kept: the server and its web assets are of no use here.
		dpkg-deb --fsys-tarfile "$dir.tmp"/debs/*.deb | tar -x -C "$dir.tmp" ./usr/bin/promtool
		mkdir -p "$dir.tmp/root/usr/bin"
		mv "$dir.tmp/usr/bin/promtool" "$dir.tmp/root/usr/bin/"
		rm -rf "$dir.tmp/debs" "$dir.tmp/usr"
		"$dir.tmp/root/usr/bin/promtool" --version >/dev/null 2>&1 || die "promtool does not run"
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
fi
echo "$dir/root/usr/bin/promtool"
