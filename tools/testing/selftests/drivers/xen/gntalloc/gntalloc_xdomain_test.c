// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc between two domains: dom0 and real guest domains made with
 * Xen's own xl (gntalloc_xdomain.h), the guest running
 * gntalloc_xdomain_guest with the same xen-gntalloc as dom0.
 *
 * The rest of the suite grants dom0's pages to dom0 itself.  Here the peer
 * is another domain, which can misbehave and die:
 *  - xdomain_data: the guest shares pages that dom0 maps (our driver in the
 *    guest, gntdev in dom0) and dom0 shares pages that the guest maps; the
 *    data crosses both ways, one page and many;
 *  - xdomain: a read-only grant cannot be mapped writable by the guest, a
 *    grant for a third domain cannot be mapped by it; pages the guest still
 *    maps stay pending, count against the limit and come back when it
 *    unmaps; the guest's pending pages come back when dom0's mapper is
 *    killed; debugfs `domains`, `gntstat -p` and the tracepoints show the
 *    guest's domid;
 *  - xdomain_notify: the unmap notification reaches the guest (the byte it
 *    sees is cleared, an event arrives on an interdomain event channel) on
 *    DEALLOC + munmap, close, the owner's exit and the owner's kill;
 *  - xdomain_peer_dies: the guest maps our pages, our owner lets go (they
 *    are pending), then the guest is destroyed (`xl destroy`) or crashes:
 *    the pages come back within PEER_DEATH_MS (the time is printed) and
 *    every counter returns to its baseline;
 *  - xdomain_vchan: libxenvchan both ways with Xen's own vchan-socket-proxy
 *    in dom0 and our vchan code in the guest: the guest's server shares its
 *    rings through its gntalloc, dom0's proxy through ours; several MB with
 *    a hash, then the connection closed and reopened many times, and
 *    nothing left behind on either side;
 *  - xdomain_many: several guests at once, one destroyed in the middle.
 *
 * One guest (SHARED_GUEST) serves xdomain_data, xdomain and xdomain_notify:
 * the first SETUP boots it, later ones find it and reset it.  Each TEARDOWN
 * checks that the guest is healthy (no WARN, oops or leaked grant in its
 * kernel log) and that its counters are back at their baseline, as dom0's.
 * The guests that must die are booted by their test.
 */

#include <pthread.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gntalloc_fixture.h"
#include "gntalloc_xdomain.h"
#include "gntalloc_xdomain_vchan.h"

#define SHARED_GUEST		"xdom-peer"
#define MANY_GUESTS		3
/* Booting guests under emulation: well above what it takes. */
#define XDOM_TEST_TIMEOUT	300
/* A peer domain's death gives its pages back within this (measured: README). */
#define PEER_DEATH_MS		10000
#define THIRD_DOMID_OFFSET	100	/* a domain that does not exist */
#define MANY_PAGES		16
#define CHILD_TIMEOUT_MS	20000
#define DEBUGFS_DOMAINS		"/sys/kernel/debug/gntalloc/domains"
#define TRACEFS			"/sys/kernel/tracing"

/* ---------------------------------------------------------------------- */
/* The guest's side of SETUP and TEARDOWN                                   */
/* ---------------------------------------------------------------------- */

/*
 * SETUP: the shared guest, booted on first use.  false when the test bed
 * has no second domain (the test then skips) or the guest failed (it fails).
 */
