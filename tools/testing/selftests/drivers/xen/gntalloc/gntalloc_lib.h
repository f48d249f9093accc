/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The library of the xen-gntalloc selftests: plain C, without the kselftest
 * harness, so that programs of their own (gntalloc_stress) use it too.
 * gntalloc_fixture.h adds the harness and the fixtures.
 *
 * The tests run in dom0 and play both sides of a grant.  They allocate pages
 * through /dev/xen/gntalloc granted to domid 0, i.e. to dom0 itself, and map
 * those grant references back through /dev/xen/gntdev, the way a peer domain
 * would map them.  Unmap notifications are observed as a peer sees them: a
 * byte that becomes 0 in the peer's mapping, or an event on an event channel
 * pair that this process binds to itself through /dev/xen/evtchn.
 *
 * What is here:
 *  - device paths and bounds (GNTALLOC_DEV, DRAIN_TIMEOUT_MS, ...), page_size(),
 *    now_ms(), sleep_ms();
 *  - the ioctls: gntalloc_alloc(), gntalloc_alloc_rw(), gntalloc_dealloc(),
 *    gntalloc_set_notify(); gntalloc_mmap();
 *  - files (sysfs, debugfs, procfs): read_buf_file(), read_str_file(),
 *    read_u64_file(), write_buf_file(), write_str_file(), write_u64_file(); the counters
 *    (struct gntalloc_counters, gntalloc_counter_files[], read_counters(),
 *    counter(), read_gauges(), wait_gauges()); get_limit(), set_limit(),
 *    gntalloc_probe_in_use() (in_use on the stock driver, which has no counters);
 *  - the peer: peer_map(), peer_unmap(), peer_byte(), peer_get/set(),
 *    peer_get64/set64(), peer_watch_release(), peer_saw_release();
 *  - an event channel pair bound to ourselves: evtchn_pair_open/wait/close();
 *  - children: wait_child(), send_byte(), recv_byte(), wait_readable();
 *    comm_of_self();
 *  - rng_next() (splitmix64) and become_nobody().
 * Every function returns 0 or -errno unless its comment says otherwise.
 */

#ifndef GNTALLOC_LIB_H
#define GNTALLOC_LIB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <xen/gntdev.h> and <xen/evtchn.h> use Xen's types without defining them. */
typedef uint32_t grant_ref_t;
typedef uint16_t domid_t;

#include <xen/gntalloc.h>	/* the repository's, ahead of the system's */
#include <xen/gntdev.h>
#include <xen/evtchn.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#ifndef BIT
#define BIT(nr)		(1U << (nr))
#endif
#ifndef BIT_ULL
#define BIT_ULL(nr)	(1ULL << (nr))
#endif

/*
 * One whole access to memory that someone else writes or reads meanwhile: a
 * peer's mapping of our grant, a byte the driver clears at unmap, a flag
 * another thread sets.  The compiler may neither drop, merge nor tear it
 * (the kernel's READ_ONCE() and WRITE_ONCE(), with GCC's atomic builtins).
 */
#ifndef READ_ONCE
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#endif

#define GNTALLOC_DEV		"/dev/xen/gntalloc"
#define GNTDEV_DEV		"/dev/xen/gntdev"
#define EVTCHN_DEV		"/dev/xen/evtchn"
#define GNTALLOC_SYSFS		"/sys/class/gntalloc/gntalloc"
#define GNTALLOC_PARAM_LIMIT	"/sys/module/xen_gntalloc/parameters/limit"

/* We grant to ourselves (dom0) so that we can map the grants back. */
#define SELF_DOMID		0
/* DOMID_FIRST_RESERVED in Xen's public xen.h: DOMID_SELF, DOMID_IO, ... */
#define FIRST_RESERVED_DOMID	0x7FF0U
#define DEFAULT_LIMIT		1024U
/* Bound for everything that may legitimately happen in the background. */
#define DRAIN_TIMEOUT_MS	5000
/* How long to wait for an event that must come (it comes in microseconds). */
#define EVENT_TIMEOUT_MS	2000
/* How long to wait for the event Xen raises when a port is bound. */
#define BIND_EVENT_MS		500
/* How long to watch for an event that must not come. */
#define NO_EVENT_MS		200
/* Generous limit for fixtures that need many pages. */
#define BIG_LIMIT		0x100000U	/* 2^20 */

/* A byte that a page never holds after ALLOC (pages come zeroed). */
#define MARK			0xA5

