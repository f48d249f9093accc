// SPDX-License-Identifier: GPL-2.0
/*
 * User mappings of the grants.
 *
 * mmap() inserts every page at once; the mapping never faults.  Whether a
 * page is still mapped anywhere is not tracked per mapping: the kernel
 * already counts the page-table entries of each page (its mapcount, read
 * with folio_mapped() on the page's order-0 folio; page_mapped() is gone
 * from mainline), and that count stays exact through fork (which copies the
 * entries of our VM_MIXEDMAP mappings), partial munmap, mremap and exit.  A
 * mapping's ->close runs after its entries are gone, so it only has to look
 * at the pages of its own range: a page no longer mapped anywhere leaves the
 * MAPPED state and, if already deallocated, is released.  No per-mapping
 * state exists, so splitting a mapping needs no bookkeeping at all.
 *
 * What this rests on, checked in 6.1, 6.12 and 7.3 (the suite's mmap, fork,
 * mremap and partial munmap tests are the evidence at run time):
 * - vm_insert_page() and vm_insert_pages() add a file rmap for each entry
 *   they install, so an order-0 page's mapcount is its number of entries;
 *   the pages must stay order-0 (large folios lose per-page counts).
 * - fork copies the page tables of VM_MIXEDMAP mappings (which both
 *   set) instead of leaving them to fault, with an rmap per copied entry;
 *   we have no ->fault, so VM_DONTCOPY must never be set.
 * - munmap, exit and the unmap half of mremap zap the entries before they
 *   call ->close; splitting a mapping calls no ->close.
 *
 * Locking: ->mmap and ->close run under mmap_lock and take the file's lock;
 * the ioctls never take mmap_lock (nor fault) while holding the file's lock.
 *
 * Cost: a PV guest cannot write its own page tables; each entry written
 * outside lazy MMU mode is a hypercall of its own, the largest cost of a
 * mapping under Xen.  So the pages go in by page table: the first of each
 * alone (it may allocate the table, which may sleep), the rest in batches
 * of vm_insert_pages() in lazy MMU mode, where Xen gets the entries of a
 * batch in one multicall.  Nothing in lazy mode sleeps: the table is there.
 */

#include "gntalloc-common.h"

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/printk.h>

#include "gntalloc_trace.h"

static void gntalloc_vma_set_flags(struct vm_area_struct *vma,
				   vm_flags_t flags)
{
#ifdef GNTALLOC_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * Lazy MMU mode: 7.x has a nestable, per-task API; before it the
 * architecture's calls are the API (GNTALLOC_HAVE_LAZY_MMU_MODE is a
 * compile-time probe: drivers/xen/Makefile).
 */
static void gntalloc_lazy_mmu_enter(void)
{
#ifdef GNTALLOC_HAVE_LAZY_MMU_MODE
	lazy_mmu_mode_enable();
#else
	arch_enter_lazy_mmu_mode();
#endif
}

static void gntalloc_lazy_mmu_leave(void)
{
#ifdef GNTALLOC_HAVE_LAZY_MMU_MODE
	lazy_mmu_mode_disable();
#else
	arch_leave_lazy_mmu_mode();
#endif
}

static void gntalloc_vma_close(struct vm_area_struct *vma)
{
	struct gntalloc_file *file = vma->vm_file->private_data;
	XA_STATE(xas, &file->grants, vma->vm_pgoff);
	struct gntalloc_grant *grant;
	LIST_HEAD(release);

	/*
	 * 6.1 calls ->close on an empty vma (vm_pgoff 0) when vma_adjust()
	 * fails in a partial munmap: its last index would be ULONG_MAX.
	 */
	if (!vma_pages(vma))
		return;
	trace_gntalloc_munmap((u64)vma->vm_pgoff << PAGE_SHIFT, vma_pages(vma));

	mutex_lock(&file->lock);
	xas_lock(&xas);
	xas_for_each(&xas, grant, vma->vm_pgoff + vma_pages(vma) - 1) {
		if (xa_is_zero(grant) ||
		    !(grant->flags & GNTALLOC_GRANT_MAPPED) ||
		    folio_mapped(page_folio(grant->page)))
			continue;
		grant->flags &= ~GNTALLOC_GRANT_MAPPED;
		atomic_long_dec(&gntalloc_stats.mapped);
		if (grant->flags & GNTALLOC_GRANT_OWNED)
			continue;
		xas_store(&xas, NULL);
		list_add_tail(&grant->node, &release);
	}
	xas_unlock(&xas);
	mutex_unlock(&file->lock);

	gntalloc_grants_release(file, &release);
}

