/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the parts of xen-gntalloc.  The design is
 * described at the top of gntalloc-main.c.
 */

#ifndef _GNTALLOC_COMMON_H
#define _GNTALLOC_COMMON_H

/*
 * Every message of the driver is prefixed "xen:xen_gntalloc: ".  This must
 * come before <linux/printk.h>: each file includes this header first.
 */
#define pr_fmt(fmt) "xen:" KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <xen/grant_table.h>
#include <xen/interface/event_channel.h>

struct attribute_group;

#ifndef GNTALLOC_HAVE_KZALLOC_OBJ
/*
 * kzalloc_obj() (7.x) allocates a zeroed object of its argument's type;
 * kernels before it get this equivalent (GNTALLOC_HAVE_KZALLOC_OBJ is a
 * compile-time probe: drivers/xen/Makefile).
 */
#define kzalloc_obj(obj, gfp)	kzalloc(sizeof(obj), gfp)
#endif

/* Long loops yield this often: per item costs as much as the item itself */
#define GNTALLOC_RESCHED_BATCH	64

/* struct gntalloc_grant.flags */
#define GNTALLOC_GRANT_OWNED	0x1	/* not yet deallocated by its file */
#define GNTALLOC_GRANT_MAPPED	0x2	/* inserted into a user mapping */

/*
 * One granted page.
 *
 * While its file holds it (until DEALLOC/close and the last munmap), it sits
 * in the file's xarray at its page offset and everything but @node is
 * covered by the file's lock.  Once released it belongs to whoever released
 * it: it is freed at once, or, if the peer still maps it, it moves to the
 * global pending list (gntalloc-grant.c) until the peer lets go.  When the
 * peer's access has ended and quarantine is on, the page is freed and the
 * grant waits on its batch's list until the batch's references are taken
 * back (gntalloc-quarantine.c); then the first grant of those up to
 * GNTALLOC_QUARANTINE_BATCH becomes the batch's quarantine record and the
 * others are freed.  A record holds the references as the grant table gave
 * them back: a private chain from @chain, linked by the grant table itself
 * up to GNTTAB_LIST_END, of @chain_count references (in place of @gref and
 * @notify_port), and the time they were taken back (in place of @page);
 * the rest of it is stale.
 *
 * Kept at 40 bytes on purpose: it is the driver's whole cost per grant
 * beyond the page itself (the xarray slot adds about 9 bytes).
 */
struct gntalloc_grant {
	struct list_head node;		/* on a batch, pending or quarantine list */
	union {
		struct page *page;
		unsigned long released;	/* jiffies, of a quarantine record */
	};
	union {
		struct {			/* a grant */
			grant_ref_t gref;
			evtchn_port_t notify_port; /* ..._SEND_EVENT */
		};
		struct {			/* a quarantine record */
			grant_ref_t chain;	/* first held reference */
			unsigned int chain_count;
		};
	};
	u32 file_id;			/* gntalloc_file.id of its file */
	u32 domid : 16;			/* the peer, a domid_t */
	u32 notify_offset : PAGE_SHIFT;	/* byte to clear, with ..._CLEAR_BYTE */
	u32 notify_action : 2;		/* UNMAP_NOTIFY_* */
	u32 flags : 2;			/* GNTALLOC_GRANT_* */
};

/*
 * One open file of the device.  Indexes (page offsets of the file's mmap
 * space) are handed out in increasing order and never reused, so a stale
 * index can never name somebody else's grant.
 */
struct gntalloc_file {
	struct mutex lock;		/* covers grants and what is in them */
	struct xarray grants;		/* page offset -> struct gntalloc_grant */
	atomic_long_t next_pgoff;	/* first page offset of the next ALLOC */
	struct list_head node;		/* on gntalloc_files */
	atomic_long_t charged;		/* grants held, against file_limit */
	u32 id;				/* tells its pending grants apart */
	pid_t pid;			/* of the opener, for debugfs */
	char comm[TASK_COMM_LEN];
};

/* Grant references taken from the grant table, not yet used (gntalloc-grant.c) */
struct gntalloc_refs {
	grant_ref_t head;		/* gnttab_alloc_grant_references() list */
	unsigned int left;		/* how many are on it */
};

