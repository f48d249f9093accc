// SPDX-License-Identifier: GPL-2.0
/*
 * Quarantine of grant references.
 *
 * When a grant ends, its reference number would go straight back to the
 * grant table's free list, where the next user (blkfront, netfront, another
 * process) takes it at once; a peer that maps the old number late would then
 * map a stranger's page.  So an ended reference is held back for
 * quarantine_ms: while it is held, the entry grants nothing and a late
 * mapper fails cleanly.  The page itself is freed as soon as the peer has
 * let go; only the reference waits.
 *
 * How the reference is held.  The kernel has no silent way to end a peer's
 * access without freeing the reference: gnttab_end_foreign_access_ref()
 * prints a warning every time the peer still maps the page, which is the
 * normal case for pending pages.  So access is ended the race-free way,
 * gnttab_try_end_foreign_access(), which pushes the reference onto the
 * grant table's free list, and the references are taken back from there
 * by one gnttab_alloc_grant_references(n) per GNTALLOC_QUARANTINE_BATCH
 * ends (and one for the rest of a release, at its flush).  The free list
 * is a stack (6.1 to 7.3), so those are the n at its head, our own, unless
 * another CPU took or gave back references in between.  Then we hold
 * whatever we got (a free entry grants nothing either) and count each of
 * ours that is not among them as given back early, in
 * quarantine_shortened: the counter says how often the guarantee was not
 * kept, for whatever reason.
 *
 * What a retake got is held as the grant table gave it: a private chain of
 * n references, linked through the grant table's own free-list entries up
 * to GNTTAB_LIST_END, which nobody but its holder reads or writes.  One of
 * the n ended grants becomes the chain's quarantine record (its head, n and
 * the time of the retake: struct gntalloc_grant), the other n - 1 are freed
 * with the pages, and when the time is served the whole chain goes back
 * with one gnttab_free_grant_references(): one trip through the grant
 * table's lock per n references on the way out too, and one 40-byte record
 * per up to GNTALLOC_QUARANTINE_BATCH references while they wait (2.5 bytes
 * a reference in a release of many pages, 40 for a lone one).  No memory is
 * allocated to hold them, so holding them cannot fail.
 *
 * That window, where an ended reference sits on the free list, lasts
 * from the first of those n ends to their retake: at most
 * GNTALLOC_QUARANTINE_BATCH ends of access (each one trip through the grant
 * table's lock) with the unmap notifications of those grants, or, in a
 * reclaim walk, the tries of at most GNTALLOC_RESCHED_BATCH pending pages
 * (microseconds on hardware, unless the task is preempted).  The pages are
 * freed after the retake, outside the window, and everything ended is
 * retaken before its caller yields the CPU (gntalloc_ended_flush()).  One
 * retake per n pages rather than per page keeps the quarantine's cost
 * down: the grant table's lock is taken once per page, as without it, and
 * twice more per n (the retake and the giving back).  What is left is work
 * on every reference (taken off the free list, checked, put back on it):
 * counted in instructions, a DEALLOC of many pages does about 8% more than
 * without the quarantine, an ALLOC and DEALLOC of one page about 4% more
 * (tools/xen/gntalloc-bench, BENCH_ICOUNT).  Only a way to end access that
 * keeps the reference, which the kernel does not offer modules, would
 * remove it.
 *
 * The quarantine gives way rather than fail an ALLOC: when the grant-table
 * reserve or a full table stands in the way, the oldest references go back
 * early (gntalloc_quarantine_shorten(), counted in quarantine_shortened):
 * whole chains, and the head of one more split off to make up exactly the
 * number asked for (those few one at a time).  Held references count as
 * grant entries against the reserve, not as pages against the limit (they
 * hold no page).  Module exit gives them all back.
 *
 * A chain that has served its time goes back to the grant table, unless an
 * ALLOC short of references takes it first (gntalloc_quarantine_reuse():
 * the oldest chain, whole): the grant table would hand the ALLOC free
 * references anyway, and this way its lock is not taken twice for nothing.
 *
 * Releases come in batches (a DEALLOC, a close, a reclaim walk), and
 * what ends is accounted per batch (struct gntalloc_ended): the shared
 * counters, the domain's quota and the quarantine list are touched once
 * per batch, not once per page.  Two batches ended on two CPUs may join
 * the list out of release order: a reference then waits behind a younger
 * one, longer than quarantine_ms, never less.
 */

