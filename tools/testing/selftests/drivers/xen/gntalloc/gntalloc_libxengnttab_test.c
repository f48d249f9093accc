// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: the real client, Xen's libxengnttab.
 *
 * xengntshr_share_pages() and xengntshr_share_page_notify() drive
 * /dev/xen/gntalloc: ALLOC, mmap, optionally SET_UNMAP_NOTIFY, and DEALLOC at
 * once, so that the mapping is the only owner of the grants and
 * xengntshr_unshare() (a plain munmap) releases them.  The other side maps
 * the grants with xengnttab_map_grant_refs() (through /dev/xen/gntdev), as
 * a peer domain does; here the peer is ourselves (domid 0).
 */

#include "gntalloc_fixture.h"

#include <xengnttab.h>

#define NOTIFY_OFFSET		100
#define NO_NOTIFY_OFFSET	((uint32_t)-1)
#define NO_NOTIFY_PORT		((evtchn_port_t)-1)
#define MAX_SHARE		64U
#define CHILD_TIMEOUT_MS	10000

FIXTURE(libxengnttab) {
	struct gntalloc_fixture fx;
	xengntshr_handle *shr;
	xengnttab_handle *tab;
	uint8_t *shared;	/* ours, from xengntshr_share_* */
	uint32_t shared_count;
	uint8_t *mapped;	/* the peer's, from xengnttab_map_grant_refs */
	uint32_t mapped_count;
	uint32_t refs[MAX_SHARE];
	uint32_t domids[MAX_SHARE];
};

FIXTURE_VARIANT(libxengnttab) {
	uint32_t count;
	bool writable;
};

FIXTURE_VARIANT_ADD(libxengnttab, one_page_writable) {
	.count = 1,
	.writable = true,
};

FIXTURE_VARIANT_ADD(libxengnttab, one_page_read_only) {
	.count = 1,
	.writable = false,
};

FIXTURE_VARIANT_ADD(libxengnttab, sixty_four_pages_writable) {
	.count = 64,
	.writable = true,
};

FIXTURE_SETUP(libxengnttab)
{
	unsigned int i;

	if (!gntalloc_fixture_setup(_metadata, &self->fx,
				    FX_GNTDEV | FX_EVTCHN | FX_PIPES | FX_NO_FILE))
		return;
	ASSERT_LE(variant->count, MAX_SHARE);
	for (i = 0; i < MAX_SHARE; i++)
		self->domids[i] = SELF_DOMID;
	self->shr = xengntshr_open(NULL, 0);
	ASSERT_NE(NULL, self->shr) TH_LOG("xengntshr_open: %s", strerror(errno));
	self->tab = xengnttab_open(NULL, 0);
	ASSERT_NE(NULL, self->tab) TH_LOG("xengnttab_open: %s", strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(libxengnttab)
{
	/* The child first: it maps what we share. */
	gntalloc_fixture_stop_child(&self->fx);
	if (env_in_test_process(&self->fx.env)) {
		if (self->mapped)
			xengnttab_unmap(self->tab, self->mapped, self->mapped_count);
		if (self->shared)
			xengntshr_unshare(self->shr, self->shared, self->shared_count);
		if (self->tab)
			xengnttab_close(self->tab);
		if (self->shr)
			xengntshr_close(self->shr);
	}
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/* Share the variant's pages, and map them as the peer (read-only if so). */
static void share_and_map(struct __test_metadata *_metadata,
			  struct _test_data_libxengnttab *self,
			  const struct _fixture_variant_libxengnttab *variant)
{
	self->shared = xengntshr_share_pages(self->shr, SELF_DOMID,
					     variant->count, self->refs,
					     variant->writable);
	ASSERT_NE(NULL, self->shared)
		TH_LOG("xengntshr_share_pages: %s", strerror(errno));
	self->shared_count = variant->count;

	self->mapped = xengnttab_map_grant_refs(self->tab, variant->count,
						self->domids, self->refs,
						PROT_READ |
						(variant->writable ? PROT_WRITE : 0));
	ASSERT_NE(NULL, self->mapped)
		TH_LOG("xengnttab_map_grant_refs: %s", strerror(errno));
	self->mapped_count = variant->count;
}

TEST_F(libxengnttab, shared_pages_round_trip_to_the_peer)
{
	const size_t ps = page_size();
	uint32_t i;

	share_and_map(_metadata, self, variant);
	for (i = 0; i < variant->count; i++)
		self->shared[i * ps] = (uint8_t)(i + 1);
	for (i = 0; i < variant->count; i++)
		ASSERT_EQ(i + 1, self->mapped[i * ps]);
	if (!variant->writable)
		return;
	for (i = 0; i < variant->count; i++)
		self->mapped[i * ps + ps - 1] = (uint8_t)(0x80 + i);
	for (i = 0; i < variant->count; i++)
		ASSERT_EQ(0x80 + i, self->shared[i * ps + ps - 1]);
}

TEST_F(libxengnttab, read_only_share_cannot_be_mapped_writable)
{
	/* Whatever the variant says: this is about read-only shares. */
	self->shared = xengntshr_share_pages(self->shr, SELF_DOMID,
					     variant->count, self->refs, 0);
	ASSERT_NE(NULL, self->shared);
	self->shared_count = variant->count;
	ASSERT_EQ(NULL, xengnttab_map_grant_refs(self->tab, variant->count,
						 self->domids, self->refs,
						 PROT_READ | PROT_WRITE));
	/* Read-only is fine. */
	self->mapped = xengnttab_map_grant_refs(self->tab, variant->count,
						self->domids, self->refs,
						PROT_READ);
	ASSERT_NE(NULL, self->mapped);
	self->mapped_count = variant->count;
}

TEST_F(libxengnttab, share_holds_pages_until_unshare)
{
	struct gntalloc_counters before, during;

	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	self->shared = xengntshr_share_pages(self->shr, SELF_DOMID,
					     variant->count, self->refs,
					     variant->writable);
	ASSERT_NE(NULL, self->shared);
	self->shared_count = variant->count;
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &during));
	EXPECT_EQ(before.in_use + variant->count, during.in_use);
	if (self->fx.env.counters)
		EXPECT_EQ(before.mapped + variant->count, during.mapped);

	/* The mapping is the only owner: unshare is the release. */
	ASSERT_EQ(0, xengntshr_unshare(self->shr, self->shared,
				       self->shared_count));
	self->shared = NULL;
	expect_in_use(_metadata, &self->fx.env, &before, 0);
}

TEST_F(libxengnttab, unshare_while_the_peer_maps_keeps_its_data)
{
	const size_t ps = page_size();
	uint32_t i;

	share_and_map(_metadata, self, variant);
	for (i = 0; i < variant->count; i++)
		self->shared[i * ps + 1] = MARK;
	ASSERT_EQ(0, xengntshr_unshare(self->shr, self->shared,
				       self->shared_count));
	self->shared = NULL;
	for (i = 0; i < variant->count; i++)
		ASSERT_EQ(MARK, self->mapped[i * ps + 1]);
	/* TEARDOWN unmaps; the grants then come back. */
}

TEST_F(libxengnttab, share_over_the_limit_fails_and_leaks_nothing)
{
	struct gntalloc_counters before;

	ASSERT_EQ(0, limit_headroom(&self->fx.env, variant->count - 1));
	ASSERT_EQ(0, env_snapshot(&self->fx.env, &before));
	ASSERT_EQ(NULL, xengntshr_share_pages(self->shr, SELF_DOMID,
					      variant->count, self->refs,
					      variant->writable));
	ASSERT_EQ(ENOSPC, errno);
	expect_unchanged(_metadata, &self->fx.env, &before, 1, 0);
}

TEST_F(libxengnttab, share_page_notify_clears_the_byte_at_unshare)
{
	uint32_t ref;

	self->shared = xengntshr_share_page_notify(self->shr, SELF_DOMID, &ref,
						   variant->writable,
						   NOTIFY_OFFSET,
						   NO_NOTIFY_PORT);
	ASSERT_NE(NULL, self->shared);
	self->shared_count = 1;
	self->shared[NOTIFY_OFFSET] = MARK;
	self->mapped = xengnttab_map_grant_refs(self->tab, 1, self->domids,
						&ref, PROT_READ);
	ASSERT_NE(NULL, self->mapped);
	self->mapped_count = 1;
	ASSERT_EQ(MARK, self->mapped[NOTIFY_OFFSET]);

	ASSERT_EQ(0, xengntshr_unshare(self->shr, self->shared, 1));
	self->shared = NULL;
	EXPECT_EQ(0, self->mapped[NOTIFY_OFFSET]);
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));
}

