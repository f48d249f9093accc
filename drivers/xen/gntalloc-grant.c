// SPDX-License-Identifier: GPL-2.0
/*
 * The life of a grant: allocation against the budgets (gntalloc-quota.c),
 * release with its unmap notification, and reclaim of pages that the peer
 * still maps.
 *
 * A released grant whose page the peer still maps must not be freed: the
 * peer could still read or write it.  Such grants go on a global pending
 * list and keep counting against the limit and their domain's quota, so a
 * peer that never unmaps cannot make us pin unbounded memory, nor take
 * other domains' share.  A delayed work retries them, backing off while
 * nothing comes back; an ALLOC that would hit a budget retries them too
 * before it gives up.  Once the peer has let go, the page is freed and the
 * reference may spend a while in quarantine (gntalloc-quarantine.c).
 */

#include "gntalloc-common.h"

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/gntalloc.h>

#include "gntalloc_trace.h"

/* The cost per grant that the benchmark's memory target counts on */
static_assert(PAGE_SHIFT > 12 || sizeof(struct gntalloc_grant) == 40);

#define GNTALLOC_RECLAIM_MIN_DELAY	(HZ / 20)
#define GNTALLOC_RECLAIM_MAX_DELAY	HZ

struct kmem_cache *gntalloc_grant_cache;

/*
 * The pending list.  Releases add to it under the spinlock alone; grants
 * leave it only under gntalloc_reclaim_lock, which serialises everyone who
 * walks it: the background work, an ALLOC at the limit, debugfs.  A walker
 * moves the whole list aside (so the spinlock is only held to move lists,
 * and the walk may sleep), walks it, and puts what is left back before
 * letting go of the mutex.  So whoever holds the mutex sees every pending
 * grant: the work never takes a list moved aside for an empty one (and
 * stops), an ALLOC at the limit waits for a running reclaim instead of
 * failing beside it, and debugfs never under-counts.
 */
static DEFINE_SPINLOCK(gntalloc_pending_lock);
static LIST_HEAD(gntalloc_pending_list);	/* under gntalloc_pending_lock */
static unsigned long gntalloc_reclaim_due;	/* under gntalloc_pending_lock */
static DEFINE_MUTEX(gntalloc_reclaim_lock);
/* Under gntalloc_reclaim_lock; the walks counter is read without it */
static unsigned long gntalloc_reclaim_walks;	/* reclaim walks begun */
static unsigned long gntalloc_reclaim_delay = GNTALLOC_RECLAIM_MIN_DELAY;

static void gntalloc_reclaim_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(gntalloc_reclaim_work, gntalloc_reclaim_work_fn);

static void gntalloc_update_peak(void)
{
	long used = atomic_long_read(&gntalloc_stats.in_use);
	long peak = atomic_long_read(&gntalloc_stats.peak);

	while (used > peak &&
	       !atomic_long_try_cmpxchg(&gntalloc_stats.peak, &peak, used))
		;
}

/* Move the whole pending list to @batch, to walk it without the spinlock. */
static void gntalloc_pending_take(struct list_head *batch)
{
	lockdep_assert_held(&gntalloc_reclaim_lock);
	spin_lock(&gntalloc_pending_lock);
	list_splice_init(&gntalloc_pending_list, batch);
	spin_unlock(&gntalloc_pending_lock);
}

/* Put @batch back, ahead of what was released meanwhile (oldest first). */
static void gntalloc_pending_put_back(struct list_head *batch)
{
	spin_lock(&gntalloc_pending_lock);
	list_splice(batch, &gntalloc_pending_list);
	spin_unlock(&gntalloc_pending_lock);
}

/*
 * Try to take back the pages on the pending list; returns how many came
 * back.  Under gntalloc_reclaim_lock; yields every GNTALLOC_RESCHED_BATCH
 * grants, whether they come back or not.
 */
static unsigned long gntalloc_reclaim(void)
{
	struct gntalloc_grant *grant, *next;
	unsigned long reclaimed = 0, walked = 0;
	struct gntalloc_ended ended;
	LIST_HEAD(batch);

	WRITE_ONCE(gntalloc_reclaim_walks, gntalloc_reclaim_walks + 1);
	gntalloc_ended_init(&ended);
	gntalloc_pending_take(&batch);
	list_for_each_entry_safe(grant, next, &batch, node) {
		u32 gref = grant->gref;
		domid_t domid = grant->domid;

		list_del(&grant->node);
		if (gntalloc_quarantine_end_access(grant, &ended)) {
			trace_gntalloc_reclaim(gref, domid);
			reclaimed++;
		} else {
			/* Back in its place: before @next, or at the tail */
			list_add_tail(&grant->node, &next->node);
		}
		if (!(++walked % GNTALLOC_RESCHED_BATCH)) {
			gntalloc_ended_flush(&ended);
			cond_resched();
		}
	}
	gntalloc_ended_flush(&ended);
	gntalloc_pending_put_back(&batch);

	atomic_long_sub(reclaimed, &gntalloc_stats.pending);
	atomic_long_sub(reclaimed, &gntalloc_stats.in_use);
	atomic_long_add(reclaimed, &gntalloc_stats.freed_total);
	return reclaimed;
}