#include "gntalloc-common.h"

#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>

unsigned int gntalloc_quarantine_ms = 2000;

/*
 * Jiffies that the work waits beyond quarantine_ms before it gives served
 * references back: an ALLOC may take them one jiffy after it
 * (gntalloc_quarantine_reuse()), so a steady stream of ALLOCs finds them
 * first.
 */
#define GNTALLOC_QUARANTINE_GRACE	2

/* Records, oldest first: released times only grow along it */
static DEFINE_SPINLOCK(gntalloc_quarantine_lock);
static LIST_HEAD(gntalloc_quarantine_list);	/* under the spinlock */

static void gntalloc_quarantine_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(gntalloc_quarantine_work,
			    gntalloc_quarantine_work_fn);

/* @count held references went back to the grant table. */
static void gntalloc_quarantine_given_back(unsigned long count)
{
	atomic_long_sub(count, &gntalloc_stats.quarantined);
	atomic_long_sub(count, &gntalloc_stats.entries);
}

/*
 * Give the chains of the records on @batch back to the grant table, one
 * trip through its lock each, and free the records.  Returns how many
 * references went back.
 */
static unsigned long gntalloc_quarantine_free(struct list_head *batch)
{
	struct gntalloc_grant *record, *next;
	unsigned long freed = 0;

	list_for_each_entry_safe(record, next, batch, node) {
		gnttab_free_grant_references(record->chain);
		freed += record->chain_count;
		kmem_cache_free(gntalloc_grant_cache, record);
		cond_resched();
	}
	gntalloc_quarantine_given_back(freed);
	return freed;
}

/*
 * Move to @batch the records of references released before @before (all
 * of them if @all), whole, with at most @max references in all.  Under
 * the spinlock.  Returns how many references they hold.
 */
static unsigned long gntalloc_quarantine_take(struct list_head *batch,
					      unsigned long max, bool all,
					      unsigned long before)
{
	struct gntalloc_grant *record, *next;
	unsigned long taken = 0;

	lockdep_assert_held(&gntalloc_quarantine_lock);
	list_for_each_entry_safe(record, next, &gntalloc_quarantine_list,
				 node) {
		if (record->chain_count > max - taken ||
		    (!all && time_after(record->released, before)))
			break;
		list_move_tail(&record->node, batch);
		taken += record->chain_count;
	}
	return taken;
}

/*
 * Split the first @count references off the chain of @record, which holds
 * more: @record keeps the rest, and the return value leads to the @count
 * split off, for gntalloc_quarantine_free_part().  Under the spinlock.
 */
static grant_ref_t gntalloc_quarantine_split(struct gntalloc_grant *record,
					     unsigned int count)
{
	grant_ref_t part = record->chain;
	unsigned int i;

	lockdep_assert_held(&gntalloc_quarantine_lock);
	for (i = 0; i < count; i++)
		gnttab_claim_grant_reference(&record->chain);
	record->chain_count -= count;
	return part;
}

/*
 * Give back the @count references from @part, split off a chain.  They
 * do not end in the grant table's end mark (private to grant-table.c, so
 * we cannot write it), so they go back one at a time, fewer than
 * GNTALLOC_QUARANTINE_BATCH: each is read off the chain before it is
 * freed, since freeing it relinks it.
 */
static void gntalloc_quarantine_free_part(grant_ref_t part,
					  unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		gnttab_free_grant_reference(gnttab_claim_grant_reference(&part));
	gntalloc_quarantine_given_back(count);
}

/*
 * Give back what has served its time, then sleep until the oldest of the
 * rest has.  Lowering quarantine_ms kicks it (gntalloc_quarantine_kick()).
 */
