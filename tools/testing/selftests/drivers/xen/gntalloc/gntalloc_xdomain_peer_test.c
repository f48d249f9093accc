// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc between two domains, continued (gntalloc_xdomain_test.c has
 * the rest and says how the guests work): peers that die, libxenvchan, and
 * several guests.
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
 * Built and installed, not yet run by `make check`: in the test bed a
 * second `xl create` in a boot has failed so far (qemu/README.md, "Guest
 * domains"), and every fixture here but xdomain_vchan boots guests of its
 * own.
 */

#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gntalloc_xdomain_fixture.h"
#include "gntalloc_xdomain_vchan.h"

#define MANY_GUESTS		3

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
	__u64 index, start, took;
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
	ksft_print_msg("%u pending pages came back %llu ms after the guest's %s\n",
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
		kill_child(&self->proxy, true);
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
static int socket_send(int fd, __u64 bytes, uint32_t seed)
{
	__u64 h = XDOM_FNV_BASIS, sent = 0, back;
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
	__u64 h = XDOM_FNV_BASIS, len, got = 0;
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
		got += (__u64)n;
	}
	if (write_all(fd, &h, sizeof(h)))
		return -1;
	wait_readable(fd, XDOM_CMD_MS);	/* EOF: the sender is done */
	return 0;
}

static int connect_socket(const char *path, int wait_ms)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	__u64 deadline = now_ms() + (__u64)wait_ms;
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
	__u64 deadline = now_ms() + XDOM_CMD_MS;
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
	__u64 start;
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
			ksft_print_msg("%u MB dom0 -> guest through %s in %llu ms\n",
				       VCHAN_BIG >> 20, "vchan-socket-proxy", now_ms() - start);
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
	__u64 start;

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
			ksft_print_msg("%u MB guest -> dom0 through %s in %llu ms\n",
				       VCHAN_BIG >> 20, "vchan-socket-proxy", now_ms() - start);
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
	__u64 index[MANY_GUESTS];
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
		TH_LOG("in_use %llu pending %llu", c.in_use, c.pending);
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
