// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: the reclaim of pending grants, under concurrency.
 *
 * A grant that the peer still maps when its owner releases it is "pending":
 * it keeps counting against the limit until the peer lets go.  The driver
 * promises (Documentation/admin-guide/xen-gntalloc.rst, "Pending pages")
 * that a pending page comes back by itself within about a second of the
 * peer's unmap, without any further ioctl, whatever else is going on:
 * ALLOCs retrying at the limit, new pending grants arriving all the time,
 * readers of debugfs.  An ALLOC at the limit waits for a reclaim that is
 * running rather than failing beside it, and debugfs counts every pending
 * grant even while a reclaim walks them.
 *
 * The waits are bounded by DRAIN_TIMEOUT_MS (5 s), five times the
 * documented bound: QEMU TCG is slow and noisy.  Each test logs what it
 * measured.
 */

#include <pthread.h>

#include "gntalloc_fixture.h"

#define DEBUGFS_FILES		"/sys/kernel/debug/gntalloc/files"
#define DEBUGFS_DOMAINS		"/sys/kernel/debug/gntalloc/domains"

FIXTURE(reclaim) {
	struct gntalloc_fixture fx;
	struct peer_map other;	/* a second peer mapping, beside fx.peer */
	uint32_t *refs;
};

FIXTURE_SETUP(reclaim)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_GNTDEV))
		return;
	REQUIRE_COUNTERS(return, &self->fx.env);
	ASSERT_EQ(0, set_limit(BIG_LIMIT));
}

