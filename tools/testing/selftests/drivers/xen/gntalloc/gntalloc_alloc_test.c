// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: the device, IOCTL_GNTALLOC_ALLOC_GREF and
 * IOCTL_GNTALLOC_DEALLOC_GREF.
 *
 * Every failing call is checked to change nothing: no page allocated or
 * freed, no counter moved except limit_hits (ENOSPC from the limit) and
 * alloc_failures (grant table or memory exhausted).
 */

#include "gntalloc_fixture.h"

FIXTURE(alloc) {
	struct gntalloc_fixture fx;
	void *buf;		/* test's scratch mapping */
	size_t buf_len;
};

FIXTURE_SETUP(alloc)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, 0))
		return;
}

FIXTURE_TEARDOWN_PARENT(alloc)
{
	if (env_in_test_process(&self->fx.env)) {
		if (self->buf)
			munmap(self->buf, self->buf_len);
	}
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(alloc, device_is_a_root_only_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(GNTALLOC_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
}

TEST_F(alloc, each_open_is_an_independent_context)
{
	const size_t ps = page_size();
	__u64 index, index2;

	self->fx.fd2 = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd2);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));

	/* The other file does not know our page... */
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd2, index, 1));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, MAP_SHARED, self->fx.fd2,
				   (off_t)index));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd2, index,
					  UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(ENOENT, errno);

	/* ...has its own, and both stay valid. */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd2, 1, &index2, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd2, index2, 1));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
}

TEST_F(alloc, alloc_one_page_fills_index_and_ref)
{
	struct gntalloc_counters before, after;
	__u64 index = 1;
	uint32_t ref = 0;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	EXPECT_EQ(0UL, index % page_size());
	EXPECT_NE(0U, ref);

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &after));
	EXPECT_EQ(before.in_use + 1, after.in_use);
	if (self->fx.env.counters) {
		EXPECT_EQ(before.allocated_total + 1, after.allocated_total);
		EXPECT_EQ(before.freed_total, after.freed_total);
	}
}

TEST_F(alloc, alloc_many_pages_gives_distinct_nonzero_refs)
{
	enum { N = 64 };
	uint32_t refs[N];
	__u64 index;
	int i, j;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, refs));
	for (i = 0; i < N; i++) {
		EXPECT_NE(0U, refs[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(refs[j], refs[i]) TH_LOG("refs %d and %d", j, i);
	}
	expect_in_use(_metadata, &self->fx.env, &self->fx.env.base, N);
}

TEST_F(alloc, indexes_are_page_aligned_distinct_and_never_reused)
{
	enum { ROUNDS = 24 };
	const size_t ps = page_size();
	__u64 start[ROUNDS], end[ROUNDS];
	int i, j;

	for (i = 0; i < ROUNDS; i++) {
		uint32_t count = 1 + i % 3;

		ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, count, &start[i], NULL));
		end[i] = start[i] + count * ps;
		EXPECT_EQ(0UL, start[i] % ps);
		/* No overlap with any earlier range, freed or not. */
		for (j = 0; j < i; j++)
			EXPECT_TRUE(end[i] <= start[j] || start[i] >= end[j])
				TH_LOG("range %d reuses range %d", i, j);
		/* Free every other allocation at once. */
		if (i % 2)
			ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, start[i], count));
	}
}

TEST_F(alloc, count_zero_is_refused)
{
	struct gntalloc_counters before;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fx.fd, 0, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, unknown_flags_are_refused)
{
	static const uint16_t flags[] = { 0x2, 0x4, 0x8000, 0xfffe, 0xffff };
	struct gntalloc_counters before;
	size_t i;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		ASSERT_EQ(-1, gntalloc_alloc(self->fx.fd, SELF_DOMID, flags[i], 1,
					     NULL, NULL))
			TH_LOG("flags 0x%x accepted", flags[i]);
		ASSERT_EQ(EINVAL, errno);
	}
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, reserved_domids_are_refused)
{
	/* DOMID_FIRST_RESERVED, DOMID_SELF, DOMID_IO, DOMID_XEN, DOMID_COW, ... */
	static const uint16_t domids[] = {
		FIRST_RESERVED_DOMID, 0x7FF1, 0x7FF2, 0x7FF3, 0x7FF4,
		0x7FFF, 0x8000, 0xFFFF,
	};
	struct gntalloc_counters before;
	size_t i;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	for (i = 0; i < ARRAY_SIZE(domids); i++) {
		ASSERT_EQ(-1, gntalloc_alloc(self->fx.fd, domids[i],
					     GNTALLOC_FLAG_WRITABLE, 1, NULL,
					     NULL))
			TH_LOG("domid 0x%x accepted", domids[i]);
		ASSERT_EQ(EINVAL, errno);
	}
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, any_ordinary_domid_is_accepted)
{
	/* The peer need not exist yet: it is only named in the grant. */
	static const uint16_t domids[] = { 1, 7, 0x7FEF };
	__u64 index;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(domids); i++) {
		ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, domids[i], 0, 1, &index,
					    NULL))
			TH_LOG("domid 0x%x refused: %s", domids[i], strerror(errno));
		ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	}
}

