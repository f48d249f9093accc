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
# Built in (DEBUG_SERIES set, for the kernel of the upstream series, 7.3): the kernel is the
# pristine tree (provision.sh pristine) with the series of `make patches` applied, our driver
# built in (CONFIG_XEN_GRANT_DEV_ALLOC=y instead of the fragment's =m), built in the kernel's
# Debian build root (provision.sh headers). DEBUG_SERIES is the git repository `make patches`
# commits the series in (build/upstream/linux), its branch gntalloc the commit to build. The
# source is a clone in the cache directory, which is keyed by the fragment, not by the series:
# a new series is checked out over the old one (only the files that differ change) and the
# kernel rebuilt incrementally, a few minutes; "commit" names the one built.
#
# Per kernel, debug-kernel-$KERNEL.config (if there is one) is merged over the fragment: an
# option it sets replaces that option's line of debug-kernel.config (7.3 goes without DEBUG_VM,
# which trips an upstream WARN at boot). DEBUG_OVERRIDE names another file instead, or none
# when set and empty.
#
# Built in, debug-kernel-$KERNEL.fixes/*.patch (if any) are applied over the series: the test
# bed's own fixes of upstream bugs that stop that kernel from booting (7.3: one), each named
# with its reproducer in ../reproducers/.
#
# Environment: KERNEL (6.1 or 6.12; default 6.1), GNTALLOC_CACHE, JOBS (default 2), DEBUG_SERIES,
# DEBUG_OVERRIDE.
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

# ---- built in: the series' kernel
BUILTIN=${DEBUG_SERIES:+y}
KBUILD_ENV=() KBUILD_CC=() FIXES=()
if [ -n "$BUILTIN" ]; then
	prov=$(KERNEL=$KERNEL GNTALLOC_CACHE=$CACHE "$here/provision.sh" headers pristine)
	PRISTINE=$(sed -n 's/^PRISTINE=//p' <<<"$prov")
	BUILDROOT=$(sed -n 's/^BUILDROOT=//p' <<<"$prov")
	COMMIT=$(git -C "$DEBUG_SERIES" rev-parse --verify gntalloc) ||
		die "no branch gntalloc in $DEBUG_SERIES: make patches first"
	# what is built is the series' tree: a new commit of the same tree (our HEAD's date is the
	# series') rebuilds nothing
	SERIES_TREE=$(git -C "$DEBUG_SERIES" rev-parse "$COMMIT^{tree}")
	# The test bed's fixes of upstream bugs that stop this kernel from booting with the
	# fragment (debug-kernel-$KERNEL.fixes/*.patch, each with its reproducer), applied over
	# the series: part of what is built, so a changed fix rebuilds like a changed series.
	mapfile -t FIXES < <(ls "$here/debug-kernel-$KERNEL.fixes/"*.patch 2>/dev/null || :)
	if [ "${#FIXES[@]}" -gt 0 ]; then
		SERIES_TREE=$SERIES_TREE+$(cat "${FIXES[@]}" | sha256sum | cut -c1-12)
	fi
	# the kernel's own compiler, in its Debian release (none for the machine's own release)
	# (which has gcc-N only, no gcc)
	if [ -n "$BUILDROOT" ]; then
		cc=$(cd "$BUILDROOT/usr/bin" && ls gcc-[0-9]* | sort -V | tail -n 1)
		KBUILD_ENV=(env BUILDROOT_BIND="$CACHE" "$here/in-buildroot.sh" "$BUILDROOT")
		KBUILD_CC=(CC="$cc" HOSTCC="$cc")
	fi
	sed 's/^CONFIG_XEN_GRANT_DEV_ALLOC=m$/CONFIG_XEN_GRANT_DEV_ALLOC=y/' "$FRAGMENT" \
		>"$CACHE/debug-kernel/.fragment.$$"
	FRAGMENT=$CACHE/debug-kernel/.fragment.$$
	trap 'rm -f "$FRAGMENT"' EXIT
fi
# ---- end of built in

# the per-kernel options: the fragment's lines for the options they set give way to them
OVERRIDE=${DEBUG_OVERRIDE-$here/debug-kernel-$KERNEL.config}
if [ -n "$OVERRIDE" ] && [ -f "$OVERRIDE" ]; then
	mkdir -p "$CACHE/debug-kernel"
	merged=$CACHE/debug-kernel/.fragment-override.$$
	awk 'function opt(l) {
		if (match(l, /^CONFIG_[A-Za-z0-9_]+=/)) return substr(l, 1, RLENGTH - 1)
		if (l ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) { split(l, w, " "); return w[2] }
		return ""
	     }
	     FNR == NR { if (opt($0) != "") over[opt($0)] = 1; next }
	     !(opt($0) in over)' "$OVERRIDE" "$FRAGMENT" >"$merged"
	grep -E '^(CONFIG_|# CONFIG_)' "$OVERRIDE" >>"$merged" || :
	[ -z "$BUILTIN" ] || rm -f "$FRAGMENT"
	FRAGMENT=$merged
	trap 'rm -f "$FRAGMENT"' EXIT
	say "$(basename "$OVERRIDE") merged over the fragment"
fi