static bool guest_setup(struct __test_metadata *_metadata,
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
static void guest_teardown(struct __test_metadata *_metadata,
			   struct xdom_guest *g, const char *base)
{
	char now[XDOM_TEXT], health[XDOM_TEXT];
	uint64_t deadline = now_ms() + DRAIN_TIMEOUT_MS;

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
static int map_guests(struct peer_map *p, int gntdev, const struct xdom_guest *g,
		      const char *refstr, int prot)
{
	uint32_t refs[XDOM_MAX_REFS];
	int n = xdom_parse_refs(refstr, refs, XDOM_MAX_REFS);

	if (n <= 0)
		return -EINVAL;
	return xdom_map(p, gntdev, (uint16_t)g->domid, refs, (uint32_t)n, prot);
}

/* "SLOT REFS" of a guest's share: the slot, and REFS in @refs. */
static int parse_share(const char *reply, char *refs, size_t size)
{
	int slot = -1;
	char fmt[16];

	snprintf(fmt, sizeof(fmt), "%%d %%%zus", size - 1);
	if (sscanf(reply, fmt, &slot, refs) != 2)
		return -1;
	return slot;
}

/* @count pages of ours granted to @domid (@flags), mapped at *@addr and filled. */
static int share_with(int fd, uint16_t domid, uint16_t flags, uint32_t count,
		      uint32_t seed, uint64_t *index, char *refstr, size_t size,
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

/* ---------------------------------------------------------------------- */
/* Data both ways, one page and many                                        */
/* ---------------------------------------------------------------------- */

FIXTURE(xdomain_data) {
	struct gntalloc_env env;
	struct xdom_guest guest;
	char guest_base[XDOM_TEXT];
	int fd, gntdev;
	struct peer_map map;
};

FIXTURE_VARIANT(xdomain_data) {
	uint32_t pages;
};

FIXTURE_VARIANT_ADD(xdomain_data, one_page) {
	.pages = 1,
};

FIXTURE_VARIANT_ADD(xdomain_data, many_pages) {
	.pages = MANY_PAGES,
};

FIXTURE_SETUP(xdomain_data)
{
	self->fd = self->gntdev = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	REQUIRE_DEVICE(GNTDEV_DEV, "xen-gntdev");
	if (!guest_setup(_metadata, &self->guest, self->guest_base,
			 sizeof(self->guest_base)))
		return;
	self->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->gntdev);
}

FIXTURE_TEARDOWN_PARENT(xdomain_data)
{
	if (env_in_test_process(&self->env)) {
		peer_unmap(&self->map);
		close_if_open(self->fd);
		close_if_open(self->gntdev);
	}
	guest_teardown(_metadata, &self->guest, self->guest_base);
	env_teardown(_metadata, &self->env);
}

TEST_F_TIMEOUT(xdomain_data, guest_shares_pages_that_dom0_reads_and_writes,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT], ok[XDOM_TEXT];
	int slot;

	/* Our driver in the guest grants its pages to dom0... */
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply),
			      "share 0 %u rw 11", variant->pages));
	slot = parse_share(reply, refs, sizeof(refs));
	ASSERT_LE(0, slot);
	/* ...dom0 maps them through gntdev and reads the guest's data... */
	ASSERT_EQ(0, map_guests(&self->map, self->gntdev, &self->guest, refs,
				PROT_READ | PROT_WRITE));
	EXPECT_EQ(-1, xdom_check(self->map.addr, variant->pages, 11));
	/* ...and what dom0 writes, the guest reads. */
	xdom_fill(self->map.addr, variant->pages, 12);
	ASSERT_EQ(0, xdom_cmd(&self->guest, ok, sizeof(ok), "check %d 12", slot));
	EXPECT_STREQ("ok", ok);
}

TEST_F_TIMEOUT(xdomain_data, dom0_shares_pages_that_the_guest_reads_and_writes,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT];
	uint64_t index;
	uint8_t *mine;
	int slot;

	ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest.domid,
				GNTALLOC_FLAG_WRITABLE, variant->pages, 21,
				&index, refs, sizeof(refs), &mine));
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %s",
			      refs));
	slot = atoi(reply);
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "check %d 21",
			      slot));
	EXPECT_STREQ("ok", reply);
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "fill %d 22", slot));
	EXPECT_EQ(-1, xdom_check(mine, variant->pages, 22));
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "release %d", slot));
	ASSERT_EQ(0, munmap(mine, variant->pages * page_size()));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index, variant->pages));
}

/* ---------------------------------------------------------------------- */
/* Access rights, pending pages, per-domain views                           */
/* ---------------------------------------------------------------------- */

FIXTURE(xdomain) {
	struct gntalloc_env env;
	struct xdom_guest guest;
	char guest_base[XDOM_TEXT];
	int fd, gntdev;
	pid_t child;
	int to_child[2], to_parent[2];
};

FIXTURE_SETUP(xdomain)
{
	self->fd = self->gntdev = -1;
	self->child = 0;
	self->to_child[0] = self->to_child[1] = -1;
	self->to_parent[0] = self->to_parent[1] = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	REQUIRE_DEVICE(GNTDEV_DEV, "xen-gntdev");
	if (!guest_setup(_metadata, &self->guest, self->guest_base,
			 sizeof(self->guest_base)))
		return;
	self->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->gntdev);
	ASSERT_EQ(0, pipe2(self->to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->to_parent, O_CLOEXEC));
}

FIXTURE_TEARDOWN_PARENT(xdomain)
{
	if (env_in_test_process(&self->env)) {
		if (self->child > 0) {
			kill(self->child, SIGKILL);
			waitpid(self->child, NULL, 0);
		}
		close_if_open(self->fd);
		close_if_open(self->gntdev);
		close_pipe(self->to_child);
		close_pipe(self->to_parent);
	}
	guest_teardown(_metadata, &self->guest, self->guest_base);
	env_teardown(_metadata, &self->env);
}

TEST_F_TIMEOUT(xdomain, read_only_grant_cannot_be_mapped_writable_by_the_guest,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT];
	uint64_t index;
	uint8_t *mine;
	int rc;

	ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest.domid, 0, 1, 31,
				&index, refs, sizeof(refs), &mine));
	rc = xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %s", refs);
	EXPECT_GT(0, rc) TH_LOG("the guest mapped a read-only grant writable");
	/* Read-only, it maps and reads. */
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 ro %s",
			      refs));
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "check %d 31",
			      atoi(reply)));
	EXPECT_STREQ("ok", reply);
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "reset"));
	ASSERT_EQ(0, munmap(mine, page_size()));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index, 1));
}

TEST_F_TIMEOUT(xdomain, grant_for_a_third_domain_cannot_be_mapped_by_the_guest,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT];
	uint16_t third = (uint16_t)(self->guest.domid + THIRD_DOMID_OFFSET);
	uint64_t index;
	uint8_t *mine;
	int rc;

	ASSERT_LT(-1, xdom_domid(SHARED_GUEST));
	ASSERT_EQ(0, share_with(self->fd, third, GNTALLOC_FLAG_WRITABLE, 1, 41,
				&index, refs, sizeof(refs), &mine));
	rc = xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 ro %s", refs);
	EXPECT_GT(0, rc) TH_LOG("the guest mapped a grant made for domain %u", third);
	ASSERT_EQ(0, munmap(mine, page_size()));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index, 1));
}

