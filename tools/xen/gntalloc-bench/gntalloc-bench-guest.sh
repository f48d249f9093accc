#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gntalloc-bench-guest.sh - the dom0 half of `make bench` (busybox sh, run as the vm-run payload
# after init.sh has loaded our module). For each driver in BENCH_DRIVERS (default: stock, then
# ours) it swaps the loaded xen-gntalloc (rmmod, then modprobe for the stock one, insmod of
# /gntalloc/xen-gntalloc.ko for ours), raises its limit and runs gntalloc-bench, all in one boot.
# Results are the BENCH lines on the console; the host turns them into tables and plots.
#
# Environment: BENCH_SCALE (repetitions, default 1), BENCH_ONLY (workload list, default all;
# "none" for none), BENCH_DRIVERS (see load()), BENCH_ROUNDS (default 2), BENCH_PROFILE (1: profile both
# drivers with ftrace, see the end; `make bench` does that in a boot of its own). The Makefile
# sets them in /usr/bin/gntalloc-bench.env, which the payload reads.

SCALE=${BENCH_SCALE:-1}
ONLY=${BENCH_ONLY:-}
DRIVERS=${BENCH_DRIVERS:-stock ours}
PARAM=/sys/module/xen_gntalloc/parameters/limit

fail() {
	echo "bench: $*"
	exit 1
}

# Kernel messages would cut result lines in two on the shared console.
dmesg -n 1
echo "BENCH-INFO,kernel,$(uname -r)"
echo "BENCH-INFO,kernel-version,$(cut -d' ' -f3- /proc/version | sed 's/,/;/g')"
V=/sys/hypervisor/version
echo "BENCH-INFO,xen,$(cat $V/major 2>/dev/null).$(cat $V/minor 2>/dev/null)$(cat $V/extra 2>/dev/null)"
echo "BENCH-INFO,cpus,$(grep -c ^processor /proc/cpuinfo)"
echo "BENCH-INFO,memtotal-kb,$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
echo "BENCH-INFO,clocksource,$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "BENCH-INFO,scale,$SCALE"
echo "BENCH-INFO,rounds,${BENCH_ROUNDS:-2}"
# BENCH_ICOUNT: the boot runs under QEMU's -icount, and every timing counts instructions
echo "BENCH-INFO,icount,$(echo "${BENCH_ICOUNT:-}" | sed 's/,/;/g')"
# gntalloc-bench times with the TSC (see there); the kernel knows its rate from Xen.
MHZ=$(dmesg | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | head -n 1)

# A driver is stock, ours or base (BENCH_BASE_REV's build of ours, /usr/bin/xen-gntalloc-base.ko),
# with optional :TUNABLE=VALUE suffixes written to /sys/class/gntalloc/gntalloc/ after loading
# (ours:quarantine_ms=0); the whole word is the label of its results.
load() {
	if [ -d /sys/module/xen_gntalloc ]; then
		rmmod xen_gntalloc || fail "rmmod xen_gntalloc failed"
	fi
	case ${1%%:*} in
	stock) modprobe xen-gntalloc || fail "modprobe xen-gntalloc failed" ;;
	ours) insmod /gntalloc/xen-gntalloc.ko || fail "insmod of our module failed" ;;
	base) insmod /usr/bin/xen-gntalloc-base.ko || fail "insmod of the base module failed" ;;
	*) fail "unknown driver $1" ;;
	esac
	[ -c /dev/xen/gntalloc ] || fail "no /dev/xen/gntalloc"
	taint=$(cat /sys/module/xen_gntalloc/taint)
	case ${1%%:*}:$taint in
	stock:*O*) fail "the stock driver should not be out-of-tree (taint $taint)" ;;
	ours:*O* | base:*O*) ;;
	ours:* | base:*) fail "$1 should be out-of-tree (taint '$taint')" ;;
	esac
	echo 1073741824 >"$PARAM" || fail "cannot raise $PARAM"
	tunables=
	for t in $(echo "${1#"${1%%:*}"}" | tr : ' '); do
		echo "${t#*=}" >"/sys/class/gntalloc/gntalloc/${t%%=*}" || fail "$1: cannot set $t"
		tunables="$tunables ${t%%=*} $(cat "/sys/class/gntalloc/gntalloc/${t%%=*}")"
	done
	echo "BENCH-INFO,driver-$1,srcversion $(cat /sys/module/xen_gntalloc/srcversion 2>/dev/null)" \
		"taint '$taint' limit $(cat "$PARAM")$tunables"
}

