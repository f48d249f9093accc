// SPDX-License-Identifier: GPL-2.0
/*
 * Who may hold how many grants, and why an ALLOC was refused.
 *
 * A grant is charged, from the moment an ALLOC asks for it until its page is
 * freed, to four budgets at once:
 *
 *  - its open file, against file_limit, while the file holds it (owned or
 *    mapped; in flight inside an ALLOC too, so a caller that stalls the copy
 *    of the grant ids to user space still pays for what it holds);
 *  - its peer domain, against domain_limit or the domain's own entry in
 *    domain_limits, until the page is freed: pending pages included, so a
 *    peer that never unmaps exhausts its own quota and nobody else's;
 *  - the global limit (in_use), as before;
 *  - the grant table: in_use + quarantined entries may not go beyond the
 *    table's size less grant_reserve, so that kernel drivers (blkfront,
 *    netfront, xenbus) always find entries that userspace cannot take.
 *
 * The grant-table core keeps its count of free entries to itself (no kernel
 * API tells it), so the reserve is kept on our side of the bargain: we
 * count every entry we hold, and never hold more than the table's size less
 * the reserve.  The size is Xen's: gnttab_max_grant_frames() frames of
 * entries of the layout Xen says this domain uses (GNTTABOP_get_version),
 * less the entries Linux never hands out.  What kernel drivers use beyond
 * the reserve can still fill the table: that shows as table_full_failures.
 *
 * Every check is O(1): per-domain use is a flat array indexed by domid,
 * overrides are an xarray (looked up only while it is not empty), and each
 * budget is one atomic compare-and-exchange loop.  Nothing takes a lock.
 */

#include "gntalloc-common.h"

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <xen/grant_table.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/xen.h>
#include <xen/page.h>
#include <asm/xen/hypercall.h>

#include "gntalloc_trace.h"

/* No per-domain cap, no per-file cap: upstream's behaviour by default */
unsigned int gntalloc_domain_limit = UINT_MAX;
unsigned int gntalloc_file_limit = UINT_MAX;
/* Set to 1/8 of the grant table by gntalloc_quota_init() */
unsigned int gntalloc_grant_reserve;

/*
 * Grants charged to each peer domain, indexed by domid: 128 KiB for O(1)
 * accounting without a lock.  Read as unsigned, like the limits.
 */
static atomic_t *gntalloc_domain_used;

/*
 * The overrides of domain_limit: domid -> xa_mk_value(pages).  Writers
 * serialise on gntalloc_domain_limits_lock (which also covers the count);
 * ALLOC reads them under RCU through xa_load().
 */
static DEFINE_XARRAY(gntalloc_domain_limits);
static DEFINE_MUTEX(gntalloc_domain_limits_lock);
static unsigned int gntalloc_domain_limits_count;

/* "32751 4294967295\n" is 17 bytes: this many lines fit in a sysfs page */
#define GNTALLOC_MAX_DOMAIN_LIMITS	200

/* The counter of each cause, and its name in messages and the tracepoint */
static const struct {
	atomic_long_t *counter;
	const char *what;
} gntalloc_causes[] = {
	[GNTALLOC_CAUSE_LIMIT] = {
		&gntalloc_stats.limit_hits, "the global limit" },
	[GNTALLOC_CAUSE_DOMAIN] = {
		&gntalloc_stats.domain_limit_hits, "the domain's quota" },
	[GNTALLOC_CAUSE_FILE] = {
		&gntalloc_stats.file_limit_hits, "the file's limit" },
	[GNTALLOC_CAUSE_RESERVE] = {
		&gntalloc_stats.reserve_hits, "the grant reserve" },
	[GNTALLOC_CAUSE_TABLE_FULL] = {
		&gntalloc_stats.table_full_failures, "a full grant table" },
	[GNTALLOC_CAUSE_NOMEM] = {
		&gntalloc_stats.nomem_failures, "lack of memory" },
};

/* Add @count to @used unless that takes it beyond @bound. */
static __always_inline bool gntalloc_charge_long(atomic_long_t *used,
						 unsigned long count,
						 unsigned long bound)
{
	long old = atomic_long_read(used);

	do {
		if (count > bound || (unsigned long)old > bound - count)
			return false;
	} while (!atomic_long_try_cmpxchg(used, &old, old + count));
	return true;
}