TEST_F(alloc, count_over_limit_fails_with_enospc)
{
	struct gntalloc_counters before;
	__u64 index;

	ASSERT_EQ(0, limit_headroom(&self->fx.env, 8));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));

	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fx.fd, 9, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 1, 0);

	/* Exactly up to the limit is fine. */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 8, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 8));
}

TEST_F(alloc, count_above_the_limit_itself_fails_with_enospc)
{
	struct gntalloc_counters before;

	ASSERT_EQ(0, set_limit(16));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fx.fd, 17, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 1, 0);
}

TEST_F(alloc, count_uint32_max_fails_with_enospc_not_enomem)
{
	/* Big enough for the header only: nothing may be written back. */
	struct ioctl_gntalloc_alloc_gref op = {
		.domid = SELF_DOMID,
		.flags = GNTALLOC_FLAG_WRITABLE,
		.count = UINT32_MAX,
	};
	struct gntalloc_counters before;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_ALLOC_GREF, &op));
	ASSERT_EQ(ENOSPC, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 1, 0);
}

TEST_F(alloc, null_argument_fails_with_efault)
{
	struct gntalloc_counters before;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_ALLOC_GREF, NULL));
	ASSERT_EQ(EFAULT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, unreadable_argument_fails_with_efault)
{
	struct gntalloc_counters before;

	self->buf_len = page_size();
	self->buf = mmap(NULL, self->buf_len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_ALLOC_GREF, self->buf));
	ASSERT_EQ(EFAULT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, read_only_argument_fails_with_efault_and_allocates_nothing)
{
	struct ioctl_gntalloc_alloc_gref *op;
	struct gntalloc_counters before;

	self->buf_len = page_size();
	self->buf = mmap(NULL, self->buf_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	op = self->buf;
	op->domid = SELF_DOMID;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = 2;
	ASSERT_EQ(0, mprotect(self->buf, self->buf_len, PROT_READ));

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_ALLOC_GREF, op));
	ASSERT_EQ(EFAULT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, unwritable_gref_ids_fail_with_efault_and_allocate_nothing)
{
	const size_t ps = page_size();
	struct ioctl_gntalloc_alloc_gref *op;
	struct gntalloc_counters before;
	__u64 index;

	/* The header and gref_ids[0..1] are writable, gref_ids[2..] are not. */
	self->buf_len = 2 * ps;
	self->buf = mmap(NULL, self->buf_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, mprotect((char *)self->buf + ps, ps, PROT_NONE));
	op = (void *)((char *)self->buf + ps - sizeof(*op) - sizeof(uint32_t));
	op->domid = SELF_DOMID;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = 8;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_ALLOC_GREF, op));
	ASSERT_EQ(EFAULT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);

	/* The file is still usable. */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
}

TEST_F(alloc, unknown_ioctl_fails_with_enotty)
{
	struct ioctl_gntdev_map_grant_ref map = { .count = 1 };
	struct gntalloc_counters before;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	/* gntdev's commands share the 'G' type: they are not ours. */
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTDEV_MAP_GRANT_REF, &map));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fx.fd, _IOC(_IOC_NONE, 'G', 8, 16), &map));
	ASSERT_EQ(ENOTTY, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

/* ---------------------------------------------------------------------- */
/* DEALLOC                                                                  */
/* ---------------------------------------------------------------------- */

TEST_F(alloc, dealloc_whole_allocation_frees_it)
{
	struct gntalloc_counters before, after;
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 4, &index, NULL));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 4));

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &after));
	EXPECT_EQ(before.in_use - 4, after.in_use);
	if (self->fx.env.counters) {
		EXPECT_EQ(before.freed_total + 4, after.freed_total);
		EXPECT_EQ(before.allocated_total, after.allocated_total);
	}
	ASSERT_EQ(MAP_FAILED, gntalloc_mmap(self->fx.fd, index, 1));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(alloc, dealloc_sub_range_frees_only_that_range)
{
	const size_t ps = page_size();
	struct gntalloc_counters before;
	__u64 index;
	void *p;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 4, &index, NULL));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index + ps, 2));
	expect_in_use(_metadata, &self->fx.env, &before, -2);

	/* Pages 0 and 3 are still ours, pages 1 and 2 are gone. */
	p = gntalloc_mmap(self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, ps);
	p = gntalloc_mmap(self->fx.fd, index + 3 * ps, 1);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, ps);
	ASSERT_EQ(MAP_FAILED, gntalloc_mmap(self->fx.fd, index + ps, 1));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index + 2 * ps, 1));
	ASSERT_EQ(ENOENT, errno);

	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index + 3 * ps, 1));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
}

