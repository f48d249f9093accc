// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: the "gntalloc" tracepoints.
 *
 * Documentation/admin-guide/xen-gntalloc.rst promises operators one event
 * per step of a grant's life, each naming what it is about:
 *
 *	gntalloc_alloc     pid index count domid writable first_gref
 *	gntalloc_dealloc   pid index count
 *	gntalloc_mmap      pid index count
 *	gntalloc_munmap    pid index count
 *	gntalloc_notify    gref domid action offset port
 *	gntalloc_pending   gref domid
 *	gntalloc_reclaim   gref domid
 *
 * The tests enable the events through tracefs (mounted on /sys/kernel/tracing
 * if it is not there yet), do what a program does - a share the way
 * libxengnttab makes it (ALLOC, mmap, SET_UNMAP_NOTIFY, DEALLOC, munmap), a
 * page that the peer (our own gntdev) keeps mapped after its release - and
 * read back what the trace buffer holds: each event once, with the right
 * values, in the order things happened.  SETUP empties the buffer, so every
 * event in it was caused by the test; TEARDOWN disables the events and
 * empties it again.  Task names are not recorded (see tracing_options[]).
 */

#define _GNU_SOURCE	/* before any system header */
#include <sys/mount.h>

#include "gntalloc_fixture.h"

#define TRACEFS			"/sys/kernel/tracing"
#define TRACE_EVENTS		TRACEFS "/events/gntalloc"
#define CHILD_TIMEOUT_MS	10000
#define NOTIFY_OFFSET		100	/* byte of the page a notify clears */
#define MAX_FIELDS		8

/* One event of the trace buffer: its name and its key=value fields. */
struct trace_event {
	char name[32];
	int nfields;
	struct {
		char key[16];
		__u64 val;
	} field[MAX_FIELDS];
};

struct trace_log {
	struct trace_event *ev;
	size_t n;
};

static int write_trace_file(const char *name, const char *s)
{
	char path[128];

	snprintf(path, sizeof(path), TRACEFS "/%s", name);
	return write_str_file(path, s);
}