/*
 * Have the work run within @delay, unless it is due sooner already: a new
 * pending grant must not push back a retry that was due before it came.
 * Under gntalloc_pending_lock, which orders the callers.
 */
static void gntalloc_reclaim_schedule(unsigned long delay)
{
	unsigned long due = jiffies + delay;

	lockdep_assert_held(&gntalloc_pending_lock);
	if (delayed_work_pending(&gntalloc_reclaim_work) &&
	    time_before_eq(gntalloc_reclaim_due, due))
		return;
	gntalloc_reclaim_due = due;
	mod_delayed_work(system_wq, &gntalloc_reclaim_work, delay);
}

/*
 * While the pending list is not empty, the work is always due within
 * GNTALLOC_RECLAIM_MAX_DELAY: it re-arms itself, under the mutex, whenever
 * it leaves grants behind, and gntalloc_add_pending() arms it for every
 * newcomer.  That bounds how long a page the peer let go stays pending.
 */
static void gntalloc_reclaim_work_fn(struct work_struct *work)
{
	mutex_lock(&gntalloc_reclaim_lock);
	if (gntalloc_reclaim())
		gntalloc_reclaim_delay = GNTALLOC_RECLAIM_MIN_DELAY;
	else
		gntalloc_reclaim_delay = min(2 * gntalloc_reclaim_delay,
					     (unsigned long)GNTALLOC_RECLAIM_MAX_DELAY);

	spin_lock(&gntalloc_pending_lock);
	if (!list_empty(&gntalloc_pending_list))
		gntalloc_reclaim_schedule(gntalloc_reclaim_delay);
	spin_unlock(&gntalloc_pending_lock);
	mutex_unlock(&gntalloc_reclaim_lock);
}

static void gntalloc_add_pending(struct gntalloc_grant *grant)
{
	trace_gntalloc_pending(grant->gref, grant->domid);
	atomic_long_inc(&gntalloc_stats.pending);
	spin_lock(&gntalloc_pending_lock);
	list_add_tail(&grant->node, &gntalloc_pending_list);
	/* A newcomer is worth a prompt look, whatever the back-off says. */
	gntalloc_reclaim_schedule(GNTALLOC_RECLAIM_MIN_DELAY);
	spin_unlock(&gntalloc_pending_lock);
}

/*
 * End the peer's access and free the page (its reference may go into
 * quarantine), in @ended's batch, or park the grant on the pending list
 * while the peer still maps it.  Returns true if freed.
 */
static bool gntalloc_end_access(struct gntalloc_grant *grant,
				struct gntalloc_ended *ended)
{
	if (gntalloc_quarantine_end_access(grant, ended))
		return true;
	gntalloc_add_pending(grant);
	return false;
}

/**
 * gntalloc_grants_charge() - charge @count grants for @domid to @file
 * @file: the file that asks
 * @domid: the peer domain
 * @count: number of pages, at least 1
 *
 * Charges the global limit, the domain, the file and the grant table
 * (gntalloc_quota_charge()).  If a budget other than the file's is in the
 * way, retries the pending pages first; if the reserve still is, gives
 * quarantined references back early.  ALLOCs that retry queue on
 * gntalloc_reclaim_lock: one walk at a time, and a walk that began while
 * this one waited is shared instead of repeated.
 *
 * Return: 0, or -ENOSPC (counted by its cause).
 */
int gntalloc_grants_charge(struct gntalloc_file *file, domid_t domid,
			   unsigned int count)
{
	enum gntalloc_cause cause;
	unsigned long walks;

	if (!gntalloc_quota_charge(file, domid, count, &cause))
		return 0;
	if (cause != GNTALLOC_CAUSE_FILE &&
	    atomic_long_read(&gntalloc_stats.pending)) {
		walks = READ_ONCE(gntalloc_reclaim_walks);
		mutex_lock(&gntalloc_reclaim_lock);
		if (gntalloc_reclaim_walks == walks)
			gntalloc_reclaim();
		mutex_unlock(&gntalloc_reclaim_lock);
		if (!gntalloc_quota_charge(file, domid, count, &cause))
			return 0;
	}
	if (cause == GNTALLOC_CAUSE_RESERVE &&
	    gntalloc_quarantine_shorten(count) &&
	    !gntalloc_quota_charge(file, domid, count, &cause))
		return 0;
	gntalloc_quota_fail(cause, domid, count);
	return -ENOSPC;
}