static void gntalloc_quarantine_work_fn(struct work_struct *work)
{
	unsigned long ms = READ_ONCE(gntalloc_quarantine_ms);
	unsigned long now = jiffies, wait = 0;
	struct gntalloc_grant *oldest;
	LIST_HEAD(batch);

	spin_lock(&gntalloc_quarantine_lock);
	gntalloc_quarantine_take(&batch, ULONG_MAX, false,
				 now - msecs_to_jiffies(ms) -
				 GNTALLOC_QUARANTINE_GRACE);
	spin_unlock(&gntalloc_quarantine_lock);
	gntalloc_quarantine_free(&batch);

	spin_lock(&gntalloc_quarantine_lock);
	oldest = list_first_entry_or_null(&gntalloc_quarantine_list,
					  struct gntalloc_grant, node);
	if (oldest) {
		wait = oldest->released + msecs_to_jiffies(ms) +
			GNTALLOC_QUARANTINE_GRACE - jiffies;
		if ((long)wait < 1)
			wait = 1;
		mod_delayed_work(system_wq, &gntalloc_quarantine_work, wait);
	}
	spin_unlock(&gntalloc_quarantine_lock);
}

/* A batch of ends begins: nothing is counted yet. */
void gntalloc_ended_init(struct gntalloc_ended *ended)
{
	INIT_LIST_HEAD(&ended->ending);
	ended->ending_count = 0;
	INIT_LIST_HEAD(&ended->held);
	ended->held_count = 0;
	ended->entries = 0;
	ended->shortened = 0;
	ended->domid = 0;
	ended->domain_count = 0;
}

/*
 * How many of the references of @grants (@count of them) are among the
 * @count on the chain from @head.  Reading the chain does not consume it:
 * gnttab_claim_grant_reference() only moves a private head along it.
 */
static unsigned int gntalloc_quarantine_ours(struct list_head *grants,
					     unsigned int count,
					     grant_ref_t head)
{
	struct gntalloc_grant *grant;
	unsigned int ours = 0, i;
	grant_ref_t walk = head;

	/* Nobody came between: the chain is ours, last ended first */
	list_for_each_entry(grant, grants, node) {
		if (gnttab_claim_grant_reference(&walk) != grant->gref)
			goto slow;
	}
	return count;
slow:
	list_for_each_entry(grant, grants, node) {
		walk = head;
		for (i = 0; i < count; i++) {
			if (gnttab_claim_grant_reference(&walk) == grant->gref) {
				ours++;
				break;
			}
		}
	}
	return ours;
}

/*
 * Take back the references that the grants on @ended's ending list (at
 * least one) gave to the free list (see the top of this file), free their
 * pages, and put the first grant, now the record of the chain taken back,
 * on its held list; the other grants are freed.
 */
void gntalloc_quarantine_retake(struct gntalloc_ended *ended)
{
	unsigned int count = ended->ending_count;
	struct gntalloc_grant *grant, *next, *record = NULL;
	grant_ref_t head;

	if (gnttab_alloc_grant_references(count, &head)) {
		/* Others took some and the table is full: none is held */
		ended->entries += count;
		ended->shortened += count;
	} else {
		ended->shortened += count -
			gntalloc_quarantine_ours(&ended->ending, count, head);
		record = list_first_entry(&ended->ending,
					  struct gntalloc_grant, node);
	}
	list_for_each_entry_safe(grant, next, &ended->ending, node) {
		__free_page(grant->page);
		if (grant != record)
			kmem_cache_free(gntalloc_grant_cache, grant);
	}
	INIT_LIST_HEAD(&ended->ending);
	ended->ending_count = 0;
	if (!record)
		return;
	record->released = jiffies;
	record->chain = head;
	record->chain_count = count;
	list_add_tail(&record->node, &ended->held);
	ended->held_count += count;
}

/**
 * gntalloc_ended_flush() - account the ends of a batch so far
 * @ended: the batch; empty again afterwards
 *
 * Takes back the references still to be taken back, gives the entries
 * and the domains' quotas back, and puts the held references on the
 * quarantine list (arming its work if it was idle).  Call before the
 * batch goes out of scope, and at least every GNTALLOC_RESCHED_BATCH
 * grants of a long one (before yielding the CPU), so that an ALLOC short
 * of entries can shorten what the batch holds.
 */