# The drivers take turns, in reverse order every other round (stock, ours, ours, stock...), so
# that a slow phase of the host (colleagues' builds share it) falls on both; the host pools
# the rounds' samples.
ROUNDS=${BENCH_ROUNDS:-2}
REVERSED=
for d in $DRIVERS; do REVERSED="$d $REVERSED"; done
r=1
while [ "$ONLY" != none ] && [ $r -le "$ROUNDS" ]; do
	order=$DRIVERS
	[ $((r % 2)) = 1 ] || order=$REVERSED
	for d in $order; do
		load "$d"
		echo "bench: round $r of $ROUNDS: $d"
		gntalloc-bench ${MHZ:+-f "$MHZ"} -r "$ROUNDS" -s "$SCALE" ${ONLY:+-w "$ONLY"} "$d" ||
			fail "gntalloc-bench $d failed"
	done
	r=$((r + 1))
done

# ---- Profiles (BENCH_PROFILE=1): where each driver spends the time of W1, W3 and W4 ----
# Three passes per profile (0 to 2), each over a fixed number of operations (gntalloc-bench -t
# turns tracing on around them only):
#  0. like 1, over the entry points and a few functions only (LIGHT), for a low-overhead split.
#  1. function_graph under the driver's entry point (set_graph_function) over the functions
#     in FUNCS only (set_ftrace_filter: the rest runs untraced); inclusive times summed per
#     function and divided by the operations. lib/ (xarray, radix tree) and the user-copy
#     helpers are not traceable in Debian's kernels: their time shows as the caller's own.
#  2. the RCU callbacks (rcu_do_batch, in softirq or rcuc, so outside pass 1) with the slab
#     frees they make: our xarray nodes are freed that way.
# Traced calls cost a few us each under TCG: compare the drivers with each other, not with
# the untraced table.
T=/sys/kernel/tracing
FUNCS='gntalloc_* add_grefs do_cleanup find_grefs __del_gref kmem_cache_alloc kmem_cache_alloc_noprof
	kmem_cache_alloc_lru kmem_cache_alloc_lru_noprof kmem_cache_free kmalloc_trace kmalloc_trace_noprof
	__kmalloc_cache_noprof __kmalloc __kmalloc_noprof kfree __alloc_pages __alloc_pages_noprof __free_pages
	free_unref_page gnttab_grant_foreign_access gnttab_try_end_foreign_access
	gnttab_end_foreign_access mutex_lock mutex_unlock __cond_resched call_rcu
	__memcg_kmem_charge_page __memcg_kmem_uncharge_page mod_delayed_work_on'
# Pass 0: the entry points and the few functions under them that run once per operation or
# once per batch: little tracing overhead, so their times are close to the untraced ones.
LIGHT='gntalloc_ioctl gntalloc_release gntalloc_grants_alloc gntalloc_grants_release'

trace_reset() {
	echo 0 >$T/tracing_on
	echo nop >$T/current_tracer
	echo >$T/set_ftrace_filter
	echo >$T/set_graph_function
	echo 0 >$T/events/enable
	echo >$T/trace
}

trace_graph() { # GRAPH-FUNCTION IRQS FILTER...
	graph=$1 irqs=$2
	shift 2
	trace_reset
	echo "$graph" >$T/set_graph_function || fail "set_graph_function $graph"
	for f in "$@"; do
		echo "$f" >>$T/set_ftrace_filter 2>/dev/null
	done
	# An empty filter would trace every function of the kernel: not that.
	grep -q '^#### all functions' $T/set_ftrace_filter && fail "no function to trace"
	echo "$irqs" >$T/options/funcgraph-irqs
	echo 1 >$T/options/funcgraph-tail
	echo function_graph >$T/current_tracer
	echo >$T/trace
}

