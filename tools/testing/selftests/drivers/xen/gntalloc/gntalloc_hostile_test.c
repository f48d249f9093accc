// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: a peer that does not let go.
 *
 * A peer (gntdev mapping our own grants, as another domain would) may keep
 * pages mapped for as long as it likes after their owner released them,
 * however the owner did: DEALLOC and munmap, close, exit, or being killed.
 * Those pages are pending.  The driver must neither free them under the
 * peer nor stop counting them: they stay in in_use and pending however
 * often it retries, the limit still holds against them (ENOSPC, counted in
 * limit_hits, although the owner holds nothing), the peer still reads and
 * writes them while other memory is allocated and freed around them, and
 * once the peer unmaps they come back - pending and in_use drop,
 * freed_total grows - within a bounded time and without any further call
 * of ours.
 *
 * Unloading the module with such pages left is gntalloc_unload_test.c.
 *
 * (That unprivileged users can neither open the device nor write the limit
 * is checked in gntalloc_sysfs_test, that they cannot read the debugfs files
 * in gntalloc_debugfs_test.)
 */

#include "gntalloc_fixture.h"

#include <signal.h>

#define PINNED		8	/* pages the peer keeps */
#define NOTIFY_BYTE	100
#define HOLD_MS		2500	/* > several reclaim retries (they back off to 1 s) */
#define RECLAIM_MS	2500ULL	/* "within about a second" once the peer unmaps */
#define CHURN_BYTES	(32UL << 20)
#define CHILD_TIMEOUT_MS 10000

/* ---------------------------------------------------------------------- */
/* A peer that keeps released pages mapped                                  */
/* ---------------------------------------------------------------------- */

enum release {
	DEALLOC_AND_MUNMAP,	/* the file stays open, holding nothing */
	CLOSE,
	OWNER_EXITS,
	OWNER_KILLED,
};

FIXTURE(hostile_peer) {
	struct gntalloc_fixture fx;
	void *map;
	size_t map_len;
	__u64 index;
	uint32_t refs[PINNED];
	struct gntalloc_counters pinned;	/* right after the release */
};

FIXTURE_VARIANT(hostile_peer) {
	enum release release;
};

FIXTURE_VARIANT_ADD(hostile_peer, owner_deallocates_and_unmaps) {
	.release = DEALLOC_AND_MUNMAP,
};

FIXTURE_VARIANT_ADD(hostile_peer, owner_closes_the_file) {
	.release = CLOSE,
};

FIXTURE_VARIANT_ADD(hostile_peer, owner_exits) {
	.release = OWNER_EXITS,
};

FIXTURE_VARIANT_ADD(hostile_peer, owner_is_killed) {
	.release = OWNER_KILLED,
};

/*
 * The owner's side: PINNED writable pages, each tagged, with MARK on
 * NOTIFY_BYTE and an UNMAP_NOTIFY_CLEAR_BYTE there.  0 or -errno; on success
 * *@map, *@index and @refs are set.
 */
static int owner_share(int fd, void **map, __u64 *index, uint32_t *refs)
{
	const size_t ps = page_size();
	uint8_t *p;
	uint32_t i;

	if (gntalloc_alloc_rw(fd, PINNED, index, refs))
		return -errno;
	p = gntalloc_mmap(fd, *index, PINNED);
	if (p == MAP_FAILED)
		return -errno;
	for (i = 0; i < PINNED; i++) {
		*(__u64 *)(p + i * ps) = page_tag(i);
		p[i * ps + NOTIFY_BYTE] = MARK;
		if (gntalloc_set_notify(fd, *index + i * ps + NOTIFY_BYTE,
					UNMAP_NOTIFY_CLEAR_BYTE, 0))
			return -errno;
	}
	*map = p;
	return 0;
}

/* A child that shares the pages, sends their refs, and waits to go. */
static int owner_child(int to_parent, int from_parent)
{
	uint32_t refs[PINNED];
	__u64 index;
	void *map;
	int fd, err;

	fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	err = owner_share(fd, &map, &index, refs);
	if (err)
		return 2;
	if (write(to_parent, refs, sizeof(refs)) != sizeof(refs))
		return 3;
	/* Exit (or be killed) holding the file, the mapping, the notifications. */
	recv_byte(from_parent, CHILD_TIMEOUT_MS);
	return 0;
}

