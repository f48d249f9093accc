// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: who holds grants - the debugfs files.
 *
 * Documentation/admin-guide/xen-gntalloc.rst gives root two debugfs files:
 *
 *   gntalloc/files    "# pid held mapped pending comm", then one line per
 *                     open file of the device: the opener's pid and comm,
 *                     pages allocated and not deallocated, pages in a user
 *                     mapping, pages released by this file that the peer
 *                     still maps;
 *   gntalloc/domains  "# domid grants pending quota", then one line per
 *                     peer domain that has grants (or a quota of its own):
 *                     every page the driver holds for it (pending ones
 *                     included), the pending ones, and its quota
 *                     (4294967295: none; gntalloc_quota_test checks it).
 *
 * The tests follow those lines through open, ALLOC, mmap, DEALLOC, munmap,
 * a peer that keeps pages mapped (our own gntdev) and close, and check that
 * nobody but root reads them.  gntstat, which prints them for operators, has
 * its own tests: gntalloc_gntstat_test.c.
 */

#include "gntalloc_fixture.h"

#define DEBUGFS_DIR		"/sys/kernel/debug/gntalloc"
#define DEBUGFS_FILES		DEBUGFS_DIR "/files"
#define DEBUGFS_DOMAINS		DEBUGFS_DIR "/domains"
#define FILES_HEADER		"# pid held mapped pending comm\n"
#define DOMAINS_HEADER		"# domid grants pending quota\n"
#define OTHER_DOMID		1	/* need not exist: ALLOC works all the same */
#define MAX_FDS			3
#define MAX_LINES		64
#define CHILD_TIMEOUT_MS	10000

/* ---------------------------------------------------------------------- */
/* Reading the two files                                                    */
/* ---------------------------------------------------------------------- */

struct file_line {
	int pid;
	__u64 held, mapped, pending;
	char comm[32];
};

struct domain_line {
	unsigned int domid;
	__u64 grants, pending, limit;
};

struct files_view {
	char header[64];
	int n;
	struct file_line line[MAX_LINES];
};

struct domains_view {
	char header[64];
	int n;
	struct domain_line line[MAX_LINES];
};

/*
 * "pid held mapped pending comm" with single spaces and nothing more: the
 * line must read back exactly as printed from the values it holds.
 */
static bool parse_file_line(const char *s, struct file_line *l)
{
	char again[128];
	int at = -1;

	if (sscanf(s, "%d %llu %llu %llu %n", &l->pid,
		   &l->held, &l->mapped, &l->pending, &at) != 4 || at < 0)
		return false;
	snprintf(again, sizeof(again), "%d %llu %llu %llu ",
		 l->pid, l->held, l->mapped, l->pending);
	if (strncmp(s, again, strlen(again)) || strlen(again) != (size_t)at)
		return false;
	snprintf(l->comm, sizeof(l->comm), "%s", s + at);
	l->comm[strcspn(l->comm, "\n")] = '\0';
	return l->comm[0] != '\0';
}

static bool parse_domain_line(const char *s, struct domain_line *l)
{
	char again[128];

	if (sscanf(s, "%u %llu %llu %llu", &l->domid,
		   &l->grants, &l->pending, &l->limit) != 4)
		return false;
	snprintf(again, sizeof(again), "%u %llu %llu %llu\n",
		 l->domid, l->grants, l->pending, l->limit);
	return !strcmp(s, again);
}

/* Read @path: its first line into @header, the others to @parse. */
static int read_view(const char *path, char *header, size_t header_size,
		     void *lines, size_t line_size, int *n,
		     bool (*parse)(const char *, void *))
{
	char buf[256];
	FILE *f;
	int err = 0;

	*n = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(header, (int)header_size, f))
		err = -EPROTO;
	while (!err && fgets(buf, sizeof(buf), f)) {
		if (*n == MAX_LINES)
			err = -E2BIG;
		else if (!parse(buf, (char *)lines + (size_t)*n * line_size))
			err = -EPROTO;
		else
			(*n)++;
	}
	fclose(f);
	return err;
}

static bool parse_file_cb(const char *s, void *l)
{
	return parse_file_line(s, l);
}

static bool parse_domain_cb(const char *s, void *l)
{
	return parse_domain_line(s, l);
}