/*
 * Pages the guest maps when their owner lets go cannot be freed: they stay
 * pending, count against the limit (upstream stops counting them), and come
 * back once the guest unmaps.
 */
TEST_F_TIMEOUT(xdomain, pages_the_guest_maps_stay_pending_and_count_until_it_unmaps,
	       XDOM_TEST_TIMEOUT)
{
	const uint32_t n = 8;
	struct gntalloc_counters c, want = self->env.base;
	char reply[XDOM_TEXT], refs[XDOM_TEXT];
	uint64_t index, before;
	uint8_t *mine;
	int slot;

	ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest.domid,
				GNTALLOC_FLAG_WRITABLE, n, 51, &index, refs,
				sizeof(refs), &mine));
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %s",
			      refs));
	slot = atoi(reply);
	ASSERT_EQ(0, munmap(mine, n * page_size()));
	close(self->fd);
	self->fd = -1;
	/* Still mapped by the guest: held, pending, counted. */
	ASSERT_EQ(0, read_gauges(&c));
	EXPECT_EQ(self->env.base.in_use + n, c.in_use);
	if (self->env.counters)
		EXPECT_EQ(self->env.base.pending + n, c.pending);
	/* The limit sees them: room for two pages more, not three. */
	before = c.in_use;
	ASSERT_EQ(0, limit_headroom(&self->env, 2));
	self->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-1, gntalloc_alloc_rw(self->fd, 3, NULL, NULL)) {
		TH_LOG("3 pages allocated with %" PRIu64 " in use and room for 2",
		       before);
	}
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fd, 2, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index, 2));
	/* The guest unmaps: they come back. */
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "release %d", slot));
	EXPECT_EQ(0, wait_gauges(&want, GAUGE_IN_USE | GAUGE_PENDING, &c)) {
		TH_LOG("in_use %" PRIu64 " pending %" PRIu64 " after the guest unmapped",
		       c.in_use, c.pending);
	}
}

/*
 * Our driver in the guest, dom0 the mapper: the guest's owner lets go
 * (pending in the guest), then dom0's mapping process is killed; the
 * guest's pages come back.
 */
TEST_F_TIMEOUT(xdomain, guest_pages_come_back_when_the_dom0_mapper_is_killed,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT], counters[XDOM_TEXT];
	uint64_t in_use, pending, start, took;
	int slot, got = -1;
	pid_t pid;

	if (!strcmp(self->guest_base, "none"))
		SKIP(return, "the guest's xen-gntalloc has no counters (stock driver)");
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply),
			      "share 0 4 rw 61"));
	slot = parse_share(reply, refs, sizeof(refs));
	ASSERT_LE(0, slot);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct peer_map m;
		int gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);

		if (gntdev < 0 || map_guests(&m, gntdev, &self->guest, refs,
					     PROT_READ))
			_exit(1);
		send_byte(self->to_parent[1], 'm');
		recv_byte(self->to_child[0], CHILD_TIMEOUT_MS);
		_exit(2);
	}
	self->child = pid;
	ASSERT_EQ('m', recv_byte(self->to_parent[0], CHILD_TIMEOUT_MS));
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "drop %d", slot));
	ASSERT_EQ(0, xdom_cmd(&self->guest, counters, sizeof(counters), "counters"));
	ASSERT_EQ(2, sscanf(counters, "%" SCNu64 " %" SCNu64, &in_use, &pending));
	EXPECT_EQ(4U, pending) TH_LOG("guest counters: %s", counters);
	start = now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(pid));
	self->child = 0;
	do {
		ASSERT_EQ(0, xdom_cmd(&self->guest, counters, sizeof(counters),
				      "counters"));
		got = strcmp(counters, self->guest_base);
	} while (got && now_ms() - start < PEER_DEATH_MS && (sleep_ms(50), 1));
	took = now_ms() - start;
	EXPECT_EQ(0, got) TH_LOG("guest counters %s, baseline %s", counters,
				 self->guest_base);
	ksft_print_msg("the guest's pending pages came back %" PRIu64
		       " ms after dom0's mapper was killed\n", took);
}

