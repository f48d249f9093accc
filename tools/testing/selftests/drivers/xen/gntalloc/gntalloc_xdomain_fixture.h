/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixtures' side of the xdomain selftests (gntalloc_xdomain_test,
 * gntalloc_xdomain_peer_test): the kselftest fixture (gntalloc_fixture.h)
 * plus guest domains (gntalloc_xdomain.h), and what SETUP and TEARDOWN do
 * with the shared guest.
 */

#ifndef GNTALLOC_XDOMAIN_FIXTURE_H
#define GNTALLOC_XDOMAIN_FIXTURE_H

#include "gntalloc_fixture.h"
#include "gntalloc_xdomain.h"

#define SHARED_GUEST		"xdom-peer"
/* Booting guests under emulation: well above what it takes. */
#define XDOM_TEST_TIMEOUT	300
/* A peer domain's death gives its pages back within this (measured: README). */
#define PEER_DEATH_MS		10000
#define CHILD_TIMEOUT_MS	20000

/* ---------------------------------------------------------------------- */
/* The guest's side of SETUP and TEARDOWN                                   */
/* ---------------------------------------------------------------------- */

/*
 * SETUP: the shared guest, booted on first use.  false when the test bed
 * has no second domain (the test then skips) or the guest failed (it fails).
 */
static inline bool guest_setup(struct __test_metadata *_metadata,
			       struct xdom_guest *g, char *base, size_t size)
{
	if (access(XDOM_KERNEL, F_OK) || access(XDOM_RAMDISK, F_OK))
		SKIP(return false, "%s is missing: no guest domains here (make check starts them)",
		     XDOM_RAMDISK);
	if (xdom_attach(g, SHARED_GUEST)) {
		/* Gone or broken: a new one (a broken one is destroyed first). */
		xdom_destroy(g);
		ASSERT_EQ(0, xdom_boot(g, SHARED_GUEST, "server")) {
			TH_LOG("cannot boot guest %s", SHARED_GUEST);
		}
	}
	ASSERT_EQ(0, xdom_cmd(g, NULL, 0, "reset"));
	ASSERT_EQ(0, xdom_cmd(g, base, size, "counters"));
	return true;
}

/*
 * TEARDOWN: the guest lets go of everything; its kernel log is clean and
 * its counters come back to @base (background reclaim: within
 * DRAIN_TIMEOUT_MS).  No ASSERT: TEARDOWN runs under the harness' setjmp().
 */
static inline void guest_teardown(struct __test_metadata *_metadata,
				  struct xdom_guest *g, const char *base)
{
	char now[XDOM_TEXT], health[XDOM_TEXT];
	__u64 deadline = now_ms() + DRAIN_TIMEOUT_MS;

	if (g->domid < 0)
		return;
	EXPECT_EQ(0, xdom_cmd(g, NULL, 0, "reset"));
	EXPECT_EQ(0, xdom_cmd(g, health, sizeof(health), "health")) {
		TH_LOG("guest %s's kernel log: %s", g->name, health);
		xdom_show_console(g->name, 60);
	}
	do {
		if (xdom_cmd(g, now, sizeof(now), "counters"))
			break;
		if (!strcmp(now, base))
			break;
		sleep_ms(50);
	} while (now_ms() < deadline);
	EXPECT_STREQ(base, now) TH_LOG("guest %s's counters leaked", g->name);
}

/* A grant of @g's that we map into @p; 0 or -errno. */
static inline int map_guests(struct peer_map *p, int gntdev, const struct xdom_guest *g,
			     const char *refstr, int prot)
{
	uint32_t refs[XDOM_MAX_REFS];
	int n = xdom_parse_refs(refstr, refs, XDOM_MAX_REFS);

	if (n <= 0)
		return -EINVAL;
	return peer_map_domain(p, gntdev, (uint16_t)g->domid, refs, (uint32_t)n, prot);
}

/* "SLOT REFS" of a guest's share: the slot, and REFS in @refs. */
static inline int parse_share(const char *reply, char *refs, size_t size)
{
	int slot = -1;
	char fmt[16];

	snprintf(fmt, sizeof(fmt), "%%d %%%zus", size - 1);
	if (sscanf(reply, fmt, &slot, refs) != 2)
		return -1;
	return slot;
}

/* @count pages of ours granted to @domid (@flags), mapped at *@addr and filled. */
static inline int share_with(int fd, uint16_t domid, uint16_t flags, uint32_t count,
			     uint32_t seed, __u64 *index, char *refstr, size_t size,
			     uint8_t **addr)
{
	uint32_t refs[XDOM_MAX_REFS];

	if (gntalloc_alloc(fd, domid, flags, count, index, refs))
		return -errno;
	*addr = gntalloc_mmap(fd, *index, count);
	if (*addr == MAP_FAILED)
		return -errno;
	xdom_fill(*addr, count, seed);
	xdom_format_refs(refstr, size, refs, count);
	return 0;
}

#endif /* GNTALLOC_XDOMAIN_FIXTURE_H */
