#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkseries.sh KBUILD_ENV... - `make check-patches`: does the series of `make patches` do what
# a maintainer will try first? In a clone of the pristine kernel (the tag "base"):
#
#   1. it applies with `git am`;
#   2. every patch builds: drivers/xen/ with the driver =m (x86_64_defconfig + xen.config +
#      scripts/upstream-check.config), commit by commit, with no warning in what the series adds;
#   3. the whole series builds drivers/xen/ with the driver =y (the same configuration);
#   4. W=1 and sparse (C=2, every file) are clean on the driver, in the tree;
#   5. scripts/checkpatch.pl --strict (the base tree's) passes on every patch;
#   6. `make -C tools/testing/selftests TARGETS=<our directory>` builds the selftests (against
#      the tree's exported headers, `make headers`).
# What is built is drivers/xen/ only (Kbuild prepares the tree for it), not a kernel image: the
# built-in debug kernel of `make check-debug KERNEL=7.3` links the whole series into vmlinux.
#
# KBUILD_ENV is the command prefix that runs a build for this kernel (the Debian 13 build root:
# qemu/in-buildroot.sh ROOT); "make -C TREE O=..." follows it. Environment: PRISTINE, PATCHES
# (the directory of `make patches`), CHECK_DIR (clone and objects, kept: a second run rebuilds
# only what changed), KCC (the compiler, e.g. gcc-14: the build root has no plain gcc),
# SPARSE (the sparse to run, or empty for the build root's), XEN_CFLAGS,
# XEN_LDLIBS (libxengnttab for the selftests), JOBS (2). Prints one line per check and fails on
# the first that fails, with its log's tail.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 KBUILD_ENV..." >&2; exit 2; }
: "${PRISTINE:?}" "${PATCHES:?}" "${CHECK_DIR:?}" "${SPARSE=}" "${XEN_CFLAGS=}" "${XEN_LDLIBS=}"
KCC=${KCC:-gcc}
JOBS=${JOBS:-2}
FRAGMENT=$PWD/scripts/upstream-check.config
TREE=$CHECK_DIR/linux
start=$SECONDS

say() { printf 'check-patches: %s\n' "$*"; }
fail() {
	[ -z "${2:-}" ] || tail -n 40 "$2" | sed 's/^/  | /'
	say "FAILED: $1${2:+ (log: $2)}"
	exit 1
}
step() { say "$* ($((SECONDS - start)) s)"; }
# kb LOG ARGS...: make in the tree, in the build root, appending to LOG
kb() {
	local log=$1
	shift
	"${KBUILD[@]}" nice -n 10 make -C "$TREE" -j"$JOBS" CC="$KCC" HOSTCC="$KCC" "$@" >>"$log" 2>&1
}
KBUILD=("$@")

