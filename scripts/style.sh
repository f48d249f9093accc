#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh KBUILD... - what `make style-one` checks for one kernel: checkpatch.pl --strict on
# STYLE_FILES, then a W=1 build with sparse (C=2: every file) of the module's copy in OUT. KBUILD
# is the command that runs Kbuild for the kernel (`env [build root] make -C KDIR`); this script
# adds M=, W=1, C=2 and CHECK=. Any finding (ERROR/WARNING/CHECK, warning:, error:) fails, and so
# does a build in which sparse did not run on every file: Kbuild turns C= off with a mere notice
# when it finds the checker unusable.
#
# Environment: CHECKPATCH (the script), STYLE_FILES (what it checks), OUT (a directory holding
# drivers/xen/ and include/uapi/, the copy to build), SPARSE (a sparse binary, or empty for the
# machine's), KERNEL (for messages).
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 KBUILD..." >&2; exit 2; }
: "${CHECKPATCH:?}" "${STYLE_FILES:?}" "${OUT:?}" "${KERNEL:?}" "${SPARSE=}"

# shellcheck disable=SC2086 # STYLE_FILES is a list
"$CHECKPATCH" --strict --no-tree --quiet --show-types -f $STYLE_FILES >"$OUT/checkpatch.log" 2>&1
rc=$?
cat "$OUT/checkpatch.log"
if [ $rc != 0 ] || grep -qE '^(ERROR|WARNING|CHECK)' "$OUT/checkpatch.log"; then
	echo 'style: checkpatch.pl --strict has findings (above)'
	exit 1
fi

log=$OUT/build.log
echo "style: make W=1 C=2 against ${*: -1}${SPARSE:+ with $SPARSE}"
"$@" M="$OUT/drivers/xen" W=1 C=2 ${SPARSE:+CHECK="$SPARSE"} modules >"$log" 2>&1
rc=$?
if [ $rc != 0 ] || grep -E 'warning:|error:' "$log"; then
	[ $rc = 0 ] || tail -n 40 "$log"
	echo "style: W=1/sparse findings on $KERNEL (log $log)"
	exit 1
fi

want=0
for f in $STYLE_FILES; do
	case $f in *.c) want=$((want + 1)) ;; esac
done
n=$(grep -c '^ *CHECK ' "$log")
if [ "$n" != "$want" ]; then
	grep -i 'checker\|sparse' "$log"
	echo "style: sparse checked $n of $want files on $KERNEL (log $log)"
	exit 1
fi
echo "style: KERNEL=$KERNEL clean (checkpatch --strict, W=1, sparse)"