FIXTURE_TEARDOWN_PARENT(reclaim)
{
	if (env_in_test_process(&self->fx.env)) {
		peer_unmap(&self->other);
		free(self->refs);
	}
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/*
 * ALLOC @count pages on @fd, have the peer map them (@peer) and deallocate
 * them: @count pending grants, which stay pending until peer_unmap(@peer).
 * @refs receives the references.  0 or -errno.
 */
static int make_pending(int fd, int gntdev, struct peer_map *peer,
			uint32_t *refs, uint32_t count)
{
	__u64 index;
	int err;

	if (gntalloc_alloc_rw(fd, count, &index, refs))
		return -errno;
	err = peer_map(peer, gntdev, refs, count, PROT_READ);
	if (err)
		return err;
	return gntalloc_dealloc(fd, index, count) ? -errno : 0;
}

/* ---------------------------------------------------------------------- */
/* Threads that ALLOC one page at a time                                   */
/* ---------------------------------------------------------------------- */

struct allocator {
	pthread_t thread;
	int fd;
	bool *stop;
	pthread_barrier_t *start;	/* or NULL */
	unsigned long tries, refused;
	int err;			/* errno of a failure but ENOSPC */
	bool got;			/* the one-shot ALLOC succeeded */
	__u64 index;
};

/* ALLOC(1) in a loop until *stop; what succeeds is deallocated at once. */
static void *alloc_loop(void *arg)
{
	struct allocator *a = arg;
	__u64 index;

	while (!READ_ONCE(*a->stop)) {
		a->tries++;
		if (gntalloc_alloc_rw(a->fd, 1, &index, NULL) == 0) {
			gntalloc_dealloc(a->fd, index, 1);
			continue;
		}
		if (errno == ENOSPC)
			a->refused++;
		else
			a->err = errno;
	}
	return NULL;
}

/* One ALLOC(1), started together with the others at the barrier. */
static void *alloc_once(void *arg)
{
	struct allocator *a = arg;

	pthread_barrier_wait(a->start);
	a->got = gntalloc_alloc_rw(a->fd, 1, &a->index, NULL) == 0;
	a->err = a->got ? 0 : errno;
	return NULL;
}

/*
 * Finding 1 of issue 12: while ALLOCs retry at the limit, each of them
 * takes the pending grants aside to retry them; the background work, if it
 * runs meanwhile, must not conclude that nothing is pending and stop.
 */
TEST_F(reclaim, pages_come_back_after_allocs_retried_at_the_limit)
{
	enum { P = 1024, THREADS = 4, RETRY_MS = 3000 };
	struct gntalloc_counters before, during, after;
	struct allocator a[THREADS];
	bool stop = false;
	unsigned long refused = 0;
	__u64 t0;
	int i, err;

	self->refs = calloc(P, sizeof(*self->refs));
	ASSERT_NE(NULL, self->refs);
	ASSERT_EQ(0, read_counters(&before));
	ASSERT_EQ(0, make_pending(self->fx.fd, self->fx.gntdev, &self->fx.peer,
				  self->refs, P));
	ASSERT_EQ(0, read_counters(&during));
	ASSERT_EQ(before.pending + P, during.pending);
	ASSERT_EQ(0, set_limit(during.in_use));

	memset(a, 0, sizeof(a));
	for (i = 0; i < THREADS; i++) {
		a[i].fd = self->fx.fd;
		a[i].stop = &stop;
		ASSERT_EQ(0, pthread_create(&a[i].thread, NULL, alloc_loop, &a[i]));
	}
	sleep_ms(RETRY_MS);
	WRITE_ONCE(stop, true);
	for (i = 0; i < THREADS; i++) {
		pthread_join(a[i].thread, NULL);
		EXPECT_EQ(0, a[i].err) TH_LOG("ALLOC: %s", strerror(a[i].err));
		refused += a[i].refused;
	}
	EXPECT_LT(0UL, refused) TH_LOG("no ALLOC was refused at the limit");

	/* The peer lets go; no ioctl of ours follows. */
	t0 = now_ms();
	peer_unmap(&self->fx.peer);
	err = wait_gauges(&before, GAUGE_IN_USE | GAUGE_PENDING, &after);
	EXPECT_EQ(0, err) {
		TH_LOG("%d ms after the peer let go: pending %llu (was %llu),",
		       DRAIN_TIMEOUT_MS, after.pending, before.pending);
		TH_LOG("in_use %llu (was %llu)", after.in_use, before.in_use);
	}
	TH_LOG("%lu ALLOCs refused; %d pages back %llu ms after the unmap",
	       refused, P, now_ms() - t0);
}

/*
 * Finding 2: grants going pending every few milliseconds must not postpone
 * the retry of a grant the peer already let go.  Two children drip, so that
 * one of them being descheduled leaves no gap in the stream.  While grants
 * keep coming, G0 comes back within a fraction of RECLAIM_BOUND_MS.
 */
#define RECLAIM_BOUND_MS	2000	/* twice the documented bound */

TEST_F(reclaim, a_stream_of_new_pending_grants_does_not_postpone_reclaim)
{
	enum { DRIPPERS = 2, DRIP = 1000, DRIP_MS = 5, HEAD_START_MS = 500 };
	const size_t ps = page_size();
	struct gntalloc_counters before;
	__u64 index, t0, took, freed, deadline;
	pid_t pids[DRIPPERS];
	bool dripping = true;
	uint32_t ref0;
	int i, status;

	self->refs = calloc(DRIPPERS * DRIP, sizeof(*self->refs));
	ASSERT_NE(NULL, self->refs);
	/* G0: pending until the peer lets go of it (self->other) */
	ASSERT_EQ(0, make_pending(self->fx.fd, self->fx.gntdev, &self->other,
				  &ref0, 1));
	/* The drip: grants the peer maps, released one by one */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, DRIPPERS * DRIP, &index,
				       self->refs));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, self->refs,
			      DRIPPERS * DRIP, PROT_READ));
	for (i = 0; i < DRIPPERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			__u64 first = index + (__u64)i * DRIP * ps;
			unsigned int n;

			for (n = 0; n < DRIP; n++) {
				if (gntalloc_dealloc(self->fx.fd, first + n * ps, 1))
					_exit(1);
				sleep_ms(DRIP_MS);
			}
			_exit(0);
		}
	}

	sleep_ms(HEAD_START_MS);
	ASSERT_EQ(0, read_counters(&before));
	t0 = now_ms();
	peer_unmap(&self->other);
	deadline = t0 + RECLAIM_BOUND_MS;
	do {
		freed = counter("freed_total");
		if (freed > before.freed_total)
			break;
		sleep_ms(5);
	} while (now_ms() < deadline);
	took = now_ms() - t0;
	for (i = 0; i < DRIPPERS; i++)
		if (waitpid(pids[i], &status, WNOHANG) != 0)
			dripping = false;
	for (i = 0; i < DRIPPERS; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}

	EXPECT_EQ(before.freed_total + 1, freed) {
		TH_LOG("G0 not freed %llu ms after the peer let go,", took);
		TH_LOG("while grants went pending every few ms");
	}
	EXPECT_TRUE(dripping)
		TH_LOG("a drip ended before G0 came back: inconclusive");
	TH_LOG("G0 back %llu ms after the unmap", took);
}

/*
 * Finding 3: two ALLOCs at the limit while pages wait to come back: the
 * second must wait for the first one's reclaim, not fail beside it.  A
 * long pending list (the peer keeps P pages) makes each reclaim walk long.
 */