/* debugfs `domains` and `gntstat -p` name the guest's real domid. */
TEST_F_TIMEOUT(xdomain, per_domain_views_show_the_guests_domid,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT], view[4096], want[128];
	uint64_t index;
	uint8_t *mine;

	if (!self->env.counters)
		SKIP(return, "%s is missing: stock driver, no per-domain views",
		     GNTALLOC_SYSFS);
	ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest.domid,
				GNTALLOC_FLAG_WRITABLE, 3, 71, &index, refs,
				sizeof(refs), &mine));
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %s",
			      refs));
	ASSERT_LT(0, read_buf_file(DEBUGFS_DOMAINS, view, sizeof(view)));
	snprintf(want, sizeof(want), "\n%d 3 0\n", self->guest.domid);
	EXPECT_NE(NULL, strstr(view, want)) TH_LOG("domains:\n%s", view);
	/* The owner lets go: the same pages, now pending. */
	ASSERT_EQ(0, munmap(mine, 3 * page_size()));
	close(self->fd);
	self->fd = -1;
	ASSERT_LT(0, read_buf_file(DEBUGFS_DOMAINS, view, sizeof(view)));
	snprintf(want, sizeof(want), "\n%d 3 3\n", self->guest.domid);
	EXPECT_NE(NULL, strstr(view, want)) TH_LOG("domains:\n%s", view);
	ASSERT_EQ(0, xdom_sh(view, sizeof(view), "gntstat -p -j"));
	snprintf(want, sizeof(want), "{\"domid\":%d,\"grants\":3,\"pending\":3}",
		 self->guest.domid);
	EXPECT_NE(NULL, strstr(view, want)) TH_LOG("gntstat -p -j: %s", view);
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "reset"));
}

/*
 * The tracepoints of a page's life with the guest name its domid.  (Only our
 * events are switched on, with record-cmd and record-tgid off, as
 * gntalloc_trace_test does: see the README on patching the scheduler's
 * tracepoints in this test bed.)
 */
TEST_F_TIMEOUT(xdomain, tracepoints_name_the_guests_domid, XDOM_TEST_TIMEOUT)
{
	static const char *const events[] = {
		"gntalloc_alloc", "gntalloc_pending", "gntalloc_reclaim",
	};
	static const char *const options[] = {
		"options/record-cmd", "options/record-tgid",
	};
	char reply[XDOM_TEXT], refs[XDOM_TEXT], path[128], want[XDOM_TEXT + 64];
	struct gntalloc_counters c, base = self->env.base;
	char old[2][8];
	static char trace[65536];
	uint64_t index;
	uint8_t *mine;
	size_t i;
	int slot;

	if (access(TRACEFS "/trace", F_OK))
		mount("tracefs", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events/gntalloc", F_OK))
		SKIP(return, "%s/events/gntalloc is missing: stock driver, no tracepoints",
		     TRACEFS);
	for (i = 0; i < ARRAY_SIZE(options); i++) {
		snprintf(path, sizeof(path), TRACEFS "/%s", options[i]);
		ASSERT_EQ(0, read_str_file(path, old[i], sizeof(old[i])));
		ASSERT_EQ(0, write_str_file(path, "0"));
	}
	ASSERT_EQ(0, write_str_file(TRACEFS "/trace", ""));
	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/gntalloc/%s/enable", events[i]);
		ASSERT_EQ(0, write_str_file(path, "1"));
	}

	/* Allocated for the guest, mapped by it, released by us, given back. */
	ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest.domid,
				GNTALLOC_FLAG_WRITABLE, 1, 73, &index, refs,
				sizeof(refs), &mine));
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %s", refs));
	slot = atoi(reply);
	ASSERT_EQ(0, munmap(mine, page_size()));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index, 1));
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "release %d", slot));
	EXPECT_EQ(0, wait_gauges(&base, GAUGE_IN_USE | GAUGE_PENDING, &c));

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/gntalloc/%s/enable", events[i]);
		EXPECT_EQ(0, write_str_file(path, "0"));
	}
	for (i = 0; i < ARRAY_SIZE(options); i++) {
		snprintf(path, sizeof(path), TRACEFS "/%s", options[i]);
		EXPECT_EQ(0, write_str_file(path, old[i]));
	}
	ASSERT_LT(0, read_buf_file(TRACEFS "/trace", trace, sizeof(trace)));
	snprintf(want, sizeof(want), "count=1 domid=%d writable=1 first_gref=%s",
		 self->guest.domid, refs);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), "gntalloc_pending: gref=%s domid=%d", refs,
		 self->guest.domid);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), "gntalloc_reclaim: gref=%s domid=%d", refs,
		 self->guest.domid);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s' in:\n%s", want, trace);
}

/* ---------------------------------------------------------------------- */
/* The unmap notification, across domains                                   */
/* ---------------------------------------------------------------------- */

enum release_how { BY_DEALLOC_MUNMAP, BY_CLOSE, BY_EXIT, BY_KILL };

FIXTURE(xdomain_notify) {
	struct gntalloc_env env;
	struct xdom_guest guest;
	char guest_base[XDOM_TEXT];
	int evtchn;
	uint32_t port;		/* ours, unbound, for the guest to bind */
	pid_t child;
	int to_child[2], to_parent[2];
};

FIXTURE_VARIANT(xdomain_notify) {
	enum release_how how;
};

FIXTURE_VARIANT_ADD(xdomain_notify, dealloc_then_munmap) {
	.how = BY_DEALLOC_MUNMAP,
};

FIXTURE_VARIANT_ADD(xdomain_notify, close) {
	.how = BY_CLOSE,
};

FIXTURE_VARIANT_ADD(xdomain_notify, owner_exits) {
	.how = BY_EXIT,
};

FIXTURE_VARIANT_ADD(xdomain_notify, owner_is_killed) {
	.how = BY_KILL,
};

