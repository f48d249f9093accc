// SPDX-License-Identifier: GPL-2.0
/*
 * gntalloc_xdomain_guest - the program a test-bed guest domain runs (its
 * role), the other side of gntalloc_xdomain_test.  Not a test itself.
 *
 *	gntalloc_xdomain_guest server
 *	gntalloc_xdomain_guest vchan-serve PATH DOMID COUNT RING
 *	gntalloc_xdomain_guest vchan-send PATH DOMID BYTES SEED
 *
 * The last two do what the verbs of the same names do (below), in any
 * domain, from the command line: `make run` uses them in dom0.
 *
 * takes commands from dom0 through xenstore (gntalloc_xdomain.h says how)
 * until it is told to stop, one at a time, and answers each.  What it holds
 * lives in numbered slots:
 *
 *	ping				-> "pong DOMID"
 *	share DOMID COUNT rw|ro SEED	pages of its /dev/xen/gntalloc granted to
 *					DOMID, filled with SEED's pattern -> "SLOT REFS"
 *	map DOMID rw|ro REFS		DOMID's grants through its gntdev -> "SLOT"
 *	check SLOT SEED			the slot's pages hold SEED's pattern -> "ok"
 *	fill SLOT SEED			write SEED's pattern into them
 *	byte SLOT PAGE OFFSET		-> the byte's value
 *	notify SLOT PAGE		UNMAP_NOTIFY_CLEAR_BYTE on the page's byte 0
 *	drop SLOT			the owner lets go: munmap and close, no DEALLOC
 *	release SLOT			unmap, DEALLOC, close: the slot is free
 *	evtbind DOMID PORT		an interdomain event channel to DOMID's PORT -> "SLOT"
 *	evtwait SLOT MS			-> "1" if an event came within MS, else "0"
 *	counters			-> "in_use pending mapped open_files" of its
 *					xen-gntalloc, or "none" (the stock driver)
 *	reset				release every slot
 *	health				-> "clean", or the kernel log's bad lines (RC -EIO)
 *	vchan-serve PATH COUNT RING	a child serves COUNT libxenvchan connections in
 *					turn at PATH for dom0, RING bytes a side
 *					(gntalloc_xdomain_vchan.h); "data/gntalloc/
 *					vchan-ready" counts the servers published -> "SLOT"
 *	vchan-wait SLOT MS		-> the child's exit status once it exits
 *	vchan-send PATH BYTES SEED	as a libxenvchan client of dom0's server at PATH
 *	crash				the kernel panics (sysrq c): no answer
 *	stop				answer, then exit (the guest powers off)
 */

#include <signal.h>

#include "gntalloc_xdomain.h"
#include "gntalloc_xdomain_vchan.h"

#define SLOTS	64

enum slot_kind { SLOT_FREE, SLOT_SHARE, SLOT_MAP, SLOT_EVTCHN, SLOT_CHILD };

struct slot {
	enum slot_kind kind;
	int fd;			/* gntalloc, gntdev or evtchn */
	void *addr;		/* SLOT_SHARE */
	__u64 index;		/* SLOT_SHARE */
	uint32_t count;
	struct peer_map map;	/* SLOT_MAP */
	uint32_t port;		/* SLOT_EVTCHN */
	pid_t pid;		/* SLOT_CHILD */
};

static struct slot slots[SLOTS];

static int slot_new(void)
{
	int i;

	for (i = 0; i < SLOTS; i++)
		if (slots[i].kind == SLOT_FREE) {
			memset(&slots[i], 0, sizeof(slots[i]));
			slots[i].fd = -1;
			return i;
		}
	return -ENOSPC;
}

static struct slot *slot_get(int i)
{
	return i >= 0 && i < SLOTS && slots[i].kind != SLOT_FREE ? &slots[i] : NULL;
}

