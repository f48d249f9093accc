// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: the limit and the counters.
 *
 * The limit bounds the pages counted in in_use (allocated, deallocated but
 * still mapped, and pending on a peer).  Both drivers have it as the module
 * parameter /sys/module/xen_gntalloc/parameters/limit, so the "limit" tests
 * run on the stock driver too.  The replacement also has it, as the same
 * variable, in /sys/class/gntalloc/gntalloc/ beside its counters; the
 * "counters" tests need those and skip on the stock driver.
 */

#include "gntalloc_fixture.h"

#define CLASS_LIMIT		GNTALLOC_SYSFS "/limit"
#define CLASS_PEAK		GNTALLOC_SYSFS "/peak"
#define MAX_FILES		4

/* Run @fn as nobody in a child: its return value is the exit code. */
static int as_nobody(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (become_nobody())
			_exit(100);
		_exit(fn(arg));
	}
	return wait_child(pid);
}

/* 0 if opening @path for writing is refused with EACCES. */
static int open_refused(const char *path)
{
	int fd = open(path, O_RDWR);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES ? 0 : 2;
}

/* 0 if @path holds one readable decimal value. */
static int read_allowed(const char *path)
{
	__u64 value = 0;

	return read_u64_file(path, &value) ? 1 : 0;
}

/* 0 if writing to @path is refused with EACCES (at open or at write). */
static int write_refused(const char *path)
{
	int err = write_str_file(path, "1\n");

	return err == -EACCES ? 0 : 1;
}

FIXTURE(limit) {
	struct gntalloc_fixture fx;
	int fds[MAX_FILES];
	void *map;
	size_t map_len;
};

FIXTURE_SETUP(limit)
{
	int i;

	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_NO_FILE))
		return;
	for (i = 0; i < MAX_FILES; i++)
		self->fds[i] = -1;
	for (i = 0; i < MAX_FILES; i++) {
		self->fds[i] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fds[i]);
	}
}

FIXTURE_TEARDOWN_PARENT(limit)
{
	if (env_in_test_process(&self->fx.env))
		close_all(self->fds, MAX_FILES);
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(limit, default_limit_is_1024)
{
	EXPECT_EQ(DEFAULT_LIMIT, self->fx.env.limit);
}

TEST_F(limit, module_parameter_is_root_writable)
{
	struct stat st;

	ASSERT_EQ(0, stat(GNTALLOC_PARAM_LIMIT, &st));
	EXPECT_EQ(0644U, st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
}

TEST_F(limit, enospc_exactly_at_the_limit_across_files)
{
	struct gntalloc_counters before, after;
	__u64 index[3];

	ASSERT_EQ(0, limit_headroom(&self->fx.env, 10));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], 4, &index[0], NULL));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[1], 5, &index[1], NULL));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[2], 1, &index[2], NULL));
	/* Full: any file, any size. */
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[3], 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[0], 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);

	/* One page freed in one file is one page for another. */
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[1], index[1], 1));
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[3], 2, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[3], 1, NULL, NULL));
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[3], 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &after));
	EXPECT_EQ(before.in_use + 10, after.in_use);
	if (self->fx.env.counters) {
		EXPECT_EQ(before.limit_hits + 4, after.limit_hits);
		EXPECT_EQ(before.alloc_failures, after.alloc_failures);
	}
}

TEST_F(limit, limit_zero_refuses_every_alloc)
{
	ASSERT_EQ(0, set_limit(0));
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[0], 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
}

TEST_F(limit, lowering_below_use_keeps_grants_and_refuses_alloc)
{
	const size_t ps = page_size();
	struct gntalloc_counters now;
	__u64 index;
	uint8_t *p;

	ASSERT_EQ(0, limit_headroom(&self->fx.env, 8));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], 8, &index, NULL));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &now));
	ASSERT_EQ(0, set_limit(now.in_use - 4));

	/* What was granted stays usable... */
	self->map_len = 8 * ps;
	self->map = fx_mmap(&self->fx, self->fds[0], index, 8);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	p = self->map;
	p[7 * ps] = 1;
	ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
	self->map = NULL;
	/* ...but nothing new is granted until use is below the limit. */
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[1], 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index, 4));
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fds[1], 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index + 4 * ps, 1));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[1], 1, NULL, NULL));
}