FIXTURE_SETUP(xdomain_notify)
{
	struct ioctl_evtchn_bind_unbound_port unbound = { 0 };
	int ret;

	self->evtchn = -1;
	self->child = 0;
	self->to_child[0] = self->to_child[1] = -1;
	self->to_parent[0] = self->to_parent[1] = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	REQUIRE_DEVICE(EVTCHN_DEV, "xen-evtchn");
	if (!guest_setup(_metadata, &self->guest, self->guest_base,
			 sizeof(self->guest_base)))
		return;
	self->evtchn = open(EVTCHN_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->evtchn);
	unbound.remote_domain = (unsigned int)self->guest.domid;
	ret = ioctl(self->evtchn, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &unbound);
	ASSERT_LE(0, ret);
	self->port = (uint32_t)ret;
	ASSERT_EQ(0, pipe2(self->to_child, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->to_parent, O_CLOEXEC));
}

FIXTURE_TEARDOWN_PARENT(xdomain_notify)
{
	if (env_in_test_process(&self->env)) {
		if (self->child > 0) {
			kill(self->child, SIGKILL);
			waitpid(self->child, NULL, 0);
		}
		close_pipe(self->to_child);
		close_pipe(self->to_parent);
	}
	/* The guest lets go of the event channel before we close our end. */
	guest_teardown(_metadata, &self->guest, self->guest_base);
	if (env_in_test_process(&self->env))
		close_if_open(self->evtchn);
	env_teardown(_metadata, &self->env);
}

/*
 * The owner's side: one page for the guest with MARK at byte 0, to be
 * cleared on release with an event on @port.  Its refs go to @refs.
 */
static int owner_share(int fd, uint16_t domid, uint32_t port, uint64_t *index,
		       uint32_t *ref, uint8_t **addr)
{
	if (gntalloc_alloc(fd, domid, GNTALLOC_FLAG_WRITABLE, 1, index, ref))
		return -errno;
	*addr = gntalloc_mmap(fd, *index, 1);
	if (*addr == MAP_FAILED)
		return -errno;
	(*addr)[0] = MARK;
	if (gntalloc_set_notify(fd, *index, UNMAP_NOTIFY_CLEAR_BYTE |
				UNMAP_NOTIFY_SEND_EVENT, port))
		return -errno;
	return 0;
}

TEST_F_TIMEOUT(xdomain_notify, guest_sees_the_byte_cleared_and_an_event,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT];
	uint64_t index = 0;
	uint8_t *mine = NULL;
	uint32_t ref = 0;
	int fd = -1, slot, ev, rc;
	pid_t pid = 0;

	if (variant->how == BY_EXIT || variant->how == BY_KILL) {
		/* The owner is a child of ours that exits or is killed. */
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
			if (fd < 0 || owner_share(fd, (uint16_t)self->guest.domid,
						  self->port, &index, &ref, &mine))
				_exit(1);
			if (write(self->to_parent[1], &ref, sizeof(ref)) != sizeof(ref))
				_exit(1);
			recv_byte(self->to_child[0], CHILD_TIMEOUT_MS);
			_exit(0);
		}
		self->child = pid;
		ASSERT_TRUE(wait_readable(self->to_parent[0], CHILD_TIMEOUT_MS));
		ASSERT_EQ((ssize_t)sizeof(ref), read(self->to_parent[0], &ref, sizeof(ref)));
	} else {
		fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, owner_share(fd, (uint16_t)self->guest.domid,
					 self->port, &index, &ref, &mine));
	}
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "evtbind 0 %u",
			      self->port));
	ev = atoi(reply);
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %u",
			      ref));
	slot = atoi(reply);
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "byte %d 0 0",
			      slot));
	ASSERT_EQ(MARK, atoi(reply));
	/* Nothing yet. */
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "evtwait %d %d",
			      ev, NO_EVENT_MS));
	ASSERT_STREQ("0", reply);

	switch (variant->how) {
	case BY_DEALLOC_MUNMAP:
		ASSERT_EQ(0, gntalloc_dealloc(fd, index, 1));
		ASSERT_EQ(0, munmap(mine, page_size()));
		break;
	case BY_CLOSE:
		ASSERT_EQ(0, munmap(mine, page_size()));
		ASSERT_EQ(0, close(fd));
		fd = -1;
		break;
	case BY_EXIT:
		ASSERT_EQ(0, send_byte(self->to_child[1], 'x'));
		ASSERT_EQ(0, wait_child(pid));
		self->child = 0;
		break;
	case BY_KILL:
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(128 + SIGKILL, wait_child(pid));
		self->child = 0;
		break;
	}
	rc = xdom_cmd(&self->guest, reply, sizeof(reply), "evtwait %d %d", ev,
		      EVENT_TIMEOUT_MS);
	ASSERT_EQ(0, rc);
	EXPECT_STREQ("1", reply) TH_LOG("no event reached the guest");
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "byte %d 0 0",
			      slot));
	EXPECT_EQ(0, atoi(reply)) TH_LOG("the guest still sees byte 0x%x", atoi(reply));
	/* The guest unmaps; the page, pending until now, comes back (TEARDOWN). */
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "release %d", slot));
	close_if_open(fd);
}

/* ---------------------------------------------------------------------- */
/* The peer dies                                                            */
/* ---------------------------------------------------------------------- */

