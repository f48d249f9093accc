#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xen-lazy-mmu-warn.sh - reproducer for a bug that is not ours: a Xen PV kernel 7.3 built with
# CONFIG_DEBUG_VM WARNs at the first context switch of the boot, in xen_end_context_switch().
#
#	make vm-run-debug KERNEL=7.3 DEBUG_OVERRIDE= \
#		SCRIPT=tools/testing/selftests/drivers/xen/gntalloc/reproducers/xen-lazy-mmu-warn.sh
#
# (DEBUG_OVERRIDE= builds the debug kernel from debug-kernel.config alone, DEBUG_VM on; the 7.3
# debug kernel of check-debug goes without it: ../qemu/debug-kernel-7.3.config.)
#
# The lazy MMU mode of 7.3 keeps a per-task state, task_struct.lazy_mmu_state, with a u8
# pause_count. A Xen PV domain pauses the outgoing task in xen_start_context_switch() (++)
# and resumes the incoming one in xen_end_context_switch() (--), and the resume warns when
# the count is already 0 (include/linux/pgtable.h:362):
#
#	VM_WARN_ON_ONCE(state->pause_count == 0);
#
# A task that has never run was never switched out, so nothing paused it: fork copies its
# parent's state (count 0, the parent is running), and the first switch into it warns. That
# first switch is in rest_init(), into the new kernel_init task, before any initcall:
#
#	Running RCU synchronous self tests
#	WARNING: include/linux/pgtable.h:362 at xen_end_context_switch+0x4e/0x60, CPU#0: swapper/0/0
#	CPU: 0 UID: 0 PID: 0 Comm: swapper/0 Not tainted 7.3.4-gntalloc-dbg #2 PREEMPT(lazy)
#	RIP: e030:xen_end_context_switch+0x4e/0x60
#	Kernel panic - not syncing: kernel: panic_on_warn set ...
#
# Without DEBUG_VM nothing warns and the count wraps to 255: the task then runs with a count of
# 255 (0 while switched out), its lazy MMU mode paused for good, and so does every task it forks
# (254, 253, ...): by reading the code, page-table updates of a PV domain are never batched
# (slower, not wrong; not measured). No code of ours has run at that point (our driver's init
# is an initcall, run later by kernel_init), and any DEBUG_VM kernel booted as a PV domain
# shows it.
#
# The test bed boots with panic_on_warn=1, so the expected end is a FAIL verdict ("dom0
# panicked") before this script runs; a PASS means the kernel has a fix (or no DEBUG_VM).
set -u

echo "xen-lazy-mmu-warn: dom0 booted past its first context switches without a WARN"
exit 0
