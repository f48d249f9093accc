// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's oracle: the outcomes the documentation allows for each call
 * (see gntalloc_fuzz_oracle.h for what is predicted and what is not).
 */

#include <linux/fiemap.h>
#include <linux/fs.h>

#include "gntalloc_fuzz_oracle.h"

static size_t ps(void)
{
	return page_size();
}

void may_fail(struct outcome *o, int err)
{
	int i;

	for (i = 0; i < o->nr_errs; i++)
		if (o->errs[i] == err)
			return;
	if (o->nr_errs < MAX_ERRNOS)
		o->errs[o->nr_errs++] = err;
}

void tolerate(struct outcome *o, int err)
{
	if (o->nr_tolerated < (int)ARRAY_SIZE(o->tolerated))
		o->tolerated[o->nr_tolerated++] = err;
}

bool outcome_allows(const struct outcome *o, bool ok, int err)
{
	int i;

	if (ok)
		return !o->nr_errs && !o->mm_refuses;
	if (o->mm_refuses || o->mm_may_refuse)
		return true;
	for (i = 0; i < o->nr_errs; i++)
		if (o->errs[i] == err)
			return true;
	for (i = 0; i < o->nr_tolerated; i++)
		if (o->tolerated[i] == err)
			return true;
	return false;
}

void outcome_str(const struct outcome *o, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	if (o->mm_refuses)
		len += snprintf(buf, size, "a failure (the mm core's)");
	else if (!o->nr_errs)
		len += snprintf(buf, size, "success");
	for (i = 0; i < o->nr_errs && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i || o->mm_refuses ? "|" : "",
				strerrorname_np(o->errs[i]));
	for (i = 0; i < o->nr_tolerated && len < size; i++)
		len += snprintf(buf + len, size - len, " (or %s)",
				strerrorname_np(o->tolerated[i]));
	if (o->mm_may_refuse && len < size)
		snprintf(buf + len, size - len, " (or any error of the mm core)");
}

/* ---------------------------------------------------------------------- */
/* The three ioctls                                                         */
/* ---------------------------------------------------------------------- */

void oracle_alloc(const struct fz_model *m, const uint8_t *p, struct outcome *o,
		  struct ioctl_gntalloc_alloc_gref *seen)
{
	const size_t hdr = offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids);

	if (!fz_peek(m, seen, p, hdr)) {
		may_fail(o, EFAULT);
		return;
	}
	if (!seen->count || seen->flags & ~GNTALLOC_FLAG_WRITABLE ||
	    seen->domid >= FIRST_RESERVED_DOMID)
		may_fail(o, EINVAL);
	if (seen->count > fz_room(m))
		may_fail(o, ENOSPC);
	if (!fz_range_ok(m, (uintptr_t)p + 8, 8, true) ||
	    !fz_range_ok(m, (uintptr_t)p + hdr, (__u64)seen->count * 4, true))
		may_fail(o, EFAULT);
	tolerate(o, ENOMEM);
}

void oracle_dealloc(const struct fz_model *m, int f, const uint8_t *p, struct outcome *o,
		    struct ioctl_gntalloc_dealloc_gref *seen)
{
	if (!fz_peek(m, seen, p, sizeof(*seen)))
		may_fail(o, EFAULT);
	else if (!seen->count || seen->index % ps() ||
		 (__uint128_t)seen->index +
		 ((__uint128_t)seen->count << 12) > UINT64_MAX)
		may_fail(o, EINVAL);
	else if (!fz_owns_range(m, f, seen->index / ps(), seen->count))
		may_fail(o, ENOENT);
}

/* @ports: the two ends of our event channel pair, the only user-bound ports here. */
void oracle_notify(const struct fz_model *m, int f, const uint8_t *p,
		   const uint32_t ports[2], struct outcome *o,
		   struct ioctl_gntalloc_unmap_notify *seen)
{
	if (!fz_peek(m, seen, p, sizeof(*seen))) {
		may_fail(o, EFAULT);
		return;
	}
	if (seen->action & ~(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT))
		may_fail(o, EINVAL);
	if (seen->action & UNMAP_NOTIFY_SEND_EVENT &&
	    seen->event_channel_port != ports[0] && seen->event_channel_port != ports[1])
		may_fail(o, EINVAL);
	if (!fz_owned(m, f, seen->index / ps()))
		may_fail(o, ENOENT);
}

/* ---------------------------------------------------------------------- */
/* Mappings                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * The driver's ->mmap: MAP_PRIVATE (no VM_MAYSHARE) is refused, a shared
 * mapping of a read-only file is not; the range must be owned.  Before it,
 * what mmap(2) refuses for sure, and what it refuses on some kernels.
 */
