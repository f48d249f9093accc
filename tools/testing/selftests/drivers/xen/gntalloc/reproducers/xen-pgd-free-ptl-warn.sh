#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# xen-pgd-free-ptl-warn.sh - reproducer for a bug that is not ours: a Xen PV kernel 7.3 with
# lockdep (split page-table locks allocated: ALLOC_SPLIT_PTLOCKS) WARNs at the first mmdrop of
# the boot, in pgd_free(): SLUB is asked to free a page that is not a slab object.
#
# The 7.3 debug kernel carries the test bed's fix (../qemu/debug-kernel-7.3.fixes/): take it
# away to see the bug, then
#
#	make vm-run-debug KERNEL=7.3 \
#		SCRIPT=tools/testing/selftests/drivers/xen/gntalloc/reproducers/xen-pgd-free-ptl-warn.sh
#
# xen_pgd_alloc() (arch/x86/xen/mmu_pv.c) keeps the user pgd of a PV domain in page->private of
# the kernel pgd's page, and xen_pgd_free() frees that user pgd but leaves the pointer there.
# With ALLOC_SPLIT_PTLOCKS, page->private is also ptdesc->ptl, and 7.3 destructs the pgd's
# page like any page table: pagetable_dtor() -> ptlock_free() -> kmem_cache_free() of the
# stale pointer. The first mmdrop is in an initcall (dma_resv_lockdep), in kernel_init:
#
#	kmem_cache_free(page->ptl, ffff8880059dd000): object is not in a slab page
#	WARNING: mm/slub.c:6592 at warn_free_bad_obj+0x71/0xd0, CPU#0: swapper/0/1
#	 pgd_free+0xe6/0x160
#	 __mmdrop+0x5c/0x130
#	 dma_resv_lockdep+0x2eb/0x320
#	 do_one_initcall+0x6c/0x2d0
#
# Without lockdep (Debian's kernels) ptlock_free() does nothing and nothing shows. 6.1's debug
# kernel, the same fragment, boots: it does not run a pgd through pagetable_dtor(). Expected
# verdict: FAIL, "dom0 panicked", about 6 s into dom0's boot, before this script runs.
set -u

echo "xen-pgd-free-ptl-warn: dom0 booted past its first mmdrop without a WARN"
exit 0
