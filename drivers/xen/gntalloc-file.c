// SPDX-License-Identifier: GPL-2.0
/*
 * Open files of /dev/xen/gntalloc and their ioctls.
 *
 * Every handler follows one pattern: copy the argument in, validate all of
 * it, then change state under the file's lock, and never touch user memory
 * while holding that lock (a fault would take mmap_lock, which ranks above
 * it: see gntalloc-mmap.c).  An ioctl that fails changes nothing.
 */

#include "gntalloc-common.h"

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <xen/events.h>
#include <xen/interface/xen.h>
#include <xen/gntalloc.h>

#include "gntalloc_trace.h"

/* The ABI libxengnttab was built against; see include/uapi/xen/gntalloc.h. */
static_assert(IOCTL_GNTALLOC_ALLOC_GREF == 0x00184705);
static_assert(IOCTL_GNTALLOC_DEALLOC_GREF == 0x00104706);
static_assert(IOCTL_GNTALLOC_SET_UNMAP_NOTIFY == 0x00104707);
static_assert(sizeof(struct ioctl_gntalloc_alloc_gref) == 24);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, index) == 8);
static_assert(offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids) == 16);
static_assert(sizeof(struct ioctl_gntalloc_dealloc_gref) == 16);
static_assert(sizeof(struct ioctl_gntalloc_unmap_notify) == 16);

/*
 * Page offsets stay below this so that every byte index fits in the
 * signed 64-bit file offset that mmap() takes.
 */
#define GNTALLOC_MAX_PGOFF	(LLONG_MAX >> PAGE_SHIFT)

/* All open files, for debugfs only: under gntalloc_files_lock */
LIST_HEAD(gntalloc_files);
/*
 * Taken at open and close, never on the paths that allocate, map or
 * release grants.  Ranks above file->lock.
 */
DEFINE_MUTEX(gntalloc_files_lock);
static u32 gntalloc_next_file_id;	/* under gntalloc_files_lock */

/*
 * Does the xarray hold owned grants at every index of [@pgoff, @pgoff +
 * @count)?  Under the xa_lock; leaves @xas anywhere.  O(log n + count).
 */
static bool gntalloc_xas_owns_range(struct xa_state *xas, unsigned long pgoff,
				    unsigned long count)
{
	struct gntalloc_grant *grant;
	unsigned long expect = pgoff;

	if (count > GNTALLOC_MAX_PGOFF || pgoff > GNTALLOC_MAX_PGOFF - count)
		return false;

	xas_set(xas, pgoff);
	xas_for_each(xas, grant, pgoff + count - 1) {
		if (xas->xa_index != expect || xa_is_zero(grant) ||
		    !(grant->flags & GNTALLOC_GRANT_OWNED))
			return false;
		expect++;
	}
	return expect == pgoff + count;
}

/**
 * gntalloc_file_owns_range() - does @file hold @count pages from @pgoff?
 * @file: the open file, locked
 * @pgoff: first page offset
 * @count: number of pages, at least 1
 *
 * Return: true if every page of the range is allocated in @file and not yet
 * deallocated.  Costs O(log n + count).
 */
bool gntalloc_file_owns_range(struct gntalloc_file *file, unsigned long pgoff,
			      unsigned long count)
{
	XA_STATE(xas, &file->grants, pgoff);
	bool owned;

	lockdep_assert_held(&file->lock);

	xas_lock(&xas);
	owned = gntalloc_xas_owns_range(&xas, pgoff, count);
	xas_unlock(&xas);
	return owned;
}

/*
 * Keep the slot of the file's next index reserved.  The xarray nodes on its
 * path then stay allocated while grants come and go just below it, instead
 * of being freed and allocated again by every ALLOC/DEALLOC pair (indexes
 * are never reused, so each ALLOC lands on a fresh slot).  It is only a
 * cache: if the reservation cannot be made, nothing else changes.  open()
 * reserves index 0; each ALLOC then reserves the slot after its grants in
 * the same hold of the xa_lock that publishes them.  Only an empty slot is
 * ever filled, so a reservation can never hide a grant that a concurrent
 * ALLOC published there first.
 */
