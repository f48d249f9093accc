#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [-o FILE] - the debug dom0 kernel of `make check-debug`, built once and cached.
#
# Debian's linux-source-$KERNEL (fetched by `provision.sh source`), configured as
# x86_64_defconfig + xen.config + debug-kernel.config (lockdep, kmemleak, KFENCE, SLUB and VM
# debugging, fault injection; the Xen devices as modules), every line of the fragment checked
# after olddefconfig, built with `nice -n 19 make -j$JOBS bzImage modules`.
#
# The result lives in $GNTALLOC_CACHE/debug-kernel/<source package>_<version>-<hash>/, where
# <hash> covers the fragment and this script's recipe version: the same source and fragment
# are never built twice; another fragment gets another directory. It holds
#	build/		the O= build tree, prepared for external modules (make -C build M=...)
#	modroot/	lib/modules/<release>/ as modules_install left it (stripped), depmod'ed
#	vmlinuz		the bzImage
#	build.log	the whole build's output
# A directory without its file "complete" is an interrupted build: the next run starts it over.
#
# Environment: KERNEL (6.1 or 6.12; default 6.1), GNTALLOC_CACHE, JOBS (default 2).
# stdout carries only KEY=VALUE lines (DEBUG_KDIR, DEBUG_KABI, DEBUG_VMLINUZ, DEBUG_KMODROOT);
# everything else goes to stderr. With -o FILE they go to FILE as a make fragment, the same
# form as provision.sh -o writes ("P_KEY := VALUE", "P_FILES += PATH"), for the test bed's
# makefile to include.
set -euo pipefail

MK=
if [ "${1:-}" = -o ]; then
	MK=${2:?debug-kernel: -o needs a file}
	shift 2
fi

here=$(cd "$(dirname "$0")" && pwd)
KERNEL=${KERNEL:-6.1}
CACHE=${GNTALLOC_CACHE:-/var/cache/xen-gntalloc}
JOBS=${JOBS:-2}
FRAGMENT=$here/debug-kernel.config
# Bump when the recipe below changes in a way that changes the kernel: it is part of the key.
RECIPE=1
# What a kernel build needs beyond the test bed's host tools (provision.sh host).
BUILD_PACKAGES="bc bison flex libelf-dev libssl-dev"

say() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() {
	printf 'debug-kernel: ERROR: %s\n' "$*" >&2
	exit 1
}
out() {
	if [ -z "$MK" ]; then
		printf '%s=%s\n' "$1" "$2" >&3
		return
	fi
	printf 'P_%s := %s\n' "$1" "$2" >&3
	case $2 in /*) printf 'P_FILES += %s\n' "$2" >&3 ;; esac
}
if [ -n "$MK" ]; then
	mkdir -p "$(dirname "$MK")"
	exec 3>"$MK.tmp" 1>&2
	printf '# Written by debug-kernel.sh for KERNEL=%s: do not edit.\n' "${KERNEL:-6.1}" >&3
else
	exec 3>&1 1>&2
fi

install_build_packages() {
	local missing
	# shellcheck disable=SC2086
	missing=$({ dpkg-query -W -f='${Package} ${Status}\n' $BUILD_PACKAGES 2>/dev/null || :; } |
		awk '$NF == "installed" { ok[$1] = 1 }
		     END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) print w[i] }' \
			want="$BUILD_PACKAGES")
	[ -n "$missing" ] || return 0
	[ "$(id -u)" = 0 ] || die "not root; please install:" $missing
	say "installing kernel build tools:" $missing
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
		--no-install-recommends $missing ||
		{
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 update -q ||
				say "WARNING: apt-get update reported errors; going on"
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
				--no-install-recommends $missing
		} || die "apt-get install failed"
}

# check_config CONFIG FRAGMENT: every line of the fragment holds in CONFIG. Prints each one
# that does not and fails.
check_config() {
	awk '
		FNR == NR { have[$0] = 1; if ($0 ~ /^CONFIG_/) { split($0, kv, "="); set[kv[1]] = $0 }
			    next }
		/^CONFIG_[A-Za-z0-9_]+=/ {
			if (!have[$0]) {
				split($0, kv, "=")
				printf "  wanted %s, got %s\n", $0,
					(kv[1] in set) ? set[kv[1]] : "# " kv[1] " is not set"
				bad++
			}
			next
		}
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ {
			if ($2 in set) {
				printf "  wanted %s, got %s\n", $0, set[$2]
				bad++
			}
		}
		END { exit bad != 0 }' "$1" "$2"
}

install_build_packages
src_out=$(KERNEL=$KERNEL GNTALLOC_CACHE=$CACHE "$here/provision.sh" source)
SRC_TREE=$(sed -n 's/^SRC_TREE=//p' <<<"$src_out")
SRC_VER=$(sed -n 's/^SRC_VER=//p' <<<"$src_out")
[ -f "$SRC_TREE/Makefile" ] || die "provision.sh source gave no tree"

hash=$({ echo "recipe $RECIPE"; cat "$FRAGMENT"; } | sha256sum | cut -c1-12)
dir=$CACHE/debug-kernel/linux-source-${KERNEL}_${SRC_VER//:/%3a}-$hash
mkdir -p "$CACHE/debug-kernel"

# One build at a time per cache; whoever waited finds the kernel built.
exec 9>"$CACHE/debug-kernel/.lock"
if ! flock -n 9; then
	say "another debug-kernel build runs; waiting for it"
	flock 9
fi

# Built in place (a build tree remembers its absolute path); "complete" is written last, so a
# directory without it is a build that was interrupted: start it over.
if [ ! -f "$dir/complete" ]; then
	rm -rf "$dir"
	mkdir -p "$dir/build"
	log=$dir/build.log
	say "building linux-source-$KERNEL $SRC_VER with $(basename "$FRAGMENT") into $dir"
	say "(about 10 minutes from scratch with 2 cores; log: $log)"
	start=$SECONDS
	kmake() { nice -n 19 make -C "$SRC_TREE" O="$dir/build" "$@" >>"$log" 2>&1; }
	fail() {
		tail -n 40 "$log" | sed 's/^/  | /' >&2
		die "$* (whole log: $log)"
	}
	kmake x86_64_defconfig || fail "x86_64_defconfig failed"
	kmake xen.config || fail "make xen.config failed"
	"$SRC_TREE/scripts/kconfig/merge_config.sh" -m -O "$dir/build" "$dir/build/.config" \
		"$FRAGMENT" >>"$log" 2>&1 || fail "merge_config.sh failed"
	kmake olddefconfig || fail "olddefconfig failed"
	if ! check_config "$dir/build/.config" "$FRAGMENT" >"$dir/config-check" 2>&1; then
		cat "$dir/config-check" >&2
		die "these options of $FRAGMENT did not survive olddefconfig (a dependency is" \
			"missing or the option is gone in $SRC_VER)"
	fi
	say "all $(grep -c '^\(CONFIG_\|# CONFIG_\)' "$FRAGMENT") options of the fragment stuck"
	kmake -j"$JOBS" bzImage modules || fail "the kernel build failed"
	kmake INSTALL_MOD_PATH="$dir/modroot" INSTALL_MOD_STRIP=1 modules_install ||
		fail "modules_install failed"
	cp "$dir/build/arch/x86/boot/bzImage" "$dir/vmlinuz"
	release=$(cat "$dir/build/include/config/kernel.release")
	depmod -b "$dir/modroot" "$release"
	echo "$((SECONDS - start))" >"$dir/complete"
	say "built $release in $((SECONDS - start)) s"
fi

release=$(cat "$dir/build/include/config/kernel.release")
out DEBUG_KDIR "$dir/build"
out DEBUG_KABI "$release"
out DEBUG_VMLINUZ "$dir/vmlinuz"
out DEBUG_KMODROOT "$dir/modroot"
[ -z "$MK" ] || mv "$MK.tmp" "$MK"