TEST_F(limit, qubes_limit_is_accepted_and_usable)
{
	__u64 value = 0, index;

	/* What the Qubes GUI agent writes at start. */
	ASSERT_EQ(0, write_str_file(GNTALLOC_PARAM_LIMIT, "1073741824\n"));
	ASSERT_EQ(0, get_limit(&value));
	ASSERT_EQ(1073741824ULL, value);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], 2048, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index, 2048));
}

TEST_F(limit, unprivileged_users_cannot_open_the_device)
{
	ASSERT_EQ(0, as_nobody(open_refused, GNTALLOC_DEV));
}

TEST_F(limit, unprivileged_users_cannot_write_the_limit)
{
	__u64 value = 0;

	ASSERT_EQ(0, as_nobody(write_refused, GNTALLOC_PARAM_LIMIT));
	if (self->fx.env.counters)
		ASSERT_EQ(0, as_nobody(write_refused, CLASS_LIMIT));
	ASSERT_EQ(0, get_limit(&value));
	ASSERT_EQ(self->fx.env.limit, value);
}

/*
 * Xen's grant table runs out before the limit: ALLOC fails with ENOSPC or
 * ENOMEM and leaves nothing half-allocated behind (TEARDOWN checks in_use).
 * The grant reserve is lifted for it (it would stop ALLOC first: that is
 * gntalloc_quota_test's), and so is the quarantine, whose references would
 * otherwise hold the last entries (given back early, they count apart).
 *
 * The stock driver miscounts every ALLOC that fails half-way (one page too
 * many given back); its count goes negative and it then refuses every ALLOC
 * until it is reloaded, which would fail every later test.  So this runs on
 * the replacement only.
 */
TEST_F_TIMEOUT(limit, grant_table_exhaustion_fails_cleanly, 120)
{
	enum { BATCH = 1024, MAX_PAGES = 65536 };
	struct gntalloc_counters before, after;
	__u64 index, got = 0, failures = 0;
	uint32_t count = BATCH;

	if (!self->fx.env.counters)
		SKIP(return, "stock xen-gntalloc refuses every ALLOC after this (negative count)");
	ASSERT_EQ(0, set_limit(BIG_LIMIT));
	ASSERT_EQ(0, set_tunable("grant_reserve", 0));
	ASSERT_EQ(0, set_tunable("quarantine_ms", 0));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	/* Fill the grant table, in ever smaller steps, to its last entry. */
	while (count) {
		if (gntalloc_alloc_rw(self->fds[0], count, &index, NULL)) {
			ASSERT_TRUE(errno == ENOSPC || errno == ENOMEM)
				TH_LOG("ALLOC of %u failed with %s", count,
				       strerror(errno));
			failures++;
			count /= 2;
			continue;
		}
		got += count;
		if (got >= MAX_PAGES)
			SKIP(return, "the grant table holds over %d entries: not exhausted",
			     MAX_PAGES);
	}
	TH_LOG("the grant table was full after %llu pages", got);
	ASSERT_LT(0U, got);

	if (self->fx.env.counters) {
		ASSERT_EQ(0, read_counters(&after));
		EXPECT_EQ(before.in_use + got, after.in_use);
		EXPECT_EQ(before.allocated_total + got, after.allocated_total);
		EXPECT_EQ(before.limit_hits, after.limit_hits);
		EXPECT_EQ(before.alloc_failures + failures,
			  after.alloc_failures);
	}
	/* Giving pages back makes room again. */
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index, 1));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[1], 1, NULL, NULL));
}

/* ---------------------------------------------------------------------- */
/* Parsing of the limit, through either file                                */
/* ---------------------------------------------------------------------- */

FIXTURE(limit_parse) {
	struct gntalloc_fixture fx;
};

FIXTURE_VARIANT(limit_parse) {
	const char *input;
	int error;		/* 0, EINVAL or ERANGE */
	__u64 value;		/* the limit afterwards, if accepted */
};

FIXTURE_VARIANT_ADD(limit_parse, zero) {
	.input = "0\n", .value = 0,
};

FIXTURE_VARIANT_ADD(limit_parse, one_without_newline) {
	.input = "1", .value = 1,
};

FIXTURE_VARIANT_ADD(limit_parse, default) {
	.input = "1024\n", .value = 1024,
};

FIXTURE_VARIANT_ADD(limit_parse, qubes) {
	.input = "1073741824\n", .value = 1073741824ULL,
};