TEST_F(alloc, dealloc_twice_fails_with_enoent)
{
	struct gntalloc_counters before;
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 2, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 2));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index, 2));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index, 1));
	ASSERT_EQ(ENOENT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, dealloc_unknown_index_fails_with_enoent)
{
	const size_t ps = page_size();
	struct gntalloc_counters before;
	__u64 index;

	/* Nothing allocated in this file yet. */
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, 0, 1));
	ASSERT_EQ(ENOENT, errno);

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index + 64 * ps, 1));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, 1ULL << 40, 1));
	ASSERT_EQ(ENOENT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
}

TEST_F(alloc, dealloc_partly_unknown_range_fails_and_changes_nothing)
{
	const size_t ps = page_size();
	struct gntalloc_counters before;
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index + ps, 1));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));

	/* Runs past the end of the allocation. */
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index + 2 * ps, 2));
	ASSERT_EQ(ENOENT, errno);
	/* Spans the hole left by page 1. */
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index, 3));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index, 2));
	ASSERT_EQ(ENOENT, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);

	/* Pages 0 and 2 survived all of that. */
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index + 2 * ps, 1));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
}

TEST_F(alloc, dealloc_unaligned_index_fails_with_einval)
{
	struct gntalloc_counters before;
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 2, &index, NULL));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index + 1, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index + page_size() / 2, 1));
	ASSERT_EQ(EINVAL, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 2));
}

TEST_F(alloc, dealloc_count_zero_fails_with_einval)
{
	struct gntalloc_counters before;
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, index, 0));
	ASSERT_EQ(EINVAL, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
}

TEST_F(alloc, dealloc_overflowing_range_fails_with_einval)
{
	const __u64 last_page = UINT64_MAX & ~(__u64)(page_size() - 1);
	struct gntalloc_counters before;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, last_page, 2));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, gntalloc_dealloc(self->fx.fd, last_page, UINT32_MAX));
	ASSERT_EQ(EINVAL, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 0, 0);
}

TEST_F(alloc, dealloc_null_argument_fails_with_efault)
{
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_DEALLOC_GREF, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fx.fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, NULL));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(alloc, close_releases_every_grant_of_the_file)
{
	struct gntalloc_counters before, after;
	__u64 index;

	self->fx.fd2 = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd2);
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd2, 3, &index, NULL));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd2, 5, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd2, index, 2));
	expect_in_use(_metadata, &self->fx.env, &before, 6);

	ASSERT_EQ(0, close(self->fx.fd2));
	self->fx.fd2 = -1;
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &after));
	EXPECT_EQ(before.in_use, after.in_use);
	if (self->fx.env.counters) {
		EXPECT_EQ(before.allocated_total + 8, after.allocated_total);
		EXPECT_EQ(before.freed_total + 8, after.freed_total);
	}
}

TEST_F(alloc, close_leaves_other_files_alone)
{
	struct gntalloc_counters before;
	__u64 index, index2;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	self->fx.fd2 = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd2);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 2, &index, NULL));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd2, 3, &index2, NULL));
	ASSERT_EQ(0, close(self->fx.fd2));
	self->fx.fd2 = -1;

	expect_in_use(_metadata, &self->fx.env, &before, 2);
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 2));
}

/* ---------------------------------------------------------------------- */
/* The same life cycle for several sizes and both kinds of grant            */
/* ---------------------------------------------------------------------- */

FIXTURE(alloc_sizes) {
	struct gntalloc_fixture fx;
	void *map;
	size_t map_len;
	uint32_t *refs;
};

FIXTURE_VARIANT(alloc_sizes) {
	uint32_t count;
	uint16_t flags;
};

FIXTURE_VARIANT_ADD(alloc_sizes, read_only_1) {
	.count = 1,
	.flags = 0,
};

FIXTURE_VARIANT_ADD(alloc_sizes, writable_1) {
	.count = 1,
	.flags = GNTALLOC_FLAG_WRITABLE,
};