static __always_inline bool gntalloc_charge_domain(domid_t domid,
						   unsigned int count,
						   unsigned int bound)
{
	atomic_t *used = &gntalloc_domain_used[domid];
	int old = atomic_read(used);

	do {
		if (count > bound || (unsigned int)old > bound - count)
			return false;
	} while (!atomic_try_cmpxchg(used, &old, old + count));
	return true;
}

/**
 * gntalloc_quota_domain_limit() - the quota of @domid now
 * @domid: a peer domain, below DOMID_FIRST_RESERVED
 *
 * Return: its entry in domain_limits, or domain_limit.
 */
unsigned int gntalloc_quota_domain_limit(domid_t domid)
{
	void *entry;

	if (!xa_empty(&gntalloc_domain_limits)) {
		entry = xa_load(&gntalloc_domain_limits, domid);
		if (entry)
			return xa_to_value(entry);
	}
	return READ_ONCE(gntalloc_domain_limit);
}

unsigned int gntalloc_quota_domain_used(domid_t domid)
{
	return atomic_read(&gntalloc_domain_used[domid]);
}

/*
 * How many entries gntalloc may hold: the table less the reserve.  A
 * reserve of 0 is no reserve: the grant table alone says when it is full.
 */
static unsigned long gntalloc_entries_bound(void)
{
	unsigned long size = atomic_long_read(&gntalloc_stats.grant_table_size);
	unsigned long reserve = READ_ONCE(gntalloc_grant_reserve);

	if (!reserve)
		return ULONG_MAX;
	return size > reserve ? size - reserve : 0;
}

/**
 * gntalloc_quota_charge() - charge @count grants to every budget, or none
 * @file: the file that asks
 * @domid: the peer domain
 * @count: number of grants, at least 1
 * @cause: set to the budget in the way on failure
 *
 * The global limit is tried first, as it always was: a request beyond it
 * fails for it, whatever else it would exceed.  Past it, @count and every
 * domain's and file's use are at most UINT_MAX (each is part of in_use),
 * so their checks cannot overflow.  Then the domain's quota, the file's
 * limit and the grant table.  A failure gives back what was taken.
 * Nothing is counted here: the caller may retry after reclaim, then
 * reports with gntalloc_quota_fail().
 *
 * Return: 0, or -ENOSPC.
 */
int gntalloc_quota_charge(struct gntalloc_file *file, domid_t domid,
			  unsigned int count, enum gntalloc_cause *cause)
{
	*cause = GNTALLOC_CAUSE_LIMIT;
	if (!gntalloc_charge_long(&gntalloc_stats.in_use, count,
				  READ_ONCE(gntalloc_limit)))
		return -ENOSPC;
	*cause = GNTALLOC_CAUSE_DOMAIN;
	if (!gntalloc_charge_domain(domid, count,
				    gntalloc_quota_domain_limit(domid)))
		goto err_in_use;
	*cause = GNTALLOC_CAUSE_FILE;
	if (!gntalloc_charge_long(&file->charged, count,
				  READ_ONCE(gntalloc_file_limit)))
		goto err_domain;
	*cause = GNTALLOC_CAUSE_RESERVE;
	if (!gntalloc_charge_long(&gntalloc_stats.entries, count,
				  gntalloc_entries_bound()))
		goto err_file;
	return 0;

err_file:
	atomic_long_sub(count, &file->charged);
err_domain:
	atomic_sub(count, &gntalloc_domain_used[domid]);
err_in_use:
	atomic_long_sub(count, &gntalloc_stats.in_use);
	return -ENOSPC;
}

/* Give back a charge that no grant will use. */
void gntalloc_quota_uncharge(struct gntalloc_file *file, domid_t domid,
			     unsigned int count)
{
	atomic_long_sub(count, &gntalloc_stats.entries);
	atomic_long_sub(count, &gntalloc_stats.in_use);
	atomic_sub(count, &gntalloc_domain_used[domid]);
	atomic_long_sub(count, &file->charged);
}

/* @count pages granted to @domid were freed: its quota has room again. */
void gntalloc_quota_domain_put(domid_t domid, unsigned int count)
{
	atomic_sub(count, &gntalloc_domain_used[domid]);
}

/**
 * gntalloc_quota_fail() - count and report an ALLOC that failed
 * @cause: what ran out
 * @domid: the peer domain of the ALLOC
 * @count: the pages it asked for
 *
 * One cause total moves (and alloc_failures with the two it sums); the
 * message is rate-limited, since any opener of the device can cause it.
 */
