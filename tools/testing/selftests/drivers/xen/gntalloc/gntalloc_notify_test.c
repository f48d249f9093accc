// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: IOCTL_GNTALLOC_SET_UNMAP_NOTIFY.
 *
 * A page may carry one unmap notification: clear a byte of it
 * (UNMAP_NOTIFY_CLEAR_BYTE), signal an event channel (UNMAP_NOTIFY_SEND_EVENT),
 * or both.  It fires when the page is released - deallocated (by DEALLOC or
 * close) and unmapped by every process (by munmap, exit or exec) - and never
 * before.  The peer side is played by a gntdev mapping of the same grant,
 * which sees the cleared byte, and by the other end of an event channel pair
 * bound to ourselves, which receives the event.
 */

#include "gntalloc_fixture.h"

#define NOTIFY_BYTE		100	/* byte of the page that CLEAR_BYTE clears */
#define CHILD_TIMEOUT_MS	10000
#define PRIVCMD_DEV		"/dev/xen/privcmd"

FIXTURE(notify) {
	struct gntalloc_fixture fx;
	struct evtchn_pair ev2;
	void *map;
	size_t map_len;
};

FIXTURE_SETUP(notify)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_GNTDEV | FX_EVTCHN))
		return;
	self->ev2.fd_local = -1;
	self->ev2.fd_remote = -1;
	ASSERT_EQ(0, evtchn_pair_open(&self->ev2));
}

FIXTURE_TEARDOWN_PARENT(notify)
{
	if (env_in_test_process(&self->fx.env))
		evtchn_pair_close(&self->ev2);
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(notify, unknown_action_bits_are_refused)
{
	static const uint32_t actions[] = { 0x4, 0x8, 0x80000000, 0xffffffff };
	__u64 index;
	size_t i;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	for (i = 0; i < ARRAY_SIZE(actions); i++) {
		ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index, actions[i],
						  self->fx.ev.local_port))
			TH_LOG("action 0x%x accepted", actions[i]);
		ASSERT_EQ(EINVAL, errno);
	}
}

TEST_F(notify, send_event_to_an_unbound_port_is_refused)
{
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index,
					  UNMAP_NOTIFY_SEND_EVENT, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index,
					  UNMAP_NOTIFY_SEND_EVENT |
					  UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(notify, send_event_to_a_huge_port_is_refused)
{
	static const uint32_t ports[] = { 1U << 17, 1U << 24, UINT32_MAX };
	__u64 index;
	size_t i;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index,
						  UNMAP_NOTIFY_SEND_EVENT,
						  ports[i]))
			TH_LOG("port %u accepted", ports[i]);
		ASSERT_EQ(EINVAL, errno);
	}
}

/*
 * Who holds event channel @port of ours, as Xen tells it (EVTCHNOP_status
 * through privcmd): true if user space cannot have bound it through
 * /dev/xen/evtchn, i.e. it is closed, or bound to a physical IRQ or an IPI
 * (the kernel's alone), or to VIRQ_TIMER or VIRQ_DEBUG (per-vCPU VIRQs,
 * which the kernel binds on every vCPU and Xen binds once).  Interdomain,
 * unbound and other VIRQ ports may be user space's: xenstored and
 * xenconsoled bind such ports in dom0 when the toolstack runs.
 */
#define HYPERVISOR_event_channel_op	32
#define EVTCHNOP_status			5
#define DOMID_SELF			0x7FF0U
enum {
	EVTCHNSTAT_closed, EVTCHNSTAT_unbound, EVTCHNSTAT_interdomain,
	EVTCHNSTAT_pirq, EVTCHNSTAT_virq, EVTCHNSTAT_ipi
};

#define VIRQ_TIMER	0
#define VIRQ_DEBUG	1

/* <xen/privcmd.h>'s, which needs the kernel's Xen headers */
struct privcmd_hypercall {
	__u64 op;
	__u64 arg[5];
};

#define IOCTL_PRIVCMD_HYPERCALL	_IOC(_IOC_NONE, 'P', 0, sizeof(struct privcmd_hypercall))