static int read_files(struct files_view *v)
{
	return read_view(DEBUGFS_FILES, v->header, sizeof(v->header), v->line,
			 sizeof(v->line[0]), &v->n, parse_file_cb);
}

static int read_domains(struct domains_view *v)
{
	return read_view(DEBUGFS_DOMAINS, v->header, sizeof(v->header), v->line,
			 sizeof(v->line[0]), &v->n, parse_domain_cb);
}

/* The lines of @pid, up to @max of them, into @out: how many it has. */
static int lines_of(const struct files_view *v, int pid,
		    struct file_line *out, int max)
{
	int i, n = 0;

	for (i = 0; i < v->n; i++)
		if (v->line[i].pid == pid) {
			if (n < max)
				out[n] = v->line[i];
			n++;
		}
	return n;
}

/* The line of @domid, or NULL if it has none. */
static const struct domain_line *domain_of(const struct domains_view *v,
					   unsigned int domid)
{
	int i;

	for (i = 0; i < v->n; i++)
		if (v->line[i].domid == domid)
			return &v->line[i];
	return NULL;
}

static void domain_counts(const struct domains_view *v, unsigned int domid,
			  __u64 *grants, __u64 *pending)
{
	const struct domain_line *l = domain_of(v, domid);

	*grants = l ? l->grants : 0;
	*pending = l ? l->pending : 0;
}

/* ---------------------------------------------------------------------- */
/* The debugfs fixture                                                      */
/* ---------------------------------------------------------------------- */

FIXTURE(debugfs) {
	struct gntalloc_fixture fx;
	int fds[MAX_FDS];
	void *map;
	size_t map_len;
	char comm[32];
	struct domains_view base_domains;	/* at SETUP */
	struct files_view files;		/* as last read */
	struct domains_view domains;		/* as last read */
};

FIXTURE_SETUP(debugfs)
{
	int i;

	if (!gntalloc_fixture_setup(_metadata, &self->fx,
				    FX_GNTDEV | FX_PIPES | FX_NO_FILE))
		return;
	for (i = 0; i < MAX_FDS; i++)
		self->fds[i] = -1;
	ASSERT_EQ(0, access(DEBUGFS_FILES, R_OK))
		TH_LOG("%s: %s (debugfs not mounted on /sys/kernel/debug?)",
		       DEBUGFS_FILES, strerror(errno));
	ASSERT_EQ(0, read_domains(&self->base_domains));
	comm_of_self(self->comm, sizeof(self->comm));
	ASSERT_NE(0, self->comm[0]);
}

FIXTURE_TEARDOWN_PARENT(debugfs)
{
	if (env_in_test_process(&self->fx.env))
		close_all(self->fds, MAX_FDS);
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/* Read both files into self->files and self->domains. */
#define READ_DEBUGFS() do { \
	ASSERT_EQ(0, read_files(&self->files)); \
	ASSERT_EQ(0, read_domains(&self->domains)); \
} while (0)

/* The one line of @pid is "@pid @held @mapped @pending <our comm>". */
#define ASSERT_FILE_LINE(pid, h, m, p) do { \
	int _pid = (pid); \
	struct file_line _l; \
	ASSERT_EQ(1, lines_of(&self->files, _pid, &_l, 1)) \
		TH_LOG("lines of pid %d", _pid); \
	EXPECT_EQ((__u64)(h), _l.held) TH_LOG("held"); \
	EXPECT_EQ((__u64)(m), _l.mapped) TH_LOG("mapped"); \
	EXPECT_EQ((__u64)(p), _l.pending) TH_LOG("pending"); \
	EXPECT_STREQ(self->comm, _l.comm); \
} while (0)

/* Domain @domid has @g grants and @p pending more than at SETUP. */
#define ASSERT_DOMAIN_DELTA(domid, g, p) do { \
	unsigned int _domid = (domid); \
	__u64 _bg, _bp, _g, _p; \
	domain_counts(&self->base_domains, _domid, &_bg, &_bp); \
	domain_counts(&self->domains, _domid, &_g, &_p); \
	ASSERT_EQ(_bg + (__u64)(g), _g) TH_LOG("grants of domain %u", _domid); \
	ASSERT_EQ(_bp + (__u64)(p), _p) TH_LOG("pending of domain %u", _domid); \
	if (!_g) \
		ASSERT_EQ(NULL, domain_of(&self->domains, _domid)) \
			TH_LOG("domain %u listed without grants", _domid); \
} while (0)