TEST_F(reclaim, allocs_at_the_limit_share_the_room_that_comes_back)
{
	enum { P = 1024, ROUNDS = 20 };
	struct gntalloc_counters c;
	struct peer_map two = { 0 };
	pthread_barrier_t start;
	struct allocator a[2];
	unsigned int round, refused = 0;
	uint32_t refs[2];
	int i;

	self->refs = calloc(P, sizeof(*self->refs));
	ASSERT_NE(NULL, self->refs);
	ASSERT_EQ(0, make_pending(self->fx.fd, self->fx.gntdev, &self->fx.peer,
				  self->refs, P));
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, 2));

	for (round = 0; round < ROUNDS; round++) {
		/* Two more pending pages, counted in the limit, then let go */
		ASSERT_EQ(0, set_limit(BIG_LIMIT));
		ASSERT_EQ(0, make_pending(self->fx.fd, self->fx.gntdev, &two,
					  refs, 2));
		ASSERT_EQ(0, read_counters(&c));
		ASSERT_EQ(0, set_limit(c.in_use));
		peer_unmap(&two);

		memset(a, 0, sizeof(a));
		for (i = 0; i < 2; i++) {
			a[i].fd = self->fx.fd;
			a[i].start = &start;
			ASSERT_EQ(0, pthread_create(&a[i].thread, NULL,
						    alloc_once, &a[i]));
		}
		for (i = 0; i < 2; i++) {
			pthread_join(a[i].thread, NULL);
			if (a[i].got) {
				gntalloc_dealloc(self->fx.fd, a[i].index, 1);
				continue;
			}
			refused++;
			TH_LOG("round %u: ALLOC at the limit failed: %s", round,
			       strerror(a[i].err));
		}
	}
	pthread_barrier_destroy(&start);
	EXPECT_EQ(0U, refused);
}

/* ---------------------------------------------------------------------- */
/* debugfs while reclaims run                                              */
/* ---------------------------------------------------------------------- */

/* Read @path whole into @buf (NUL-terminated): 0 or -errno. */
static int slurp(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -EIO;
	buf[len] = 0;
	return 0;
}

/* Sum of the pending column of gntalloc/domains: -1 when unreadable. */
static __s64 debugfs_domains_pending(char *buf, size_t size)
{
	unsigned long domid, grants, pending;
	__s64 sum = 0;
	char *line;

	if (slurp(DEBUGFS_DOMAINS, buf, size))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] != '#' &&
		    sscanf(line, "%lu %lu %lu", &domid, &grants, &pending) == 3)
			sum += pending;
	return sum;
}

/* The pending column of @pid's lines in gntalloc/files: -1 when unreadable. */
static __s64 debugfs_files_pending(char *buf, size_t size, int pid)
{
	unsigned long held, mapped, pending;
	__s64 sum = 0;
	char *line;
	int p;

	if (slurp(DEBUGFS_FILES, buf, size))
		return -1;
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		if (line[0] != '#' &&
		    sscanf(line, "%d %lu %lu %lu", &p, &held, &mapped,
			   &pending) == 4 && p == pid)
			sum += pending;
	return sum;
}

TEST_F(reclaim, debugfs_counts_every_pending_grant_while_reclaims_run)
{
	enum { P = 1024, READ_MS = 3000 };
	static char buf[1 << 16];
	struct gntalloc_counters c;
	struct allocator a = { 0 };
	bool stop = false;
	unsigned int reads = 0, wrong = 0;
	__s64 domains, files;
	__u64 deadline;

	ASSERT_EQ(0, access(DEBUGFS_FILES, R_OK))
		TH_LOG("%s: %s", DEBUGFS_FILES, strerror(errno));
	self->refs = calloc(P, sizeof(*self->refs));
	ASSERT_NE(NULL, self->refs);
	ASSERT_EQ(0, make_pending(self->fx.fd, self->fx.gntdev, &self->fx.peer,
				  self->refs, P));
	ASSERT_EQ(0, read_counters(&c));
	/* Every ALLOC is refused, after walking the pending grants */
	ASSERT_EQ(0, set_limit(c.in_use));
	a.fd = self->fx.fd;
	a.stop = &stop;
	ASSERT_EQ(0, pthread_create(&a.thread, NULL, alloc_loop, &a));

	deadline = now_ms() + READ_MS;
	while (now_ms() < deadline) {
		domains = debugfs_domains_pending(buf, sizeof(buf));
		files = debugfs_files_pending(buf, sizeof(buf),
					      self->fx.env.pid);
		reads++;
		if (domains == (__s64)c.pending && files == P)
			continue;
		if (!wrong++) {
			TH_LOG("read %u: domains say %lld pending, files %lld,",
			       reads, domains, files);
			TH_LOG("sysfs %llu (ours %d)", c.pending, P);
		}
	}
	WRITE_ONCE(stop, true);
	pthread_join(a.thread, NULL);
	EXPECT_EQ(0U, wrong) TH_LOG("%u of %u readings wrong", wrong, reads);
	EXPECT_LT(0UL, a.refused);
	TH_LOG("%u readings, %lu ALLOCs refused meanwhile", reads, a.refused);
}

TEST_HARNESS_MAIN