static const struct vm_operations_struct gntalloc_vm_ops = {
	.close = gntalloc_vma_close,
};

/*
 * Pages per vm_insert_pages() call, on the stack: a PV guest's multicall
 * buffer takes 32 page-table updates per hypercall, so more per call would
 * save no hypercall.
 */
#define GNTALLOC_INSERT_BATCH	32

/* Pages waiting to go in at @addr onwards, all under one page table */
struct gntalloc_insert {
	struct page *pages[GNTALLOC_INSERT_BATCH];
	unsigned long addr;		/* where pages[0] goes */
	unsigned long count;
};

/*
 * Insert @batch and empty it for the pages after it.  Its first page goes
 * in alone if it starts a page table (or the mapping), so that the table
 * exists before lazy MMU mode, in which nothing may sleep.
 */
static int gntalloc_insert_batch(struct vm_area_struct *vma,
				 struct gntalloc_insert *batch)
{
	struct page **pages = batch->pages;
	unsigned long addr = batch->addr;
	unsigned long left = batch->count;
	int ret = 0;

	batch->addr += batch->count << PAGE_SHIFT;
	batch->count = 0;
	if (addr == vma->vm_start || !(addr & ~PMD_MASK)) {
		ret = vm_insert_page(vma, addr, *pages);
		if (ret || !--left)
			return ret;
		addr += PAGE_SIZE;
		pages++;
	}
	gntalloc_lazy_mmu_enter();
	ret = vm_insert_pages(vma, addr, pages, &left);
	gntalloc_lazy_mmu_leave();
	return ret;
}

int gntalloc_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct gntalloc_file *file = filp->private_data;
	unsigned long count = vma_pages(vma);
	struct gntalloc_insert batch = { .addr = vma->vm_start };
	unsigned long addr = vma->vm_start;
	struct gntalloc_grant *grant;
	unsigned long index;
	int ret = 0;

	/* VM_MAYSHARE: a shared mapping of a read-only file lacks VM_SHARED */
	if (!(vma->vm_flags & VM_MAYSHARE)) {
		pr_err_ratelimited("%s[%d]: mapping must be shared\n",
				   current->comm, task_pid_nr(current));
		return -EINVAL;
	}

	mutex_lock(&file->lock);
	if (!gntalloc_file_owns_range(file, vma->vm_pgoff, count)) {
		ret = -ENOENT;
		goto out_unlock;
	}

	gntalloc_vma_set_flags(vma, VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &gntalloc_vm_ops;

	/*
	 * If an insert fails, the core unmaps what we inserted without
	 * calling ->close: so mark the pages only once all are in.
	 */
	xa_for_each_range(&file->grants, index, grant, vma->vm_pgoff,
			  vma->vm_pgoff + count - 1) {
		batch.pages[batch.count++] = grant->page;
		addr += PAGE_SIZE;
		/* Full, at the end of a page table, or the last page */
		if (batch.count < GNTALLOC_INSERT_BATCH &&
		    addr & ~PMD_MASK && addr < vma->vm_end)
			continue;
		ret = gntalloc_insert_batch(vma, &batch);
		if (ret)
			goto out_unlock;
	}
	xa_for_each_range(&file->grants, index, grant, vma->vm_pgoff,
			  vma->vm_pgoff + count - 1) {
		if (grant->flags & GNTALLOC_GRANT_MAPPED)
			continue;
		grant->flags |= GNTALLOC_GRANT_MAPPED;
		atomic_long_inc(&gntalloc_stats.mapped);
	}
	trace_gntalloc_mmap((u64)vma->vm_pgoff << PAGE_SHIFT, count);

out_unlock:
	mutex_unlock(&file->lock);
	return ret;
}