static void *map_pages(struct _test_data_debugfs *self, int fd, __u64 index,
		       size_t pages)
{
	void *p = gntalloc_mmap(fd, index, pages);

	if (p != MAP_FAILED) {
		self->map = p;
		self->map_len = pages * page_size();
		fx_track(&self->fx, p, self->map_len);
	}
	return p;
}

static void close_fd(int *fd)
{
	close(*fd);
	*fd = -1;
}

TEST_F(debugfs, headers_name_the_columns)
{
	READ_DEBUGFS();
	EXPECT_STREQ(FILES_HEADER, self->files.header);
	EXPECT_STREQ(DOMAINS_HEADER, self->domains.header);
}

TEST_F(debugfs, open_adds_a_line_and_close_removes_it)
{
	const pid_t pid = getpid();

	READ_DEBUGFS();
	ASSERT_EQ(0, lines_of(&self->files, pid, NULL, 0));
	self->fds[0] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[0]);
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 0, 0, 0);
	close_fd(&self->fds[0]);
	READ_DEBUGFS();
	EXPECT_EQ(0, lines_of(&self->files, pid, NULL, 0));
}

TEST_F(debugfs, each_open_file_has_its_own_line)
{
	struct file_line l[MAX_FDS];
	bool seen[MAX_FDS + 1] = { false };
	int i;

	for (i = 0; i < MAX_FDS; i++) {
		self->fds[i] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fds[i]);
		/* File i holds i + 1 pages. */
		ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[i], (uint32_t)i + 1, NULL,
					       NULL));
	}
	READ_DEBUGFS();
	ASSERT_EQ(MAX_FDS, lines_of(&self->files, getpid(), l, MAX_FDS));
	for (i = 0; i < MAX_FDS; i++) {
		ASSERT_LE(1U, l[i].held);
		ASSERT_GE((__u64)MAX_FDS, l[i].held);
		EXPECT_FALSE(seen[l[i].held]) TH_LOG("two lines hold %llu",
						     l[i].held);
		seen[l[i].held] = true;
		EXPECT_EQ(0U, l[i].mapped);
		EXPECT_EQ(0U, l[i].pending);
		EXPECT_STREQ(self->comm, l[i].comm);
	}
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 1 + 2 + 3, 0);

	close_fd(&self->fds[1]);
	READ_DEBUGFS();
	ASSERT_EQ(MAX_FDS - 1, lines_of(&self->files, getpid(), l, MAX_FDS));
	EXPECT_EQ(1U + 3U, l[0].held + l[1].held);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 1 + 3, 0);
}

/*
 * held counts what is allocated and not deallocated, mapped what is in a
 * user mapping (deallocated or not); the domain counts every page the
 * driver still holds for it.
 */
TEST_F(debugfs, held_and_mapped_follow_alloc_mmap_dealloc_munmap)
{
	const size_t ps = page_size();
	const pid_t pid = getpid();
	__u64 index;

	self->fds[0] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[0]);

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], 5, &index, NULL));
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 5, 0, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 5, 0);

	/* Pages 0-2 mapped. */
	ASSERT_NE(MAP_FAILED, map_pages(self, self->fds[0], index, 3));
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 5, 3, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 5, 0);

	/* Pages 0-1 deallocated: still mapped, still the driver's. */
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index, 2));
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 3, 3, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 5, 0);

	/* Pages 3-4 deallocated, not mapped: gone. */
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index + 3 * ps, 2));
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 1, 3, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 3, 0);

	/* The mapping goes, and pages 0-1 with it. */
	ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
	self->map = NULL;
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 1, 0, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 1, 0);

	close_fd(&self->fds[0]);
	READ_DEBUGFS();
	EXPECT_EQ(0, lines_of(&self->files, pid, NULL, 0));
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 0, 0);
}

