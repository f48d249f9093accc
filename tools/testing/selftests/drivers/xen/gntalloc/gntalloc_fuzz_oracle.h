/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's oracle: for one call, given the model's state (which pages
 * each file owns, what user memory the kernel can reach), the outcomes that
 * the documentation allows - Documentation/userspace-api/gntalloc.rst and
 * Documentation/ABI/testing/sysfs-class-gntalloc for the driver.
 *
 * What is predicted, and what is not:
 *  - The driver's own answers are predicted to the errno: ALLOC, DEALLOC
 *    and SET_UNMAP_NOTIFY (EINVAL, ENOENT, ENOSPC, EFAULT for an argument
 *    the kernel cannot read or write back), unknown ioctl numbers (ENOTTY),
 *    the writes to the limit and to peak (EINVAL, ERANGE), and the driver's
 *    ->mmap: a mapping that is not shared is refused with EINVAL (the rule
 *    is on VM_MAYSHARE, so a shared mapping of a file opened O_RDONLY is
 *    allowed), a range that the file does not own with ENOENT; its mappings
 *    cannot grow (VM_DONTEXPAND: mremap() to a larger size fails with EFAULT).
 *    Where several of those errors apply, any of them may come (the order
 *    of the checks is not documented); where none applies the call must
 *    succeed.  ENOMEM may always come.
 *  - What the mm core checks before the driver is asked - mmap(2),
 *    munmap(2) and mremap(2) argument validation: a length of 0, unaligned
 *    offsets and addresses, unknown mapping types and flags, a writable
 *    shared mapping of a file opened O_RDONLY, MAP_FIXED_NOREPLACE over a
 *    mapping, overlapping or invalid mremap() requests - is not the
 *    driver's and is not predicted to the errno: such a call must fail
 *    (mm_refuses), with whatever errno the core gives.  Where the core's
 *    answer depends on the kernel (the size of the address space, offsets
 *    that overflow, MAP_SYNC) it may fail with any errno or succeed
 *    (mm_may_refuse), and a success must still be one the driver allows.
 *    These calls are still made: the driver must not crash or leak under
 *    them, and the counters are checked after each as after any other.
 *  - ioctl numbers that the VFS handles for every file (fs/ioctl.c) are not
 *    the driver's: they are not tried (fz_vfs_ioctl()).
 * Plain C, no harness.
 */

#ifndef GNTALLOC_FUZZ_ORACLE_H
#define GNTALLOC_FUZZ_ORACLE_H

#include "gntalloc_fuzz_model.h"

#define MAX_ERRNOS		12

/* The outcomes the documentation allows for one call. */
struct outcome {
	int errs[MAX_ERRNOS];	/* errors that apply: the call must fail */
	int nr_errs;
	int tolerated[4];	/* errors that may always come (ENOMEM...) */
	int nr_tolerated;
	bool mm_refuses;	/* the mm core refuses it: fails, errno not predicted */
	bool mm_may_refuse;	/* the core may refuse it: any errno, or success */
};

void may_fail(struct outcome *o, int err);
void tolerate(struct outcome *o, int err);
bool outcome_allows(const struct outcome *o, bool ok, int err);
void outcome_str(const struct outcome *o, char *buf, size_t size);

/* The three ioctls, the argument at @p in file @f; *@seen gets what the kernel reads. */
void oracle_alloc(const struct fz_model *m, const uint8_t *p, struct outcome *o,
		  struct ioctl_gntalloc_alloc_gref *seen);
void oracle_dealloc(const struct fz_model *m, int f, const uint8_t *p, struct outcome *o,
		    struct ioctl_gntalloc_dealloc_gref *seen);
void oracle_notify(const struct fz_model *m, int f, const uint8_t *p,
		   const uint32_t ports[2], struct outcome *o,
		   struct ioctl_gntalloc_unmap_notify *seen);

/* mmap() of file @f (@addr: where MAP_FIXED asks for it), munmap(), mremap() */
void oracle_mmap(const struct fz_model *m, int f, uintptr_t addr, __u64 len,
		 int prot, int flags, __u64 off, struct outcome *o);
void oracle_munmap(uintptr_t addr, size_t len, struct outcome *o);
void oracle_mremap(uintptr_t addr, __u64 old_len, __u64 new_len, unsigned long flags,
		   uintptr_t dst, bool spans, struct outcome *o);

/* Unknown ioctl numbers */
bool fz_vfs_ioctl(unsigned int cmd);

/*
 * A write of @s (@len bytes) to the limit (through @param, the module
 * parameter, or the class attribute) or to peak: 0 (accepted, *@value
 * stored), -EINVAL or -ERANGE.
 */
int oracle_sysfs_write(bool param, bool peak, const char *s, size_t len, __u64 *value);

#endif /* GNTALLOC_FUZZ_ORACLE_H */