void oracle_mmap(const struct fz_model *m, int f, uintptr_t addr, __u64 len,
		 int prot, int flags, __u64 off, struct outcome *o)
{
	__u64 alen = len + ps() - 1 < len ? 0 : (len + ps() - 1) & ~(ps() - 1);
	__u64 pgoff = off / ps(), npages = alen / ps();
	int type = flags & MAP_TYPE;

	if (!len || off % ps() || (flags & MAP_FIXED && addr % ps()) ||
	    (type != MAP_SHARED && type != MAP_SHARED_VALIDATE && type != MAP_PRIVATE) ||
	    flags & MAP_FIXED_NOREPLACE ||	/* the arena is never a hole */
	    (type != MAP_PRIVATE && prot & PROT_WRITE && f == RO_FILE))
		o->mm_refuses = true;
	/* The size of the address space, an offset past 2^64, MAP_SYNC: per kernel. */
	if (!alen || alen > (__u64)ARENA_PAGES * ps() ||
	    pgoff + npages < pgoff || pgoff > (UINT64_MAX - alen) / ps() ||
	    flags & MAP_SYNC)
		o->mm_may_refuse = true;

	if (type == MAP_PRIVATE)
		may_fail(o, EINVAL);	/* the driver: not shared */
	if (!fz_owns_range(m, f, pgoff, npages))
		may_fail(o, ENOENT);
	tolerate(o, ENOMEM);
	if (prot & PROT_EXEC)
		tolerate(o, EPERM);	/* a noexec /dev */
}

void oracle_munmap(uintptr_t addr, size_t len, struct outcome *o)
{
	if (!len || addr % ps())
		o->mm_refuses = true;
}

/*
 * @spans: the range covers more than the one mmap() it starts in.  Only
 * growing is the driver's to refuse (VM_DONTEXPAND: EFAULT); the rest is
 * mremap(2)'s own validation.
 */
void oracle_mremap(uintptr_t addr, __u64 old_len, __u64 new_len, unsigned long flags,
		   uintptr_t dst, bool spans, struct outcome *o)
{
	const unsigned long known = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP;

	if (addr % ps() || !new_len || flags & ~known ||
	    (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)))
		o->mm_refuses = true;
	else if (flags & MREMAP_DONTUNMAP)
		o->mm_refuses = true;	/* not for VM_DONTEXPAND mappings */
	else if (flags & MREMAP_FIXED && dst < addr + old_len && addr < dst + old_len)
		o->mm_refuses = true;	/* overlap */
	else if (flags & MREMAP_FIXED && spans)
		tolerate(o, EFAULT);	/* spans mappings, unless merged */
	else if (new_len > old_len)
		may_fail(o, EFAULT);	/* the device's mappings cannot grow */
}

/* ---------------------------------------------------------------------- */
/* Unknown ioctl numbers                                                    */
/* ---------------------------------------------------------------------- */

/* Handled by the VFS for every file (fs/ioctl.c): not the driver's to refuse. */
bool fz_vfs_ioctl(unsigned int cmd)
{
	static const unsigned int vfs[] = {
		FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW,
		FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE, FIDEDUPERANGE,
		FIONREAD, _IOW('X', 40, struct { __s64 a[6]; }),
		_IOW('X', 42, struct { __s64 a[6]; }),
		_IOW('X', 41, struct { __s64 a[6]; }),
		_IOW('X', 43, struct { __s64 a[6]; }),
		_IOW('X', 57, struct { __s64 a[6]; }),
		_IOR(0x15, 0, struct { uint8_t a[17]; }),
		_IOR(0x15, 1, struct { uint8_t a[129]; }),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vfs); i++)
		if (cmd == vfs[i])
			return true;
	return false;
}

/* ---------------------------------------------------------------------- */
/* sysfs: the limit and peak                                                */
/* ---------------------------------------------------------------------- */

/*
 * What the documentation says a write of @s (@len bytes) to the limit does:
 * 0 (accepted: *@value), -EINVAL or -ERANGE.  "A decimal number from 0 to
 * 4294967295, optionally followed by a newline".
 */
static int limit_oracle(const char *s, size_t len, __u64 *value)
{
	size_t i, n = len;
	bool big = false;
	__u64 v = 0;

	if (n && s[n - 1] == '\n')
		n--;
	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			big = true;
		else
			v = v * 10 + (s[i] - '0');
	}
	if (big || v > UINT32_MAX)
		return -ERANGE;
	*value = v;
	return 0;
}

int oracle_sysfs_write(bool param, bool peak, const char *s, size_t len, __u64 *value)
{
	int want;

	*value = 0;
	/*
	 * The module-parameter layer hands the driver a C string without its
	 * length: there a value ends at its first NUL byte (documented).
	 */
	want = limit_oracle(s, param ? strnlen(s, len) : len, value);
	if (peak && (want || *value))
		want = -EINVAL;	/* "any other value is refused with EINVAL" */
	return want;
}