/* A forked child using the parent's file counts on the opener's line. */
TEST_F(debugfs, forked_child_use_shows_under_the_opener)
{
	const pid_t pid = getpid();
	pid_t child;
	int fd;

	self->fds[0] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[0]);
	fd = self->fds[0];
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		__u64 index;

		if (gntalloc_alloc_rw(fd, 3, &index, NULL))
			_exit(1);
		if (gntalloc_mmap(fd, index, 2) == MAP_FAILED)
			_exit(2);
		if (send_byte(self->fx.to_parent[1], 'a') ||
		    recv_byte(self->fx.to_child[0], CHILD_TIMEOUT_MS) != 'x')
			_exit(3);
		_exit(0);
	}
	self->fx.child = child;
	ASSERT_EQ('a', recv_byte(self->fx.to_parent[0], CHILD_TIMEOUT_MS));

	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 3, 2, 0);
	EXPECT_EQ(0, lines_of(&self->files, child, NULL, 0))
		TH_LOG("the child that only used the file has a line");
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 3, 0);

	/* Its exit takes its mapping; its pages stay with the file. */
	ASSERT_EQ(0, send_byte(self->fx.to_child[1], 'x'));
	ASSERT_EQ(0, wait_child(child));
	self->fx.child = 0;
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 3, 0, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 3, 0);
}

/* A file the child opens is the child's line, gone when the child is. */
TEST_F(debugfs, file_a_child_opens_has_the_childs_line)
{
	const pid_t pid = getpid();
	pid_t child;

	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		int fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);

		if (fd < 0 || gntalloc_alloc_rw(fd, 2, NULL, NULL))
			_exit(1);
		if (send_byte(self->fx.to_parent[1], 'a') ||
		    recv_byte(self->fx.to_child[0], CHILD_TIMEOUT_MS) != 'x')
			_exit(3);
		_exit(0);
	}
	self->fx.child = child;
	ASSERT_EQ('a', recv_byte(self->fx.to_parent[0], CHILD_TIMEOUT_MS));

	READ_DEBUGFS();
	/* A forked child has its parent's comm. */
	ASSERT_FILE_LINE(child, 2, 0, 0);
	EXPECT_EQ(0, lines_of(&self->files, pid, NULL, 0));
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 2, 0);

	ASSERT_EQ(0, send_byte(self->fx.to_child[1], 'x'));
	ASSERT_EQ(0, wait_child(child));
	self->fx.child = 0;
	READ_DEBUGFS();
	EXPECT_EQ(0, lines_of(&self->files, child, NULL, 0));
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 0, 0);
}

/*
 * Pages released while the peer maps them are pending: on the line of the
 * file that released them while it is open, and on their domain's line
 * until the peer lets go.
 */
TEST_F(debugfs, pending_shows_on_the_releasing_file_and_its_domain)
{
	enum { N = 2 };
	const pid_t pid = getpid();
	struct gntalloc_counters c;
	uint32_t refs[N + 1];
	__u64 index, kept;

	self->fds[0] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[0]);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], N, &index, refs));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], 1, &kept, &refs[N]));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, N,
			      PROT_READ | PROT_WRITE));
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, N + 1, 0, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, N + 1, 0);

	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index, N));
	READ_DEBUGFS();
	ASSERT_FILE_LINE(pid, 1, 0, N);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, N + 1, N);

	/* The file goes; the pages its peer holds stay on the domain. */
	close_fd(&self->fds[0]);
	READ_DEBUGFS();
	EXPECT_EQ(0, lines_of(&self->files, pid, NULL, 0));
	ASSERT_DOMAIN_DELTA(SELF_DOMID, N, N);

	peer_unmap(&self->fx.peer);
	ASSERT_EQ(0, wait_gauges(&self->fx.env.base, GAUGE_PENDING, &c));
	READ_DEBUGFS();
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 0, 0);
}

