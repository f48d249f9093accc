// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc: share pages of this domain with other Xen domains.
 *
 * What it is for
 * --------------
 * A process in domain X wants to give domain Y some memory to share: a ring
 * for a vchan, a pixmap for a GUI.  It opens /dev/xen/gntalloc, asks for N
 * pages with IOCTL_GNTALLOC_ALLOC_GREF naming domain Y, and gets back N
 * grant references and an index.  It sends the references to Y (over
 * xenstore, say), Y maps them through its own gntdev, and X maps the same
 * pages by mmap() of the device at the index.  libxengnttab's xengntshr_*
 * functions and libxenvchan are the usual clients.
 *
 * How a grant travels
 * -------------------
 *  ALLOC:   a zeroed page is allocated (charged to the caller's memory
 *           cgroup) and granted to the peer; it is now "owned" by the file
 *           and counted against four budgets: the file's, the peer
 *           domain's quota, the global limit and the grant entries left
 *           after the reserve kept for kernel drivers.
 *  mmap:    the page is inserted into the caller's address space.
 *  DEALLOC: the file gives the page up (close() does so for all of them).
 *  release: once a page is deallocated AND unmapped by every process (fork
 *           shares mappings), its unmap notification fires (clear a byte
 *           the peer watches, signal an event channel), and the peer's
 *           access is ended.  If the peer still maps the page, it cannot
 *           be freed: it stays "pending", still counted against the limit
 *           and its domain's quota, until a background retry finds the peer
 *           has let go.
 *  end:     the page is freed; its grant reference is held back from
 *           reuse for quarantine_ms, then given back to the grant table.
 *
 * The reclaim guarantee: a pending page comes back within about a second
 * of its peer's unmap, with no further ioctl.  While anything is pending the
 * retry is always due within GNTALLOC_RECLAIM_MAX_DELAY (one second), and
 * nothing postpones it: new pending pages only bring it forward, and the
 * walkers of the pending list (the retry, an ALLOC at the limit, debugfs)
 * take turns under one mutex, so none of them ever sees the list empty
 * because another has it in hand.  Measured under QEMU TCG: 0.59 s for
 * 1024 pages after 3 s of ALLOCs retried at the limit (gntalloc-grant.c).
 *
 * Structure
 * ---------
 *  gntalloc-main.c   this: the character device, its class, init and exit
 *  gntalloc-file.c   each open file and its ioctls
 *  gntalloc-mmap.c   user mappings and when a page stops being mapped
 *  gntalloc-grant.c  allocation, release, reclaim
 *  gntalloc-quota.c  the budgets: per domain, per file, the limit, the
 *                    grant-table reserve; why an ALLOC was refused
 *  gntalloc-quarantine.c  references held back from reuse
 *  gntalloc-sysfs.c  the limit and the live counters
 *  gntalloc-debugfs.c  who holds grants: per file and per peer domain
 *  gntalloc_trace.h  tracepoints of the "gntalloc" trace system
 * Each open file keeps its grants in an xarray indexed by page offset, so
 * every operation costs O(log n) in the grants of that file and nothing in
 * the grants of others; the only global state is atomic counters (per
 * domain, a flat array), the list of pending pages and the quarantine.
 *
 * Beware
 * ------
 * The peer decides when pending pages come back: a peer that never unmaps
 * pins them.  That is why they keep counting against the limit, and against
 * the peer's own quota (domain_limit), which is what keeps one such peer
 * from starving the others once an operator sets it.  The device is
 * root-only by default; giving it to a group lets that group pin up to the
 * limit in pages (file_limit bounds one open file).  Userspace can take the
 * grant table's entries only down to grant_reserve: blkfront and netfront
 * must not fail because a GUI filled the table.
 */

#include "gntalloc-common.h"

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/xen.h>

#define CREATE_TRACE_POINTS
#include "gntalloc_trace.h"

struct gntalloc_device {
	struct device dev;
	struct cdev cdev;
};

static dev_t gntalloc_devt;
static struct gntalloc_device *gntalloc_device;

static char *gntalloc_devnode(GNTALLOC_DEVNODE_CONST struct device *dev,
			      umode_t *mode)
{
	if (mode)
		*mode = 0600;
	return kasprintf(GFP_KERNEL, "xen/%s", dev_name(dev));
}

/* Not const: class_register() takes a mutable class on 6.1. */
static struct class gntalloc_class = {
	.name		= "gntalloc",
	.devnode	= gntalloc_devnode,
	.dev_groups	= gntalloc_groups,
};

static void gntalloc_device_release(struct device *dev)
{
	kfree(container_of(dev, struct gntalloc_device, dev));
}

static int gntalloc_device_create(void)
{
	struct gntalloc_device *gdev;
	int err;

	gdev = kzalloc_obj(*gdev, GFP_KERNEL);
	if (!gdev)
		return -ENOMEM;

	device_initialize(&gdev->dev);
	gdev->dev.devt = gntalloc_devt;
	gdev->dev.class = &gntalloc_class;
	gdev->dev.release = gntalloc_device_release;
	cdev_init(&gdev->cdev, &gntalloc_fops);
	gdev->cdev.owner = THIS_MODULE;

	err = dev_set_name(&gdev->dev, "gntalloc");
	if (err)
		goto err_put_device;
	err = cdev_device_add(&gdev->cdev, &gdev->dev);
	if (err)
		goto err_put_device;

	gntalloc_device = gdev;
	return 0;

err_put_device:
	put_device(&gdev->dev);
	return err;
}

static void gntalloc_device_destroy(void)
{
	cdev_device_del(&gntalloc_device->cdev, &gntalloc_device->dev);
	put_device(&gntalloc_device->dev);
}

static int __init gntalloc_init(void)
{
	int err;

	if (!xen_domain()) {
		pr_err("not running in a Xen domain\n");
		return -ENODEV;
	}

	err = gntalloc_quota_init();
	if (err)
		return err;
	err = gntalloc_grants_init();
	if (err)
		goto err_quota_exit;
	err = alloc_chrdev_region(&gntalloc_devt, 0, 1, "gntalloc");
	if (err)
		goto err_grants_exit;
	gntalloc_sysfs_init();		/* the class's attributes; nothing to undo */
	err = class_register(&gntalloc_class);
	if (err)
		goto err_unregister_region;
	err = gntalloc_device_create();
	if (err)
		goto err_unregister_class;
	gntalloc_debugfs_init();	/* optional: failures only lose debugfs */
	return 0;

err_unregister_class:
	class_unregister(&gntalloc_class);
err_unregister_region:
	unregister_chrdev_region(gntalloc_devt, 1);
err_grants_exit:
	gntalloc_grants_exit();
err_quota_exit:
	gntalloc_quota_exit();
	return err;
}

static void __exit gntalloc_exit(void)
{
	gntalloc_debugfs_exit();
	gntalloc_device_destroy();
	class_unregister(&gntalloc_class);
	unregister_chrdev_region(gntalloc_devt, 1);
	gntalloc_grants_exit();
	gntalloc_quota_exit();
}

module_init(gntalloc_init);
module_exit(gntalloc_exit);

MODULE_DESCRIPTION("Xen grant reference allocator: share pages with other domains");
MODULE_LICENSE("GPL");
