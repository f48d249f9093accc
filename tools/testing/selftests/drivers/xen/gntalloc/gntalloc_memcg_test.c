// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: grant pages are charged to the memory cgroup of
 * the process that allocates them.
 *
 * A process that ALLOCs N pages costs its cgroup N pages (and a little for
 * the driver's bookkeeping), so memory.max bounds what a contained program
 * can pin through the device, whoever opened the file.  The charge goes
 * when the pages are freed.
 *
 * The tests mount cgroup v2 on /sys/fs/cgroup if it is not there, enable the
 * memory controller for the root's children, and make a child cgroup of
 * their own; a forked child moves into it and allocates there, while the
 * test reads the cgroup's memory.current from outside.  TEARDOWN kills what
 * is left in the cgroup, removes it and puts subtree_control back.
 *
 * memory.current moves in batches: a charge may take up to a batch (64
 * pages) more from the counter than it needs, kept per CPU for the next
 * charges, and an uncharge may keep up to a batch per CPU the same way.  A
 * charge that finds such a stock takes nothing from the counter.  So the
 * start is read while the cgroup is new and empty (no stock can exist yet),
 * "grows by N pages" is checked as at least N above it, and "back where it
 * was" as within a batch per CPU (and a few pages of page tables, stack and
 * slab) of it.
 */

#define _GNU_SOURCE	/* before any system header */
#include <sys/mount.h>
#include <sys/vfs.h>

#include "gntalloc_fixture.h"

#define CGROUP_ROOT		"/sys/fs/cgroup"
#define CGROUP2_SUPER_MAGIC	0x63677270
#define PAGES			256
#define CHARGE_BATCH		64	/* MEMCG_CHARGE_BATCH, pages */
#define SMALL_PAGES		32	/* page tables, stacks, slab of the driver */
#define CHILD_TIMEOUT_MS	10000

static int cg_write(const char *dir, const char *file, const char *s)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return write_str_file(path, s);
}

static int cg_read_u64(const char *dir, const char *file, __u64 *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return read_u64_file(path, val);
}

/* Whether @dir's cgroup.controllers (or subtree_control) names memory. */
static bool cg_lists_memory(const char *dir, const char *file)
{
	char path[256], buf[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		char *tok, *save = NULL;

		buf[strcspn(buf, "\n")] = '\0';
		for (tok = strtok_r(buf, " ", &save); tok && !found;
		     tok = strtok_r(NULL, " ", &save))
			found = !strcmp(tok, "memory");
	}
	fclose(f);
	return found;
}

/* Whether "populated 0" is in @dir's cgroup.events: nobody is left in it. */
static bool cg_empty(const char *dir)
{
	char path[256], buf[128];
	bool empty = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(buf, sizeof(buf), f))
		if (!strcmp(buf, "populated 0\n"))
			empty = true;
	fclose(f);
	return empty;
}

static int cg_enter(const char *dir, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", pid);
	return cg_write(dir, "cgroup.procs", buf);
}

FIXTURE(memcg) {
	struct gntalloc_fixture fx;
	char dir[128];
	bool made_dir;
	bool enabled_memory;	/* SETUP added +memory to the root */
	long cpus;
};

FIXTURE_SETUP(memcg)
{
	struct statfs sfs;

	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_PIPES | FX_NO_FILE))
		return;
	ASSERT_EQ(0, limit_headroom(&self->fx.env, 2 * PAGES));
	self->cpus = sysconf(_SC_NPROCESSORS_CONF);
	ASSERT_LT(0, self->cpus);

	/* cgroup v2 where systemd would have put it. */
	if (statfs(CGROUP_ROOT, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		mkdir(CGROUP_ROOT, 0755);
		ASSERT_EQ(0, mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
			TH_LOG("mount cgroup2 on %s: %s", CGROUP_ROOT,
			       strerror(errno));
	}
	ASSERT_TRUE(cg_lists_memory(CGROUP_ROOT, "cgroup.controllers"))
		TH_LOG("no memory controller in %s/cgroup.controllers: %s",
		       CGROUP_ROOT,
		       "a kernel without CONFIG_MEMCG, or cgroup_disable=memory");
	if (!cg_lists_memory(CGROUP_ROOT, "cgroup.subtree_control")) {
		ASSERT_EQ(0, cg_write(CGROUP_ROOT, "cgroup.subtree_control",
				      "+memory\n"));
		self->enabled_memory = true;
	}
	snprintf(self->dir, sizeof(self->dir), CGROUP_ROOT "/gntalloc_memcg_test.%d",
		 getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755))
		TH_LOG("%s: %s", self->dir, strerror(errno));
	self->made_dir = true;
	ASSERT_EQ(0, access(self->dir, F_OK));
	ASSERT_TRUE(cg_lists_memory(self->dir, "cgroup.controllers"));
}