static void slot_release(struct slot *s)
{
	switch (s->kind) {
	case SLOT_SHARE:
		if (s->addr)
			munmap(s->addr, s->count * page_size());
		if (s->fd >= 0)
			gntalloc_dealloc(s->fd, s->index, s->count);
		break;
	case SLOT_MAP:
		peer_unmap(&s->map);
		break;
	case SLOT_CHILD:
		if (s->pid > 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, NULL, 0);
		}
		break;
	default:
		break;
	}
	close_if_open(s->fd);
	s->kind = SLOT_FREE;
}

static uint8_t *slot_pages(struct slot *s)
{
	if (s->kind == SLOT_SHARE)
		return s->addr;
	if (s->kind == SLOT_MAP)
		return s->map.addr;
	return NULL;
}

static int do_share(char *out, size_t size, unsigned int domid,
		    unsigned int count, const char *prot, uint32_t seed)
{
	uint32_t refs[XDOM_MAX_REFS];
	struct slot *s;
	int i = slot_new(), n;

	if (i < 0)
		return i;
	if (!count || count > XDOM_MAX_REFS)
		return -EINVAL;
	s = &slots[i];
	s->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (gntalloc_alloc(s->fd, (uint16_t)domid,
			   strcmp(prot, "rw") ? 0 : GNTALLOC_FLAG_WRITABLE,
			   count, &s->index, refs)) {
		n = -errno;
		close(s->fd);
		return n;
	}
	s->count = count;
	s->kind = SLOT_SHARE;
	s->addr = gntalloc_mmap(s->fd, s->index, count);
	if (s->addr == MAP_FAILED) {
		n = -errno;
		s->addr = NULL;
		slot_release(s);
		return n;
	}
	xdom_fill(s->addr, count, seed);
	n = snprintf(out, size, "%d ", i);
	xdom_format_refs(out + n, size - (size_t)n, refs, count);
	return 0;
}

static int do_map(char *out, size_t size, unsigned int domid,
		  const char *prot, const char *refstr)
{
	uint32_t refs[XDOM_MAX_REFS];
	struct slot *s;
	int i = slot_new(), n, err;

	if (i < 0)
		return i;
	n = xdom_parse_refs(refstr, refs, XDOM_MAX_REFS);
	if (n <= 0)
		return -EINVAL;
	s = &slots[i];
	s->fd = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	err = peer_map_domain(&s->map, s->fd, (uint16_t)domid, refs, (uint32_t)n,
			      strcmp(prot, "rw") ? PROT_READ : PROT_READ | PROT_WRITE);
	if (err) {
		close(s->fd);
		return err;
	}
	s->count = (uint32_t)n;
	s->kind = SLOT_MAP;
	snprintf(out, size, "%d", i);
	return 0;
}