/* Give back a charge that no grant will use. */
void gntalloc_grants_uncharge(struct gntalloc_file *file, domid_t domid,
			      unsigned int count)
{
	gntalloc_quota_uncharge(file, domid, count);
}

/*
 * Grant references are taken from the grant table in batches of up to this
 * many (gnttab_alloc_grant_references() counts in a u16): one hold of the
 * grant table's lock for a batch instead of one per page.
 */
#define GNTALLOC_REFS_BATCH	4096U

/**
 * gntalloc_grant_new() - allocate and grant one zeroed page
 * @domid: the domain that may map it
 * @readonly: whether the peer may only read it
 * @refs: the caller's unused grant references; start with refs->left 0
 * @wanted: pages the caller still wants, this one included
 *
 * The page was charged with gntalloc_grants_charge(), and is charged to the
 * caller's memory cgroup, but not yet to allocated_total: the caller
 * commits or aborts it, and counts a failure by its cause (an ALLOC stops
 * at its first one).  When @refs runs out, it is refilled with references
 * that have served their quarantine, or from the grant table for up to
 * @wanted pages, with quarantined references given back early if the
 * table is full; the caller gives back what is left with
 * gntalloc_refs_put().
 *
 * Return: the grant, or ERR_PTR(-ENOSPC) when Xen's grant table is full,
 * ERR_PTR(-ENOMEM).
 */
struct gntalloc_grant *gntalloc_grant_new(domid_t domid, bool readonly,
					  struct gntalloc_refs *refs,
					  unsigned int wanted)
{
	struct gntalloc_grant *grant;

	if (!refs->left && !gntalloc_quarantine_reuse(wanted, refs)) {
		wanted = min(wanted, GNTALLOC_REFS_BATCH);
		if (gnttab_alloc_grant_references(wanted, &refs->head) &&
		    (!gntalloc_quarantine_shorten(wanted) ||
		     gnttab_alloc_grant_references(wanted, &refs->head)))
			return ERR_PTR(-ENOSPC);
		refs->left = wanted;
	}

	grant = kmem_cache_zalloc(gntalloc_grant_cache, GFP_KERNEL);
	if (!grant)
		return ERR_PTR(-ENOMEM);
	grant->page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!grant->page) {
		kmem_cache_free(gntalloc_grant_cache, grant);
		return ERR_PTR(-ENOMEM);
	}
	grant->gref = gnttab_claim_grant_reference(&refs->head);
	refs->left--;
	gnttab_grant_foreign_access_ref(grant->gref, domid,
					xen_page_to_gfn(grant->page), readonly);
	grant->domid = domid;
	grant->flags = GNTALLOC_GRANT_OWNED;
	return grant;
}

/* Give back the grant references that gntalloc_grant_new() left over. */
void gntalloc_refs_put(struct gntalloc_refs *refs)
{
	if (refs->left)
		gnttab_free_grant_references(refs->head);
	refs->left = 0;
}

/* The grants of a successful ALLOC are in their file: count them. */
void gntalloc_grants_commit(unsigned int count)
{
	atomic_long_add(count, &gntalloc_stats.allocated_total);
	gntalloc_update_peak();
}

/*
 * Undo gntalloc_grant_new() for grants nobody can know about.  A peer
 * may still have guessed a reference and mapped it; such a grant becomes a
 * real one, counted as allocated and pending (and to its domain), so the
 * totals stay exact.  None stays charged to @file.
 */
void gntalloc_grants_abort(struct gntalloc_file *file,
			   struct list_head *grants)
{
	struct gntalloc_grant *grant, *next;
	unsigned long freed = 0, kept = 0;
	struct gntalloc_ended ended;

	gntalloc_ended_init(&ended);
	list_for_each_entry_safe(grant, next, grants, node) {
		list_del(&grant->node);
		if (gntalloc_end_access(grant, &ended))
			freed++;
		else
			kept++;
		if (!((freed + kept) % GNTALLOC_RESCHED_BATCH))
			gntalloc_ended_flush(&ended);
	}
	gntalloc_ended_flush(&ended);
	atomic_long_sub(freed + kept, &file->charged);
	atomic_long_sub(freed, &gntalloc_stats.in_use);
	if (kept) {
		atomic_long_add(kept, &gntalloc_stats.allocated_total);
		gntalloc_update_peak();	/* they stay in in_use */
	}
}

