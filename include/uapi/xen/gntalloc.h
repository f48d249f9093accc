/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * gntalloc.h - share pages of this domain with another Xen domain
 *
 * /dev/xen/gntalloc hands out grant references: a process allocates pages
 * with IOCTL_GNTALLOC_ALLOC_GREF, a peer domain maps them by their grant
 * reference ids, and the process reaches the same pages through mmap() of
 * the device at the returned index.  The ABI below is byte-identical to the
 * one of the upstream Linux driver; libxengnttab (xengntshr_*) depends on it.
 *
 * Documentation/userspace-api/gntalloc.rst describes every ioctl, every
 * error and the life cycle of a grant in full.
 */

#ifndef __LINUX_PUBLIC_GNTALLOC_H__
#define __LINUX_PUBLIC_GNTALLOC_H__

#include <linux/types.h>

#ifndef __DECLARE_FLEX_ARRAY
#define __DECLARE_FLEX_ARRAY(TYPE, NAME)	\
	struct {				\
		struct { } __empty_ ## NAME;	\
		TYPE NAME[];			\
	}
#endif

/*
 * IOCTL_GNTALLOC_ALLOC_GREF - allocate @count zeroed pages and grant them
 *
 * The caller allocates sizeof(struct) + (count - 1) * sizeof(__u32) bytes,
 * so that gref_ids has room for @count entries.
 *
 * Returns 0, or -1 with errno:
 *   EFAULT  the argument or the gref_ids array is not accessible
 *           (nothing is allocated);
 *   EINVAL  @count is 0, @flags has unknown bits, or @domid is reserved;
 *   ENOSPC  the global limit, the peer domain's quota or this file's limit
 *           would be exceeded, the grant entries left would fall below the
 *           reserve kept for kernel drivers, or Xen's grant table is full
 *           (sysfs counts each cause apart, see GNTALLOC_SYSFS_FILES);
 *   ENOMEM  out of memory.
 */
#define IOCTL_GNTALLOC_ALLOC_GREF \
_IOC(_IOC_NONE, 'G', 5, sizeof(struct ioctl_gntalloc_alloc_gref))
struct ioctl_gntalloc_alloc_gref {
	/* IN: the domain that may map the pages */
	__u16 domid;
	/* IN: GNTALLOC_FLAG_* */
	__u16 flags;
	/* IN: number of pages, at least 1 */
	__u32 count;
	/* OUT: byte offset of the first page, for mmap() and the other ioctls */
	__u64 index;
	/* OUT: the grant reference ids, @count entries */
	union {
		__u32 gref_ids[1];
		__DECLARE_FLEX_ARRAY(__u32, gref_ids_flex);
	};
};

/* The peer may write the pages; without it the peer may only read them. */
#define GNTALLOC_FLAG_WRITABLE 1

/*
 * IOCTL_GNTALLOC_DEALLOC_GREF - give up @count pages starting at @index
 *
 * The grants are released when no process maps them any more; a grant that
 * the peer still maps is kept (and counted) until the peer unmaps it.
 *
 * Returns 0, or -1 with errno:
 *   EFAULT  the argument is not accessible;
 *   EINVAL  @index is not page aligned, @count is 0, or the range overflows;
 *   ENOENT  a page of the range is not allocated in this file, or was
 *           already deallocated (nothing is changed).
 */
#define IOCTL_GNTALLOC_DEALLOC_GREF \
_IOC(_IOC_NONE, 'G', 6, sizeof(struct ioctl_gntalloc_dealloc_gref))
struct ioctl_gntalloc_dealloc_gref {
	/* IN: byte offset of the first page, as returned by ALLOC */
	__u64 index;
	/* IN: number of pages, at least 1 */
	__u32 count;
};

/*
 * IOCTL_GNTALLOC_SET_UNMAP_NOTIFY - tell the peer when a page is released
 *
 * When the page at @index is finally released (deallocated and unmapped by
 * every process, also when the process exits), the driver clears the byte at
 * @index (UNMAP_NOTIFY_CLEAR_BYTE) and/or signals @event_channel_port
 * (UNMAP_NOTIFY_SEND_EVENT).  One notification per page: a new call replaces
 * the previous one; @action 0 removes it.
 *
 * Returns 0, or -1 with errno:
 *   EFAULT  the argument is not accessible;
 *   EINVAL  @action has unknown bits, or @event_channel_port is not an event
 *           channel bound by a user process of this domain;
 *   ENOENT  the page is not allocated in this file, or was deallocated.
 */