TEST_F(debugfs, grants_to_two_domains_give_two_lines)
{
	const size_t ps = page_size();
	__u64 mine, theirs;

	self->fds[0] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[0]);
	READ_DEBUGFS();
	ASSERT_DOMAIN_DELTA(OTHER_DOMID, 0, 0);

	ASSERT_EQ(0, gntalloc_alloc(self->fds[0], SELF_DOMID,
				    GNTALLOC_FLAG_WRITABLE, 2, &mine, NULL));
	ASSERT_EQ(0, gntalloc_alloc(self->fds[0], OTHER_DOMID, 0, 3, &theirs,
				    NULL));
	READ_DEBUGFS();
	ASSERT_NE(NULL, domain_of(&self->domains, SELF_DOMID));
	ASSERT_NE(NULL, domain_of(&self->domains, OTHER_DOMID));
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 2, 0);
	ASSERT_DOMAIN_DELTA(OTHER_DOMID, 3, 0);
	ASSERT_FILE_LINE(getpid(), 5, 0, 0);

	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], theirs + ps, 2));
	READ_DEBUGFS();
	ASSERT_DOMAIN_DELTA(OTHER_DOMID, 1, 0);
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], theirs, 1));
	READ_DEBUGFS();
	ASSERT_DOMAIN_DELTA(OTHER_DOMID, 0, 0);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 2, 0);
}

/* The files add up to the sysfs counters. */
TEST_F(debugfs, lines_add_up_to_the_sysfs_counters)
{
	const size_t ps = page_size();
	__u64 grants = 0, pending = 0, mapped = 0, index;
	struct gntalloc_counters c;
	uint32_t refs[4];
	int i;

	self->fds[0] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[0]);
	self->fds[1] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fds[1]);
	/* Held and mapped; deallocated and mapped; pending; another domain. */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fds[0], 4, &index, refs));
	ASSERT_NE(MAP_FAILED, map_pages(self, self->fds[0], index, 2));
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index + ps, 1));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &refs[3], 1,
			      PROT_READ));
	ASSERT_EQ(0, gntalloc_dealloc(self->fds[0], index + 3 * ps, 1));
	ASSERT_EQ(0, gntalloc_alloc(self->fds[1], OTHER_DOMID, 0, 3, NULL, NULL));

	READ_DEBUGFS();
	ASSERT_EQ(0, read_counters(&c));
	for (i = 0; i < self->domains.n; i++) {
		grants += self->domains.line[i].grants;
		pending += self->domains.line[i].pending;
	}
	for (i = 0; i < self->files.n; i++)
		mapped += self->files.line[i].mapped;
	EXPECT_EQ(c.in_use, grants);
	EXPECT_EQ(c.pending, pending);
	EXPECT_EQ(c.mapped, mapped);
	ASSERT_DOMAIN_DELTA(SELF_DOMID, 4, 1);
	ASSERT_DOMAIN_DELTA(OTHER_DOMID, 3, 0);
}

/* Run @fn(@path) as nobody in a child: its return value is the exit code. */
static int as_nobody(int (*fn)(int, const char *), int dirfd, const char *path)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (become_nobody())
			_exit(100);
		_exit(fn(dirfd, path));
	}
	return wait_child(pid);
}

/* 0 if opening @path (relative to @dirfd) for reading fails with EACCES. */
static int read_refused(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES ? 0 : 2;
}

/* 0 if root can read @path (relative to @dirfd). */
static int read_allowed(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY);
	char c;

	if (fd < 0)
		return 1;
	if (read(fd, &c, 1) != 1) {
		close(fd);
		return 2;
	}
	close(fd);
	return 0;
}

TEST_F(debugfs, files_are_root_only)
{
	static const char *const names[] = { "files", "domains" };
	char path[128];
	struct stat st;
	size_t i;
	int dir;

	/*
	 * The debugfs root is itself root-only (0700): from an open
	 * directory of ours, only the files' own mode can refuse.
	 */
	dir = open(DEBUGFS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dir);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), DEBUGFS_DIR "/%s", names[i]);
		ASSERT_EQ(0, stat(path, &st));
		EXPECT_EQ(0400U, st.st_mode & 07777) TH_LOG("%s", path);
		EXPECT_EQ(0U, st.st_uid) TH_LOG("%s", path);
		/* A positive control: the same check lets root in. */
		EXPECT_EQ(0, read_allowed(dir, names[i])) TH_LOG("%s", path);
		EXPECT_EQ(0, as_nobody(read_refused, dir, names[i]))
			TH_LOG("nobody opened %s", path);
		EXPECT_EQ(0, as_nobody(read_refused, AT_FDCWD, path))
			TH_LOG("nobody opened %s", path);
	}
	close(dir);
}

TEST_HARNESS_MAIN