/*
 * Global counters, read through sysfs.  Plain atomics: no operation takes a
 * global lock to update them, so unrelated files never serialise.
 */
struct gntalloc_stats {
	atomic_long_t grant_table_size;	/* entries of the table, a constant */
	atomic_long_t in_use;		/* pages counted against the limit */
	atomic_long_t pending;		/* released, still mapped by the peer */
	atomic_long_t quarantined;	/* references held back from reuse */
	atomic_long_t mapped;		/* pages in at least one user mapping */
	atomic_long_t open_files;
	atomic_long_t peak;		/* high-water mark of in_use */
	atomic_long_t allocated_total;
	atomic_long_t freed_total;
	/* ALLOCs refused or failed, one total per cause (gntalloc-quota.c) */
	atomic_long_t limit_hits;
	atomic_long_t domain_limit_hits;
	atomic_long_t file_limit_hits;
	atomic_long_t reserve_hits;
	atomic_long_t table_full_failures;
	atomic_long_t nomem_failures;
	atomic_long_t alloc_failures;	/* table_full + nomem, as before */
	atomic_long_t quarantine_shortened; /* refs given back early */
	/* Not in sysfs: grant entries held, in_use + quarantined */
	atomic_long_t entries;
};

extern struct gntalloc_stats gntalloc_stats;
/* The tunables (gntalloc-sysfs.c); read with READ_ONCE() */
extern unsigned int gntalloc_limit;
extern unsigned int gntalloc_domain_limit;
extern unsigned int gntalloc_file_limit;
extern unsigned int gntalloc_grant_reserve;
extern unsigned int gntalloc_quarantine_ms;

/* Why an ALLOC was refused or failed: each has its counter and its name */
enum gntalloc_cause {
	GNTALLOC_CAUSE_LIMIT,		/* the global limit */
	GNTALLOC_CAUSE_DOMAIN,		/* the peer domain's quota */
	GNTALLOC_CAUSE_FILE,		/* the file's limit */
	GNTALLOC_CAUSE_RESERVE,		/* the entries kept for kernel drivers */
	GNTALLOC_CAUSE_TABLE_FULL,	/* Xen's grant table has no entry left */
	GNTALLOC_CAUSE_NOMEM,		/* out of memory */
};

/* gntalloc-quota.c: who may hold how many grants */
int gntalloc_quota_init(void);
void gntalloc_quota_exit(void);
int gntalloc_quota_charge(struct gntalloc_file *file, domid_t domid,
			  unsigned int count, enum gntalloc_cause *cause);
void gntalloc_quota_uncharge(struct gntalloc_file *file, domid_t domid,
			     unsigned int count);
void gntalloc_quota_domain_put(domid_t domid, unsigned int count);
void gntalloc_quota_fail(enum gntalloc_cause cause, domid_t domid,
			 unsigned int count);
unsigned int gntalloc_quota_domain_used(domid_t domid);
unsigned int gntalloc_quota_domain_limit(domid_t domid);
int gntalloc_quota_set_domain_limit(domid_t domid, bool set,
				    unsigned int limit);
int gntalloc_quota_show_domain_limits(char *buf);
int gntalloc_quota_set_grant_reserve(unsigned int reserve);

/*
 * gntalloc-quarantine.c: references held back from reuse for a while.
 * What a batch of releases ended, accounted at once by
 * gntalloc_ended_flush(): on the caller's stack.
 */
struct gntalloc_ended {
	struct list_head ending;	/* ended, reference still to take back */
	unsigned int ending_count;
	struct list_head held;		/* quarantine records, one a retake */
	unsigned long held_count;	/* references on their chains */
	unsigned long entries;		/* given back to the grant table */
	unsigned long shortened;	/* quarantine_shortened */
	domid_t domid;			/* the run of one domain's pages */
	unsigned int domain_count;
};

/*
 * Ended references taken back at once, at most: the window where they sit
 * on the grant table's free list grows with it, the cost of the retake per
 * page shrinks with it (gntalloc-quarantine.c).
 */
#define GNTALLOC_QUARANTINE_BATCH	16