/* What a test writes into page @page of an allocation, to know it again */
static inline __u64 page_tag(uint32_t page)
{
	return 0x70696e6e65640000ULL | page;	/* "pinned" */
}

/* For cleanups: close what was opened; -1 is "not opened". */
static inline void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

static inline void close_all(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close_if_open(fds[i]);
}

static inline void close_pipe(int fds[2])
{
	close_all(fds, 2);
}

static inline size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static inline __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---------------------------------------------------------------------- */
/* The three ioctls: 0 on success, else -1 with errno, like the syscall.   */
/* ---------------------------------------------------------------------- */

/*
 * IOCTL_GNTALLOC_ALLOC_GREF of @count pages; @refs (may be NULL) receives the
 * grant references, @index (may be NULL) the byte offset of the first page.
 */
static inline int gntalloc_alloc(int fd, uint16_t domid, uint16_t flags,
				 uint32_t count, __u64 *index,
				 uint32_t *refs)
{
	struct ioctl_gntalloc_alloc_gref *op;
	size_t size;
	int ret, saved;

	size = sizeof(*op) + (size_t)(count ? count : 1) * sizeof(uint32_t);
	op = calloc(1, size);
	if (!op) {
		errno = ENOMEM;
		return -1;
	}
	op->domid = domid;
	op->flags = flags;
	op->count = count;
	ret = ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op);
	saved = errno;
	if (!ret) {
		if (index)
			*index = op->index;
		if (refs)
			memcpy(refs, op->gref_ids, (size_t)count * sizeof(*refs));
	}
	free(op);
	errno = saved;
	return ret;
}

/* The common case: @count writable pages granted to ourselves. */
static inline int gntalloc_alloc_rw(int fd, uint32_t count, __u64 *index,
				    uint32_t *refs)
{
	return gntalloc_alloc(fd, SELF_DOMID, GNTALLOC_FLAG_WRITABLE, count,
			      index, refs);
}

static inline int gntalloc_dealloc(int fd, __u64 index, uint32_t count)
{
	struct ioctl_gntalloc_dealloc_gref op = {
		.index = index,
		.count = count,
	};

	return ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &op);
}

static inline int gntalloc_set_notify(int fd, __u64 index, uint32_t action,
				      uint32_t port)
{
	struct ioctl_gntalloc_unmap_notify op = {
		.index = index,
		.action = action,
		.event_channel_port = port,
	};

	return ioctl(fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, &op);
}

/* mmap() @pages pages of @fd at byte offset @index, shared and writable. */
static inline void *gntalloc_mmap(int fd, __u64 index, size_t pages)
{
	return mmap(NULL, pages * page_size(), PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, (off_t)index);
}

/* ---------------------------------------------------------------------- */
/* sysfs: the replacement's counters and the limit                         */
/* ---------------------------------------------------------------------- */

/*
 * Read @path with a single read() of at most @size - 1 bytes and end them
 * with a NUL: the number of bytes read, or -errno (of the open or the read).
 */
static inline ssize_t read_buf_file(const char *path, char *buf, size_t size)
{
	ssize_t len;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (len < 0)
		return -err;
	buf[len] = '\0';
	return len;
}

/* Read the first line of @path, without its newline: 0, -EIO if empty, or -errno. */
static inline int read_str_file(const char *path, char *buf, size_t size)
{
	ssize_t len = read_buf_file(path, buf, size);

	if (len <= 0)
		return len ? (int)len : -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Read one decimal value followed by a newline: 0 or -errno. */
static inline int read_u64_file(const char *path, __u64 *val)
{
	char buf[64], *end;
	ssize_t len;

	len = read_buf_file(path, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	if (len < 2 || buf[len - 1] != '\n' || buf[0] < '0' || buf[0] > '9')
		return -EPROTO;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || *end != '\n' || end != buf + len - 1)
		return -EPROTO;
	return 0;
}

/* Write @len bytes of @buf in a single write(): 0 or -errno of the write (or the open). */
static inline int write_buf_file(const char *path, const void *buf, size_t len)
{
	ssize_t ret;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len);
	if (ret < 0)
		err = -errno;
	else if ((size_t)ret != len)
		err = -EIO;
	close(fd);
	return err;
}

/* Write the string @s in a single write(): 0 or -errno of the write (or the open). */
static inline int write_str_file(const char *path, const char *s)
{
	return write_buf_file(path, s, strlen(s));
}