FIXTURE_TEARDOWN_PARENT(memcg)
{
	__u64 deadline = now_ms() + DRAIN_TIMEOUT_MS;

	/* Whatever is still in the cgroup (a child of a failed test) goes. */
	if (self->made_dir && !cg_empty(self->dir)) {
		EXPECT_EQ(0, cg_write(self->dir, "cgroup.kill", "1\n"));
		while (!cg_empty(self->dir) && now_ms() < deadline)
			sleep_ms(10);
	}
	if (self->made_dir) {
		int err = rmdir(self->dir) ? errno : 0;

		EXPECT_EQ(0, err) TH_LOG("rmdir %s: %s", self->dir, strerror(err));
	}
	if (self->enabled_memory)
		EXPECT_EQ(0, cg_write(CGROUP_ROOT, "cgroup.subtree_control",
				      "-memory\n"));
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/*
 * The child's side: wait for each command byte from the parent, do it on
 * @fd (opening it first if it is -1), answer 'k' (or 'e' for an error).
 * Returns the child's exit code.
 *   'o' open the device    'a' ALLOC PAGES pages    'd' DEALLOC them
 *   'c' close the file     'q' exit
 */
static int child_loop(int fd, int in, int out)
{
	__u64 index = 0;
	int cmd, err;

	for (;;) {
		cmd = recv_byte(in, CHILD_TIMEOUT_MS);
		err = 0;
		switch (cmd) {
		case 'o':
			fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
			err = fd < 0;
			break;
		case 'a':
			err = gntalloc_alloc_rw(fd, PAGES, &index, NULL);
			break;
		case 'd':
			err = gntalloc_dealloc(fd, index, PAGES);
			break;
		case 'c':
			err = close(fd);
			fd = -1;
			break;
		case 'q':
			return send_byte(out, 'k') ? 2 : 0;
		default:
			return 1;
		}
		if (send_byte(out, err ? 'e' : 'k'))
			return 2;
	}
}

/*
 * Fork the child of child_loop() into the test's cgroup; @start gets the
 * cgroup's memory.current from before the child entered it.
 */
static pid_t start_child(struct _test_data_memcg *self, int fd, __u64 *start)
{
	pid_t pid;

	if (cg_read_u64(self->dir, "memory.current", start))
		return -1;
	pid = fork();
	if (pid == 0)
		_exit(child_loop(fd, self->fx.to_child[0], self->fx.to_parent[1]));
	if (pid > 0 && cg_enter(self->dir, pid)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* Have the child do @cmd: 0 if it did. */
static int child_do(struct _test_data_memcg *self, char cmd)
{
	if (send_byte(self->fx.to_child[1], cmd))
		return -1;
	return recv_byte(self->fx.to_parent[0], CHILD_TIMEOUT_MS) == 'k' ? 0 : -1;
}

#define CURRENT(val) ASSERT_EQ(0, cg_read_u64(self->dir, "memory.current", (val)))

/* Within what the per-CPU batches and small allocations may leave over. */
#define SLACK_BYTES(self) \
	((__u64)((self)->cpus * CHARGE_BATCH + SMALL_PAGES) * page_size())

TEST_F(memcg, alloc_is_charged_to_the_cgroup_and_close_gives_it_back)
{
	const __u64 pages = (__u64)PAGES * page_size();
	__u64 start = 0, held = 0, after = 0;
	pid_t child;

	child = start_child(self, -1, &start);
	ASSERT_LT(0, child);
	self->fx.child = child;
	ASSERT_EQ(0, child_do(self, 'o'));

	ASSERT_EQ(0, child_do(self, 'a'));
	CURRENT(&held);
	EXPECT_LE(start + pages, held)
		TH_LOG("memory.current grew by %llu bytes for %llu",
		       held - start, pages);

	ASSERT_EQ(0, child_do(self, 'c'));
	CURRENT(&after);
	EXPECT_GE(start + SLACK_BYTES(self), after)
		TH_LOG("memory.current still %llu bytes above the start",
		       after - start);

	ASSERT_EQ(0, child_do(self, 'q'));
	ASSERT_EQ(0, wait_child(child));
	self->fx.child = 0;
}

TEST_F(memcg, dealloc_gives_the_charge_back)
{
	const __u64 pages = (__u64)PAGES * page_size();
	__u64 start = 0, held = 0, after = 0;
	pid_t child;

	child = start_child(self, -1, &start);
	ASSERT_LT(0, child);
	self->fx.child = child;
	ASSERT_EQ(0, child_do(self, 'o'));
	ASSERT_EQ(0, child_do(self, 'a'));
	CURRENT(&held);
	EXPECT_LE(start + pages, held);
	ASSERT_EQ(0, child_do(self, 'd'));
	CURRENT(&after);
	EXPECT_GE(start + SLACK_BYTES(self), after);

	ASSERT_EQ(0, child_do(self, 'q'));
	ASSERT_EQ(0, wait_child(child));
	self->fx.child = 0;
}

/*
 * The file is opened outside the cgroup and shared with the child: what
 * the child allocates through it is the child's cgroup's, what the opener
 * allocates through it is not.
 */
TEST_F(memcg, charge_follows_the_allocator_not_the_opener)
{
	const __u64 pages = (__u64)PAGES * page_size();
	__u64 start = 0, by_opener = 0, by_child = 0, index;
	pid_t child;

	self->fx.fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd);
	child = start_child(self, self->fx.fd, &start);
	ASSERT_LT(0, child);
	self->fx.child = child;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, PAGES, &index, NULL));
	CURRENT(&by_opener);
	EXPECT_GE(start + SLACK_BYTES(self), by_opener)
		TH_LOG("the opener's ALLOC charged %llu bytes to the child's cgroup",
		       by_opener - start);

	ASSERT_EQ(0, child_do(self, 'a'));
	CURRENT(&by_child);
	EXPECT_LE(start + pages, by_child);
	EXPECT_LT(by_opener, by_child);

	ASSERT_EQ(0, child_do(self, 'q'));
	ASSERT_EQ(0, wait_child(child));
	self->fx.child = 0;
}

TEST_HARNESS_MAIN