void gntalloc_ended_init(struct gntalloc_ended *ended);
void gntalloc_ended_flush(struct gntalloc_ended *ended);
void gntalloc_quarantine_retake(struct gntalloc_ended *ended);
unsigned long gntalloc_quarantine_shorten(unsigned long count);
bool gntalloc_quarantine_reuse(unsigned int wanted, struct gntalloc_refs *refs);
void gntalloc_quarantine_kick(void);
void gntalloc_quarantine_exit(void);

/* gntalloc-grant.c: the life of a grant, from allocation to reclaim */
extern struct kmem_cache *gntalloc_grant_cache;
int gntalloc_grants_charge(struct gntalloc_file *file, domid_t domid,
			   unsigned int count);
void gntalloc_grants_uncharge(struct gntalloc_file *file, domid_t domid,
			      unsigned int count);
struct gntalloc_grant *gntalloc_grant_new(domid_t domid, bool readonly,
					  struct gntalloc_refs *refs,
					  unsigned int wanted);
void gntalloc_refs_put(struct gntalloc_refs *refs);
void gntalloc_grants_commit(unsigned int count);
void gntalloc_grants_abort(struct gntalloc_file *file,
			   struct list_head *grants);
void gntalloc_grants_release(struct gntalloc_file *file,
			     struct list_head *grants);
void gntalloc_pending_for_each(void (*fn)(const struct gntalloc_grant *grant,
					  void *arg), void *arg);
int gntalloc_grants_init(void);
void gntalloc_grants_exit(void);

/*
 * gntalloc-quarantine.c, the part that runs once per page of a release.
 * @domid has one page fewer: counted in runs of one domain.
 */
static inline void gntalloc_ended_domain(struct gntalloc_ended *ended,
					 domid_t domid)
{
	if (ended->domain_count && ended->domid != domid) {
		gntalloc_quota_domain_put(ended->domid, ended->domain_count);
		ended->domain_count = 0;
	}
	ended->domid = domid;
	ended->domain_count++;
}

/**
 * gntalloc_quarantine_end_access() - end the peer's access to @grant
 * @grant: a released grant, on no list
 * @ended: the batch it ends in, accounted by gntalloc_ended_flush()
 *
 * If the peer no longer maps the page, the page is freed and the grant is
 * freed too, or, with quarantine on, both wait in @ended until the batch's
 * references are taken back (at the latest by the flush): then the page is
 * freed, and the grant too unless it becomes the record of the references
 * held.  The grant is no longer counted in_use by the caller either way;
 * its entry still is while quarantined, and its domain is charged until
 * the flush.  Inline: it runs once per page of every release.
 *
 * Return: false, with nothing done, while the peer still maps the page.
 */
static inline bool
gntalloc_quarantine_end_access(struct gntalloc_grant *grant,
			       struct gntalloc_ended *ended)
{
	if (!gnttab_try_end_foreign_access(grant->gref))
		return false;
	gntalloc_ended_domain(ended, grant->domid);
	if (!READ_ONCE(gntalloc_quarantine_ms)) {
		__free_page(grant->page);
		kmem_cache_free(gntalloc_grant_cache, grant);
		ended->entries++;
		return true;
	}
	/* Last ended first, the order of the free list's head */
	list_add(&grant->node, &ended->ending);
	if (++ended->ending_count == GNTALLOC_QUARANTINE_BATCH)
		gntalloc_quarantine_retake(ended);
	return true;
}

/* gntalloc-file.c: open files and their ioctls */
extern const struct file_operations gntalloc_fops;
extern struct list_head gntalloc_files;
extern struct mutex gntalloc_files_lock;
bool gntalloc_file_owns_range(struct gntalloc_file *file, unsigned long pgoff,
			      unsigned long count);

/* gntalloc-mmap.c: user mappings of the grants */
int gntalloc_mmap(struct file *filp, struct vm_area_struct *vma);

/* gntalloc-sysfs.c: the limit and the counters */
extern const struct attribute_group *gntalloc_groups[];
void gntalloc_sysfs_init(void);

/* gntalloc-debugfs.c: who holds grants */
void gntalloc_debugfs_init(void);
void gntalloc_debugfs_exit(void);

#endif /* _GNTALLOC_COMMON_H */