void gntalloc_ended_flush(struct gntalloc_ended *ended)
{
	unsigned long ms = READ_ONCE(gntalloc_quarantine_ms);
	bool idle;

	if (ended->ending_count)
		gntalloc_quarantine_retake(ended);
	if (ended->domain_count)
		gntalloc_quota_domain_put(ended->domid, ended->domain_count);
	if (ended->entries)
		atomic_long_sub(ended->entries, &gntalloc_stats.entries);
	if (ended->shortened)
		atomic_long_add(ended->shortened,
				&gntalloc_stats.quarantine_shortened);
	if (ended->held_count) {
		atomic_long_add(ended->held_count, &gntalloc_stats.quarantined);
		spin_lock(&gntalloc_quarantine_lock);
		idle = list_empty(&gntalloc_quarantine_list);
		list_splice_tail_init(&ended->held, &gntalloc_quarantine_list);
		if (idle)
			mod_delayed_work(system_wq, &gntalloc_quarantine_work,
					 msecs_to_jiffies(ms) + 1);
		spin_unlock(&gntalloc_quarantine_lock);
	}
	gntalloc_ended_init(ended);
}

/**
 * gntalloc_quarantine_shorten() - give back up to @count references early
 * @count: how many an ALLOC needs
 *
 * The oldest go first: whole chains, and the head of the next one split
 * off to make up @count; each reference counts in quarantine_shortened.
 *
 * Return: how many were given back.
 */
unsigned long gntalloc_quarantine_shorten(unsigned long count)
{
	struct gntalloc_grant *record;
	unsigned long taken, split = 0;
	grant_ref_t part = 0;
	LIST_HEAD(batch);

	if (!atomic_long_read(&gntalloc_stats.quarantined))
		return 0;
	spin_lock(&gntalloc_quarantine_lock);
	taken = gntalloc_quarantine_take(&batch, count, true, 0);
	record = list_first_entry_or_null(&gntalloc_quarantine_list,
					  struct gntalloc_grant, node);
	if (record && taken < count) {
		/* It holds more than count - taken, or it would be taken */
		split = count - taken;
		part = gntalloc_quarantine_split(record, split);
	}
	spin_unlock(&gntalloc_quarantine_lock);
	if (split)
		gntalloc_quarantine_free_part(part, split);
	taken = gntalloc_quarantine_free(&batch) + split;
	atomic_long_add(taken, &gntalloc_stats.quarantine_shortened);
	return taken;
}

/**
 * gntalloc_quarantine_reuse() - take served references for an ALLOC
 * @wanted: how many references the ALLOC still needs, at least 1
 * @refs: its unused references, none left
 *
 * If the oldest record has served its time (strictly more than
 * quarantine_ms ago) and holds at most @wanted references, its chain
 * becomes @refs and the record is freed.  The ALLOC's charge already
 * counts them as entries, so they stop counting as quarantined ones.
 * This spares the grant table's lock twice (the work giving them back,
 * the ALLOC taking them again) and the walk of the chain.
 *
 * Return: true if @refs was filled.
 */
bool gntalloc_quarantine_reuse(unsigned int wanted, struct gntalloc_refs *refs)
{
	unsigned long ms = READ_ONCE(gntalloc_quarantine_ms);
	struct gntalloc_grant *record;

	if (!atomic_long_read(&gntalloc_stats.quarantined))
		return false;
	spin_lock(&gntalloc_quarantine_lock);
	record = list_first_entry_or_null(&gntalloc_quarantine_list,
					  struct gntalloc_grant, node);
	if (record && record->chain_count <= wanted &&
	    time_after(jiffies, record->released + msecs_to_jiffies(ms)))
		list_del(&record->node);
	else
		record = NULL;
	spin_unlock(&gntalloc_quarantine_lock);
	if (!record)
		return false;
	refs->head = record->chain;
	refs->left = record->chain_count;
	gntalloc_quarantine_given_back(record->chain_count);
	kmem_cache_free(gntalloc_grant_cache, record);
	return true;
}

/* quarantine_ms changed: look at the list again now. */
void gntalloc_quarantine_kick(void)
{
	mod_delayed_work(system_wq, &gntalloc_quarantine_work, 0);
}

/* Module exit: every reference goes back to the grant table. */
void gntalloc_quarantine_exit(void)
{
	LIST_HEAD(batch);

	cancel_delayed_work_sync(&gntalloc_quarantine_work);
	spin_lock(&gntalloc_quarantine_lock);
	gntalloc_quarantine_take(&batch, ULONG_MAX, true, 0);
	spin_unlock(&gntalloc_quarantine_lock);
	gntalloc_quarantine_free(&batch);
}