enum death { BY_XL_DESTROY, BY_CRASH };

FIXTURE(xdomain_peer_dies) {
	struct gntalloc_env env;
	struct xdom_guest guest;
	int fd;
};

FIXTURE_VARIANT(xdomain_peer_dies) {
	enum death how;
};

FIXTURE_VARIANT_ADD(xdomain_peer_dies, xl_destroy) {
	.how = BY_XL_DESTROY,
};

FIXTURE_VARIANT_ADD(xdomain_peer_dies, crash) {
	.how = BY_CRASH,
};

FIXTURE_SETUP(xdomain_peer_dies)
{
	char name[32];

	self->fd = -1;
	self->guest.domid = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	if (access(XDOM_RAMDISK, F_OK))
		SKIP(return, "%s is missing: no guest domains here (make check starts them)",
		     XDOM_RAMDISK);
	snprintf(name, sizeof(name), "xdom-dies-%s",
		 variant->how == BY_CRASH ? "crash" : "destroy");
	ASSERT_EQ(0, xdom_boot(&self->guest, name, "server"));
	self->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN_PARENT(xdomain_peer_dies)
{
	if (env_in_test_process(&self->env))
		close_if_open(self->fd);
	if (self->guest.name[0])
		EXPECT_EQ(0, xdom_destroy(&self->guest));
	env_teardown(_metadata, &self->env);
}

TEST_F_TIMEOUT(xdomain_peer_dies, pending_pages_come_back_and_counters_return_to_baseline,
	       XDOM_TEST_TIMEOUT)
{
	const uint32_t n = 8;
	struct gntalloc_counters c, want = self->env.base;
	char reply[XDOM_TEXT], refs[XDOM_TEXT];
	uint64_t index, start, took;
	uint8_t *mine;
	int err;

	ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest.domid,
				GNTALLOC_FLAG_WRITABLE, n, 81, &index, refs,
				sizeof(refs), &mine));
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "map 0 rw %s",
			      refs));
	/* Our owner lets go while the guest maps: pending. */
	ASSERT_EQ(0, munmap(mine, n * page_size()));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, read_gauges(&c));
	EXPECT_EQ(self->env.base.in_use + n, c.in_use);
	if (self->env.counters)
		EXPECT_EQ(self->env.base.pending + n, c.pending);

	start = now_ms();
	if (variant->how == BY_CRASH) {
		/* Its kernel panics (no answer comes); Xen destroys it (on_crash). */
		xdom_cmd(&self->guest, NULL, 0, "crash");
		ASSERT_EQ(0, xdom_wait_gone(self->guest.name, XDOM_GONE_MS));
	} else {
		ASSERT_EQ(0, xdom_destroy(&self->guest));
	}
	do {
		err = read_gauges(&c);
		ASSERT_EQ(0, err);
		if (c.in_use == want.in_use && c.pending == want.pending)
			break;
		sleep_ms(10);
	} while (now_ms() - start < PEER_DEATH_MS);
	took = now_ms() - start;
	EXPECT_EQ(want.in_use, c.in_use);
	EXPECT_EQ(want.pending, c.pending);
	ksft_print_msg("%u pending pages came back %" PRIu64 " ms after the guest's %s\n",
		       n, took, variant->how == BY_CRASH ? "crash" : "xl destroy");
}

/* ---------------------------------------------------------------------- */
/* libxenvchan both ways, with Xen's vchan-socket-proxy in dom0             */
/* ---------------------------------------------------------------------- */

#define VCHAN_BIG		(4U << 20)	/* the first connection's bytes */
#define VCHAN_SMALL		(64U << 10)	/* the others' */
#define VCHAN_CONNECTIONS	20
#define VCHAN_RING		65536		/* the guest server's: 16 pages a side */
#define VCHAN_SOCKET		"/tmp/xdom-vchan.sock"

FIXTURE(xdomain_vchan) {
	struct gntalloc_env env;
	struct xdom_guest guest;
	char guest_base[XDOM_TEXT];
	char path[128];
	pid_t proxy;
	int listener;
};

FIXTURE_SETUP(xdomain_vchan)
{
	self->proxy = 0;
	self->listener = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	if (!guest_setup(_metadata, &self->guest, self->guest_base,
			 sizeof(self->guest_base)))
		return;
	snprintf(self->path, sizeof(self->path), "/local/domain/%d/data/vchan",
		 self->guest.domid);
	unlink(VCHAN_SOCKET);
}

FIXTURE_TEARDOWN_PARENT(xdomain_vchan)
{
	if (env_in_test_process(&self->env)) {
		if (self->proxy > 0) {
			kill(self->proxy, SIGKILL);
			waitpid(self->proxy, NULL, 0);
		}
		close_if_open(self->listener);
	}
	guest_teardown(_metadata, &self->guest, self->guest_base);
	env_teardown(_metadata, &self->env);
}