FIXTURE_SETUP(hostile_peer)
{
	int to_parent[2] = { -1, -1 }, from_parent[2] = { -1, -1 };
	uint32_t i;
	pid_t pid;

	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_GNTDEV | FX_NO_FILE))
		return;

	if (!self->fx.env.counters)
		SKIP(return, "%s is missing: stock driver, no pending pages to count",
		     GNTALLOC_SYSFS);

	if (variant->release == OWNER_EXITS || variant->release == OWNER_KILLED) {
		ASSERT_EQ(0, pipe2(to_parent, O_CLOEXEC));
		ASSERT_EQ(0, pipe2(from_parent, O_CLOEXEC));
		/* fork()'s 0 must not reach the fixture: 6.12 shares it. */
		pid = fork();
		if (pid == 0)
			_exit(owner_child(to_parent[1], from_parent[0]));
		self->fx.child = pid;
		ASSERT_LT(0, self->fx.child);
		ASSERT_TRUE(wait_readable(to_parent[0], CHILD_TIMEOUT_MS));
		ASSERT_EQ((ssize_t)sizeof(self->refs),
			  read(to_parent[0], self->refs, sizeof(self->refs)));
	} else {
		self->fx.fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fx.fd);
		self->map_len = PINNED * page_size();
		ASSERT_EQ(0, owner_share(self->fx.fd, &self->map, &self->index,
					 self->refs));
		fx_track(&self->fx, self->map, self->map_len);
	}

	/* The peer maps every page, and sees the owner's data. */
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, self->refs, PINNED,
			      PROT_READ | PROT_WRITE));
	for (i = 0; i < PINNED; i++) {
		ASSERT_EQ(page_tag(i), peer_get64(&self->fx.peer, i, 0));
		ASSERT_EQ(MARK, peer_get(&self->fx.peer, i, NOTIFY_BYTE));
	}

	/* The owner lets go of everything. */
	switch (variant->release) {
	case DEALLOC_AND_MUNMAP:
		ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, self->index, PINNED));
		ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
		self->map = NULL;
		break;
	case CLOSE:
		ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
		self->map = NULL;
		ASSERT_EQ(0, close(self->fx.fd));
		self->fx.fd = -1;
		break;
	case OWNER_EXITS:
		ASSERT_EQ(0, send_byte(from_parent[1], 'x'));
		ASSERT_EQ(0, wait_child(self->fx.child));
		self->fx.child = 0;
		break;
	case OWNER_KILLED:
		ASSERT_EQ(0, kill(self->fx.child, SIGKILL));
		ASSERT_EQ(128 + SIGKILL, wait_child(self->fx.child));
		self->fx.child = 0;
		break;
	}
	close_pipe(to_parent);
	close_pipe(from_parent);
	ASSERT_EQ(0, read_counters(&self->pinned));
}