# Sum the trace per function, inclusive and self (minus the traced callees) time:
# BENCH-PROFILE,driver,profile,function,calls/op,us/op,us/call,self us/op
trace_sum() { # DRIVER PROFILE OPS
	awk -v d="$1" -v p="$2" -v ops="$3" '
	function fname(s) { sub(/ \[.*/, "", s); sub(/\(\).*/, "", s); return s }
	match($0, /^ *[0-9]+\)/) {
		cpu = substr($0, RSTART, RLENGTH) + 0
		us = -1
		if (match($0, /[0-9]+\.[0-9]+ us/))
			us = substr($0, RSTART, RLENGTH - 3) + 0
		if (match($0, /\/\* [^ ]+/)) {			# "} /* name */": a return
			name = substr($0, RSTART + 3, RLENGTH - 3)
			child = 0
			if (sp[cpu] > 0) { child = cs[cpu, sp[cpu]]; sp[cpu]-- }
			if (us < 0) next
			t[name] += us; c[name]++; self[name] += us - child
			if (sp[cpu] > 0) cs[cpu, sp[cpu]] += us
		} else if (match($0, /[A-Za-z0-9_.]+( \[[A-Za-z0-9_]+\])?\(\) \{/)) {	# a call
			sp[cpu]++; cs[cpu, sp[cpu]] = 0
		} else if (match($0, /[A-Za-z0-9_.]+( \[[A-Za-z0-9_]+\])?\(\);/)) {	# a leaf
			if (us < 0) next
			name = fname(substr($0, RSTART, RLENGTH))
			t[name] += us; c[name]++; self[name] += us
			if (sp[cpu] > 0) cs[cpu, sp[cpu]] += us
		}
	}
	END {
		for (n in t)
			printf "BENCH-PROFILE,%s,%s,%s,%.3f,%.3f,%.3f,%.3f\n", d, p, n, c[n] / ops,
				t[n] / ops, t[n] / c[n], self[n] / ops
	}' $T/trace
	echo "BENCH-PROFILE-LOST,$1,$2,$(sed -n 's/^overrun: //p' $T/per_cpu/cpu*/stats | tr '\n' ' ')"
}

# run_profile DRIVER PROFILE: the operations, traced as set up; prints how many there were
run_profile() {
	timeout 300 gntalloc-bench ${MHZ:+-f "$MHZ"} -t -s "$SCALE" -w "$2" "$1" |
		sed -n 's/^BENCH-PROFILE-OPS,[^,]*,[^,]*,\([0-9]*\),.*/\1/p'
}

if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	[ -e $T/tracing_on ] || mount -t tracefs nodev $T || fail "no tracefs"
	# ftrace patches kernel text (int3, then the new bytes): under TCG another vCPU can still
	# run the stale int3 afterwards and oops (seen on 6.12 in ttwu_do_activate). One CPU only.
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ ! -e "$c" ] || echo 0 >"$c" || fail "cannot take $c offline"
	done
	echo "BENCH-INFO,profile-cpus,$(grep -c ^processor /proc/cpuinfo) online"
	echo 32768 >$T/buffer_size_kb
	for d in $DRIVERS; do
		load "$d"
		for p in p1 p3 p4; do
			case $p in
			p4) entry=gntalloc_release ;;
			*) entry=gntalloc_ioctl ;;
			esac
			echo "bench: profile $p of $d: function_graph under $entry, few functions"
			trace_graph $entry 0 $LIGHT
			ops=$(run_profile "$d" $p)
			[ -n "$ops" ] || fail "profile $p of $d failed"
			trace_sum "$d" "$p-light" "$ops"
			echo "bench: profile $p of $d: function_graph under $entry"
			trace_graph $entry 0 $FUNCS
			ops=$(run_profile "$d" $p)
			[ -n "$ops" ] || fail "profile $p of $d failed"
			trace_sum "$d" "$p" "$ops"
			echo "bench: profile $p of $d: RCU callbacks"
			trace_graph rcu_do_batch 1 rcu_do_batch kmem_cache_free
			ops=$(run_profile "$d" $p)
			[ -n "$ops" ] || fail "profile $p of $d failed"
			trace_sum "$d" "$p-rcu" "$ops"
		done
	done
	trace_reset
	echo 1 >$T/tracing_on
fi

exit 0