/* Start Xen's vchan-socket-proxy in @mode for the guest at @path. */
static pid_t start_proxy(const char *mode, int domid, const char *path)
{
	char dom[16];
	pid_t pid = fork();

	if (pid)
		return pid;
	snprintf(dom, sizeof(dom), "%d", domid);
	execlp("vchan-socket-proxy", "vchan-socket-proxy", "-m", mode, dom, path,
	       VCHAN_SOCKET, (char *)NULL);
	_exit(127);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		if (!wait_readable(fd, XDOM_CMD_MS))
			return -1;
		n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One exchange as the sender, over a connected socket: 0 or -1. */
static int socket_send(int fd, uint64_t bytes, uint32_t seed)
{
	uint64_t h = XDOM_FNV_BASIS, sent = 0, back;
	uint8_t buf[16384];
	size_t n, k;

	if (write_all(fd, &bytes, sizeof(bytes)))
		return -1;
	while (sent < bytes) {
		n = bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
		for (k = 0; k < n; k++)
			buf[k] = xdom_stream_byte(seed, sent + k);
		h = xdom_fnv(h, buf, n);
		if (write_all(fd, buf, n))
			return -1;
		sent += n;
	}
	if (read_all(fd, &back, sizeof(back)))
		return -1;
	return back == h ? 0 : -1;
}

/* One exchange as the receiver: read, answer the hash, wait for the close. */
static int socket_receive(int fd)
{
	uint64_t h = XDOM_FNV_BASIS, len, got = 0;
	uint8_t buf[16384];
	ssize_t n;

	if (read_all(fd, &len, sizeof(len)))
		return -1;
	while (got < len) {
		if (!wait_readable(fd, XDOM_CMD_MS))
			return -1;
		n = read(fd, buf, len - got < sizeof(buf) ? (size_t)(len - got) : sizeof(buf));
		if (n <= 0)
			return -1;
		h = xdom_fnv(h, buf, (size_t)n);
		got += (uint64_t)n;
	}
	if (write_all(fd, &h, sizeof(h)))
		return -1;
	wait_readable(fd, XDOM_CMD_MS);	/* EOF: the sender is done */
	return 0;
}

static int connect_socket(const char *path, int wait_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	uint64_t deadline = now_ms() + (uint64_t)wait_ms;
	int fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		if (now_ms() > deadline)
			return -1;
		sleep_ms(20);
	}
}

/* Wait until the guest has published its @i-th vchan server. */
static int wait_vchan_ready(const struct xdom_guest *g, unsigned int i)
{
	char path[128], buf[32];
	uint64_t deadline = now_ms() + XDOM_CMD_MS;
	struct xs_handle *xs = xs_open(0);
	int err = -ETIMEDOUT;

	if (!xs)
		return -EIO;
	xdom_path(path, sizeof(path), g->domid, "vchan-ready");
	while (now_ms() < deadline) {
		if (!xdom_xs_read(xs, path, buf, sizeof(buf)) &&
		    (unsigned int)atoi(buf) >= i) {
			err = 0;
			break;
		}
		sleep_ms(10);
	}
	xs_close(xs);
	return err;
}

/*
 * The guest is the vchan server (its gntalloc shares the rings, 16 pages a
 * side), dom0's vchan-socket-proxy the client; dom0 sends through the
 * proxy's socket.
 */
TEST_F_TIMEOUT(xdomain_vchan, guest_server_and_dom0_proxy_carry_data_and_reconnect,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT];
	uint64_t start;
	unsigned int i;
	int slot, fd;

	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply),
			      "vchan-serve %s %d %d", self->path,
			      VCHAN_CONNECTIONS, VCHAN_RING));
	slot = atoi(reply);
	self->proxy = start_proxy("client", self->guest.domid, self->path);
	ASSERT_LT(0, self->proxy);
	start = now_ms();
	for (i = 1; i <= VCHAN_CONNECTIONS; i++) {
		ASSERT_EQ(0, wait_vchan_ready(&self->guest, i));
		fd = connect_socket(VCHAN_SOCKET, XDOM_CMD_MS);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, socket_send(fd, i == 1 ? VCHAN_BIG : VCHAN_SMALL, i)) {
			TH_LOG("connection %u broke or its hash differs", i);
		}
		close(fd);
		if (i == 1)
			ksft_print_msg("%u MB dom0 -> guest through vchan-socket-proxy in %" PRIu64 " ms\n",
				       VCHAN_BIG >> 20, now_ms() - start);
	}
	ASSERT_EQ(0, xdom_cmd(&self->guest, reply, sizeof(reply), "vchan-wait %d %d",
			      slot, XDOM_CMD_MS / 2));
	EXPECT_STREQ("0", reply);
}

struct receiver {
	int listener;
	unsigned int count;
	unsigned int done;	/* exchanges that went through */
};