FIXTURE_TEARDOWN_PARENT(hostile_peer)
{
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/*
 * The pinned pages are all counted: in use and pending, mapped by none of
 * our mappings, and not freed - whatever a test allocated and freed since,
 * freed_total grew by exactly that.
 */
static void expect_pinned(struct __test_metadata *_metadata,
			  const struct _test_data_hostile_peer *self, const char *when)
{
	const struct gntalloc_counters *b = &self->fx.env.base, *p = &self->pinned;
	struct gntalloc_counters c;

	ASSERT_EQ(0, read_counters(&c));
	EXPECT_EQ(b->in_use + PINNED, c.in_use) TH_LOG("in_use %s", when);
	EXPECT_EQ(b->pending + PINNED, c.pending) TH_LOG("pending %s", when);
	EXPECT_EQ(b->mapped, c.mapped) TH_LOG("mapped %s", when);
	EXPECT_EQ(c.allocated_total - p->allocated_total,
		  c.freed_total - p->freed_total)
		TH_LOG("%s: more pages freed than allocated since the release: %s",
		       when, "freed under the peer");
	EXPECT_EQ(c.in_use, c.allocated_total - c.freed_total) TH_LOG("%s", when);
}

TEST_F(hostile_peer, pinned_pages_stay_counted_and_pending)
{
	expect_pinned(_metadata, self, "right after the release");
	/* However often the driver retries in the background. */
	sleep_ms(HOLD_MS);
	expect_pinned(_metadata, self, "after the background retries");
}

TEST_F(hostile_peer, limit_still_holds_against_pinned_pages)
{
	struct gntalloc_counters before, after;
	__u64 index;
	int fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	/* Room for exactly two pages beyond what the peer pins. */
	ASSERT_EQ(0, set_limit(self->pinned.in_use + 2));
	ASSERT_EQ(0, read_counters(&before));
	ASSERT_EQ(-1, gntalloc_alloc_rw(fd, 3, NULL, NULL))
		TH_LOG("the pinned pages were not counted against the limit");
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_alloc_rw(fd, 2, &index, NULL));
	ASSERT_EQ(-1, gntalloc_alloc_rw(fd, 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_dealloc(fd, index, 2));
	/* Below what is pinned: nothing at all, although the owner holds nothing. */
	ASSERT_EQ(0, set_limit(self->pinned.in_use - 1));
	ASSERT_EQ(-1, gntalloc_alloc_rw(fd, 1, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, read_counters(&after));
	EXPECT_EQ(before.limit_hits + 3, after.limit_hits);
	EXPECT_EQ(before.alloc_failures, after.alloc_failures);
	/* Each refusal retried the pending pages: the peer still has them. */
	EXPECT_EQ(before.pending, after.pending);
	EXPECT_EQ(before.in_use, after.in_use);
	close(fd);
	expect_pinned(_metadata, self, "after the refused ALLOCs");
}

TEST_F(hostile_peer, peer_still_reads_and_writes_pinned_pages)
{
	uint8_t *churn;
	__u64 index;
	uint32_t i;
	int fd;

	for (i = 0; i < PINNED; i++) {
		ASSERT_EQ(page_tag(i), peer_get64(&self->fx.peer, i, 0))
			TH_LOG("page %u changed under the peer", i);
		/* The release was notified, although the page is not freed. */
		ASSERT_EQ(0, peer_get(&self->fx.peer, i, NOTIFY_BYTE))
			TH_LOG("page %u: no notification at its release", i);
		peer_set64(&self->fx.peer, i, 8, ~page_tag(i));
	}
	/*
	 * Memory comes and goes around the pinned pages: new grant pages
	 * (zeroed) and anonymous memory (filled).  A pinned page freed by
	 * mistake would soon be one of them, and change under the peer.
	 */
	fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, limit_headroom(&self->fx.env, 64 + PINNED));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, gntalloc_alloc_rw(fd, 64, &index, NULL));
		ASSERT_EQ(0, gntalloc_dealloc(fd, index, 64));
	}
	close(fd);
	churn = mmap(NULL, CHURN_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, churn);
	memset(churn, 0x5a, CHURN_BYTES);
	munmap(churn, CHURN_BYTES);
	sleep_ms(HOLD_MS / 2);

	for (i = 0; i < PINNED; i++) {
		ASSERT_EQ(page_tag(i), peer_get64(&self->fx.peer, i, 0))
			TH_LOG("page %u changed under the peer", i);
		ASSERT_EQ(~page_tag(i), peer_get64(&self->fx.peer, i, 8))
			TH_LOG("page %u lost the peer's write", i);
	}
	expect_pinned(_metadata, self, "after the churn");
}

TEST_F(hostile_peer, pages_come_back_once_the_peer_unmaps)
{
	struct gntalloc_counters c;
	__u64 start, took;

	/* Long enough for the background retries to back off to their slowest. */
	sleep_ms(HOLD_MS);
	expect_pinned(_metadata, self, "before the peer unmaps");

	/* The peer lets go; nothing of ours follows: no ioctl, no open. */
	peer_unmap(&self->fx.peer);
	start = now_ms();
	ASSERT_EQ(0, wait_gauges(&self->fx.env.base,
				 GAUGE_IN_USE | GAUGE_PENDING, &c))
		TH_LOG("still %llu pending after %d ms",
		       c.pending - self->fx.env.base.pending, DRAIN_TIMEOUT_MS);
	took = now_ms() - start;
	TH_LOG("%d pages came back %llu ms after the peer unmapped them",
	       PINNED, took);
	EXPECT_GE(RECLAIM_MS, took) TH_LOG("not within about a second");
	EXPECT_EQ(self->fx.env.base.freed_total + PINNED, c.freed_total);
	EXPECT_EQ(c.in_use, c.allocated_total - c.freed_total);
}

TEST_HARNESS_MAIN