/* Mount tracefs where the documentation reads it, unless it is there. */
static int tracefs_mount(void)
{
	if (access(TRACEFS "/trace", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return -errno;
	return access(TRACEFS "/trace", F_OK) ? -ENOENT : 0;
}

/* Empty the trace buffer (of every CPU). */
static int trace_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/*
 * Parse "... : gntalloc_<name>: key=value key=value" into @ev: true if the
 * line is a gntalloc event.  Values are decimal or 0x-prefixed hex.
 */
static bool parse_event(const char *line, struct trace_event *ev)
{
	const char *p = strstr(line, ": gntalloc_"), *colon;
	char *end;
	size_t len;

	if (!p)
		return false;
	p += 2;
	colon = strchr(p, ':');
	if (!colon || (size_t)(colon - p) >= sizeof(ev->name))
		return false;
	memset(ev, 0, sizeof(*ev));
	memcpy(ev->name, p, (size_t)(colon - p));
	p = colon + 1;
	while (*p && ev->nfields < MAX_FIELDS) {
		const char *eq;

		while (*p == ' ')
			p++;
		eq = strchr(p, '=');
		if (!eq)
			break;
		len = (size_t)(eq - p);
		if (len >= sizeof(ev->field[0].key))
			return false;
		memcpy(ev->field[ev->nfields].key, p, len);
		ev->field[ev->nfields].key[len] = '\0';
		errno = 0;
		ev->field[ev->nfields].val = strtoull(eq + 1, &end, 0);
		if (errno || end == eq + 1)
			return false;
		ev->nfields++;
		p = end;
	}
	return true;
}

static void trace_log_free(struct trace_log *log)
{
	free(log->ev);
	log->ev = NULL;
	log->n = 0;
}

/* Every gntalloc event in the trace buffer, oldest first: 0 or -errno. */
static int trace_read(struct trace_log *log)
{
	char line[512];
	size_t cap = 0;
	FILE *f;

	trace_log_free(log);
	f = fopen(TRACEFS "/trace", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct trace_event ev;

		if (line[0] == '#' || !parse_event(line, &ev))
			continue;
		if (log->n == cap) {
			struct trace_event *more;

			cap = cap ? 2 * cap : 64;
			more = realloc(log->ev, cap * sizeof(*more));
			if (!more) {
				fclose(f);
				return -ENOMEM;
			}
			log->ev = more;
		}
		log->ev[log->n++] = ev;
	}
	fclose(f);
	return 0;
}

/* The value of field @key, or UINT64_MAX if the event has none. */
static __u64 ev_field(const struct trace_event *ev, const char *key)
{
	int i;

	for (i = 0; i < ev->nfields; i++)
		if (!strcmp(ev->field[i].key, key))
			return ev->field[i].val;
	return UINT64_MAX;
}

/*
 * The position of the first event @name from position @from on whose field
 * @key is @val (any event @name if @key is NULL), or -1.
 */
static int ev_find(const struct trace_log *log, size_t from, const char *name,
		   const char *key, __u64 val)
{
	size_t i;

	for (i = from; i < log->n; i++)
		if (!strcmp(log->ev[i].name, name) &&
		    (!key || ev_field(&log->ev[i], key) == val))
			return (int)i;
	return -1;
}

/* How many events @name have @val in field @key (all of them if NULL). */
static int ev_count(const struct trace_log *log, const char *name,
		    const char *key, __u64 val)
{
	int n = 0, i = -1;

	while ((i = ev_find(log, (size_t)(i + 1), name, key, val)) >= 0)
		n++;
	return n;
}

/* The range events (dealloc, mmap, munmap) carry pid, index and count. */
static bool ev_is_range(const struct trace_event *ev, pid_t pid,
			__u64 index, __u64 count)
{
	return ev_field(ev, "pid") == (__u64)pid &&
	       ev_field(ev, "index") == index && ev_field(ev, "count") == count;
}

/* The position of event @name for pages [@index, +@count) of @pid, or -1. */
static int ev_find_range(const struct trace_log *log, const char *name,
			 pid_t pid, __u64 index, __u64 count)
{
	int i = -1;

	while ((i = ev_find(log, (size_t)(i + 1), name, "pid", (__u64)pid)) >= 0)
		if (ev_is_range(&log->ev[i], pid, index, count))
			return i;
	return -1;
}

/* Expect field @key of event @e to be @val. */
static void expect_field(struct __test_metadata *_metadata, __u64 val,
			 const struct trace_event *e, const char *key)
{
	EXPECT_EQ(val, ev_field(e, key)) TH_LOG("%s: field %s", e->name, key);
}

#define EXPECT_FIELD(val, e, key) expect_field(_metadata, (val), (e), (key))

static void dump_log(struct __test_metadata *_metadata,
		     const struct trace_log *log)
{
	size_t i;
	int j;

	for (i = 0; i < log->n; i++) {
		char buf[256];
		size_t len = 0;

		for (j = 0; j < log->ev[i].nfields && len < sizeof(buf); j++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						" %s=%llu",
						log->ev[i].field[j].key,
						log->ev[i].field[j].val);
		TH_LOG("trace[%zu]: %s:%s", i, log->ev[i].name, len ? buf : "");
	}
}

/* Tracing as a test found it, and what it turned on: restored at TEARDOWN. */
/*
 * The options tracing_start() turns off.  With record-cmd (or record-tgid)
 * on, enabling the first event also hooks the scheduler's own tracepoints
 * (sched_switch, sched_wakeup) to remember task names, which patches the
 * text of __schedule() and try_to_wake_up() while every CPU runs them.  On
 * the test bed's 6.12 PV dom0 that patching sometimes oopses on the int3 it
 * places ("Oops: int3" in __schedule or ttwu_do_activate), whichever event
 * is enabled - signal_generate as well as ours.  Our events need neither
 * option: the records carry pid themselves, and the test reads nothing else.
 * Only the driver's own tracepoints are then patched, and nobody runs them
 * meanwhile.
 */
static const char *const tracing_options[] = {
	"options/record-cmd", "options/record-tgid",
};

#define NR_TRACING_OPTIONS ARRAY_SIZE(tracing_options)

/* Tracing as a test found it, and what it turned on: restored at TEARDOWN. */
struct tracing {
	bool was_on;		/* tracing_on before */
	bool enabled;		/* the gntalloc events are enabled */
	bool saved[NR_TRACING_OPTIONS];		/* tracing_options[] read */
	__u64 option[NR_TRACING_OPTIONS];	/* and their values before */
	struct trace_log log;	/* the buffer, as last read */
};

/* Enable the gntalloc events and start from an empty buffer. */
static void tracing_start(struct __test_metadata *_metadata, struct tracing *tr)
{
	__u64 on = 1;
	size_t i;
	int err;

	err = tracefs_mount();
	ASSERT_EQ(0, err) TH_LOG("no tracefs at %s: %s", TRACEFS, strerror(-err));
	ASSERT_EQ(0, access(TRACE_EVENTS "/enable", W_OK))
		TH_LOG("%s is missing: a driver without the gntalloc tracepoints",
		       TRACE_EVENTS);
	for (i = 0; i < NR_TRACING_OPTIONS; i++) {
		char path[128];

		snprintf(path, sizeof(path), TRACEFS "/%s", tracing_options[i]);
		ASSERT_EQ(0, read_u64_file(path, &tr->option[i])) TH_LOG("%s", path);
		tr->saved[i] = true;
		ASSERT_EQ(0, write_trace_file(tracing_options[i], "0\n"));
	}
	ASSERT_EQ(0, read_u64_file(TRACEFS "/tracing_on", &on));
	tr->was_on = on;
	tr->enabled = true;
	ASSERT_EQ(0, write_trace_file("events/gntalloc/enable", "1\n"));
	ASSERT_EQ(0, write_trace_file("tracing_on", "1\n"));
	ASSERT_EQ(0, trace_clear());
}

/* Disable the events, put the options back, leave the buffer empty. */
static void tracing_stop(struct __test_metadata *_metadata, struct tracing *tr,
			 bool in_test_process)
{
	size_t i;

	if (in_test_process)
		trace_log_free(&tr->log);
	if (tr->enabled) {
		EXPECT_EQ(0, write_trace_file("events/gntalloc/enable", "0\n"));
		EXPECT_EQ(0, write_trace_file("tracing_on",
					      tr->was_on ? "1\n" : "0\n"));
		EXPECT_EQ(0, trace_clear());
	}
	/* With no event enabled, turning these on patches nothing. */
	for (i = 0; i < NR_TRACING_OPTIONS; i++)
		if (tr->saved[i])
			EXPECT_EQ(0, write_trace_file(tracing_options[i],
						      tr->option[i] ? "1\n" : "0\n"));
}

/* Read the trace buffer into self->tr.log. */
#define READ_TRACE() ASSERT_EQ(0, trace_read(&self->tr.log))

/* Assert @cond about self->tr.log; show it and the whole log if it fails. */
#define TRACE_CHECK(cond) do { \
	bool _ok = (cond); \
	ASSERT_TRUE(_ok) { \
		TH_LOG("%s", #cond); \
		dump_log(_metadata, &self->tr.log); \
	} \
} while (0)

FIXTURE(trace) {
	struct gntalloc_fixture fx;
	struct tracing tr;
	void *map;
	size_t map_len;
};

FIXTURE_SETUP(trace)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_GNTDEV | FX_EVTCHN))
		return;
	tracing_start(_metadata, &self->tr);
}