TEST_F(libxengnttab, share_page_notify_signals_the_port_at_unshare)
{
	uint32_t ref;

	self->shared = xengntshr_share_page_notify(self->shr, SELF_DOMID, &ref,
						   variant->writable,
						   NO_NOTIFY_OFFSET,
						   self->fx.ev.local_port);
	ASSERT_NE(NULL, self->shared);
	self->shared_count = 1;
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));
	ASSERT_EQ(0, xengntshr_unshare(self->shr, self->shared, 1));
	self->shared = NULL;
	EXPECT_EQ(1, evtchn_pair_wait(&self->fx.ev, EVENT_TIMEOUT_MS));
}

/* The sharer: shares one page with both notifications, then waits for 'x'. */
static void sharer_child(struct _test_data_libxengnttab *self, bool writable)
{
	xengntshr_handle *shr = xengntshr_open(NULL, 0);
	uint32_t ref;
	uint8_t *p;

	if (!shr)
		_exit(1);
	p = xengntshr_share_page_notify(shr, SELF_DOMID, &ref, writable,
					NOTIFY_OFFSET, self->fx.ev.local_port);
	if (!p)
		_exit(2);
	p[NOTIFY_OFFSET] = MARK;
	if (write(self->fx.to_parent[1], &ref, sizeof(ref)) != sizeof(ref))
		_exit(3);
	recv_byte(self->fx.to_child[0], CHILD_TIMEOUT_MS);
	_exit(0);	/* no unshare: exit is the release */
}

TEST_F(libxengnttab, share_page_notify_fires_when_the_sharer_exits)
{
	uint32_t ref;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		sharer_child(self, variant->writable);
	self->fx.child = pid;
	ASSERT_TRUE(wait_readable(self->fx.to_parent[0], CHILD_TIMEOUT_MS));
	ASSERT_EQ((ssize_t)sizeof(ref), read(self->fx.to_parent[0], &ref,
					     sizeof(ref)));
	self->mapped = xengnttab_map_grant_refs(self->tab, 1, self->domids,
						&ref, PROT_READ);
	ASSERT_NE(NULL, self->mapped);
	self->mapped_count = 1;
	ASSERT_EQ(MARK, self->mapped[NOTIFY_OFFSET]);
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));

	ASSERT_EQ(0, send_byte(self->fx.to_child[1], 'x'));
	ASSERT_EQ(0, wait_child(self->fx.child));
	self->fx.child = 0;
	EXPECT_EQ(0, self->mapped[NOTIFY_OFFSET]);
	EXPECT_EQ(1, evtchn_pair_wait(&self->fx.ev, EVENT_TIMEOUT_MS));
}

TEST_HARNESS_MAIN