void gntalloc_quota_fail(enum gntalloc_cause cause, domid_t domid,
			 unsigned int count)
{
	atomic_long_inc(gntalloc_causes[cause].counter);
	if (cause == GNTALLOC_CAUSE_TABLE_FULL || cause == GNTALLOC_CAUSE_NOMEM)
		atomic_long_inc(&gntalloc_stats.alloc_failures);
	trace_gntalloc_alloc_fail(count, domid, cause);
	pr_warn_ratelimited("%s[%d]: ALLOC of %u pages for domain %u failed: %s\n",
			    current->comm, task_tgid_nr(current), count, domid,
			    gntalloc_causes[cause].what);
}

/**
 * gntalloc_quota_set_domain_limit() - set or remove the quota of one domain
 * @domid: below DOMID_FIRST_RESERVED
 * @set: false to remove the override (the domain gets domain_limit again)
 * @limit: the quota, with @set
 *
 * Return: 0, -ENOSPC when GNTALLOC_MAX_DOMAIN_LIMITS domains have one
 * already, -ENOMEM.
 */
int gntalloc_quota_set_domain_limit(domid_t domid, bool set,
				    unsigned int limit)
{
	void *old;
	int ret = 0;

	mutex_lock(&gntalloc_domain_limits_lock);
	if (!set) {
		if (xa_erase(&gntalloc_domain_limits, domid))
			gntalloc_domain_limits_count--;
		goto out;
	}
	old = xa_load(&gntalloc_domain_limits, domid);
	ret = -ENOSPC;
	if (!old && gntalloc_domain_limits_count >= GNTALLOC_MAX_DOMAIN_LIMITS)
		goto out;
	ret = xa_err(xa_store(&gntalloc_domain_limits, domid,
			      xa_mk_value(limit), GFP_KERNEL));
	if (!ret && !old)
		gntalloc_domain_limits_count++;
out:
	mutex_unlock(&gntalloc_domain_limits_lock);
	return ret;
}

/* "DOMID PAGES\n" per override, by domid: the domain_limits file */
int gntalloc_quota_show_domain_limits(char *buf)
{
	unsigned long domid;
	void *entry;
	int len = 0;

	mutex_lock(&gntalloc_domain_limits_lock);
	xa_for_each(&gntalloc_domain_limits, domid, entry)
		len += sysfs_emit_at(buf, len, "%lu %lu\n", domid,
				     xa_to_value(entry));
	mutex_unlock(&gntalloc_domain_limits_lock);
	return len;
}

/* The reserve cannot be larger than the table. */
int gntalloc_quota_set_grant_reserve(unsigned int reserve)
{
	if (reserve > atomic_long_read(&gntalloc_stats.grant_table_size))
		return -EINVAL;
	WRITE_ONCE(gntalloc_grant_reserve, reserve);
	return 0;
}

/*
 * Entries of this domain's grant table: Xen's maximum number of frames,
 * times the entries per frame of the layout in use (v1 unless Xen says v2),
 * less the ones Linux keeps for itself.
 */
static unsigned long gntalloc_grant_table_entries(void)
{
	struct gnttab_get_version gv = { .dom = DOMID_SELF };
	unsigned long per_frame = XEN_PAGE_SIZE / sizeof(struct grant_entry_v1);
	unsigned long entries;

	if (!HYPERVISOR_grant_table_op(GNTTABOP_get_version, &gv, 1) &&
	    gv.version == 2)
		per_frame = XEN_PAGE_SIZE / sizeof(union grant_entry_v2);
	entries = gnttab_max_grant_frames() * per_frame;
	return entries > GNTTAB_NR_RESERVED_ENTRIES ?
	       entries - GNTTAB_NR_RESERVED_ENTRIES : 0;
}

int gntalloc_quota_init(void)
{
	unsigned long entries = gntalloc_grant_table_entries();

	gntalloc_domain_used = kvcalloc(DOMID_FIRST_RESERVED,
					sizeof(*gntalloc_domain_used),
					GFP_KERNEL);
	if (!gntalloc_domain_used)
		return -ENOMEM;
	atomic_long_set(&gntalloc_stats.grant_table_size, entries);
	gntalloc_grant_reserve = entries / 8;
	return 0;
}

void gntalloc_quota_exit(void)
{
	xa_destroy(&gntalloc_domain_limits);
	kvfree(gntalloc_domain_used);
}
