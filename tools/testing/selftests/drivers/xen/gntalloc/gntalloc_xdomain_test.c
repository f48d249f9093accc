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
 *  - the peer's death, libxenvchan with Xen's vchan-socket-proxy and several
 *    guests at once are in gntalloc_xdomain_peer_test.c.
 *
 * One guest (SHARED_GUEST) serves xdomain_data, xdomain and xdomain_notify:
 * the first SETUP boots it, later ones find it and reset it.  Each TEARDOWN
 * checks that the guest is healthy (no WARN, oops or leaked grant in its
 * kernel log) and that its counters are back at their baseline, as dom0's.
 */

#include <sys/mount.h>

#include "gntalloc_xdomain_fixture.h"

#define THIRD_DOMID_OFFSET	100	/* a domain that does not exist */
#define MANY_PAGES		16
#define DEBUGFS_DOMAINS		"/sys/kernel/debug/gntalloc/domains"
#define TRACEFS			"/sys/kernel/tracing"

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
	self->fd = -1;
	self->gntdev = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	REQUIRE_DEVICE(return, GNTDEV_DEV, "xen-gntdev");
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
	__u64 index;
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
	self->fd = -1;
	self->gntdev = -1;
	self->child = 0;
	self->to_child[0] = -1;
	self->to_child[1] = -1;
	self->to_parent[0] = -1;
	self->to_parent[1] = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	REQUIRE_DEVICE(return, GNTDEV_DEV, "xen-gntdev");
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
		kill_child(&self->child, true);
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
	__u64 index;
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
	__u64 index;
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
	__u64 index, before;
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
		TH_LOG("3 pages allocated with %llu in use and room for 2",
		       before);
	}
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fd, 2, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fd, index, 2));
	/* The guest unmaps: they come back. */
	ASSERT_EQ(0, xdom_cmd(&self->guest, NULL, 0, "release %d", slot));
	EXPECT_EQ(0, wait_gauges(&want, GAUGE_IN_USE | GAUGE_PENDING, &c)) {
		TH_LOG("in_use %llu pending %llu after the guest unmapped",
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
	__u64 in_use, pending, start, took;
	int slot, got = -1, fields;
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
	fields = sscanf(counters, "%llu %llu", &in_use, &pending);
	ASSERT_EQ(2, fields);
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
	ksft_print_msg("guest's pending pages came back %llu ms after dom0's mapper was killed\n",
		       took);
}

/* debugfs `domains` and `gntstat -p` name the guest's real domid. */
TEST_F_TIMEOUT(xdomain, per_domain_views_show_the_guests_domid,
	       XDOM_TEST_TIMEOUT)
{
	char reply[XDOM_TEXT], refs[XDOM_TEXT], view[4096], want[128];
	__u64 index;
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
	snprintf(want, sizeof(want), "\n%d 3 0 ", self->guest.domid);
	EXPECT_NE(NULL, strstr(view, want)) TH_LOG("domains:\n%s", view);
	/* The owner lets go: the same pages, now pending. */
	ASSERT_EQ(0, munmap(mine, 3 * page_size()));
	close(self->fd);
	self->fd = -1;
	ASSERT_LT(0, read_buf_file(DEBUGFS_DOMAINS, view, sizeof(view)));
	snprintf(want, sizeof(want), "\n%d 3 3 ", self->guest.domid);
	EXPECT_NE(NULL, strstr(view, want)) TH_LOG("domains:\n%s", view);
	ASSERT_EQ(0, xdom_sh(view, sizeof(view), "gntstat -p -j"));
	snprintf(want, sizeof(want), "{\"domid\":%d,\"grants\":3,\"pending\":3,",
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
	__u64 index;
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
	self->to_child[0] = -1;
	self->to_child[1] = -1;
	self->to_parent[0] = -1;
	self->to_parent[1] = -1;
	if (!env_setup(_metadata, &self->env))
		return;
	REQUIRE_DEVICE(return, EVTCHN_DEV, "xen-evtchn");
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
		kill_child(&self->child, true);
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
static int owner_share(int fd, uint16_t domid, uint32_t port, __u64 *index,
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
	__u64 index = 0;
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

TEST_HARNESS_MAIN