hash=$({ echo "recipe $RECIPE"; cat "$FRAGMENT"; } | sha256sum | cut -c1-12)
dir=$CACHE/debug-kernel/linux-source-${KERNEL}_${SRC_VER//:/%3a}-$hash${BUILTIN:+-builtin}
mkdir -p "$CACHE/debug-kernel"

# One build at a time per cache; whoever waited finds the kernel built.
exec 9>"$CACHE/debug-kernel/.lock"
if ! flock -n 9; then
	say "another debug-kernel build runs; waiting for it"
	flock 9
fi

# (from $dir: the build root sees only the cache)
kmake() {
	(cd "$dir" && "${KBUILD_ENV[@]}" nice -n 19 make -C "$SRC_TREE" O="$dir/build" \
		"${KBUILD_CC[@]}" "$@") >>"$log" 2>&1
}
fail() {
	tail -n 40 "$log" | sed 's/^/  | /' >&2
	die "$* (whole log: $log)"
}
install_kernel() {
	rm -rf "$dir/modroot"
	kmake INSTALL_MOD_PATH="$dir/modroot" INSTALL_MOD_STRIP=1 modules_install ||
		fail "modules_install failed"
	cp "$dir/build/arch/x86/boot/bzImage" "$dir/vmlinuz"
	depmod -b "$dir/modroot" "$(cat "$dir/build/include/config/kernel.release")"
}
# checkout_series: the series' commit in $dir/src, which is the source tree
checkout_series() {
	[ -d "$dir/src/.git" ] || git clone -q --shared --no-checkout "$PRISTINE" "$dir/src"
	git -C "$dir/src" fetch -q "$DEBUG_SERIES" gntalloc
	git -C "$dir/src" checkout -q -f --detach "$COMMIT"
	local p
	for p in "${FIXES[@]}"; do
		git -C "$dir/src" apply "$p" || die "$(basename "$p") does not apply to the series"
		say "applied $(basename "$p") (a fix of the test bed's)"
	done
}
[ -z "$BUILTIN" ] || SRC_TREE=$dir/src

# Built in place (a build tree remembers its absolute path); "complete" is written last, so a
# directory without it is a build that was interrupted: start it over.
if [ -f "$dir/complete" ] && [ -n "$BUILTIN" ] &&
	[ "$(cat "$dir/tree" 2>/dev/null)" != "$SERIES_TREE" ]; then
	log=$dir/build.log
	say "the series changed: building $COMMIT over $(cat "$dir/commit" 2>/dev/null) in $dir (log: $log)"
	start=$SECONDS
	rm -f "$dir/commit"
	checkout_series
	kmake olddefconfig || fail "olddefconfig failed"
	check_config "$dir/build/.config" "$FRAGMENT" >&2 || die "the fragment no longer holds"
	kmake -j"$JOBS" bzImage modules || fail "the kernel build failed"
	install_kernel
	echo "$COMMIT" >"$dir/commit"
	echo "$SERIES_TREE" >"$dir/tree"
	say "rebuilt in $((SECONDS - start)) s"
fi
# Built in: a build interrupted after its configuration goes on where it stopped (Kbuild deletes
# what it failed to write), on the series as it is now.
if [ ! -f "$dir/complete" ] && [ -n "$BUILTIN" ] && cmp -s "$FRAGMENT" "$dir/fragment"; then
	log=$dir/build.log
	say "resuming the interrupted build in $dir (log: $log)"
	start=$SECONDS
	checkout_series
	kmake olddefconfig || fail "olddefconfig failed"
	kmake -j"$JOBS" bzImage modules || fail "the kernel build failed"
	install_kernel
	echo "$COMMIT" >"$dir/commit"
	echo "$SERIES_TREE" >"$dir/tree"
	echo "$((SECONDS - start))" >"$dir/complete"
	say "built in $((SECONDS - start)) s"
fi
if [ ! -f "$dir/complete" ]; then
	rm -rf "$dir"
	mkdir -p "$dir/build"
	log=$dir/build.log
	[ -z "$BUILTIN" ] || checkout_series
	say "building ${BUILTIN:+the series $COMMIT on }linux-source-$KERNEL $SRC_VER with" \
		"$(basename "$FRAGMENT") into $dir"
	say "(about 10 minutes from scratch with 2 cores; log: $log)"
	start=$SECONDS
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
	[ -z "$BUILTIN" ] || cp "$FRAGMENT" "$dir/fragment"
	kmake -j"$JOBS" bzImage modules || fail "the kernel build failed"
	install_kernel
	[ -z "$BUILTIN" ] || echo "$COMMIT" >"$dir/commit"
	[ -z "$BUILTIN" ] || echo "$SERIES_TREE" >"$dir/tree"
	echo "$((SECONDS - start))" >"$dir/complete"
	say "built $(cat "$dir/build/include/config/kernel.release") in $((SECONDS - start)) s"
fi

release=$(cat "$dir/build/include/config/kernel.release")
out DEBUG_KDIR "$dir/build"
out DEBUG_KABI "$release"
out DEBUG_VMLINUZ "$dir/vmlinuz"
out DEBUG_KMODROOT "$dir/modroot"
out DEBUG_BUILTIN "$BUILTIN"
[ -z "$MK" ] || mv "$MK.tmp" "$MK"
# A series made while this kernel was built makes the fragment stale at once (make patches
# writes the commit it made to DEBUG_SERIES.commit).
if [ -n "$MK" ] && [ -n "$BUILTIN" ] && [ "$(cat "$DEBUG_SERIES.commit" 2>/dev/null)" != "$COMMIT" ]; then
	touch -d @1 "$MK"
fi
