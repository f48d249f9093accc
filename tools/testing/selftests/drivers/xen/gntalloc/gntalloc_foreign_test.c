// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: the foreign side of a grant.
 *
 * The peer (a gntdev mapping of our own grant, as another domain would map
 * it) shares the page with us both ways, and only as the grant allows.  A
 * grant that the peer still maps when its owner releases it cannot be freed:
 * the page stays with the peer, it is "pending", it still counts against the
 * limit (a peer must not be able to pin memory beyond it), and it comes back
 * by itself shortly after the peer unmaps it - without any further ioctl - or
 * at once when an ALLOC needs the room.
 */

#include <pthread.h>

#include "gntalloc_fixture.h"

FIXTURE(foreign) {
	struct gntalloc_fixture fx;
	void *map;
	size_t map_len;
};

FIXTURE_SETUP(foreign)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_GNTDEV))
		return;
}

FIXTURE_TEARDOWN_PARENT(foreign)
{
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(foreign, peer_and_owner_see_each_others_writes)
{
	enum { N = 4 };
	const size_t ps = page_size();
	uint8_t *mine, *theirs;
	uint32_t refs[N];
	__u64 index;
	size_t i;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, refs));
	self->map_len = N * ps;
	self->map = fx_mmap(&self->fx, self->fx.fd, index, N);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, N,
			      PROT_READ | PROT_WRITE));
	mine = self->map;
	theirs = self->fx.peer.addr;

	for (i = 0; i < N; i++) {
		WRITE_ONCE(mine[i * ps], 'o' + i);
		WRITE_ONCE(theirs[i * ps + ps - 1], 'p' + i);
	}
	for (i = 0; i < N; i++) {
		EXPECT_EQ('o' + i, READ_ONCE(theirs[i * ps]));
		EXPECT_EQ('p' + i, READ_ONCE(mine[i * ps + ps - 1]));
	}
}

TEST_F(foreign, read_only_grant_cannot_be_mapped_writable_by_the_peer)
{
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID, 0, 1, &index, &ref));
	ASSERT_GT(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
			      PROT_READ | PROT_WRITE));
	/* Read-only is fine. */
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
}

TEST_F(foreign, read_only_grant_is_readable_by_the_peer)
{
	__u64 index;
	uint32_t ref;
	uint8_t *mine;

	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID, 0, 1, &index, &ref));
	self->map_len = page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	mine = self->map;
	mine[42] = MARK;
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
	EXPECT_EQ(MARK, peer_get(&self->fx.peer, 0, 42));
	mine[43] = MARK;
	EXPECT_EQ(MARK, peer_get(&self->fx.peer, 0, 43));
}

TEST_F(foreign, grant_to_another_domain_is_not_ours_to_map)
{
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, 1, GNTALLOC_FLAG_WRITABLE, 1,
				    &index, &ref));
	ASSERT_GT(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
	/* The same, granted to us, is ours to map. */
	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID,
				    GNTALLOC_FLAG_WRITABLE, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
}

TEST_F(foreign, deallocated_grant_keeps_its_data_for_the_peer)
{
	uint8_t *theirs;
	__u64 index;
	uint32_t ref;
	uint8_t *mine;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	self->map_len = page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	mine = self->map;
	memset(mine, MARK, self->map_len);
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
	self->map = NULL;

	/* The owner is gone; the page is not. */
	theirs = self->fx.peer.addr;
	WRITE_ONCE(theirs[0], 1);
	EXPECT_EQ(1, READ_ONCE(theirs[0]));
	EXPECT_EQ(MARK, READ_ONCE(theirs[1]));
	EXPECT_EQ(MARK, READ_ONCE(theirs[self->map_len - 1]));
}