mapfile -t series < <(find "$PATCHES" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
[ "${#series[@]}" -gt 0 ] || fail "no patches in $PATCHES (make patches)"
mkdir -p "$CHECK_DIR"

# 1. git am onto base
if [ ! -d "$TREE/.git" ]; then
	rm -rf "$TREE"
	say "cloning $PRISTINE into $TREE (a minute: it checks out the whole tree)"
	git clone -q --shared --no-checkout "$PRISTINE" "$TREE"
fi
git -C "$TREE" fetch -q "$PRISTINE" "refs/tags/base:refs/tags/base"
git -C "$TREE" am --abort >/dev/null 2>&1 || :
git -C "$TREE" checkout -q -f -B check base
git -C "$TREE" clean -q -f -d -x
if ! git -C "$TREE" -c user.name=check-patches -c user.email=check-patches@localhost \
	am -q "${series[@]}" >"$CHECK_DIR/am.log" 2>&1; then
	fail "the series does not apply to base with git am" "$CHECK_DIR/am.log"
fi
mapfile -t commits < <(git -C "$TREE" rev-list --reverse base..check)
step "1. the ${#commits[@]} patches apply with git am"
# what the series adds or changes in C: its warnings are ours
mapfile -t our_c < <(git -C "$TREE" diff --name-only --diff-filter=AM base check -- 'drivers/*.c')

# configure NAME VALUE: in obj-NAME, x86_64_defconfig + xen.config + the fragment, the driver
# =VALUE. Made once per fragment; olddefconfig must keep every line of it.
configure() {
	local obj=$CHECK_DIR/obj-$1 log=$CHECK_DIR/config-$1.log key
	key=$(sha256sum <"$FRAGMENT" | cut -c1-16)-$2
	[ "$(cat "$obj/.fragment" 2>/dev/null)" != "$key" ] || return 0
	rm -rf "$obj" && mkdir -p "$obj" && : >"$log"
	sed "s/^CONFIG_XEN_GRANT_DEV_ALLOC=.*/CONFIG_XEN_GRANT_DEV_ALLOC=$2/" "$FRAGMENT" >"$obj.config"
	kb "$log" O="$obj" x86_64_defconfig xen.config || fail "configuring $obj" "$log"
	"${KBUILD[@]}" "$TREE/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
		"$obj.config" >>"$log" 2>&1 || fail "merge_config.sh" "$log"
	kb "$log" O="$obj" olddefconfig || fail "olddefconfig" "$log"
	grep '^CONFIG_' "$obj.config" | while read -r l; do
		grep -qx "$l" "$obj/.config" || { echo "$l did not stick" >>"$log"; exit 1; }
	done || fail "a line of $(basename "$FRAGMENT") did not survive olddefconfig" "$log"
	echo "$key" >"$obj/.fragment"
}

# build OBJ LOG TARGET...: make them; any warning in a file the series adds fails
build() {
	local obj=$1 log=$2 f
	shift 2
	: >"$log"
	kb "$log" O="$obj" "$@" || return 1
	for f in "${our_c[@]}"; do
		if grep -q "${f%.c}\.[ch]:[0-9]*:[0-9]*: warning:" "$log"; then
			echo "warnings in $f" >>"$log"
			return 1
		fi
	done
	grep -q 'gntalloc.*warning:' "$log" && return 1
	return 0
}

# 2. every patch, =m
# (W=1 in a tree of its own: its flags would rebuild the =m tree's objects at every run)
configure m m
configure y y
configure w1 m
step "configured: x86_64_defconfig + xen.config + $(basename "$FRAGMENT"), the driver =m and =y"
i=0
for c in "${commits[@]}"; do
	i=$((i + 1))
	git -C "$TREE" checkout -q "$c"
	log=$CHECK_DIR/build-m-$i.log
	build "$CHECK_DIR/obj-m" "$log" drivers/xen/ ||
		fail "patch $i ($(git -C "$TREE" log -1 --format=%s "$c")) does not build =m" "$log"
	step "2. patch $i of ${#commits[@]} builds drivers/xen/ with the driver =m"
done
git -C "$TREE" checkout -q check

# 3. the series, =y
log=$CHECK_DIR/build-y.log
build "$CHECK_DIR/obj-y" "$log" drivers/xen/ || fail "the series does not build =y" "$log"
ar t "$CHECK_DIR/obj-y/drivers/xen/built-in.a" 2>/dev/null | grep -q 'gntalloc' ||
	fail "the driver is not in drivers/xen/built-in.a with =y" "$log"
step "3. the series builds drivers/xen/ with the driver =y (in built-in.a)"

# 4. W=1 and sparse on the driver's objects, in the tree
log=$CHECK_DIR/w1-sparse.log
o=()
for f in "${our_c[@]}"; do o+=("${f%.c}.o"); done
build "$CHECK_DIR/obj-w1" "$log" W=1 C=2 ${SPARSE:+CHECK="$SPARSE"} "${o[@]}" ||
	fail "W=1 or sparse findings on the driver" "$log"
if grep -E '(warning|error):' "$log" | grep -q .; then
	fail "W=1 or sparse findings" "$log"
fi
n=$(grep -c '^ *CHECK *drivers/' "$log" || :)
[ "$n" = "${#o[@]}" ] || fail "sparse checked $n of ${#o[@]} files (is it usable?)" "$log"
step "4. W=1 and sparse (${SPARSE:-sparse}) clean on the ${#o[@]} files of the driver"

# 5. checkpatch.pl --strict of the base tree, patch by patch, from the tree's top
log=$CHECK_DIR/checkpatch.log
: >"$log"
bad=0
for p in "${series[@]}"; do
	# (Debian's python3 first: it has the modules of scripts/spdxcheck.py, patches.mk installs
	# them, whatever other python3 a PATH may name)
	out=$(cd "$TREE" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict --show-types "$p" 2>&1) ||
		bad=1
	printf '%s\n' "$out" >>"$log"
	if grep -qE '^(ERROR|WARNING|CHECK)|Traceback' <<<"$out"; then
		bad=1
		say "  $(basename "$p"): $(grep '^total:' <<<"$out")"
	fi
done
# (the selftests are built all the same, so that one run says what else is wrong)
if [ $bad = 0 ]; then
	step "5. checkpatch.pl --strict is clean on all ${#series[@]} patches"
else
	say "FAILED: checkpatch.pl --strict has findings (per patch above; log: $log)"
	checkpatch_failed=1
fi

# 6. the selftests, as the kselftest Makefile builds them, against the tree's headers
log=$CHECK_DIR/selftests.log
: >"$log"
target=$(git -C "$TREE" diff base check -- tools/testing/selftests/Makefile |
	sed -n 's/^+TARGETS += //p')
[ -n "$target" ] || fail "the series adds no TARGETS entry to tools/testing/selftests/Makefile"
kb "$log" O="$CHECK_DIR/obj-m" headers || fail "make headers" "$log"
rm -rf "$CHECK_DIR/kselftest"
kb "$log" -C tools/testing/selftests TARGETS="$target" O="$CHECK_DIR/kselftest" \
	KHDR_INCLUDES="-isystem $CHECK_DIR/obj-m/usr/include" \
	XEN_CFLAGS="$XEN_CFLAGS" XEN_LDLIBS="$XEN_LDLIBS" ||
	fail "the selftests do not build" "$log"
# (the kselftest Makefile builds into O/kselftest/)
n=$(find "$CHECK_DIR/kselftest/kselftest/$target" -maxdepth 1 -type f -perm -u+x -name 'gntalloc_*' |
	wc -l)
[ "$n" -gt 0 ] || fail "the selftests build produced no program" "$log"
step "6. make -C tools/testing/selftests TARGETS=$target builds $n programs"
[ -z "${checkpatch_failed:-}" ] || fail "checkpatch.pl --strict (above)"
say "the series passes every check ($((SECONDS - start)) s)"