/* Tell the peer that the page is going away, as userspace asked. */
static void gntalloc_fire_notify(struct gntalloc_grant *grant)
{
	if (!grant->notify_action)
		return;
	trace_gntalloc_notify(grant->gref, grant->domid, grant->notify_action,
			      grant->notify_offset, grant->notify_port);
	if (grant->notify_action & UNMAP_NOTIFY_CLEAR_BYTE) {
		u8 *addr = kmap_local_page(grant->page);

		addr[grant->notify_offset] = 0;
		kunmap_local(addr);
	}
	if (grant->notify_action & UNMAP_NOTIFY_SEND_EVENT) {
		notify_remote_via_evtchn(grant->notify_port);
		evtchn_put(grant->notify_port);
	}
	grant->notify_action = 0;
}

/**
 * gntalloc_grants_release() - release grants that left their file
 * @file: the file they left, which stops paying for them
 * @grants: grants no file and no user mapping refers to any more
 *
 * Fires each unmap notification, then frees the page or, while the peer
 * still maps it, keeps it pending.  Called without any file lock held.
 */
void gntalloc_grants_release(struct gntalloc_file *file,
			     struct list_head *grants)
{
	struct gntalloc_grant *grant, *next;
	unsigned long freed = 0, done = 0;
	struct gntalloc_ended ended;

	gntalloc_ended_init(&ended);
	list_for_each_entry_safe(grant, next, grants, node) {
		list_del(&grant->node);
		gntalloc_fire_notify(grant);
		if (gntalloc_end_access(grant, &ended))
			freed++;
		if (!(++done % GNTALLOC_RESCHED_BATCH)) {
			gntalloc_ended_flush(&ended);
			cond_resched();
		}
	}
	gntalloc_ended_flush(&ended);
	atomic_long_sub(done, &file->charged);
	atomic_long_sub(freed, &gntalloc_stats.in_use);
	atomic_long_add(freed, &gntalloc_stats.freed_total);
}

/**
 * gntalloc_pending_for_each() - call @fn on every pending grant, for debugfs
 * @fn: what to do with each; it must not sleep nor keep the grant
 * @arg: passed to @fn
 *
 * Sees every pending grant, even while reclaim runs (it waits for it), and
 * yields every GNTALLOC_RESCHED_BATCH grants: the spinlock is never held
 * during the walk.
 */
void gntalloc_pending_for_each(void (*fn)(const struct gntalloc_grant *grant,
					  void *arg), void *arg)
{
	struct gntalloc_grant *grant;
	unsigned long walked = 0;
	LIST_HEAD(batch);

	mutex_lock(&gntalloc_reclaim_lock);
	gntalloc_pending_take(&batch);
	list_for_each_entry(grant, &batch, node) {
		fn(grant, arg);
		if (!(++walked % GNTALLOC_RESCHED_BATCH))
			cond_resched();
	}
	gntalloc_pending_put_back(&batch);
	mutex_unlock(&gntalloc_reclaim_lock);
}

int gntalloc_grants_init(void)
{
	gntalloc_grant_cache = KMEM_CACHE(gntalloc_grant, SLAB_ACCOUNT);
	return gntalloc_grant_cache ? 0 : -ENOMEM;
}

/*
 * At unload no file is open, so only pending grants are left.  Hand them
 * to the grant-table core, which frees each page once its peer lets go:
 * nothing is freed under a mapping, and nothing is lost.  Then give every
 * quarantined reference back (the work that would have is stopped).
 */
void gntalloc_grants_exit(void)
{
	struct gntalloc_grant *grant, *next;
	unsigned long handed = 0;

	cancel_delayed_work_sync(&gntalloc_reclaim_work);
	mutex_lock(&gntalloc_reclaim_lock);
	gntalloc_reclaim();
	mutex_unlock(&gntalloc_reclaim_lock);

	list_for_each_entry_safe(grant, next, &gntalloc_pending_list, node) {
		list_del(&grant->node);
		gnttab_end_foreign_access(grant->gref, grant->page);
		kmem_cache_free(gntalloc_grant_cache, grant);
		handed++;
	}
	if (handed)
		pr_info("%lu pages still mapped by peers handed to the grant table\n",
			handed);
	gntalloc_quarantine_exit();

	kmem_cache_destroy(gntalloc_grant_cache);
}