TEST_F(foreign, pending_grant_is_not_handed_out_again)
{
	enum { N = 64 };
	uint8_t *theirs;
	uint32_t ref, refs[N];
	__u64 index, more;
	int i;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
			      PROT_READ | PROT_WRITE));
	theirs = self->fx.peer.addr;
	WRITE_ONCE(theirs[0], MARK);
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &more, refs));
	for (i = 0; i < N; i++)
		EXPECT_NE(ref, refs[i]) TH_LOG("pending ref %u reused", ref);
	self->map_len = N * page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, more, N);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	memset(self->map, 0, self->map_len);
	EXPECT_EQ(MARK, READ_ONCE(theirs[0]));
}

TEST_F(foreign, peer_mapped_grant_is_pending_until_the_peer_unmaps)
{
	struct gntalloc_counters before, during, after;
	__u64 index;
	uint32_t ref;

	REQUIRE_COUNTERS(return, &self->fx.env);
	ASSERT_EQ(0, read_counters(&before));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));

	ASSERT_EQ(0, read_counters(&during));
	EXPECT_EQ(before.pending + 1, during.pending);
	EXPECT_EQ(before.in_use + 1, during.in_use);
	EXPECT_EQ(before.freed_total, during.freed_total);
	/* Still pending a moment later: nothing frees it behind the peer. */
	sleep_ms(300);
	ASSERT_EQ(0, read_counters(&during));
	EXPECT_EQ(before.pending + 1, during.pending);

	/* The peer lets go; no ioctl of ours follows. */
	peer_unmap(&self->fx.peer);
	EXPECT_EQ(0, wait_gauges(&before, GAUGE_IN_USE | GAUGE_PENDING, &after))
		TH_LOG("pending %llu, in_use %llu after %d ms",
		       after.pending, after.in_use, DRAIN_TIMEOUT_MS);
	EXPECT_EQ(before.freed_total + 1, after.freed_total);
}

TEST_F(foreign, closed_file_leaves_peer_mapped_grants_pending)
{
	struct gntalloc_counters before, during, after;
	uint8_t *theirs;
	__u64 index;
	uint32_t refs[3];

	REQUIRE_COUNTERS(return, &self->fx.env);
	ASSERT_EQ(0, read_counters(&before));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, refs));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, 2,
			      PROT_READ | PROT_WRITE));
	theirs = self->fx.peer.addr;
	WRITE_ONCE(theirs[0], MARK);
	ASSERT_EQ(0, close(self->fx.fd));
	self->fx.fd = -1;

	ASSERT_EQ(0, read_counters(&during));
	EXPECT_EQ(before.pending + 2, during.pending);
	EXPECT_EQ(before.in_use + 2, during.in_use);
	EXPECT_EQ(before.freed_total + 1, during.freed_total);
	EXPECT_EQ(MARK, READ_ONCE(theirs[0]));

	peer_unmap(&self->fx.peer);
	EXPECT_EQ(0, wait_gauges(&before, GAUGE_IN_USE | GAUGE_PENDING, &after));
	EXPECT_EQ(before.freed_total + 3, after.freed_total);
}

TEST_F(foreign, many_pending_grants_all_come_back)
{
	enum { N = 48 };
	struct gntalloc_counters before, during, after;
	uint32_t refs[N];
	__u64 index;

	REQUIRE_COUNTERS(return, &self->fx.env);
	ASSERT_EQ(0, read_counters(&before));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, refs));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, N, PROT_READ));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, N));
	ASSERT_EQ(0, read_counters(&during));
	EXPECT_EQ(before.pending + N, during.pending);

	peer_unmap(&self->fx.peer);
	EXPECT_EQ(0, wait_gauges(&before, GAUGE_IN_USE | GAUGE_PENDING, &after))
		TH_LOG("pending %llu of %d after %d ms",
		       after.pending - before.pending, N, DRAIN_TIMEOUT_MS);
}

TEST_F(foreign, pending_grants_count_against_the_limit)
{
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, limit_headroom(&self->fx.env, 1));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));

	/* The peer still pins the page: no room for another one. */
	ASSERT_EQ(-1, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL))
		TH_LOG("a grant the peer still maps was not counted");
	ASSERT_EQ(ENOSPC, errno);
}