static inline int write_u64_file(const char *path, __u64 val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu\n", val);
	return write_str_file(path, buf);
}

static inline bool have_counters(void)
{
	return access(GNTALLOC_SYSFS, F_OK) == 0;
}

/*
 * Every file of GNTALLOC_SYSFS, a field each, and from the UAPI's list
 * GNTALLOC_SYSFS_FILES (the one the driver makes its attributes from), in
 * its order, each name with its field and mode.  A file of the list without
 * its field here does not compile (offsetof), nor does a field that is not
 * in the list (the size check below).
 */
struct gntalloc_counters {
	__u64 limit;
	__u64 domain_limit;
	__u64 file_limit;
	__u64 grant_reserve;
	__u64 quarantine_ms;
	__u64 grant_table_size;
	__u64 in_use;
	__u64 pending;
	__u64 quarantined;
	__u64 mapped;
	__u64 open_files;
	__u64 peak;
	__u64 allocated_total;
	__u64 freed_total;
	__u64 limit_hits;
	__u64 domain_limit_hits;
	__u64 file_limit_hits;
	__u64 reserve_hits;
	__u64 table_full_failures;
	__u64 nomem_failures;
	__u64 alloc_failures;
	__u64 quarantine_shortened;
};

#define GNTALLOC_FILE_MODE_RW	0644
#define GNTALLOC_FILE_MODE_RO	0444
static const struct {
	const char *name;
	size_t offset;
	unsigned int mode;
} gntalloc_counter_files[] =
#define GNTALLOC_SYSFS_FILE(name, mode) \
	{ #name, offsetof(struct gntalloc_counters, name), GNTALLOC_FILE_MODE_##mode },
	GNTALLOC_SYSFS_FILES;
#undef GNTALLOC_SYSFS_FILE
static_assert(sizeof(struct gntalloc_counters) ==
	       ARRAY_SIZE(gntalloc_counter_files) * sizeof(__u64),
	       "struct gntalloc_counters has a field per file of GNTALLOC_SYSFS_FILES");

/* The field of @c that gntalloc_counter_files[@i] names */
static inline __u64 *counter_field(struct gntalloc_counters *c, size_t i)
{
	return (__u64 *)((char *)c + gntalloc_counter_files[i].offset);
}

/* All counters of the replacement driver: 0 or -errno. */
static inline int read_counters(struct gntalloc_counters *c)
{
	char path[128];
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(gntalloc_counter_files); i++) {
		snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s",
			 gntalloc_counter_files[i].name);
		err = read_u64_file(path, counter_field(c, i));
		if (err)
			return err;
	}
	return 0;
}

static inline __u64 counter(const char *name)
{
	char path[128];
	__u64 val = UINT64_MAX;

	snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s", name);
	if (read_u64_file(path, &val))
		return UINT64_MAX;
	return val;
}

/* A tunable of GNTALLOC_SYSFS (domain_limit, grant_reserve, ...) */
static inline int set_tunable(const char *name, __u64 val)
{
	char path[128];

	snprintf(path, sizeof(path), GNTALLOC_SYSFS "/%s", name);
	return write_u64_file(path, val);
}

#define DOMAIN_LIMITS		GNTALLOC_SYSFS "/domain_limits"

/*
 * Quarantine off, and every reference it held given back (the driver's work
 * does it at once): quarantined then stays 0.  0, -ETIMEDOUT or -errno.
 */
static inline int quarantine_off(void)
{
	__u64 deadline = now_ms() + DRAIN_TIMEOUT_MS;
	char path[128];
	__u64 held;
	int err = set_tunable("quarantine_ms", 0);

	snprintf(path, sizeof(path), GNTALLOC_SYSFS "/quarantined");
	while (!err && !(err = read_u64_file(path, &held)) && held) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
	return err;
}

/* Remove every per-domain quota of domain_limits: 0 or -errno. */
static inline int clear_domain_limits(void)
{
	char buf[4096], line[32], *p, *nl, *end;
	unsigned int domid;
	int err, fd;
	ssize_t n;

	fd = open(DOMAIN_LIMITS, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		domid = (unsigned int)strtoul(p, &end, 10);
		if (!nl || end == p)
			return -EIO;
		snprintf(line, sizeof(line), "%u default\n", domid);
		err = write_str_file(DOMAIN_LIMITS, line);
		if (err)
			return err;
	}
	return 0;
}