FIXTURE_VARIANT_ADD(limit_parse, uint32_max) {
	.input = "4294967295\n", .value = 4294967295ULL,
};

FIXTURE_VARIANT_ADD(limit_parse, word) {
	.input = "abc\n", .error = EINVAL,
};

FIXTURE_VARIANT_ADD(limit_parse, empty_line) {
	/* write(2) of 0 bytes never reaches the driver: "" is "\n" here. */
	.input = "\n", .error = EINVAL,
};

FIXTURE_VARIANT_ADD(limit_parse, negative) {
	.input = "-1\n", .error = EINVAL,
};

FIXTURE_VARIANT_ADD(limit_parse, fraction) {
	.input = "1.5\n", .error = EINVAL,
};

FIXTURE_VARIANT_ADD(limit_parse, hexadecimal) {
	.input = "0x10\n", .error = EINVAL,
};

FIXTURE_VARIANT_ADD(limit_parse, trailing_junk) {
	.input = "12abc\n", .error = EINVAL,
};

FIXTURE_VARIANT_ADD(limit_parse, uint32_max_plus_one) {
	.input = "4294967296\n", .error = ERANGE,
};

FIXTURE_VARIANT_ADD(limit_parse, uint64_max_plus_one) {
	.input = "18446744073709551616\n", .error = ERANGE,
};

/* Malformed first: too many digits does not make junk a range error. */
FIXTURE_VARIANT_ADD(limit_parse, too_large_with_trailing_junk) {
	.input = "436572203999650212665\t", .error = EINVAL,
};

FIXTURE_SETUP(limit_parse)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_NO_FILE))
		return;
}

FIXTURE_TEARDOWN_PARENT(limit_parse)
{
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/* Write the variant's input to @path and check the outcome on @path. */
static void check_parse(struct __test_metadata *_metadata,
			const struct _fixture_variant_limit_parse *variant,
			const char *path)
{
	__u64 value = 0;

	ASSERT_EQ(0, write_u64_file(path, 777));
	ASSERT_EQ(-variant->error, write_str_file(path, variant->input))
		TH_LOG("writing \"%.*s\"", (int)strcspn(variant->input, "\n"),
		       variant->input);
	ASSERT_EQ(0, read_u64_file(path, &value));
	if (variant->error) {
		EXPECT_EQ(777U, value) TH_LOG("a refused write changed the limit");
		return;
	}
	EXPECT_EQ(variant->value, value);
}

TEST_F(limit_parse, through_the_module_parameter)
{
	check_parse(_metadata, variant, GNTALLOC_PARAM_LIMIT);
}

TEST_F(limit_parse, through_the_class_attribute)
{
	REQUIRE_COUNTERS(return, &self->fx.env);
	check_parse(_metadata, variant, CLASS_LIMIT);
}

/* ---------------------------------------------------------------------- */
/* The replacement's counters                                              */
/* ---------------------------------------------------------------------- */

FIXTURE(counters) {
	struct gntalloc_fixture fx;
	void *maps[3];
	size_t map_len[3];
};

FIXTURE_SETUP(counters)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_PIPES))
		return;
	if (!self->fx.env.counters)
		SKIP(return, "%s is missing: stock driver, no counters",
		     GNTALLOC_SYSFS);
}

FIXTURE_TEARDOWN_PARENT(counters)
{
	if (env_in_test_process(&self->fx.env)) {
		int i;

		for (i = 0; i < 3; i++)
			if (self->maps[i])
				munmap(self->maps[i], self->map_len[i]);
	}
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/* The UAPI's list of files: limit and peak are writable by root */
#define MODE_RW 0644
#define MODE_RO 0444
static const struct {
	const char *name;
	unsigned int mode;
} attributes[] =
#define GNTALLOC_SYSFS_FILE(name, mode) { #name, MODE_##mode },
	GNTALLOC_SYSFS_FILES;
#undef GNTALLOC_SYSFS_FILE

#define NR_ATTRIBUTES (ARRAY_SIZE(attributes))

static void *map_slot(struct _test_data_counters *self, int slot, int fd,
		      __u64 index, size_t pages)
{
	void *p = gntalloc_mmap(fd, index, pages);

	if (p != MAP_FAILED) {
		self->maps[slot] = p;
		self->map_len[slot] = pages * page_size();
	}
	return p;
}

static void unmap_slot(struct _test_data_counters *self, int slot)
{
	munmap(self->maps[slot], self->map_len[slot]);
	self->maps[slot] = NULL;
}

TEST_F(counters, every_attribute_exists_with_its_mode)
{
	char path[128];
	struct stat st;
	size_t i;

	for (i = 0; i < NR_ATTRIBUTES; i++) {
		snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s",
			 attributes[i].name);
		ASSERT_EQ(0, stat(path, &st)) TH_LOG("%s", path);
		EXPECT_EQ(attributes[i].mode, st.st_mode & 07777)
			TH_LOG("%s", path);
	}
}