TEST_F(foreign, alloc_at_the_limit_reclaims_unmapped_grants_at_once)
{
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, limit_headroom(&self->fx.env, 1));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	peer_unmap(&self->fx.peer);

	/* No waiting for the background work: ALLOC makes the room. */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL))
		TH_LOG("ALLOC at the limit did not reclaim: %s", strerror(errno));
}

/* ---------------------------------------------------------------------- */
/* A peer that maps a reference before the ALLOC that made it returns      */
/* ---------------------------------------------------------------------- */

struct early_peer {
	struct peer_map *peer;
	int gntdev;
	uint32_t *ref;		/* where the ALLOC writes its first reference */
	int err;		/* peer_map()'s result, -ETIMEDOUT if no ref came */
};

/* Map the first reference as soon as the ALLOC writes it out. */
static void *map_early(void *arg)
{
	struct early_peer *e = arg;
	__u64 deadline = now_ms() + DRAIN_TIMEOUT_MS;
	uint32_t ref;

	while (!(ref = READ_ONCE(*e->ref))) {
		if (now_ms() > deadline) {
			e->err = -ETIMEDOUT;
			return NULL;
		}
	}
	e->err = peer_map(e->peer, e->gntdev, &ref, 1, PROT_READ);
	return NULL;
}

/*
 * Finding 6 of issue 12.  An ALLOC that fails after writing out its
 * references (here: its `index` field is read-only, on the page before the
 * writable gref_ids) takes its grants back; one the peer mapped meanwhile
 * stays, pending, counted in in_use - and in peak, which never falls below
 * in_use.
 */
TEST_F(foreign, failed_alloc_whose_grant_the_peer_mapped_still_counts_in_peak)
{
	enum { N = 1024, TRIES = 20 };
	const size_t ps = page_size();
	struct ioctl_gntalloc_alloc_gref *op;
	struct gntalloc_counters before, after;
	struct early_peer e;
	size_t len = ps + N * sizeof(uint32_t) + ps;
	pthread_t thread;
	char *buf;
	int try, ret;

	REQUIRE_COUNTERS(return, &self->fx.env);
	ASSERT_EQ(0, set_limit(BIG_LIMIT));
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	fx_track(&self->fx, buf, len);
	/* domid..index on the first page, gref_ids from the second one */
	op = (struct ioctl_gntalloc_alloc_gref *)(buf + ps -
		offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids));

	for (try = 0; try < TRIES; try++) {
		ASSERT_EQ(0, mprotect(buf, ps, PROT_READ | PROT_WRITE));
		memset(buf, 0, len);
		op->domid = SELF_DOMID;
		op->flags = GNTALLOC_FLAG_WRITABLE;
		op->count = N;
		ASSERT_EQ(0, mprotect(buf, ps, PROT_READ));
		ASSERT_EQ(0, write_str_file(GNTALLOC_SYSFS "/peak", "0"));
		ASSERT_EQ(0, read_counters(&before));

		e.peer = &self->fx.peer;
		e.gntdev = self->fx.gntdev;
		e.ref = &op->gref_ids[0];
		e.err = 0;
		ASSERT_EQ(0, pthread_create(&thread, NULL, map_early, &e));
		ret = ioctl(self->fx.fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(EFAULT, errno);
		pthread_join(thread, NULL);
		if (!e.err)
			break;	/* the peer mapped it in time */
	}
	ASSERT_EQ(0, e.err) TH_LOG("the peer never mapped a grant in time");
	TH_LOG("the peer mapped a grant of the failed ALLOC at try %d", try);

	ASSERT_EQ(0, read_counters(&after));
	EXPECT_EQ(before.in_use + 1, after.in_use);
	EXPECT_EQ(before.pending + 1, after.pending);
	EXPECT_EQ(before.allocated_total + 1, after.allocated_total);
	EXPECT_LE(after.in_use, after.peak)
		TH_LOG("peak %llu below in_use %llu", after.peak,
		       after.in_use);

	peer_unmap(&self->fx.peer);
	EXPECT_EQ(0, wait_gauges(&before, GAUGE_IN_USE | GAUGE_PENDING, &after));
}

TEST_HARNESS_MAIN