struct evtchn_status_op {	/* struct evtchn_status, xen/include/public/event_channel.h */
	uint16_t dom;
	uint32_t port;
	uint32_t status;
	uint32_t vcpu;
	union {
		struct { uint16_t dom; } unbound;
		struct { uint16_t dom; uint32_t port; } interdomain;
		uint32_t pirq;
		uint32_t virq;
	} u;
};

static bool port_is_the_kernels_or_nobodys(int privcmd, uint32_t port)
{
	struct evtchn_status_op st = { .dom = DOMID_SELF, .port = port };
	struct privcmd_hypercall call = {
		.op = HYPERVISOR_event_channel_op,
		.arg = { EVTCHNOP_status, (uintptr_t)&st },
	};

	if (ioctl(privcmd, IOCTL_PRIVCMD_HYPERCALL, &call))
		return false;
	switch (st.status) {
	case EVTCHNSTAT_closed:
	case EVTCHNSTAT_pirq:
	case EVTCHNSTAT_ipi:
		return true;
	case EVTCHNSTAT_virq:
		return st.u.virq == VIRQ_TIMER || st.u.virq == VIRQ_DEBUG;
	default:
		return false;
	}
}

TEST_F(notify, send_event_to_ports_not_bound_by_user_space_is_refused)
{
	uint32_t lowest = self->fx.ev.local_port, port, tried = 0;
	__u64 index;
	int privcmd;

	/* Below the ports we bound: the kernel's own (timers, IPIs, ...)... */
	if (self->ev2.local_port < lowest)
		lowest = self->ev2.local_port;
	if (self->fx.ev.remote_port < lowest)
		lowest = self->fx.ev.remote_port;
	ASSERT_LT(1U, lowest) TH_LOG("no port below ours to try");
	/* ...and, with Xen's toolstack running, some of xenstored's. */
	privcmd = open(PRIVCMD_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, privcmd) TH_LOG("cannot open %s: %s", PRIVCMD_DEV, strerror(errno));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	for (port = 1; port < lowest; port++) {
		if (!port_is_the_kernels_or_nobodys(privcmd, port))
			continue;
		tried++;
		ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index,
						  UNMAP_NOTIFY_SEND_EVENT, port))
			TH_LOG("port %u accepted", port);
		ASSERT_EQ(EINVAL, errno);
	}
	close(privcmd);
	ASSERT_LT(0U, tried) TH_LOG("no port below %u that only the kernel can hold", lowest);
	/* A port of ours is fine. */
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index,
					 UNMAP_NOTIFY_SEND_EVENT,
					 self->fx.ev.local_port));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index, 0, 0));
}

TEST_F(notify, clear_byte_alone_ignores_the_port)
{
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index,
					 UNMAP_NOTIFY_CLEAR_BYTE, UINT32_MAX));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index, 0, UINT32_MAX));
}

TEST_F(notify, unallocated_page_is_refused_with_enoent)
{
	const size_t ps = page_size();
	__u64 index;

	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, 0, UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(ENOENT, errno);

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index + ps,
					  UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index + 100 * ps + 5,
					  UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(notify, deallocated_page_is_refused_with_enoent_even_if_mapped)
{
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	self->map_len = page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	ASSERT_EQ(-1, gntalloc_set_notify(self->fx.fd, index,
					  UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(ENOENT, errno);
}

TEST_F(notify, low_bits_pick_the_byte_high_bits_the_page)
{
	const size_t ps = page_size();
	uint8_t *peer;
	__u64 index;
	uint32_t refs[3];
	size_t page, off;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, refs));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, 3,
			      PROT_READ | PROT_WRITE));
	peer = peer_byte(&self->fx.peer, 0, 0);
	memset((void *)peer, MARK, 3 * ps);
	/* The last byte of the middle page. */
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + 2 * ps - 1,
					 UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 3));

	for (page = 0; page < 3; page++)
		for (off = 0; off < ps; off++)
			ASSERT_EQ(page == 1 && off == ps - 1 ? 0 : MARK,
				  READ_ONCE(peer[page * ps + off]))
				TH_LOG("page %zu, byte %zu", page, off);
}