/* The limit, through the module parameter that both drivers have. */
static inline int get_limit(__u64 *limit)
{
	return read_u64_file(GNTALLOC_PARAM_LIMIT, limit);
}

static inline int set_limit(__u64 limit)
{
	return write_u64_file(GNTALLOC_PARAM_LIMIT, limit);
}

/*
 * Pages counted against the limit, measured without counters: the smallest
 * limit under which a one-page ALLOC succeeds, minus one.  Puts the limit
 * back.  0 or -errno.
 */
static inline int gntalloc_probe_in_use(__u64 *in_use)
{
	__u64 saved = 0, lo = 1, hi = BIG_LIMIT, index;
	int fd, err = 0;

	if (get_limit(&saved))
		return -EIO;
	fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Invariant: a one-page ALLOC succeeds under limit hi, not under lo - 1. */
	if (set_limit(hi) || gntalloc_alloc_rw(fd, 1, &index, NULL)) {
		err = -EIO;
		goto out;
	}
	gntalloc_dealloc(fd, index, 1);
	while (lo < hi) {
		__u64 mid = lo + (hi - lo) / 2;

		if (set_limit(mid)) {
			err = -EIO;
			goto out;
		}
		if (gntalloc_alloc_rw(fd, 1, &index, NULL) == 0) {
			gntalloc_dealloc(fd, index, 1);
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	*in_use = hi - 1;
out:
	close(fd);
	if (set_limit(saved))
		err = -EIO;
	return err;
}

/*
 * The counters now.  Without sysfs counters (the stock driver) only in_use
 * is measured (by probing the limit) and the other fields are 0.
 */
static inline int read_gauges(struct gntalloc_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (have_counters())
		return read_counters(c);
	return gntalloc_probe_in_use(&c->in_use);
}

/* The gauges wait_gauges() can wait for. */
#define GAUGE_IN_USE		BIT(0)
#define GAUGE_PENDING		BIT(1)
#define GAUGE_MAPPED		BIT(2)
#define GAUGE_OPEN_FILES	BIT(3)
#define GAUGES_ALL		(GAUGE_IN_USE | GAUGE_PENDING | GAUGE_MAPPED | \
				 GAUGE_OPEN_FILES)

/*
 * Wait until the @gauges of the counters equal @want's, for at most
 * DRAIN_TIMEOUT_MS: grants that a peer unmapped are reclaimed in the
 * background, so pending (and in_use with it) may take a moment to settle.
 * @now receives the last reading (read_gauges(): without sysfs counters only
 * in_use is compared).  0 when they settled, -ETIMEDOUT when they did not,
 * -errno when the counters cannot be read.
 */
static inline int wait_gauges(const struct gntalloc_counters *want,
			      unsigned int gauges,
			      struct gntalloc_counters *now)
{
	__u64 deadline = now_ms() + DRAIN_TIMEOUT_MS;
	int err;

	if (!have_counters())
		gauges &= GAUGE_IN_USE;
	for (;;) {
		err = read_gauges(now);
		if (err)
			return err;
		if ((!(gauges & GAUGE_IN_USE) || now->in_use == want->in_use) &&
		    (!(gauges & GAUGE_PENDING) || now->pending == want->pending) &&
		    (!(gauges & GAUGE_MAPPED) || now->mapped == want->mapped) &&
		    (!(gauges & GAUGE_OPEN_FILES) ||
		     now->open_files == want->open_files))
			return 0;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		sleep_ms(10);
	}
}

/* ---------------------------------------------------------------------- */
/* The peer: our own grants mapped back through /dev/xen/gntdev             */
/* ---------------------------------------------------------------------- */

struct peer_map {
	int fd;			/* /dev/xen/gntdev, not owned */
	__u64 index;		/* gntdev's offset for the mapping */
	uint32_t count;
	void *addr;		/* NULL when not mapped */
};

/*
 * Map @count grants of domain @domid through gntdev with @prot: 0 or -errno.
 * On failure nothing is left behind in gntdev.
 */
static inline int peer_map_domain(struct peer_map *p, int gntdev_fd, uint16_t domid,
				  const uint32_t *refs, uint32_t count, int prot)
{
	struct ioctl_gntdev_map_grant_ref *op;
	struct ioctl_gntdev_unmap_grant_ref unmap = { 0 };
	uint32_t i;
	void *addr;
	int err;

	memset(p, 0, sizeof(*p));
	op = calloc(1, sizeof(*op) + count * sizeof(op->refs[0]));
	if (!op)
		return -ENOMEM;
	op->count = count;
	for (i = 0; i < count; i++) {
		op->refs[i].domid = domid;
		op->refs[i].ref = refs[i];
	}
	if (ioctl(gntdev_fd, IOCTL_GNTDEV_MAP_GRANT_REF, op)) {
		err = -errno;
		free(op);
		return err;
	}
	unmap.index = op->index;
	unmap.count = count;
	free(op);

	addr = mmap(NULL, count * page_size(), prot, MAP_SHARED, gntdev_fd,
		    (off_t)unmap.index);
	if (addr == MAP_FAILED) {
		err = -errno;
		ioctl(gntdev_fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &unmap);
		return err;
	}
	p->fd = gntdev_fd;
	p->index = unmap.index;
	p->count = count;
	p->addr = addr;
	return 0;
}

/* peer_map_domain() of grants of ours (domid 0): gntdev maps them at mmap() time */
static inline int peer_map(struct peer_map *p, int gntdev_fd,
			   const uint32_t *refs, uint32_t count, int prot)
{
	return peer_map_domain(p, gntdev_fd, SELF_DOMID, refs, count, prot);
}

/* The peer lets go: munmap, then gntdev forgets the grants. */
static inline void peer_unmap(struct peer_map *p)
{
	struct ioctl_gntdev_unmap_grant_ref unmap = {
		.index = p->index,
		.count = p->count,
	};

	if (!p->addr)
		return;
	munmap(p->addr, p->count * page_size());
	ioctl(p->fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &unmap);
	p->addr = NULL;
}

static inline uint8_t *peer_byte(const struct peer_map *p,
				 size_t page, size_t offset)
{
	return (uint8_t *)p->addr + page * page_size() + offset;
}

/* The peer's view of byte @offset of page @page, read or written once */
static inline uint8_t peer_get(const struct peer_map *p, size_t page,
			       size_t offset)
{
	return READ_ONCE(*peer_byte(p, page, offset));
}

static inline void peer_set(const struct peer_map *p, size_t page,
			    size_t offset, uint8_t val)
{
	WRITE_ONCE(*peer_byte(p, page, offset), val);
}

/* The same for the 64 bits at byte @offset (a multiple of 8) */
static inline __u64 peer_get64(const struct peer_map *p, size_t page,
			       size_t offset)
{
	return READ_ONCE(*(__u64 *)peer_byte(p, page, offset));
}

static inline void peer_set64(const struct peer_map *p, size_t page,
			      size_t offset, __u64 val)
{
	WRITE_ONCE(*(__u64 *)peer_byte(p, page, offset), val);
}

/*
 * Watch the release of @count pages at @index of @fd, granted as @refs: the
 * peer maps them and writes MARK at byte 0 of each, and each page gets an
 * UNMAP_NOTIFY_CLEAR_BYTE on that byte.  0 or -errno.
 */
static inline int peer_watch_release(struct peer_map *p, int gntdev_fd,
				     int fd, __u64 index,
				     const uint32_t *refs, uint32_t count)
{
	uint32_t i;
	int err;

	err = peer_map(p, gntdev_fd, refs, count, PROT_READ | PROT_WRITE);
	if (err)
		return err;
	for (i = 0; i < count; i++) {
		peer_set(p, i, 0, MARK);
		if (gntalloc_set_notify(fd, index + i * page_size(),
					UNMAP_NOTIFY_CLEAR_BYTE, 0))
			return -errno;
	}
	return 0;
}

/* Whether page @page of a peer_watch_release() was released. */
static inline bool peer_saw_release(const struct peer_map *p, uint32_t page)
{
	return peer_get(p, page, 0) == 0;
}

/* ---------------------------------------------------------------------- */
/* An event channel pair bound to ourselves through /dev/xen/evtchn         */
/* ---------------------------------------------------------------------- */

/*
 * local_port is the port handed to SET_UNMAP_NOTIFY; the driver's notify on
 * it arrives at remote_port, which is read from fd_remote.
 */
struct evtchn_pair {
	int fd_local;
	int fd_remote;
	uint32_t local_port;
	uint32_t remote_port;
};

static inline int evtchn_pair_wait(struct evtchn_pair *e, int timeout_ms);
static inline void evtchn_pair_close(struct evtchn_pair *e);

static inline int evtchn_pair_open(struct evtchn_pair *e)
{
	struct ioctl_evtchn_bind_unbound_port unbound = {
		.remote_domain = SELF_DOMID,
	};
	struct ioctl_evtchn_bind_interdomain inter = {
		.remote_domain = SELF_DOMID,
	};
	int ret, err;

	e->fd_remote = -1;
	e->fd_local = open(EVTCHN_DEV, O_RDWR | O_CLOEXEC);
	if (e->fd_local < 0)
		return -errno;
	e->fd_remote = open(EVTCHN_DEV, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (e->fd_remote < 0)
		goto fail;
	ret = ioctl(e->fd_local, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &unbound);
	if (ret < 0)
		goto fail;
	e->local_port = (uint32_t)ret;
	inter.remote_port = e->local_port;
	ret = ioctl(e->fd_remote, IOCTL_EVTCHN_BIND_INTERDOMAIN, &inter);
	if (ret < 0)
		goto fail;
	e->remote_port = (uint32_t)ret;
	/*
	 * Xen raises the new port once at bind (for notifications the
	 * unbound end may have missed): consume that event, so that every
	 * event seen later is one that was sent.
	 */
	if (evtchn_pair_wait(e, BIND_EVENT_MS) < 0)
		goto fail;
	return 0;
fail:
	err = -errno;
	evtchn_pair_close(e);
	return err;
}

static inline void evtchn_pair_close(struct evtchn_pair *e)
{
	close_if_open(e->fd_local);
	close_if_open(e->fd_remote);
	e->fd_local = -1;
	e->fd_remote = -1;
}

/*
 * Wait up to @timeout_ms for an event on remote_port; consume it and unmask
 * the port.  1 if it came, 0 if not, -errno on error.
 */
static inline int evtchn_pair_wait(struct evtchn_pair *e, int timeout_ms)
{
	struct pollfd pfd = { .fd = e->fd_remote, .events = POLLIN };
	__u64 deadline = now_ms() + (__u64)timeout_ms;
	uint32_t ports[16];
	ssize_t len;
	int ret, left, i;

	for (;;) {
		left = (int)(deadline > now_ms() ? deadline - now_ms() : 0);
		ret = poll(&pfd, 1, left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0) {
			if (!left)
				return 0;
			continue;
		}
		len = read(e->fd_remote, ports, sizeof(ports));
		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		for (i = 0; i < len / (ssize_t)sizeof(ports[0]); i++) {
			/* Unmask, so that the next event can come. */
			if (write(e->fd_remote, &ports[i], sizeof(ports[i])) < 0)
				return -errno;
			if (ports[i] == e->remote_port)
				return 1;
		}
	}
}

/*
 * Kill *@child, if there is one, and forget it; reap it too when @reap (only
 * its parent can, and a harness TEARDOWN may run in another process).
 */
static inline void kill_child(pid_t *child, bool reap)
{
	if (*child > 0) {
		kill(*child, SIGKILL);
		if (reap)
			waitpid(*child, NULL, 0);
		*child = 0;
	}
}

/* Wait for a child and return its exit code, or 128 + signal number. */
static inline int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/*
 * One byte at a time between a test and its child, over pipes.  Children
 * give up after @timeout_ms, so that no child outlives a failed test.
 */
static inline int send_byte(int fd, char b)
{
	return write(fd, &b, 1) == 1 ? 0 : -1;
}

static inline bool wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1;
}

static inline int recv_byte(int fd, int timeout_ms)
{
	char b;

	if (!wait_readable(fd, timeout_ms) || read(fd, &b, 1) != 1)
		return -1;
	return (unsigned char)b;
}

/* Our own comm (/proc/self/comm without the newline), "" if unknown. */
static inline void comm_of_self(char *comm, size_t size)
{
	FILE *f = fopen("/proc/self/comm", "re");

	comm[0] = '\0';
	if (f) {
		if (!fgets(comm, (int)size, f))
			comm[0] = '\0';
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = '\0';
}

/* ---------------------------------------------------------------------- */
/* Seeded randomness and privilege                                          */
/* ---------------------------------------------------------------------- */

/*
 * splitmix64, for the seeded fuzzer and stress program: small, fast, and
 * every seed gives a good sequence, so a printed seed replays a run.
 */
struct rng {
	__u64 s;
};

static inline __u64 rng_next(struct rng *r)
{
	__u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Drop to nobody/nogroup (65534), for the checks of privilege: 0 or -errno. */
static inline int become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return -errno;
	return 0;
}

#endif /* GNTALLOC_LIB_H */