static void *receive_all(void *arg)
{
	struct receiver *r = arg;
	unsigned int i;
	int fd;

	for (i = 0; i < r->count; i++) {
		if (!wait_readable(r->listener, XDOM_CMD_MS))
			break;
		fd = accept4(r->listener, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (!socket_receive(fd))
			r->done++;
		close(fd);
	}
	return NULL;
}

/*
 * dom0's vchan-socket-proxy is the vchan server (our gntalloc shares its
 * rings), the guest the client; dom0 receives on the proxy's socket.
 */
TEST_F_TIMEOUT(xdomain_vchan, dom0_proxy_server_and_guest_client_carry_data_and_reconnect,
	       XDOM_TEST_TIMEOUT)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct receiver r = { .count = VCHAN_CONNECTIONS };
	pthread_t thread;
	unsigned int i;
	uint64_t start;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", VCHAN_SOCKET);
	self->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, self->listener);
	ASSERT_EQ(0, bind(self->listener, (struct sockaddr *)&a, sizeof(a)));
	ASSERT_EQ(0, listen(self->listener, 4));
	r.listener = self->listener;
	ASSERT_EQ(0, pthread_create(&thread, NULL, receive_all, &r));
	self->proxy = start_proxy("server", self->guest.domid, self->path);
	ASSERT_LT(0, self->proxy);
	start = now_ms();
	for (i = 1; i <= VCHAN_CONNECTIONS; i++) {
		EXPECT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "vchan-send %s %u %u",
				      self->path, i == 1 ? VCHAN_BIG : VCHAN_SMALL, i)) {
			TH_LOG("connection %u broke or its hash differs", i);
		}
		if (i == 1)
			ksft_print_msg("%u MB guest -> dom0 through vchan-socket-proxy in %" PRIu64 " ms\n",
				       VCHAN_BIG >> 20, now_ms() - start);
	}
	pthread_join(thread, NULL);
	EXPECT_EQ((unsigned int)VCHAN_CONNECTIONS, r.done);
}

/* ---------------------------------------------------------------------- */
/* Several guests at once                                                   */
/* ---------------------------------------------------------------------- */

FIXTURE(xdomain_many) {
	struct gntalloc_env env;
	struct xdom_guest guest[MANY_GUESTS];
	int fd;
};

FIXTURE_SETUP(xdomain_many)
{
	int i;

	self->fd = -1;
	for (i = 0; i < MANY_GUESTS; i++)
		self->guest[i].domid = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	if (access(XDOM_RAMDISK, F_OK))
		SKIP(return, "%s is missing: no guest domains here (make check starts them)",
		     XDOM_RAMDISK);
	/* Booting at the same time: all created, then each waited for. */
	for (i = 0; i < MANY_GUESTS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "xdom-many-%d", i);
		ASSERT_EQ(0, xdom_create(&self->guest[i], name, "server"));
	}
	for (i = 0; i < MANY_GUESTS; i++)
		ASSERT_EQ(0, xdom_wait_ready(&self->guest[i]));
	self->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN_PARENT(xdomain_many)
{
	int i;

	if (env_in_test_process(&self->env))
		close_if_open(self->fd);
	for (i = 0; i < MANY_GUESTS; i++)
		if (self->guest[i].name[0])
			EXPECT_EQ(0, xdom_destroy(&self->guest[i]));
	env_teardown(_metadata, &self->env);
}

TEST_F_TIMEOUT(xdomain_many, one_guest_destroyed_in_the_middle_leaves_the_others_alone,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT];
	struct gntalloc_counters c, want = self->env.base;
	uint64_t index[MANY_GUESTS];
	uint8_t *mine[MANY_GUESTS];
	int slot[MANY_GUESTS], i;
	const int victim = MANY_GUESTS / 2;

	for (i = 0; i < MANY_GUESTS; i++) {
		ASSERT_EQ(0, share_with(self->fd, (uint16_t)self->guest[i].domid,
					GNTALLOC_FLAG_WRITABLE, 4, 90 + i,
					&index[i], refs, sizeof(refs), &mine[i]));
		ASSERT_EQ(0, xdom_cmd(&self->guest[i], reply, sizeof(reply),
				      "map 0 rw %s", refs));
		slot[i] = atoi(reply);
	}
	/* The victim's pages: let go by us, still mapped by it, then it dies. */
	ASSERT_EQ(0, munmap(mine[victim], 4 * page_size()));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index[victim], 4));
	ASSERT_EQ(0, xdom_destroy(&self->guest[victim]));
	want.in_use += 4 * (MANY_GUESTS - 1);
	EXPECT_EQ(0, wait_gauges(&want, GAUGE_IN_USE | GAUGE_PENDING, &c)) {
		TH_LOG("in_use %" PRIu64 " pending %" PRIu64, c.in_use, c.pending);
	}
	/* The others still share with us, both ways. */
	for (i = 0; i < MANY_GUESTS; i++) {
		if (i == victim)
			continue;
		ASSERT_EQ(0, xdom_cmd(&self->guest[i], reply, sizeof(reply),
				      "check %d %d", slot[i], 90 + i));
		EXPECT_STREQ("ok", reply);
		ASSERT_EQ(0, xdom_cmd(&self->guest[i], NULL, 0, "fill %d %d",
				      slot[i], 190 + i));
		EXPECT_EQ(-1, xdom_check(mine[i], 4, 190 + i));
		ASSERT_EQ(0, xdom_cmd(&self->guest[i], NULL, 0, "release %d",
				      slot[i]));
		ASSERT_EQ(0, munmap(mine[i], 4 * page_size()));
		ASSERT_EQ(0, gntalloc_dealloc(self->fd, index[i], 4));
		ASSERT_EQ(0, xdom_cmd(&self->guest[i], reply, sizeof(reply), "health"));
	}
}

TEST_HARNESS_MAIN