TEST_F(notify, action_zero_removes_the_notification)
{
	uint8_t *peer;
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
			      PROT_READ | PROT_WRITE));
	peer = peer_byte(&self->fx.peer, 0, NOTIFY_BYTE);
	WRITE_ONCE(*peer, MARK);
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + NOTIFY_BYTE,
					 UNMAP_NOTIFY_CLEAR_BYTE |
					 UNMAP_NOTIFY_SEND_EVENT,
					 self->fx.ev.local_port));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index, 0, 0));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));

	EXPECT_EQ(MARK, READ_ONCE(*peer));
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));
}

TEST_F(notify, second_call_replaces_the_first)
{
	uint8_t *peer;
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
			      PROT_READ | PROT_WRITE));
	peer = peer_byte(&self->fx.peer, 0, 0);
	WRITE_ONCE(peer[10], MARK);
	WRITE_ONCE(peer[20], MARK);
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + 10,
					 UNMAP_NOTIFY_CLEAR_BYTE |
					 UNMAP_NOTIFY_SEND_EVENT,
					 self->fx.ev.local_port));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + 20,
					 UNMAP_NOTIFY_CLEAR_BYTE |
					 UNMAP_NOTIFY_SEND_EVENT,
					 self->ev2.local_port));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));

	EXPECT_EQ(MARK, READ_ONCE(peer[10]));
	EXPECT_EQ(0, READ_ONCE(peer[20]));
	EXPECT_EQ(1, evtchn_pair_wait(&self->ev2, EVENT_TIMEOUT_MS));
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));
}

/*
 * The driver holds a reference on the event channel of a SEND_EVENT
 * notification: the port stays bound after its owner closed it, as long as
 * a notification needs it, and no longer.  Whether a port is still bound
 * shows in whether SET_UNMAP_NOTIFY accepts it.
 */
static bool port_is_bound(int fd, __u64 index, uint32_t port)
{
	bool bound = !gntalloc_set_notify(fd, index, UNMAP_NOTIFY_SEND_EVENT,
					  port);

	if (bound)
		gntalloc_set_notify(fd, index, 0, 0);
	return bound;
}

TEST_F(notify, replaced_or_fired_notifications_drop_their_port)
{
	const size_t ps = page_size();
	uint32_t port = self->fx.ev.local_port;
	__u64 index, probe;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &probe, NULL));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 2, &index, NULL));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index,
					 UNMAP_NOTIFY_SEND_EVENT, port));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + ps,
					 UNMAP_NOTIFY_SEND_EVENT, port));
	/* Its owner lets go of the port; the notifications keep it. */
	evtchn_pair_close(&self->fx.ev);
	ASSERT_TRUE(port_is_bound(self->fx.fd, probe, port));

	/* Replaced by another port: one reference left. */
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index,
					 UNMAP_NOTIFY_SEND_EVENT,
					 self->ev2.local_port));
	ASSERT_TRUE(port_is_bound(self->fx.fd, probe, port));

	/* The last one fires: the port goes. */
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index + ps, 1));
	ASSERT_FALSE(port_is_bound(self->fx.fd, probe, port));
}

TEST_F(notify, removed_notification_drops_its_port)
{
	uint32_t port = self->fx.ev.local_port;
	__u64 index, probe;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &probe, NULL));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index,
					 UNMAP_NOTIFY_SEND_EVENT, port));
	evtchn_pair_close(&self->fx.ev);
	ASSERT_TRUE(port_is_bound(self->fx.fd, probe, port));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index, 0, 0));
	ASSERT_FALSE(port_is_bound(self->fx.fd, probe, port));
}

TEST_F(notify, clear_byte_reaches_a_read_only_peer)
{
	uint8_t *peer;
	__u64 index;
	uint32_t ref;
	uint8_t *p;

	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, SELF_DOMID, 0, 1, &index, &ref));
	self->map_len = page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	p = self->map;
	p[NOTIFY_BYTE] = MARK;
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1, PROT_READ));
	peer = peer_byte(&self->fx.peer, 0, NOTIFY_BYTE);
	ASSERT_EQ(MARK, READ_ONCE(*peer));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + NOTIFY_BYTE,
					 UNMAP_NOTIFY_CLEAR_BYTE, 0));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	EXPECT_EQ(MARK, READ_ONCE(*peer));
	ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
	self->map = NULL;
	EXPECT_EQ(0, READ_ONCE(*peer));
}