TEST_F(counters, every_attribute_holds_one_decimal_value)
{
	char path[128];
	__u64 value = 0;
	size_t i;

	for (i = 0; i < NR_ATTRIBUTES; i++) {
		snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s",
			 attributes[i].name);
		EXPECT_EQ(0, read_u64_file(path, &value))
			TH_LOG("%s is not one decimal value and a newline", path);
	}
}

TEST_F(counters, read_only_counters_refuse_writes)
{
	char path[128];
	size_t i;

	for (i = 0; i < NR_ATTRIBUTES; i++) {
		if (attributes[i].mode & 0200)
			continue;
		snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s",
			 attributes[i].name);
		EXPECT_EQ(-EACCES, write_str_file(path, "0\n")) TH_LOG("%s", path);
	}
}

TEST_F(counters, limit_attribute_is_the_module_parameter)
{
	__u64 value = 0;

	ASSERT_EQ(0, write_u64_file(CLASS_LIMIT, 1234));
	ASSERT_EQ(0, get_limit(&value));
	EXPECT_EQ(1234U, value);
	ASSERT_EQ(0, set_limit(4321));
	ASSERT_EQ(0, read_u64_file(CLASS_LIMIT, &value));
	EXPECT_EQ(4321U, value);
	EXPECT_EQ(4321U, counter("limit"));
}

TEST_F(counters, in_use_and_totals_follow_alloc_and_dealloc)
{
	struct gntalloc_counters a, b, c;
	__u64 index;

	ASSERT_EQ(0, read_counters(&a));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 5, &index, NULL));
	ASSERT_EQ(0, read_counters(&b));
	EXPECT_EQ(a.in_use + 5, b.in_use);
	EXPECT_EQ(a.allocated_total + 5, b.allocated_total);
	EXPECT_EQ(a.freed_total, b.freed_total);

	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index + page_size(), 3));
	ASSERT_EQ(0, read_counters(&c));
	EXPECT_EQ(a.in_use + 2, c.in_use);
	EXPECT_EQ(a.allocated_total + 5, c.allocated_total);
	EXPECT_EQ(a.freed_total + 3, c.freed_total);
	EXPECT_EQ(c.in_use, c.allocated_total - c.freed_total);
}

TEST_F(counters, in_use_includes_deallocated_but_mapped_pages)
{
	struct gntalloc_counters a;
	__u64 index;

	ASSERT_EQ(0, read_counters(&a));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 2, &index, NULL));
	ASSERT_NE(MAP_FAILED, map_slot(self, 0, self->fx.fd, index, 2));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 2));
	EXPECT_EQ(a.in_use + 2, counter("in_use"));
	EXPECT_EQ(a.freed_total, counter("freed_total"));

	unmap_slot(self, 0);
	EXPECT_EQ(a.in_use, counter("in_use"));
	EXPECT_EQ(a.freed_total + 2, counter("freed_total"));
}

TEST_F(counters, mapped_counts_each_mapped_page_once)
{
	const size_t ps = page_size();
	__u64 base, index;

	base = counter("mapped");
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, NULL));
	EXPECT_EQ(base, counter("mapped"));
	ASSERT_NE(MAP_FAILED, map_slot(self, 0, self->fx.fd, index, 2));
	EXPECT_EQ(base + 2, counter("mapped"));
	ASSERT_NE(MAP_FAILED, map_slot(self, 1, self->fx.fd, index + ps, 2));
	EXPECT_EQ(base + 3, counter("mapped"));
	ASSERT_NE(MAP_FAILED, map_slot(self, 2, self->fx.fd, index, 3));
	EXPECT_EQ(base + 3, counter("mapped"));

	unmap_slot(self, 2);
	EXPECT_EQ(base + 3, counter("mapped"));
	unmap_slot(self, 0);
	EXPECT_EQ(base + 2, counter("mapped"));
	unmap_slot(self, 1);
	EXPECT_EQ(base, counter("mapped"));
}

