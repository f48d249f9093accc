#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xen-pgd-alloc-oops.sh - reproducer for a bug that is not ours: in a Xen PV guest, a fork
# whose allocation of the new process's user page table fails oopses instead of failing with
# ENOMEM.
#
#	make vm-run-debug SCRIPT=tools/testing/selftests/drivers/xen/gntalloc/reproducers/xen-pgd-alloc-oops.sh
#
# arch/x86/xen/mmu_pv.c (6.1.192, and mainline as of this writing):
#
#	user_pgd = (pgd_t *)__get_free_page(GFP_KERNEL | __GFP_ZERO);
#	page->private = (unsigned long)user_pgd;
#	...
#	BUG_ON(PagePinned(virt_to_page(xen_get_user_pgd(pgd))));
#
# When the allocation fails, xen_get_user_pgd() returns NULL and the BUG_ON reads the struct
# page of virt_to_page(NULL), which does not exist:
#
#	BUG: unable to handle page fault for address: ffffebde00000000
#	RIP: e030:xen_pgd_alloc+0xea/0x130
#	 pgd_alloc+0x79/0x230
#	 mm_init.constprop.0.isra.0+0x216/0x300
#	 copy_process+0x1342/0x1e10
#	 kernel_clone+0xab/0x350
#
# Found by gntalloc_fault_test (its fork path therefore fails slab allocations only). Needs the
# debug kernel (fail-nth, fail_page_alloc). Here only page allocations are failed (failslab's
# cache filter with no cache marked stops every slab failure), the 1st, 2nd, ... of one fork
# each, until one of them is the user page table: the expected end of this script is the oops
# and a FAIL verdict ("dom0 panicked"); a PASS means the kernel has the fix.
set -u

dbg=/sys/kernel/debug
echo N >$dbg/fail_page_alloc/ignore-gfp-wait
echo 0 >$dbg/fail_page_alloc/min-order
echo 0 >$dbg/fail_page_alloc/verbose
echo Y >$dbg/failslab/cache-filter

n=1
while [ $n -le 300 ]; do
	# The child shell arms fail-nth on itself, then forks for the pipeline. If the fork did not
	# reach the n-th page allocation, it disarms before anything else can.
	sh -c "echo $n >/proc/self/fail-nth; true | true; echo 0 >/proc/self/fail-nth" 2>/dev/null
	n=$((n + 1))
done
echo N >$dbg/failslab/cache-filter
echo "xen-pgd-alloc-oops: 300 forks with their n-th page allocation failed, and no oops"