/* ---------------------------------------------------------------------- */
/* Every way a page can be released fires its notification, and only then  */
/* ---------------------------------------------------------------------- */

enum release_path {
	DEALLOC_THEN_MUNMAP,	/* DEALLOC, then the last munmap */
	MUNMAP_THEN_DEALLOC,	/* munmap, then DEALLOC */
	DEALLOC_UNMAPPED,	/* DEALLOC of a page nobody maps */
	CLOSE_UNMAPPED,		/* close() of the file */
	CLOSE_THEN_MUNMAP,	/* close() while mapped, then munmap */
	PROCESS_EXIT,		/* the owner exits with the page mapped */
};

FIXTURE(notify_release) {
	struct gntalloc_fixture fx;
	void *map;
	__u64 index;
	uint32_t ref;
};

FIXTURE_VARIANT(notify_release) {
	enum release_path path;
};

FIXTURE_VARIANT_ADD(notify_release, dealloc_then_munmap) {
	.path = DEALLOC_THEN_MUNMAP,
};

FIXTURE_VARIANT_ADD(notify_release, munmap_then_dealloc) {
	.path = MUNMAP_THEN_DEALLOC,
};

FIXTURE_VARIANT_ADD(notify_release, dealloc_unmapped) {
	.path = DEALLOC_UNMAPPED,
};

FIXTURE_VARIANT_ADD(notify_release, close_unmapped) {
	.path = CLOSE_UNMAPPED,
};

FIXTURE_VARIANT_ADD(notify_release, close_then_munmap) {
	.path = CLOSE_THEN_MUNMAP,
};

FIXTURE_VARIANT_ADD(notify_release, process_exit) {
	.path = PROCESS_EXIT,
};

FIXTURE_SETUP(notify_release)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx,
				    FX_GNTDEV | FX_EVTCHN | FX_PIPES | FX_NO_FILE))
		return;
}

FIXTURE_TEARDOWN_PARENT(notify_release)
{
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

/*
 * Allocate a page, map it unless the path releases an unmapped page, and
 * arm @action on NOTIFY_BYTE.  0 or -errno.
 */
static int arm_page(int *fd, void **map, __u64 *index, uint32_t *ref,
		    enum release_path path, uint32_t action, uint32_t port)
{
	*fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (gntalloc_alloc_rw(*fd, 1, index, ref))
		return -errno;
	if (path != DEALLOC_UNMAPPED && path != CLOSE_UNMAPPED) {
		*map = gntalloc_mmap(*fd, *index, 1);
		if (*map == MAP_FAILED) {
			*map = NULL;
			return -errno;
		}
	}
	if (gntalloc_set_notify(*fd, *index + NOTIFY_BYTE, action, port))
		return -errno;
	return 0;
}

/*
 * PROCESS_EXIT: the child owns the page; it sends the ref, exits on 'x'.
 * It must not write to *self, which may be shared with the parent.
 */
static void release_child(const struct _test_data_notify_release *self,
			  uint32_t action)
{
	__u64 index;
	uint32_t ref;
	void *map;
	int fd;

	if (arm_page(&fd, &map, &index, &ref, PROCESS_EXIT, action,
		     self->fx.ev.local_port) ||
	    write(self->fx.to_parent[1], &ref, sizeof(ref)) != sizeof(ref))
		_exit(1);
	recv_byte(self->fx.to_child[0], CHILD_TIMEOUT_MS);
	_exit(0);
}

/* Arm @action on a fresh page, as the path wants it; the peer maps it. */
static void arm(struct __test_metadata *_metadata,
		struct _test_data_notify_release *self, enum release_path path,
		uint32_t action)
{
	pid_t pid;

	if (path == PROCESS_EXIT) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			release_child(self, action);
		self->fx.child = pid;
		ASSERT_TRUE(wait_readable(self->fx.to_parent[0], CHILD_TIMEOUT_MS));
		ASSERT_EQ((ssize_t)sizeof(self->ref),
			  read(self->fx.to_parent[0], &self->ref,
			       sizeof(self->ref)));
	} else {
		ASSERT_EQ(0, arm_page(&self->fx.fd, &self->map, &self->index,
				      &self->ref, path, action,
				      self->fx.ev.local_port));
		if (self->map)
			fx_track(&self->fx, self->map, page_size());
	}
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &self->ref, 1,
			      PROT_READ | PROT_WRITE));
	peer_set(&self->fx.peer, 0, NOTIFY_BYTE, MARK);
}