TEST_F(counters, mapped_follows_partial_munmap_and_fork)
{
	const size_t ps = page_size();
	__u64 base, index;
	uint8_t *p;
	pid_t pid;

	base = counter("mapped");
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, NULL));
	p = map_slot(self, 0, self->fx.fd, index, 3);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + ps, ps));
	EXPECT_EQ(base + 2, counter("mapped"));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		recv_byte(self->fx.to_child[0], 10000);
		_exit(0);
	}
	self->fx.child = pid;
	/* The child's copy keeps pages 0 and 2 mapped. */
	unmap_slot(self, 0);
	EXPECT_EQ(base + 2, counter("mapped"));
	ASSERT_EQ(0, send_byte(self->fx.to_child[1], 'x'));
	ASSERT_EQ(0, wait_child(self->fx.child));
	self->fx.child = 0;
	EXPECT_EQ(base, counter("mapped"));
}

TEST_F(counters, open_files_counts_open_files_not_descriptors)
{
	__u64 base = counter("open_files");
	int dup_fd;

	/* The fixture's own file. */
	EXPECT_EQ(self->fx.env.base.open_files + 1, base);
	self->fx.fd2 = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd2);
	EXPECT_EQ(base + 1, counter("open_files"));

	dup_fd = dup(self->fx.fd2);
	ASSERT_LE(0, dup_fd);
	EXPECT_EQ(base + 1, counter("open_files"));
	ASSERT_EQ(0, close(self->fx.fd2));
	self->fx.fd2 = -1;
	EXPECT_EQ(base + 1, counter("open_files"));
	ASSERT_EQ(0, close(dup_fd));
	EXPECT_EQ(base, counter("open_files"));
}

TEST_F(counters, peak_is_the_high_water_mark_of_in_use)
{
	__u64 in_use, index;

	ASSERT_EQ(0, write_str_file(CLASS_PEAK, "0\n"));
	in_use = counter("in_use");
	EXPECT_EQ(in_use, counter("peak"));

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 6, &index, NULL));
	EXPECT_EQ(in_use + 6, counter("peak"));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 6));
	EXPECT_EQ(in_use + 6, counter("peak"));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 2, &index, NULL));
	EXPECT_EQ(in_use + 6, counter("peak"));

	/* Reset: to what is in use now. */
	ASSERT_EQ(0, write_str_file(CLASS_PEAK, "0"));
	EXPECT_EQ(in_use + 2, counter("peak"));
}

TEST_F(counters, peak_accepts_only_zero)
{
	static const char *const refused[] = { "1\n", "abc\n", "-1\n", "\n", "00x\n" };
	__u64 index, peak;
	size_t i;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 3));
	peak = counter("peak");
	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		EXPECT_EQ(-EINVAL, write_str_file(CLASS_PEAK, refused[i]))
			TH_LOG("peak accepted \"%s\"", refused[i]);
		EXPECT_EQ(peak, counter("peak"));
	}
}

TEST_F(counters, limit_hits_counts_only_refusals_by_the_limit)
{
	struct gntalloc_counters a, b;
	int i;

	ASSERT_EQ(0, limit_headroom(&self->fx.env, 2));
	ASSERT_EQ(0, read_counters(&a));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(-1, gntalloc_alloc_rw(self->fx.fd, 3, NULL, NULL));
		ASSERT_EQ(ENOSPC, errno);
	}
	/* Other refusals are not limit hits. */
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fx.fd, 0, NULL, NULL));
	ASSERT_EQ(-1, gntalloc_alloc(self->fx.fd, SELF_DOMID, 0x10, 1, NULL, NULL));
	ASSERT_EQ(0, read_counters(&b));
	EXPECT_EQ(a.limit_hits + 3, b.limit_hits);
	EXPECT_EQ(a.alloc_failures, b.alloc_failures);
	EXPECT_EQ(a.in_use, b.in_use);
}

TEST_F(counters, counters_are_readable_by_everyone)
{
	char path[128];
	size_t i;

	for (i = 0; i < NR_ATTRIBUTES; i++) {
		snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s",
			 attributes[i].name);
		EXPECT_EQ(0, as_nobody(read_allowed, path)) TH_LOG("%s", path);
	}
}

TEST_HARNESS_MAIN