FIXTURE_TEARDOWN_PARENT(trace)
{
	bool in_test = env_in_test_process(&self->fx.env);

	gntalloc_fixture_teardown(_metadata, &self->fx);
	tracing_stop(_metadata, &self->tr, in_test);
}

/* Each event and its fields, as the admin guide lists them. */
TEST_F(trace, every_documented_event_exists_with_its_fields)
{
	static const struct {
		const char *event;
		const char *fields[7];
	} events[] = {
		{ "gntalloc_alloc", { "pid", "index", "count", "domid",
				      "writable", "first_gref" } },
		{ "gntalloc_dealloc", { "pid", "index", "count" } },
		{ "gntalloc_mmap", { "pid", "index", "count" } },
		{ "gntalloc_munmap", { "pid", "index", "count" } },
		{ "gntalloc_notify", { "gref", "domid", "action", "offset",
				       "port" } },
		{ "gntalloc_pending", { "gref", "domid" } },
		{ "gntalloc_reclaim", { "gref", "domid" } },
		{ "gntalloc_alloc_fail", { "pid", "count", "domid", "cause" } },
	};
	char path[128], line[256], want[40];
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		for (j = 0; events[i].fields[j]; j++) {
			bool found = false;
			FILE *f;

			snprintf(path, sizeof(path), TRACE_EVENTS "/%s/format",
				 events[i].event);
			f = fopen(path, "re");
			ASSERT_NE(NULL, f) TH_LOG("%s: %s", path, strerror(errno));
			/* "\tfield:u32 gref;\toffset:..." */
			snprintf(want, sizeof(want), " %s;", events[i].fields[j]);
			while (!found && fgets(line, sizeof(line), f))
				found = !strncmp(line, "\tfield:", 7) &&
					strstr(line, want);
			fclose(f);
			EXPECT_TRUE(found)
				TH_LOG("%s has no field %s", events[i].event,
				       events[i].fields[j]);
		}
	}
}