#define IOCTL_GNTALLOC_SET_UNMAP_NOTIFY \
_IOC(_IOC_NONE, 'G', 7, sizeof(struct ioctl_gntalloc_unmap_notify))
struct ioctl_gntalloc_unmap_notify {
	/* IN: byte offset of the page (high bits) and of the byte to clear */
	__u64 index;
	/* IN: UNMAP_NOTIFY_* */
	__u32 action;
	/* IN: event channel to signal, for UNMAP_NOTIFY_SEND_EVENT */
	__u32 event_channel_port;
};

/* Clear the byte at index (so the peer sees 0 there) */
#define UNMAP_NOTIFY_CLEAR_BYTE 0x1
/* Send an interrupt on the event channel */
#define UNMAP_NOTIFY_SEND_EVENT 0x2

/*
 * GNTALLOC_SYSFS_FILES - the files of /sys/class/gntalloc/gntalloc/
 *
 * A brace-enclosed list of GNTALLOC_SYSFS_FILE(name, mode), one per file, in
 * the order tools show them: the tunables (limit to quarantine_ms) and the
 * grant table's size, the gauges (in_use to peak), then the totals, which
 * only grow.  @mode is RW for the files that take a write (the tunables;
 * peak, reset by writing 0), RO for the others.  Each file holds one decimal
 * number and a newline (Documentation/ABI/testing/sysfs-class-gntalloc).
 * The driver makes its attributes from this list, so these are the names in
 * sysfs.  Define GNTALLOC_SYSFS_FILE before use: as "#name," the list
 * initialises an array of names; as "__u64 name;" it is the body of a struct
 * with one field per file.
 *
 * Every ALLOC refused or failed for want of a resource counts in exactly
 * one of the cause totals limit_hits to nomem_failures; alloc_failures is,
 * as before them, the sum of table_full_failures and nomem_failures.  /sys/class/gntalloc/gntalloc/
 * domain_limits (the per-domain overrides, a table) is not in this list.
 */
#define GNTALLOC_SYSFS_FILES {						\
	GNTALLOC_SYSFS_FILE(limit, RW)					\
	GNTALLOC_SYSFS_FILE(domain_limit, RW)				\
	GNTALLOC_SYSFS_FILE(file_limit, RW)				\
	GNTALLOC_SYSFS_FILE(grant_reserve, RW)				\
	GNTALLOC_SYSFS_FILE(quarantine_ms, RW)				\
	GNTALLOC_SYSFS_FILE(grant_table_size, RO)			\
	GNTALLOC_SYSFS_FILE(in_use, RO)					\
	GNTALLOC_SYSFS_FILE(pending, RO)				\
	GNTALLOC_SYSFS_FILE(quarantined, RO)				\
	GNTALLOC_SYSFS_FILE(mapped, RO)					\
	GNTALLOC_SYSFS_FILE(open_files, RO)				\
	GNTALLOC_SYSFS_FILE(peak, RW)					\
	GNTALLOC_SYSFS_FILE(allocated_total, RO)			\
	GNTALLOC_SYSFS_FILE(freed_total, RO)				\
	GNTALLOC_SYSFS_FILE(limit_hits, RO)				\
	GNTALLOC_SYSFS_FILE(domain_limit_hits, RO)			\
	GNTALLOC_SYSFS_FILE(file_limit_hits, RO)			\
	GNTALLOC_SYSFS_FILE(reserve_hits, RO)				\
	GNTALLOC_SYSFS_FILE(table_full_failures, RO)			\
	GNTALLOC_SYSFS_FILE(nomem_failures, RO)				\
	GNTALLOC_SYSFS_FILE(alloc_failures, RO)				\
	GNTALLOC_SYSFS_FILE(quarantine_shortened, RO)			\
}

#endif /* __LINUX_PUBLIC_GNTALLOC_H__ */