/* Release the page along @path; @before_last runs before the last step. */
static void release(struct __test_metadata *_metadata,
		    struct _test_data_notify_release *self, enum release_path path,
		    void (*before_last)(struct __test_metadata *,
					struct _test_data_notify_release *))
{
	switch (path) {
	case DEALLOC_THEN_MUNMAP:
		ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, self->index, 1));
		before_last(_metadata, self);
		ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
		self->map = NULL;
		break;
	case MUNMAP_THEN_DEALLOC:
		ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
		self->map = NULL;
		before_last(_metadata, self);
		ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, self->index, 1));
		break;
	case DEALLOC_UNMAPPED:
		before_last(_metadata, self);
		ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, self->index, 1));
		break;
	case CLOSE_UNMAPPED:
		before_last(_metadata, self);
		ASSERT_EQ(0, close(self->fx.fd));
		self->fx.fd = -1;
		break;
	case CLOSE_THEN_MUNMAP:
		ASSERT_EQ(0, close(self->fx.fd));
		self->fx.fd = -1;
		before_last(_metadata, self);
		ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
		self->map = NULL;
		break;
	case PROCESS_EXIT:
		before_last(_metadata, self);
		ASSERT_EQ(0, send_byte(self->fx.to_child[1], 'x'));
		ASSERT_EQ(0, wait_child(self->fx.child));
		self->fx.child = 0;
		break;
	}
}

static void byte_not_cleared_yet(struct __test_metadata *_metadata,
				 struct _test_data_notify_release *self)
{
	EXPECT_EQ(MARK, peer_get(&self->fx.peer, 0, NOTIFY_BYTE))
		TH_LOG("cleared before the page was released");
}

static void no_event_yet(struct __test_metadata *_metadata,
			 struct _test_data_notify_release *self)
{
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS))
		TH_LOG("signalled before the page was released");
}

static void nothing_yet(struct __test_metadata *_metadata,
			struct _test_data_notify_release *self)
{
	byte_not_cleared_yet(_metadata, self);
	no_event_yet(_metadata, self);
}

TEST_F(notify_release, clear_byte_is_seen_by_the_peer)
{
	arm(_metadata, self, variant->path, UNMAP_NOTIFY_CLEAR_BYTE);
	release(_metadata, self, variant->path, byte_not_cleared_yet);
	EXPECT_EQ(0, peer_get(&self->fx.peer, 0, NOTIFY_BYTE));
	/* Nothing but that byte. */
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));
}

TEST_F(notify_release, send_event_is_signalled)
{
	arm(_metadata, self, variant->path, UNMAP_NOTIFY_SEND_EVENT);
	release(_metadata, self, variant->path, no_event_yet);
	EXPECT_EQ(1, evtchn_pair_wait(&self->fx.ev, EVENT_TIMEOUT_MS));
	/* Nothing but the event. */
	EXPECT_EQ(MARK, peer_get(&self->fx.peer, 0, NOTIFY_BYTE));
}

TEST_F(notify_release, both_actions_fire_together)
{
	arm(_metadata, self, variant->path,
	    UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT);
	release(_metadata, self, variant->path, nothing_yet);
	EXPECT_EQ(0, peer_get(&self->fx.peer, 0, NOTIFY_BYTE));
	EXPECT_EQ(1, evtchn_pair_wait(&self->fx.ev, EVENT_TIMEOUT_MS));
	/* Once. */
	EXPECT_EQ(0, evtchn_pair_wait(&self->fx.ev, NO_EVENT_MS));
}

TEST_HARNESS_MAIN