FIXTURE_VARIANT_ADD(alloc_sizes, read_only_17) {
	.count = 17,
	.flags = 0,
};

FIXTURE_VARIANT_ADD(alloc_sizes, writable_256) {
	.count = 256,
	.flags = GNTALLOC_FLAG_WRITABLE,
};

FIXTURE_SETUP(alloc_sizes)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, 0))
		return;
	self->refs = calloc(variant->count, sizeof(*self->refs));
	ASSERT_NE(NULL, self->refs);
	/* Last: TEARDOWN puts it back only if SETUP completed. */
	ASSERT_EQ(0, limit_headroom(&self->fx.env, 2 * variant->count));
}

FIXTURE_TEARDOWN_PARENT(alloc_sizes)
{
	if (env_in_test_process(&self->fx.env))
		free(self->refs);
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(alloc_sizes, alloc_then_dealloc_moves_in_use_both_ways)
{
	struct gntalloc_counters before;
	__u64 index;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID, variant->flags,
				    variant->count, &index, self->refs));
	expect_in_use(_metadata, &self->fx.env, &before, variant->count);
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, variant->count));
	expect_in_use(_metadata, &self->fx.env, &before, 0);
}

TEST_F(alloc_sizes, refs_are_distinct_and_nonzero)
{
	__u64 index;
	uint32_t i, j;

	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID, variant->flags,
				    variant->count, &index, self->refs));
	for (i = 0; i < variant->count; i++) {
		ASSERT_NE(0U, self->refs[i]);
		for (j = 0; j < i; j++)
			ASSERT_NE(self->refs[j], self->refs[i]);
	}
}

TEST_F(alloc_sizes, pages_come_zeroed_even_after_reuse)
{
	const size_t ps = page_size();
	__u64 index;
	size_t i;
	int round;

	self->map_len = variant->count * ps;
	/* The second round gets pages the first one dirtied and freed. */
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID,
					    variant->flags, variant->count,
					    &index, NULL));
		self->map = fx_mmap(&self->fx, self->fx.fd, index, variant->count);
		ASSERT_NE(MAP_FAILED, self->map) {
			self->map = NULL;
		}
		for (i = 0; i < self->map_len; i++)
			ASSERT_EQ(0, ((uint8_t *)self->map)[i])
				TH_LOG("round %d, byte %zu", round, i);
		memset(self->map, MARK, self->map_len);
		ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, variant->count));
		ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
		self->map = NULL;
	}
}

/*
 * Finding 8 of issue 12: a process killed in the middle of a large ALLOC
 * does not wait for the rest of it.  The ALLOC stops, takes back what it
 * made, and changes no counter: it was neither an allocation nor a failure
 * of memory or grants.
 */
TEST_F(alloc, fatal_signal_stops_a_large_alloc)
{
	enum { N = 16384 };	/* half of the grant table the test bed has */
	struct ioctl_gntalloc_alloc_gref *op;
	struct gntalloc_counters before, after;
	__u64 deadline;
	int status;
	pid_t pid;

	REQUIRE_COUNTERS(return, &self->fx.env);
	ASSERT_EQ(0, set_limit(BIG_LIMIT));
	self->buf_len = sizeof(*op) + N * sizeof(uint32_t);
	/* Shared: the test sees the references the child's ALLOC writes */
	self->buf = mmap(NULL, self->buf_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	op = self->buf;
	op->domid = SELF_DOMID;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = N;
	ASSERT_EQ(0, read_counters(&before));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);

		if (fd < 0)
			_exit(1);
		ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
		_exit(2);
	}
	self->fx.child = pid;

	deadline = now_ms() + DRAIN_TIMEOUT_MS;
	while (!READ_ONCE(op->gref_ids[0]) && now_ms() < deadline)
		;
	ASSERT_NE(0U, READ_ONCE(op->gref_ids[0]))
		TH_LOG("the child's ALLOC wrote no reference");
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->fx.child = 0;
	ASSERT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));

	EXPECT_EQ(0U, READ_ONCE(op->gref_ids_flex[N - 1]))
		TH_LOG("the ALLOC of %d pages went on to the end after SIGKILL", N);
	EXPECT_EQ(0, wait_gauges(&before, GAUGES_ALL, &after));
	EXPECT_EQ(before.allocated_total, after.allocated_total);
	EXPECT_EQ(before.freed_total, after.freed_total);
	EXPECT_EQ(before.alloc_failures, after.alloc_failures);
	EXPECT_EQ(before.limit_hits, after.limit_hits);
}

TEST_HARNESS_MAIN