static void gntalloc_file_reserve_first(struct gntalloc_file *file)
{
	if (xa_reserve(&file->grants, 0, GFP_KERNEL))
		return;	/* only slower */
}

static int gntalloc_open(struct inode *inode, struct file *filp)
{
	struct gntalloc_file *file;

	file = kzalloc_obj(*file, GFP_KERNEL_ACCOUNT);
	if (!file)
		return -ENOMEM;

	mutex_init(&file->lock);
	xa_init_flags(&file->grants, XA_FLAGS_ACCOUNT);
	gntalloc_file_reserve_first(file);
	file->pid = task_tgid_nr(current);
	get_task_comm(file->comm, current);

	mutex_lock(&gntalloc_files_lock);
	file->id = gntalloc_next_file_id++;
	list_add_tail(&file->node, &gntalloc_files);
	mutex_unlock(&gntalloc_files_lock);

	filp->private_data = file;
	atomic_long_inc(&gntalloc_stats.open_files);
	return 0;
}

/*
 * Every mapping holds a reference to the file, so by now no process maps
 * any of its grants: all of them are released, in batches, during a single
 * walk of the xarray.  Nobody else can reach the xarray any more, so the
 * entries are left in place (xa_destroy() never looks at them) instead of
 * being erased one by one.
 */
static int gntalloc_release(struct inode *inode, struct file *filp)
{
	struct gntalloc_file *file = filp->private_data;
	XA_STATE(xas, &file->grants, 0);
	struct gntalloc_grant *grant;
	unsigned int batched = 0;
	LIST_HEAD(release);

	mutex_lock(&gntalloc_files_lock);
	list_del(&file->node);
	mutex_unlock(&gntalloc_files_lock);

	rcu_read_lock();
	xas_for_each(&xas, grant, ULONG_MAX) {
		if (xas_retry(&xas, grant) || xa_is_zero(grant))
			continue;
		if (WARN_ON_ONCE(folio_mapped(page_folio(grant->page))))
			continue;	/* leak rather than free a mapped page */
		if (grant->flags & GNTALLOC_GRANT_MAPPED)
			atomic_long_dec(&gntalloc_stats.mapped);
		list_add_tail(&grant->node, &release);
		if (++batched < GNTALLOC_RESCHED_BATCH)
			continue;
		/* Releasing may sleep (evtchn_put) */
		xas_pause(&xas);
		rcu_read_unlock();
		gntalloc_grants_release(file, &release);
		batched = 0;
		rcu_read_lock();
	}
	rcu_read_unlock();
	gntalloc_grants_release(file, &release);
	xa_destroy(&file->grants);

	mutex_destroy(&file->lock);
	kfree(file);
	atomic_long_dec(&gntalloc_stats.open_files);
	return 0;
}

/*
 * Make @count grants (from gntalloc_grant_new()) visible at @pgoff
 * onwards, in one walk of the xarray, and reserve the slot after them (see
 * gntalloc_file_reserve_first()).  On failure none is left visible.
 */
static int gntalloc_file_publish(struct gntalloc_file *file,
				 unsigned long pgoff, unsigned int count,
				 struct list_head *grants)
{
	XA_STATE(xas, &file->grants, pgoff);
	struct gntalloc_grant *grant;
	unsigned long index;
	int ret = 0;

	grant = list_first_entry(grants, struct gntalloc_grant, node);
	mutex_lock(&file->lock);
	do {
		xas_lock(&xas);
		list_for_each_entry_from(grant, grants, node) {
			grant->file_id = file->id;
			xas_store(&xas, grant);
			if (xas_error(&xas))
				break;
			xas_next(&xas);
		}
		/* All stored, and xas is at the next slot */
		if (list_entry_is_head(grant, grants, node) && !xas_load(&xas))
			xas_store(&xas, XA_ZERO_ENTRY);
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL));

	/* If only the reservation failed, the ALLOC is merely slower */
	if (!list_entry_is_head(grant, grants, node)) {
		ret = xas_error(&xas);
		for (index = pgoff; index < pgoff + count; index++)
			xa_erase(&file->grants, index);
	}
	mutex_unlock(&file->lock);
	return ret;
}

