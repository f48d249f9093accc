// SPDX-License-Identifier: GPL-2.0
/*
 * Who holds grants: debugfs files for operators.
 *
 *   <debugfs>/gntalloc/files    one line per open file of the device
 *   <debugfs>/gntalloc/domains  one line per peer domain with grants
 *
 * Both are computed when read, by walking every grant: reading costs
 * O(grants) but nothing is kept up to date on the hot paths for them.
 * The formats are described in Documentation/admin-guide/xen-gntalloc.rst.
 */

#include "gntalloc-common.h"

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <xen/interface/xen.h>

static struct dentry *gntalloc_debugfs_dir;

static int gntalloc_files_show(struct seq_file *m, void *v)
{
	struct gntalloc_file *file;
	struct gntalloc_grant *grant;
	unsigned long index, held, mapped, pending;

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

		pending = 0;
		if (atomic_long_read(&gntalloc_stats.pending))
			pending = gntalloc_pending_of_file(file->id);

		seq_printf(m, "%d %lu %lu %lu %s\n", file->pid, held, mapped,
			   pending, file->comm);
	}
	mutex_unlock(&gntalloc_files_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gntalloc_files);

static int gntalloc_domains_show(struct seq_file *m, void *v)
{
	struct gntalloc_domain_count *counts;
	struct gntalloc_file *file;
	struct gntalloc_grant *grant;
	unsigned long index;
	unsigned int domid;

	counts = kvcalloc(DOMID_FIRST_RESERVED, sizeof(*counts), GFP_KERNEL);
	if (!counts)
		return -ENOMEM;

	mutex_lock(&gntalloc_files_lock);
	list_for_each_entry(file, &gntalloc_files, node) {
		mutex_lock(&file->lock);
		xa_for_each(&file->grants, index, grant)
			counts[grant->domid].grants++;
		mutex_unlock(&file->lock);
	}
	mutex_unlock(&gntalloc_files_lock);
	gntalloc_pending_by_domain(counts);

	seq_puts(m, "# domid grants pending\n");
	for (domid = 0; domid < DOMID_FIRST_RESERVED; domid++)
		if (counts[domid].grants)
			seq_printf(m, "%u %u %u\n", domid, counts[domid].grants,
				   counts[domid].pending);

	kvfree(counts);
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
