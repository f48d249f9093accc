#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ftrace-text-poke-oops.sh - reproducer for a bug that is not ours: enabling a trace event in
# the test bed's PV dom0 (Xen 4.17 under QEMU TCG) while both vCPUs are busy oopses 6.12 and
# hangs 6.1.
#
#	make vm-run KERNEL=6.12 SCRIPT=tools/testing/selftests/drivers/xen/gntalloc/reproducers/ftrace-text-poke-oops.sh
#
# With options/record-cmd on (the default), enabling the first event also hooks the
# scheduler's own tracepoints (sched_switch, sched_wakeup) to remember task names: their
# static keys and static calls are patched with text_poke_bp(), which plants an int3 in
# __schedule() and try_to_wake_up() while every CPU runs them. On 6.12.117 a CPU traps on that
# int3 without the patching code recognising it:
#
#	Oops: int3: 0000 [#1] PREEMPT SMP NOPTI
#	RIP: e030:__schedule+0x339/0xbf0
#	 schedule+0x27/0xc0
#	 do_wait+0x5d/0x110
#
# within the first toggles. On 6.1.192 the same loop stops after a few dozen toggles: the CPU
# doing text_poke_bp() waits forever for the other to take its sync IPI, and that CPU's timer
# stops firing (rcu stall reports, then the VM timeout). Any event will do; the one here is a
# core event, signal:signal_generate, so no module of ours is involved.
#
# The expected end of this script is a FAIL verdict ("dom0 panicked" on 6.12, "timeout" on
# 6.1); a PASS means the combination no longer has the bug. gntalloc_trace_test turns
# record-cmd and record-tgid off while it traces: then only the event's own tracepoint is
# patched, which no CPU runs meanwhile (400 toggles of events/gntalloc/enable survived).
set -u

T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs tracefs $T
ev=$T/events/signal/signal_generate/enable

# Keep both vCPUs scheduling: fork and exit in a loop
for _ in 1 2 3; do (while :; do /bin/true; done) & done
echo "ftrace-text-poke: toggling $ev, record-cmd=$(cat $T/options/record-cmd)"
i=0
while [ $i -lt 400 ]; do
	echo 1 >$ev
	echo 0 >$ev
	i=$((i + 1))
	[ $((i % 50)) != 0 ] || echo "ftrace-text-poke: $i toggles"
done
kill %1 %2 %3 2>/dev/null
echo "ftrace-text-poke: 400 toggles and no oops or hang"
exit 0
