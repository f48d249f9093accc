# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# /init-debug.sh - sourced by init.sh in the debug kernel of `make check-debug` (DEBUG=1 in
# /etc/testbed.conf). It replaces init.sh's run_suite and check_dmesg:
#
# run_suite, in this order:
#   1. the tests that cannot reach gntdev (their binary does not name /dev/xen/gntdev), then the
#      fault-injection program (gntalloc_fault_test), while lockdep is on: the stock gntdev trips
#      lockdep at its first mmap of a mapped grant, and lockdep then turns itself off for good;
#   2. /proc/lockdep_stats must still say debug_locks 1, or lockdep checked nothing of phase 1;
#   3. the tests that use gntdev;
#   4. kmemleak: two scans with a pause (an object must be unreferenced for 5 s to be reported);
#      any suspected leak fails.
# check_dmesg reads the kernel log: any KFENCE or SLUB report, kmemleak report, "sleeping
# function called from invalid context", "scheduling while atomic", other BUG, oops or WARN, or
# lockdep report with our module in it fails the run. A lockdep report in which neither a frame
# nor a lock of xen_gntalloc appears (the known gntdev one) is printed as known-foreign and does
# not fail it. Each phase runs with kselftest's runner.sh, so the host parses the KTAP as usual.

KSFT_TESTS=/kselftest/drivers/xen/gntalloc
FAULT_TEST=gntalloc_fault_test
KMEMLEAK=/sys/kernel/debug/kmemleak

debug_why=	# "; reason" for each failed check

debug_locks() { sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats; }

# Is this the debug kernel? Without these files it would check nothing and pass.
for f in /proc/lockdep_stats "$KMEMLEAK" /sys/kernel/debug/kfence/stats /proc/self/fail-nth \
	/sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc; do
	[ -e "$f" ] || panic "DEBUG=1 but $f is missing: not the check-debug kernel"
done
grep -q 'slub_debug=FZPU' /proc/cmdline || panic "DEBUG=1 but slub_debug=FZPU is not on the command line"
[ "$(debug_locks)" = 1 ] || panic "lockdep was already off before any test (debug_locks 0)"
echo "init: debug kernel: lockdep on, kmemleak, KFENCE, slub_debug=FZPU, fail-nth"

run_phase() {
	[ -n "$1" ] || return 0
	(
		BASE_DIR=/kselftest
		. /kselftest/kselftest/runner.sh
		# shellcheck disable=SC2086
		run_many $1
	)
}

run_suite() {
	local t nogntdev='' gntdev='' fault='' rc=0
	for t in $(cat /kselftest/list); do
		if [ "$t" = "$FAULT_TEST" ]; then
			fault=$t
		elif grep -q /dev/xen/gntdev "$KSFT_TESTS/$t" 2>/dev/null; then
			gntdev="$gntdev $t"
		else
			nogntdev="$nogntdev $t"
		fi
	done
	echo "init: phase 1 (lockdep on, no gntdev):$nogntdev $fault"
	run_phase "$nogntdev $fault" || rc=1
	if [ "$(debug_locks)" = 1 ]; then
		echo "init: lockdep still on after phase 1 (debug_locks 1)"
	else
		echo "init: FAIL: lockdep turned itself off during phase 1 (its report is judged below)"
		debug_why="$debug_why; lockdep was off (debug_locks 0) before the gntdev phase"
	fi
	echo "init: phase 2 (gntdev):$gntdev"
	run_phase "$gntdev" || rc=1
	echo "init: lockdep after phase 2: debug_locks $(debug_locks)"
	return $rc
}

# Ask kmemleak now rather than wait for its 10-minute thread: scan, wait until every object
# the tests left behind is older than kmemleak's minimum age (5 s), scan again.
kmemleak_scan() {
	echo scan >"$KMEMLEAK" 2>/dev/null || {
		echo "init: kmemleak refuses to scan: it turned itself off"
		return 1
	}
	sleep 6
	echo scan >"$KMEMLEAK" || return 1
	leaks=$(cat "$KMEMLEAK")
	if [ -n "$leaks" ]; then
		echo "init: kmemleak: $(echo "$leaks" | grep -c '^unreferenced object') suspected leaks:"
		echo "$leaks" | head -n 80
		return 1
	fi
	echo "init: kmemleak: no leaks"
}

# Split the kernel log into reports and judge each one (see the top of this file).
dmesg_verdict() {
	dmesg | awk '
	function ours(text) {
		return text ~ /\[xen_gntalloc\]/ ||
		       text ~ /(^|[^A-Za-z0-9_])gntalloc_[A-Za-z0-9_]+\+0x/ ||
		       text ~ /[(&]gntalloc_[A-Za-z0-9_]+/
	}
	function close_report() {
		if (kind == "")
			return
		if (kind == "lockdep" && !ours(text)) {
			printf "init: known-foreign lockdep report (no frame or lock of xen_gntalloc in it): %s\n", head
			n = split(text, l, "\n")
			for (i = 1; i <= n; i++)
				if (l[i] ~ /-> #[0-9]+ \(|is trying to acquire|already holding|at: [A-Za-z_]+\+0x|^ *[a-z_0-9]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[a-z_0-9]+\])?$/)
					print "init:   " l[i]
			foreign++
		} else {
			printf "init: FAIL: %s report%s:\n", kind, kind == "lockdep" ? " with xen_gntalloc in it" : ""
			printf "%s\n", text
			bad++
		}
		kind = text = ""
	}
	{ line = $0; sub(/^\[[ 0-9.]+\] /, "", line) }
	line ~ /^WARNING: / && line !~ /^WARNING: CPU: / {
		close_report(); kind = "lockdep"; head = line; text = line; next
	}
	line ~ /^BUG: KFENCE: / { close_report(); kind = "KFENCE"; text = line; next }
	line ~ /^BUG: (sleeping function called from invalid context|scheduling while atomic)/ {
		close_report(); kind = "atomic-sleep"; text = line; next
	}
	line ~ /^BUG [^ :]+ \(/ { close_report(); kind = "SLUB"; text = line; next }
	line ~ /kmemleak: [0-9]+ new suspected memory leaks/ {
		close_report(); kind = "kmemleak"; text = line; close_report(); next
	}
	# (Its "Cannot allocate a scan area" only makes it scan a whole object: not a report.)
	line ~ /kmemleak: (Cannot allocate a kmemleak_object|Kernel memory leak detector disabled|Memory pool empty)/ {
		close_report(); kind = "kmemleak-off"; text = line; close_report(); next
	}
	line ~ /^BUG: |^WARNING: CPU: |Oops|general protection|still in use/ {
		close_report(); kind = "kernel-bug"; text = line; next
	}
	kind != "" {
		text = text "\n" line
		if (line ~ /<\/TASK>/)
			close_report()
	}
	END {
		close_report()
		printf "init: kernel log: %d failing report(s), %d known-foreign lockdep report(s)\n", bad, foreign
		exit bad != 0
	}'
}

# The last word before the verdict: say exactly what failed.
check_dmesg() {
	kmemleak_scan || debug_why="$debug_why; kmemleak reports leaks or is off"
	dmesg_verdict || debug_why="$debug_why; the kernel log has reports (see above)"
	[ -z "$debug_why" ] || panic "debug kernel: ${debug_why#; }"
}