/*
 * libxengnttab's xengntshr_share_pages_notify() and xengntshr_unshare():
 * ALLOC, mmap, SET_UNMAP_NOTIFY, DEALLOC at once, and munmap when done.  The
 * pages go when the mapping does, and the notification fires then.
 */
TEST_F(trace, libxengnttab_share_is_traced_step_by_step)
{
	enum { N = 4 };
	const size_t ps = page_size();
	const pid_t pid = getpid();
	int alloc, mmap_at, dealloc, munmap_at, notify;
	const struct trace_event *e;
	uint32_t refs[N];
	__u64 index;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, refs));
	self->map_len = N * ps;
	self->map = fx_mmap(&self->fx, self->fx.fd, index, N);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	/* The notify on the second page, so that its gref is not the first. */
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index + ps + NOTIFY_OFFSET,
					 UNMAP_NOTIFY_CLEAR_BYTE |
					 UNMAP_NOTIFY_SEND_EVENT,
					 self->fx.ev.local_port));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, N));
	ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
	self->map = NULL;
	ASSERT_EQ(1, evtchn_pair_wait(&self->fx.ev, EVENT_TIMEOUT_MS));
	READ_TRACE();

	alloc = ev_find(&self->tr.log, 0, "gntalloc_alloc", "pid", pid);
	TRACE_CHECK(alloc >= 0);
	e = &self->tr.log.ev[alloc];
	EXPECT_FIELD(index, e, "index");
	EXPECT_FIELD(N, e, "count");
	EXPECT_FIELD(SELF_DOMID, e, "domid");
	EXPECT_FIELD(1, e, "writable");
	EXPECT_FIELD(refs[0], e, "first_gref");

	mmap_at = ev_find_range(&self->tr.log, "gntalloc_mmap", pid, index, N);
	dealloc = ev_find_range(&self->tr.log, "gntalloc_dealloc", pid, index, N);
	munmap_at = ev_find_range(&self->tr.log, "gntalloc_munmap", pid, index, N);
	notify = ev_find(&self->tr.log, 0, "gntalloc_notify", "gref", refs[1]);
	TRACE_CHECK(mmap_at >= 0);
	TRACE_CHECK(dealloc >= 0);
	TRACE_CHECK(munmap_at >= 0);
	TRACE_CHECK(notify >= 0);
	e = &self->tr.log.ev[notify];
	EXPECT_FIELD(SELF_DOMID, e, "domid");
	EXPECT_FIELD(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT, e, "action");
	EXPECT_FIELD(NOTIFY_OFFSET, e, "offset");
	EXPECT_FIELD(self->fx.ev.local_port, e, "port");

	/* In the order it happened; the notify when the last mapping went. */
	TRACE_CHECK(alloc < mmap_at && mmap_at < dealloc &&
		    dealloc < munmap_at && munmap_at < notify);
	/* Each step once; one notify; nobody mapped the pages: none pending. */
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_alloc", "pid", pid));
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_mmap", "pid", pid));
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_dealloc", "pid", pid));
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_munmap", "pid", pid));
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_notify", NULL, 0));
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_pending", NULL, 0));
}

/* ALLOC's event for each kind of grant: a fixture of its own, with variants. */
FIXTURE(trace_alloc) {
	struct gntalloc_fixture fx;
	struct tracing tr;
};

FIXTURE_VARIANT(trace_alloc) {
	uint16_t domid;
	uint16_t flags;
};

FIXTURE_VARIANT_ADD(trace_alloc, self_writable) {
	.domid = SELF_DOMID,
	.flags = GNTALLOC_FLAG_WRITABLE,
};

FIXTURE_VARIANT_ADD(trace_alloc, self_read_only) {
	.domid = SELF_DOMID,
	.flags = 0,
};

/* ALLOC for a domain that does not exist works: the grant waits for it. */
FIXTURE_VARIANT_ADD(trace_alloc, other_domain_writable) {
	.domid = 1,
	.flags = GNTALLOC_FLAG_WRITABLE,
};

FIXTURE_VARIANT_ADD(trace_alloc, other_domain_read_only) {
	.domid = 1,
	.flags = 0,
};

