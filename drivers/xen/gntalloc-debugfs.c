// SPDX-License-Identifier: GPL-2.0
/*
 * Who holds grants: debugfs files for operators.
 *
 *   <debugfs>/gntalloc/files    one line per open file of the device
 *   <debugfs>/gntalloc/domains  one line per peer domain with grants, or
 *                               with a quota of its own (domain_limits)
 *
 * files is computed when read, by walking every grant: reading costs
 * O(grants) but nothing is kept up to date on the hot paths for it.
 * domains shows the per-domain charge the quota is checked against
 * (gntalloc-quota.c) beside the pending grants, counted by a walk of the
 * pending list.
 * The formats are described in Documentation/admin-guide/xen-gntalloc.rst.
 */

#include "gntalloc-common.h"

#include <linux/bsearch.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <xen/interface/xen.h>

static struct dentry *gntalloc_debugfs_dir;

/* Pending grants of each open file, by file id (sorted), for files_show */
struct gntalloc_file_pending {
	u32 id;
	unsigned long pending;
};

struct gntalloc_files_pending {
	struct gntalloc_file_pending *files;
	size_t count;
};

static int gntalloc_file_pending_cmp(const void *a, const void *b)
{
	u32 x = ((const struct gntalloc_file_pending *)a)->id;
	u32 y = ((const struct gntalloc_file_pending *)b)->id;

	return x < y ? -1 : x > y;
}

static struct gntalloc_file_pending *
gntalloc_file_pending_find(const struct gntalloc_files_pending *fp, u32 id)
{
	struct gntalloc_file_pending key = { .id = id };

	return bsearch(&key, fp->files, fp->count, sizeof(key),
		       gntalloc_file_pending_cmp);
}

static void gntalloc_count_file_pending(const struct gntalloc_grant *grant,
					void *arg)
{
	struct gntalloc_file_pending *hit;

	hit = gntalloc_file_pending_find(arg, grant->file_id);
	if (hit)
		hit->pending++;
}

/*
 * One walk of the pending list for all files, O(pending * log(files)),
 * instead of one per file; files opened since count none.
 */
static int gntalloc_files_pending(struct gntalloc_files_pending *fp)
{
	struct gntalloc_file *file;
	size_t count = 0;

	mutex_lock(&gntalloc_files_lock);
	list_for_each_entry(file, &gntalloc_files, node)
		count++;
	fp->files = kvcalloc(count, sizeof(*fp->files), GFP_KERNEL);
	if (!fp->files) {
		mutex_unlock(&gntalloc_files_lock);
		return -ENOMEM;
	}
	fp->count = 0;
	list_for_each_entry(file, &gntalloc_files, node)
		fp->files[fp->count++].id = file->id;
	mutex_unlock(&gntalloc_files_lock);

	sort(fp->files, fp->count, sizeof(*fp->files),
	     gntalloc_file_pending_cmp, NULL);
	if (atomic_long_read(&gntalloc_stats.pending))
		gntalloc_pending_for_each(gntalloc_count_file_pending, fp);
	return 0;
}

static int gntalloc_files_show(struct seq_file *m, void *v)
{
	struct gntalloc_files_pending fp;
	struct gntalloc_file_pending *hit;
	struct gntalloc_file *file;
	struct gntalloc_grant *grant;
	unsigned long index, held, mapped;
	int err;

	err = gntalloc_files_pending(&fp);
	if (err)
		return err;

	seq_puts(m, "# pid held mapped pending comm\n");

	mutex_lock(&gntalloc_files_lock);
	list_for_each_entry(file, &gntalloc_files, node) {
		held = 0;
		mapped = 0;
		mutex_lock(&file->lock);
		xa_for_each(&file->grants, index, grant) {
			held += !!(grant->flags & GNTALLOC_GRANT_OWNED);
			mapped += !!(grant->flags & GNTALLOC_GRANT_MAPPED);
		}
		mutex_unlock(&file->lock);

		hit = gntalloc_file_pending_find(&fp, file->id);
		seq_printf(m, "%d %lu %lu %lu %s\n", file->pid, held, mapped,
			   hit ? hit->pending : 0, file->comm);
		cond_resched();
	}
	mutex_unlock(&gntalloc_files_lock);
	kvfree(fp.files);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gntalloc_files);

static void gntalloc_count_domain_pending(const struct gntalloc_grant *grant,
					  void *arg)
{
	unsigned int *pending = arg;

	pending[grant->domid]++;
}

/*
 * "grants" is what the domain's quota is checked against: its grants in
 * files and pending, and those an ALLOC in progress has charged.  "limit"
 * is its quota (4294967295: none).
 */
static int gntalloc_domains_show(struct seq_file *m, void *v)
{
	unsigned int *pending, domid, grants, limit;

	pending = kvcalloc(DOMID_FIRST_RESERVED, sizeof(*pending), GFP_KERNEL);
	if (!pending)
		return -ENOMEM;
	if (atomic_long_read(&gntalloc_stats.pending))
		gntalloc_pending_for_each(gntalloc_count_domain_pending,
					  pending);

	seq_puts(m, "# domid grants pending quota\n");
	for (domid = 0; domid < DOMID_FIRST_RESERVED; domid++) {
		grants = gntalloc_quota_domain_used(domid);
		limit = gntalloc_quota_domain_limit(domid);
		if (grants || limit != READ_ONCE(gntalloc_domain_limit))
			seq_printf(m, "%u %u %u %u\n", domid, grants,
				   pending[domid], limit);
	}

	kvfree(pending);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gntalloc_domains);

void gntalloc_debugfs_init(void)
{
	gntalloc_debugfs_dir = debugfs_create_dir("gntalloc", NULL);
	debugfs_create_file("files", 0400, gntalloc_debugfs_dir, NULL,
			    &gntalloc_files_fops);
	debugfs_create_file("domains", 0400, gntalloc_debugfs_dir, NULL,
			    &gntalloc_domains_fops);
}

void gntalloc_debugfs_exit(void)
{
	debugfs_remove_recursive(gntalloc_debugfs_dir);
}