static int do_evtbind(char *out, size_t size, unsigned int domid,
		      unsigned int port)
{
	struct ioctl_evtchn_bind_interdomain bind = {
		.remote_domain = domid,
		.remote_port = port,
	};
	struct evtchn_pair e = { .fd_local = -1 };
	struct slot *s;
	int i = slot_new(), ret;

	if (i < 0)
		return i;
	s = &slots[i];
	s->fd = open(EVTCHN_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (s->fd < 0)
		return -errno;
	ret = ioctl(s->fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);
	if (ret < 0) {
		ret = -errno;
		close(s->fd);
		return ret;
	}
	s->port = (uint32_t)ret;
	s->kind = SLOT_EVTCHN;
	/* Xen raises a newly bound port once: consume that event. */
	e.fd_remote = s->fd;
	e.remote_port = s->port;
	evtchn_pair_wait(&e, BIND_EVENT_MS);
	snprintf(out, size, "%d", i);
	return 0;
}

static void vchan_ready(unsigned int i)
{
	struct xs_handle *xs = xs_open(0);
	char n[16];

	snprintf(n, sizeof(n), "%u", i);
	if (xs) {
		xdom_xs_write(xs, XDOM_HOME "/vchan-ready", n);
		xs_close(xs);
	}
}

static int do_vchan_serve(char *out, size_t size, const char *path,
			  unsigned int count, unsigned int ring)
{
	struct slot *s;
	int i = slot_new();

	if (i < 0)
		return i;
	s = &slots[i];
	vchan_ready(0);
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (!s->pid)
		_exit(xdom_vchan_serve(path, 0, ring, count, vchan_ready) ? 1 : 0);
	s->kind = SLOT_CHILD;
	snprintf(out, size, "%d", i);
	return 0;
}

static int do_vchan_wait(char *out, size_t size, struct slot *s, unsigned int ms)
{
	__u64 deadline = now_ms() + ms;
	int status;
	pid_t got;

	if (s->kind != SLOT_CHILD)
		return -EINVAL;
	while (!(got = waitpid(s->pid, &status, WNOHANG)) && now_ms() < deadline)
		sleep_ms(10);
	if (got != s->pid)
		return -ETIMEDOUT;
	s->pid = 0;
	snprintf(out, size, "%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static int do_counters(char *out, size_t size)
{
	struct gntalloc_counters c;
	int err;

	if (!have_counters()) {
		snprintf(out, size, "none");
		return 0;
	}
	err = read_counters(&c);
	if (err)
		return err;
	snprintf(out, size, "%llu %llu %llu %llu",
		 c.in_use, c.pending, c.mapped, c.open_files);
	return 0;
}

static int do_health(char *out, size_t size)
{
	FILE *f = popen("dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|still in use'",
			"r");
	size_t len = 0;
	char line[256];

	out[0] = '\0';
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (len + 1 < size)
			len += (size_t)snprintf(out + len, size - len, "%s",
						line);
	pclose(f);
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (!len) {
		snprintf(out, size, "clean");
		return 0;
	}
	return -EIO;
}

/* One command: its RC, the text of the reply in @out. */
static int run(char *line, char *out, size_t size, bool *stop)
{
	char verb[16] = "", a[16] = "", refs[XDOM_TEXT] = "";
	unsigned int x = 0, y = 0, z = 0;
	struct slot *s;
	long bad;

	out[0] = '\0';
	if (sscanf(line, "%15s", verb) != 1)
		verb[0] = '\0';	/* an empty line: no verb */
	if (!strcmp(verb, "ping")) {
		snprintf(out, size, "pong");
		return 0;
	}
	if (!strcmp(verb, "share") &&
	    sscanf(line, "%*s %u %u %15s %u", &x, &y, a, &z) == 4)
		return do_share(out, size, x, y, a, z);
	if (!strcmp(verb, "map") &&
	    sscanf(line, "%*s %u %15s %1023s", &x, a, refs) == 3)
		return do_map(out, size, x, a, refs);
	if (!strcmp(verb, "evtbind") && sscanf(line, "%*s %u %u", &x, &y) == 2)
		return do_evtbind(out, size, x, y);
	if (!strcmp(verb, "vchan-serve") &&
	    sscanf(line, "%*s %1023s %u %u", refs, &x, &y) == 3)
		return do_vchan_serve(out, size, refs, x, y);
	if (!strcmp(verb, "vchan-send") &&
	    sscanf(line, "%*s %1023s %u %u", refs, &x, &y) == 3)
		return xdom_vchan_send(refs, 0, x, y, XDOM_CMD_MS / 2) ? -EIO : 0;
	if (!strcmp(verb, "counters"))
		return do_counters(out, size);
	if (!strcmp(verb, "health"))
		return do_health(out, size);
	if (!strcmp(verb, "reset")) {
		for (x = 0; x < SLOTS; x++)
			if (slots[x].kind != SLOT_FREE)
				slot_release(&slots[x]);
		return 0;
	}
	if (!strcmp(verb, "stop")) {
		*stop = true;
		return 0;
	}
	if (!strcmp(verb, "crash")) {
		sync();
		write_str_file("/proc/sysrq-trigger", "c");
		return -EIO;	/* not reached */
	}

	/* The verbs on a slot. */
	if (sscanf(line, "%*s %u %u %u", &x, &y, &z) < 1)
		return -EINVAL;
	s = slot_get((int)x);
	if (!s)
		return -EBADF;
	if (!strcmp(verb, "check") || !strcmp(verb, "fill")) {
		if (!slot_pages(s))
			return -EBADF;
		if (verb[0] == 'f') {
			xdom_fill(slot_pages(s), s->count, y);
			return 0;
		}
		bad = xdom_check(slot_pages(s), s->count, y);
		snprintf(out, size, bad < 0 ? "ok" : "bad page %ld", bad);
		return 0;
	}
	if (!strcmp(verb, "byte")) {
		if (!slot_pages(s) || y >= s->count || z >= page_size())
			return -EINVAL;
		snprintf(out, size, "%u", slot_pages(s)[y * page_size() + z]);
		return 0;
	}
	if (!strcmp(verb, "notify")) {
		if (s->kind != SLOT_SHARE || y >= s->count)
			return -EINVAL;
		return gntalloc_set_notify(s->fd, s->index + y * page_size(),
					   UNMAP_NOTIFY_CLEAR_BYTE, 0) ? -errno : 0;
	}
	if (!strcmp(verb, "drop")) {
		if (s->kind != SLOT_SHARE)
			return -EINVAL;
		munmap(s->addr, s->count * page_size());
		close(s->fd);
		s->kind = SLOT_FREE;
		return 0;
	}
	if (!strcmp(verb, "release")) {
		slot_release(s);
		return 0;
	}
	if (!strcmp(verb, "vchan-wait"))
		return do_vchan_wait(out, size, s, y);
	if (!strcmp(verb, "evtwait")) {
		struct evtchn_pair e = { .fd_local = -1, .fd_remote = s->fd,
					 .remote_port = s->port };
		int got;

		if (s->kind != SLOT_EVTCHN)
			return -EINVAL;
		got = evtchn_pair_wait(&e, (int)y);
		if (got < 0)
			return got;
		snprintf(out, size, "%d", got);
		return 0;
	}
	return -EINVAL;
}

static int serve(void)
{
	char cmd[XDOM_TEXT], out[XDOM_TEXT], reply[XDOM_TEXT + 32];
	unsigned int seq, last = 0;
	struct xs_handle *xs;
	bool stop = false;
	int rc, n;

	xs = xs_open(0);
	if (!xs) {
		perror("xdomain-guest: xs_open");
		return 1;
	}
	/* Relative paths are the guest's own home, /local/domain/<domid>. */
	xs_rm(xs, XBT_NULL, XDOM_HOME);
	if (xdom_xs_write(xs, XDOM_HOME "/reply", "0 0 none") ||
	    xdom_xs_write(xs, XDOM_HOME "/ready", "1")) {
		perror("xdomain-guest: cannot write " XDOM_HOME);
		return 1;
	}
	printf("xdomain-guest: server ready\n");
	fflush(stdout);
	while (!stop) {
		if (xdom_xs_read(xs, XDOM_HOME "/cmd", cmd, sizeof(cmd)) ||
		    sscanf(cmd, "%u %n", &seq, &n) < 1 || seq == last) {
			sleep_ms(5);
			continue;
		}
		last = seq;
		rc = run(cmd + n, out, sizeof(out), &stop);
		snprintf(reply, sizeof(reply), "%u %d %s", seq, rc, out);
		if (xdom_xs_write(xs, XDOM_HOME "/reply", reply)) {
			perror("xdomain-guest: cannot write the reply");
			return 1;
		}
	}
	xs_close(xs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "server"))
		return serve();
	if (argc == 6 && !strcmp(argv[1], "vchan-serve"))
		return xdom_vchan_serve(argv[2], atoi(argv[3]), strtoul(argv[5], NULL, 0),
					strtoul(argv[4], NULL, 0), vchan_ready) ? 1 : 0;
	if (argc == 6 && !strcmp(argv[1], "vchan-send"))
		return xdom_vchan_send(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 0),
				       strtoul(argv[5], NULL, 0), XDOM_CMD_MS / 2) ? 1 : 0;
	fprintf(stderr, "usage: %s server\n"
		"       %s vchan-serve PATH DOMID COUNT RING\n"
		"       %s vchan-send PATH DOMID BYTES SEED\n", argv[0], argv[0], argv[0]);
	return 2;
}