FIXTURE_SETUP(trace_alloc)
{
	if (!gntalloc_fixture_setup(_metadata, &self->fx, 0))
		return;
	tracing_start(_metadata, &self->tr);
}

FIXTURE_TEARDOWN_PARENT(trace_alloc)
{
	bool in_test = env_in_test_process(&self->fx.env);

	gntalloc_fixture_teardown(_metadata, &self->fx);
	tracing_stop(_metadata, &self->tr, in_test);
}

TEST_F(trace_alloc, names_the_peer_the_access_and_the_first_gref)
{
	enum { N = 3 };
	const struct trace_event *e;
	uint32_t refs[N];
	__u64 index, index2;
	int i;

	/* A first ALLOC, so that the traced index is not 0. */
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index2, NULL));
	ASSERT_EQ(0, gntalloc_alloc(self->fx.fd, variant->domid, variant->flags, N,
				    &index, refs));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, N));
	READ_TRACE();

	i = ev_find(&self->tr.log, 0, "gntalloc_alloc", "index", index);
	TRACE_CHECK(i >= 0);
	e = &self->tr.log.ev[i];
	EXPECT_NE(0U, index);
	EXPECT_FIELD((__u64)getpid(), e, "pid");
	EXPECT_FIELD(N, e, "count");
	EXPECT_FIELD(variant->domid, e, "domid");
	EXPECT_FIELD(!!(variant->flags & GNTALLOC_FLAG_WRITABLE), e, "writable");
	EXPECT_FIELD(refs[0], e, "first_gref");
	TRACE_CHECK(ev_find_range(&self->tr.log, "gntalloc_dealloc", getpid(),
				  index, N) > i);
}

TEST_F(trace, partial_munmap_traces_the_range_that_went)
{
	enum { N = 3 };
	const size_t ps = page_size();
	const pid_t pid = getpid();
	__u64 index;
	char *p;
	int mid, first, last;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, NULL));
	self->map_len = N * ps;
	self->map = fx_mmap(&self->fx, self->fx.fd, index, N);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	p = self->map;
	ASSERT_EQ(0, munmap(p + ps, ps));
	READ_TRACE();
	mid = ev_find_range(&self->tr.log, "gntalloc_munmap", pid, index + ps, 1);
	TRACE_CHECK(mid >= 0);
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_munmap", "pid", pid));

	ASSERT_EQ(0, munmap(p, self->map_len));
	self->map = NULL;
	READ_TRACE();
	first = ev_find_range(&self->tr.log, "gntalloc_munmap", pid, index, 1);
	last = ev_find_range(&self->tr.log, "gntalloc_munmap", pid,
			     index + 2 * ps, 1);
	TRACE_CHECK(first > mid);
	TRACE_CHECK(last > mid);
	EXPECT_EQ(3, ev_count(&self->tr.log, "gntalloc_munmap", "pid", pid));
}

/* A forked child's copy of the mapping goes at its exit, in its name. */
TEST_F(trace, exit_of_a_forked_child_traces_its_munmap)
{
	const pid_t pid = getpid();
	__u64 index;
	pid_t child;
	int theirs, ours;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	self->map_len = page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(0);
	self->fx.child = child;
	ASSERT_EQ(0, wait_child(child));
	self->fx.child = 0;
	ASSERT_EQ(0, fx_munmap(&self->fx, self->map));
	self->map = NULL;
	READ_TRACE();

	theirs = ev_find_range(&self->tr.log, "gntalloc_munmap", child, index, 1);
	ours = ev_find_range(&self->tr.log, "gntalloc_munmap", pid, index, 1);
	TRACE_CHECK(theirs >= 0);
	TRACE_CHECK(ours > theirs);
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_mmap", "pid", pid));
}

/*
 * The peer keeps the pages mapped when their owner lets go: each fires its
 * notification and goes pending; once the peer unmaps them, each comes back.
 */