/* Forget the reservation of an ALLOC that failed before publishing. */
static void gntalloc_file_unreserve(struct gntalloc_file *file,
				    unsigned long pgoff)
{
	xa_release(&file->grants, pgoff);	/* only if still reserved */
}

static long gntalloc_ioctl_alloc(struct gntalloc_file *file,
				 struct ioctl_gntalloc_alloc_gref __user *arg)
{
	struct ioctl_gntalloc_alloc_gref op;
	struct gntalloc_refs refs = { .left = 0 };
	struct gntalloc_grant *grant;
	u32 __user *ids = arg->gref_ids;
	unsigned int allocated = 0;
	bool readonly;
	long pgoff;
	LIST_HEAD(grants);
	int ret;

	if (copy_from_user(&op, arg, offsetof(typeof(op), gref_ids)))
		return -EFAULT;
	if (!op.count || op.flags & ~GNTALLOC_FLAG_WRITABLE ||
	    op.domid >= DOMID_FIRST_RESERVED)
		return -EINVAL;
	readonly = !(op.flags & GNTALLOC_FLAG_WRITABLE);
	/* The budgets first: a request that can never fit fails the same way */
	ret = gntalloc_grants_charge(file, op.domid, op.count);
	if (ret)
		return ret;
	ret = -EFAULT;
	if (!access_ok(ids, (unsigned long)op.count * sizeof(*ids)))
		goto err_uncharge;

	/* Take the file's next indexes; no lock, it is one counter */
	pgoff = atomic_long_read(&file->next_pgoff);
	do {
		ret = -ENOSPC;	/* this file's index space is used up */
		if (op.count > GNTALLOC_MAX_PGOFF - pgoff)
			goto err_uncharge;
	} while (!atomic_long_try_cmpxchg(&file->next_pgoff, &pgoff,
					  pgoff + op.count));

	/*
	 * Tell userspace each grant before publishing any: if its buffer
	 * faults, nobody can have used them yet and they simply go away again.
	 */
	while (allocated < op.count) {
		/* A process being killed does not wait for the rest */
		ret = -EINTR;
		if (fatal_signal_pending(current))
			goto err_abort;
		grant = gntalloc_grant_new(op.domid, readonly, &refs,
					   op.count - allocated);
		if (IS_ERR(grant)) {
			ret = PTR_ERR(grant);
			gntalloc_quota_fail(ret == -ENOMEM ? GNTALLOC_CAUSE_NOMEM :
					    GNTALLOC_CAUSE_TABLE_FULL,
					    op.domid, op.count);
			goto err_abort;
		}
		list_add_tail(&grant->node, &grants);
		if (put_user(grant->gref, &ids[allocated++])) {
			ret = -EFAULT;
			goto err_abort;
		}
		if (!(allocated % GNTALLOC_RESCHED_BATCH))
			cond_resched();
	}
	ret = -EFAULT;
	if (put_user((u64)pgoff << PAGE_SHIFT, &arg->index))
		goto err_abort;

	grant = list_first_entry(&grants, struct gntalloc_grant, node);
	trace_gntalloc_alloc((u64)pgoff << PAGE_SHIFT, op.count, op.domid,
			     op.flags & GNTALLOC_FLAG_WRITABLE, grant->gref);

	ret = gntalloc_file_publish(file, pgoff, op.count, &grants);
	if (ret) {
		gntalloc_quota_fail(GNTALLOC_CAUSE_NOMEM, op.domid, op.count);
		goto err_abort;
	}
	gntalloc_grants_commit(op.count);
	return 0;

err_abort:
	gntalloc_refs_put(&refs);
	gntalloc_grants_abort(file, &grants);
	gntalloc_file_unreserve(file, pgoff);
	gntalloc_grants_uncharge(file, op.domid, op.count - allocated);
	return ret;

err_uncharge:
	gntalloc_grants_uncharge(file, op.domid, op.count);
	return ret;
}

static long gntalloc_ioctl_dealloc(struct gntalloc_file *file,
				   struct ioctl_gntalloc_dealloc_gref __user *arg)
{
	struct ioctl_gntalloc_dealloc_gref op;
	struct gntalloc_grant *grant;
	unsigned long pgoff;
	LIST_HEAD(release);
	XA_STATE(xas, &file->grants, 0);

	if (copy_from_user(&op, arg, sizeof(op)))
		return -EFAULT;
	if (!op.count || offset_in_page(op.index) ||
	    op.index + ((u64)op.count << PAGE_SHIFT) < op.index)
		return -EINVAL;
	pgoff = op.index >> PAGE_SHIFT;

	mutex_lock(&file->lock);
	xas_lock(&xas);
	if (!gntalloc_xas_owns_range(&xas, pgoff, op.count)) {
		xas_unlock(&xas);
		mutex_unlock(&file->lock);
		return -ENOENT;
	}
	xas_set(&xas, pgoff);
	xas_for_each(&xas, grant, pgoff + op.count - 1) {
		grant->flags &= ~GNTALLOC_GRANT_OWNED;
		if (grant->flags & GNTALLOC_GRANT_MAPPED)
			continue;	/* the last munmap releases it */
		xas_store(&xas, NULL);
		list_add_tail(&grant->node, &release);
	}
	xas_unlock(&xas);
	mutex_unlock(&file->lock);

	trace_gntalloc_dealloc(op.index, op.count);
	gntalloc_grants_release(file, &release);
	return 0;
}

static long gntalloc_ioctl_unmap_notify(struct gntalloc_file *file,
					struct ioctl_gntalloc_unmap_notify __user *arg)
{
	struct ioctl_gntalloc_unmap_notify op;
	struct gntalloc_grant *grant;
	evtchn_port_t old_port = 0;
	u8 old_action = 0;
	int ret = 0;

	if (copy_from_user(&op, arg, sizeof(op)))
		return -EFAULT;
	if (op.action & ~(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT))
		return -EINVAL;
	/* Hold the channel for as long as the notification may fire. */
	if (op.action & UNMAP_NOTIFY_SEND_EVENT &&
	    evtchn_get(op.event_channel_port))
		return -EINVAL;

	mutex_lock(&file->lock);
	grant = xa_load(&file->grants, op.index >> PAGE_SHIFT);
	if (!grant || !(grant->flags & GNTALLOC_GRANT_OWNED)) {
		ret = -ENOENT;
	} else {
		old_action = grant->notify_action;
		old_port = grant->notify_port;
		grant->notify_action = op.action;
		grant->notify_port = op.event_channel_port;
		grant->notify_offset = offset_in_page(op.index);
	}
	mutex_unlock(&file->lock);

	if (ret && op.action & UNMAP_NOTIFY_SEND_EVENT)
		evtchn_put(op.event_channel_port);
	if (old_action & UNMAP_NOTIFY_SEND_EVENT)
		evtchn_put(old_port);
	return ret;
}

static long gntalloc_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct gntalloc_file *file = filp->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case IOCTL_GNTALLOC_ALLOC_GREF:
		return gntalloc_ioctl_alloc(file, uarg);
	case IOCTL_GNTALLOC_DEALLOC_GREF:
		return gntalloc_ioctl_dealloc(file, uarg);
	case IOCTL_GNTALLOC_SET_UNMAP_NOTIFY:
		return gntalloc_ioctl_unmap_notify(file, uarg);
	default:
		return -ENOTTY;
	}
}

const struct file_operations gntalloc_fops = {
	.owner		= THIS_MODULE,
	.open		= gntalloc_open,
	.release	= gntalloc_release,
	.unlocked_ioctl	= gntalloc_ioctl,
	.mmap		= gntalloc_mmap,
	.llseek		= noop_llseek,
};