TEST_F(trace, page_a_peer_keeps_goes_pending_then_is_reclaimed)
{
	enum { N = 2 };
	struct gntalloc_counters c;
	__u64 index;
	uint32_t refs[N];
	int i, notify, pending, reclaim;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, refs));
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, N,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, gntalloc_set_notify(self->fx.fd, index, UNMAP_NOTIFY_CLEAR_BYTE,
					 0));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, N));
	READ_TRACE();
	notify = ev_find(&self->tr.log, 0, "gntalloc_notify", "gref", refs[0]);
	TRACE_CHECK(notify >= 0);
	EXPECT_FIELD(UNMAP_NOTIFY_CLEAR_BYTE, &self->tr.log.ev[notify], "action");
	EXPECT_FIELD(0, &self->tr.log.ev[notify], "offset");
	for (i = 0; i < N; i++) {
		pending = ev_find(&self->tr.log, 0, "gntalloc_pending", "gref",
				  refs[i]);
		TRACE_CHECK(pending >= 0);
		EXPECT_FIELD(SELF_DOMID, &self->tr.log.ev[pending], "domid");
		EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_pending", "gref",
				      refs[i]));
		EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_reclaim", "gref",
				      refs[i]))
			TH_LOG("gref %u reclaimed while the peer maps it", refs[i]);
	}
	/* The notification fires before the page is found still mapped. */
	TRACE_CHECK(notify < ev_find(&self->tr.log, 0, "gntalloc_pending", "gref",
				     refs[0]));

	peer_unmap(&self->fx.peer);
	ASSERT_EQ(0, wait_gauges(&self->fx.env.base, GAUGE_PENDING, &c));
	ASSERT_EQ(self->fx.env.base.pending, c.pending);
	READ_TRACE();
	for (i = 0; i < N; i++) {
		pending = ev_find(&self->tr.log, 0, "gntalloc_pending", "gref",
				  refs[i]);
		reclaim = ev_find(&self->tr.log, 0, "gntalloc_reclaim", "gref",
				  refs[i]);
		TRACE_CHECK(pending >= 0);
		TRACE_CHECK(reclaim > pending);
		EXPECT_FIELD(SELF_DOMID, &self->tr.log.ev[reclaim], "domid");
		EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_reclaim", "gref",
				      refs[i]));
	}
}

/* Freed at once: no peer maps it, so it never goes pending. */
TEST_F(trace, page_nobody_maps_is_not_pending)
{
	__u64 index;
	uint32_t ref;

	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	READ_TRACE();
	TRACE_CHECK(ev_find(&self->tr.log, 0, "gntalloc_dealloc", "index", index) >= 0);
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_pending", "gref", ref));
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_reclaim", "gref", ref));
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_notify", "gref", ref));
}

/*
 * A refused ALLOC names its cause: 1 (domain_limit) for the peer domain's
 * quota, the numbers of enum gntalloc_cause in the admin guide.
 */
TEST_F(trace, refused_alloc_is_traced_with_its_cause)
{
	enum { OTHER_DOMID = 1, CAUSE_DOMAIN_LIMIT = 1 };
	char line[64];
	int i;

	REQUIRE_COUNTERS(return, &self->fx.env);
	snprintf(line, sizeof(line), "%d 0\n", OTHER_DOMID);
	ASSERT_EQ(0, write_str_file(GNTALLOC_SYSFS "/domain_limits", line));
	ASSERT_EQ(-1, gntalloc_alloc(self->fx.fd, OTHER_DOMID, 0, 3, NULL, NULL));
	ASSERT_EQ(ENOSPC, errno);
	READ_TRACE();
	i = ev_find(&self->tr.log, 0, "gntalloc_alloc_fail", "domid", OTHER_DOMID);
	TRACE_CHECK(i >= 0);
	EXPECT_EQ((__u64)CAUSE_DOMAIN_LIMIT, ev_field(&self->tr.log.ev[i], "cause"));
	EXPECT_EQ(3U, ev_field(&self->tr.log.ev[i], "count"));
	EXPECT_EQ((__u64)getpid(), ev_field(&self->tr.log.ev[i], "pid"));
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_alloc", NULL, 0));
}

/* The positive control of every test above: disabled, nothing is recorded. */
TEST_F(trace, disabled_events_record_nothing)
{
	__u64 index;

	ASSERT_EQ(0, write_trace_file("events/gntalloc/enable", "0\n"));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	ASSERT_EQ(0, gntalloc_dealloc(self->fx.fd, index, 1));
	READ_TRACE();
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_alloc", NULL, 0));
	EXPECT_EQ(0, ev_count(&self->tr.log, "gntalloc_dealloc", NULL, 0));

	ASSERT_EQ(0, write_trace_file("events/gntalloc/enable", "1\n"));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	READ_TRACE();
	EXPECT_EQ(1, ev_count(&self->tr.log, "gntalloc_alloc", "index", index));
}

TEST_HARNESS_MAIN
