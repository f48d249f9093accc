// SPDX-License-Identifier: GPL-2.0
/*
 * gntalloc_stress - a bounded, seeded stress of /dev/xen/gntalloc.
 *
 *   gntalloc_stress [--duration SECONDS] [--seed N] [--threads N]
 *                   [--processes N] [--headroom PAGES]
 *
 * Workers - threads of this process and processes it forks - run at once on
 * two files shared by all of them and on files of their own.  Each worker
 * picks random operations from its own seeded generator: ALLOC; DEALLOC of
 * any part of an allocation; mmap() of any part; munmap() of any piece;
 * mremap() that moves or shrinks a piece, and one that tries to grow it
 * (refused with EFAULT); SET_UNMAP_NOTIFY that clears a byte, signals an
 * event channel bound through /dev/xen/evtchn, does both or is removed;
 * fork() of a child that checks the pages, unmaps pieces of its copy, may
 * ALLOC, and exits or is killed, or of one that writes through its copy;
 * close and reopen of its own files; refusals that must fail (ENOENT,
 * EINVAL); and a peer - /dev/xen/gntdev mapping the worker's grants the way
 * another domain would (domid 0 maps its own) - that maps a few pages and
 * unmaps them later, often after the owner let them go.  Process workers
 * die now and then, abruptly, holding whatever they hold (files, mappings,
 * peer mappings, notifications, children), and a new one takes their place.
 *
 * Every step is checked when it happens: each call succeeds (ALLOC may meet
 * the limit, ENOSPC), a new page is all zeroes, the owner, its children and
 * the peer see each other's data, a mapping stays readable and writable
 * after its file is closed or its pages deallocated, nothing changes under
 * a peer that still maps a released page, and a page's notification has
 * fired (its byte is 0) once the page is released, and not before.  At the
 * end, with everything closed, every gauge of /sys/class/gntalloc/gntalloc/
 * is back at its starting value (pending is given a few seconds to drain),
 * no page is lost (allocated_total - freed_total == in_use), the totals
 * moved by exactly the pages the workers allocated, limit_hits by exactly
 * the ALLOCs refused with ENOSPC, in_use never went past the limit (peak),
 * and every worker got something done.
 *
 * The seed is printed first; --seed replays each worker's choices (how the
 * workers interleave is up to the scheduler).  GNTALLOC_STRESS_SEED and
 * GNTALLOC_STRESS_SECONDS give the defaults.  The output is KTAP: `make
 * check` runs it for 10 s through kselftest's runner, `make stress
 * DURATION=600 SEED=n` for as long as asked in the test bed.  Nothing else
 * may use the device during a run: the totals are checked exactly.
 */

#include "gntalloc_lib.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>

#include "../../../kselftest.h"

#define ME			"gntalloc_stress"	/* the prefix of its messages */
#define DEFAULT_SECONDS		10
#define DEFAULT_THREADS		3
#define DEFAULT_PROCESSES	2
#define DEFAULT_HEADROOM	256	/* pages above use: the limit is met */
#define MAX_WORKERS		16
#define SHARED_FILES		2
#define OWN_FILES		3
#define MAX_FILES		(SHARED_FILES + OWN_FILES)
#define MAX_ALLOCS		16	/* per worker */
#define MAX_PAGES		8	/* per allocation */
#define MAX_MAPS		32
#define MAX_PEERS		8
#define MAX_PEER_PAGES		4
#define MAX_CHILDREN		3
/*
 * Bytes 0-7 hold the owner's tag, 8-15 the peer's, 16-23 what a child wrote
 * last; notifications go above.
 */
#define CHILD_OFFSET		16
#define NOTIFY_MIN_OFFSET	64
/* A process worker lives this many operations, plus up to as many again. */
#define WORKER_LIFETIME		400
#define CHILD_KILLABLE_MS	3000
#define WORKER_EXIT_TIMEOUT_MS	60000

enum op {
	OP_ALLOC,
	OP_ALLOC_ENOSPC,
	OP_DEALLOC,
	OP_MMAP,
	OP_MUNMAP,
	OP_MREMAP_MOVE,
	OP_MREMAP_SHRINK,
	OP_NOTIFY_CLEAR,
	OP_NOTIFY_EVENT,
	OP_NOTIFY_BOTH,
	OP_NOTIFY_REMOVE,
	OP_EVENT_SEEN,
	OP_PEER_MAP,
	OP_PEER_UNMAP,
	OP_FORK,
	OP_CHILD_EXIT,
	OP_CHILD_KILLED,
	OP_CHILD_ALLOC,
	OP_CHILD_WRITE,
	OP_CLOSE,
	OP_OPEN,
	OP_CHECK,
	OP_REFUSAL,
	OP_WORKER_DEATH,
	NR_OPS
};

static const char *const op_names[NR_OPS] = {
	[OP_ALLOC]		= "alloc",
	[OP_ALLOC_ENOSPC]	= "alloc_enospc",
	[OP_DEALLOC]		= "dealloc",
	[OP_MMAP]		= "mmap",
	[OP_MUNMAP]		= "munmap",
	[OP_MREMAP_MOVE]	= "mremap_move",
	[OP_MREMAP_SHRINK]	= "mremap_shrink",
	[OP_NOTIFY_CLEAR]	= "notify_clear_byte",
	[OP_NOTIFY_EVENT]	= "notify_send_event",
	[OP_NOTIFY_BOTH]	= "notify_both",
	[OP_NOTIFY_REMOVE]	= "notify_remove",
	[OP_EVENT_SEEN]		= "event_received",
	[OP_PEER_MAP]		= "peer_map",
	[OP_PEER_UNMAP]		= "peer_unmap",
	[OP_FORK]		= "fork",
	[OP_CHILD_EXIT]		= "child_exit",
	[OP_CHILD_KILLED]	= "child_killed",
	[OP_CHILD_ALLOC]	= "child_alloc",
	[OP_CHILD_WRITE]	= "child_write",
	[OP_CLOSE]		= "close",
	[OP_OPEN]		= "open",
	[OP_CHECK]		= "data_check",
	[OP_REFUSAL]		= "refusal",
	[OP_WORKER_DEATH]	= "worker_death",
};

/*
 * What a worker did, in memory shared by every process of the run: the
 * worker, its children and the next generation of a process worker all add
 * to it, atomically.
 */
struct stats {
	__u64 ops[NR_OPS];
	__u64 pages;			/* allocated by successful ALLOCs */
	__u64 errors;
	int dying;			/* a process worker about to kill itself */
	char first_error[256];
};

static struct stats *all_stats;		/* MAX_WORKERS of them, shared */
static int children_alive;		/* forked and not yet reaped, this process */

static uint32_t rnd(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rng_next(r) % n) : 0;
}

static __u64 derive_seed(__u64 seed, __u64 a, __u64 b)
{
	struct rng r = { seed ^ (a * 0x100000001b3ULL) ^ (b << 32) };

	rng_next(&r);
	return rng_next(&r);
}

struct page_state {
	__u64 tag;		/* at byte 0, written by the owner; 0 until then */
	__u64 peer_val;	/* at byte 8, written by the peer; 0 until then */
	uint32_t ref;
	bool owned;		/* allocated, not yet deallocated nor closed */
	int maps;		/* pages of our mappings that map it */
	int peers;		/* peer mappings of it */
	uint8_t notify;		/* the action last set */
	uint16_t notify_off;
	bool marked;		/* MARK written at notify_off after it was set */
};

struct allocation {
	bool used;
	int file;		/* slot in files[]; -1 once that file is closed */
	unsigned int gen;	/* which open() of that slot the file came from */
	bool closed;		/* its file is closed: mappings may still hold it */
	__u64 index;
	uint32_t count;
	bool writable;		/* granted with GNTALLOC_FLAG_WRITABLE */
	struct page_state pg[MAX_PAGES];
};

/* One mmap() of pages [first, first + count) of an allocation. */
struct mapping {
	bool used;
	int alloc;
	uint32_t first;
	uint32_t count;
	uint8_t *addr;		/* where page @first is */
	bool writable;
	bool present[MAX_PAGES];	/* by page of the mapping */
};

struct peer {
	bool used;
	int alloc;
	uint32_t first;
	uint32_t count;
	struct peer_map map;
};

struct child {
	pid_t pid;		/* 0: free slot */
	bool killable;		/* it waits to be killed; it never ALLOCs */
	bool killed;
};

struct worker {
	unsigned int id;
	bool is_process;
	__u64 lifetime;	/* process workers: operations before dying */
	__u64 deadline;	/* now_ms() at which to stop */
	struct rng rng;
	struct stats *st;
	int files[MAX_FILES];	/* [0, SHARED_FILES): shared, never closed */
	unsigned int file_gen[MAX_FILES];
	unsigned int next_gen;
	int gntdev;
	struct evtchn_pair evt;
	bool have_evt;
	__u64 tag_seq;
	struct allocation allocs[MAX_ALLOCS];
	struct mapping maps[MAX_MAPS];
	struct peer peers[MAX_PEERS];
	struct child children[MAX_CHILDREN];
};

static struct {
	__u64 seed;
	unsigned int seconds;
	unsigned int threads;
	unsigned int processes;
	unsigned int headroom;
	int shared_fds[SHARED_FILES];
} cfg = {
	.seconds = DEFAULT_SECONDS,
	.threads = DEFAULT_THREADS,
	.processes = DEFAULT_PROCESSES,
	.headroom = DEFAULT_HEADROOM,
};

static void count_op(struct stats *st, enum op op)
{
	__atomic_add_fetch(&st->ops[op], 1, __ATOMIC_RELAXED);
}

static __printf(2, 3) void
fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (__atomic_fetch_add(&w->st->errors, 1, __ATOMIC_RELAXED))
		return;
	len = snprintf(w->st->first_error, sizeof(w->st->first_error),
		       "worker %u: ", w->id);
	va_start(ap, fmt);
	vsnprintf(w->st->first_error + len,
		  sizeof(w->st->first_error) - len, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------------------- */
/* The model: what each page must hold and whether it is released          */
/* ---------------------------------------------------------------------- */

/* Pages that the other side may read or write meanwhile: one access each */
static __u64 rd64(const uint8_t *p)
{
	return READ_ONCE(*(const __u64 *)p);
}

static void wr64(uint8_t *p, __u64 v)
{
	WRITE_ONCE(*(__u64 *)p, v);
}

/* Does a mapping of ours hold the file of @gen (every mapping does)? */
static bool file_mapped(const struct worker *w, unsigned int gen)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (w->maps[i].used && w->allocs[w->maps[i].alloc].gen == gen)
			return true;
	return false;
}

/*
 * Still owned by its file: not deallocated, and the file is open, or
 * closed but held by one of our mappings (of any of its pages).
 */
static bool owned(const struct worker *w, const struct allocation *a,
		  const struct page_state *p)
{
	return p->owned && (!a->closed || file_mapped(w, a->gen));
}

/*
 * Released for sure: not owned, mapped by none of our mappings, and no
 * child of this process is alive that may still map it (a child of any
 * thread copies every thread's mappings).
 */
static bool released(const struct worker *w, const struct allocation *a,
		     const struct page_state *p)
{
	return !owned(w, a, p) && !p->maps &&
	       !__atomic_load_n(&children_alive, __ATOMIC_ACQUIRE);
}

/* The grant is still ours for sure: the peer may map it. */
static bool live(const struct allocation *a, const struct page_state *p)
{
	return (p->owned && !a->closed) || p->maps;
}

static void alloc_gc(struct worker *w, int ai)
{
	struct allocation *a = &w->allocs[ai];
	uint32_t i;

	for (i = 0; i < a->count; i++)
		if (owned(w, a, &a->pg[i]) || a->pg[i].maps || a->pg[i].peers)
			return;
	a->used = false;
}

/* Forget what can be forgotten of the allocations of file @gen. */
static void gen_gc(struct worker *w, unsigned int gen)
{
	int i;

	for (i = 0; i < MAX_ALLOCS; i++)
		if (w->allocs[i].used && w->allocs[i].gen == gen)
			alloc_gc(w, i);
}

/*
 * Check a page through the owner's mapping @addr: its tag and the peer's
 * value, the notification byte while the page is not released, and all
 * zeroes if the owner never wrote it.
 */
static void check_owner_view(struct worker *w, const struct allocation *a,
			     uint32_t page, const uint8_t *addr)
{
	const struct page_state *p = &a->pg[page];
	size_t i;

	count_op(w->st, OP_CHECK);
	if (!p->tag) {
		for (i = 0; i < page_size(); i += 8)
			if (rd64(addr + i)) {
				fail(w, "page %u of index %#llx is not zeroed at byte %zu",
				     page, a->index, i);
				return;
			}
		return;
	}
	if (rd64(addr) != p->tag)
		fail(w, "page %u of index %#llx: tag %#llx, want %#llx",
		     page, a->index, rd64(addr), p->tag);
	if (rd64(addr + 8) != p->peer_val)
		fail(w, "page %u of index %#llx: peer's value %#llx, want %#llx",
		     page, a->index, rd64(addr + 8), p->peer_val);
	if (p->marked && READ_ONCE(addr[p->notify_off]) != MARK)
		fail(w, "page %u of index %#llx: notify byte %u is %#x before release",
		     page, a->index, p->notify_off, READ_ONCE(addr[p->notify_off]));
}

/*
 * Check a page through the peer's mapping: the data is intact whether or
 * not the owner let go; while the page is live its notification has not
 * fired (a marked byte is still MARK), and once it is released it has: the
 * byte is 0 with CLEAR_BYTE, and still MARK if the notification was removed
 * or only signals an event.
 */
static void check_peer_view(struct worker *w, const struct allocation *a,
			    uint32_t page, const uint8_t *addr)
{
	const struct page_state *p = &a->pg[page];
	bool is_released = released(w, a, p);
	uint8_t b;

	count_op(w->st, OP_CHECK);
	if (rd64(addr) != p->tag)
		fail(w, "peer: page %u of index %#llx: tag %#llx, want %#llx (%s)",
		     page, a->index, rd64(addr), p->tag,
		     is_released ? "released" : "maybe live");
	if (rd64(addr + 8) != p->peer_val)
		fail(w, "peer: page %u of index %#llx: its value %#llx, want %#llx",
		     page, a->index, rd64(addr + 8), p->peer_val);
	/* A page neither known live nor known released is not judged. */
	b = READ_ONCE(addr[p->notify_off]);
	if (is_released && p->notify & UNMAP_NOTIFY_CLEAR_BYTE) {
		if (b)
			fail(w,
			     "peer: page %u of index %#llx released, byte %u still %#x: no notification",
			     page, a->index, p->notify_off, b);
	} else if ((is_released || live(a, p)) && p->marked && b != MARK) {
		fail(w, "peer: page %u of index %#llx (%s), byte %u is %#x: notified %s",
		     page, a->index, is_released ? "released" : "live",
		     p->notify_off, b,
		     is_released ? "although the notification was removed" : "too early");
	}
}

/* ---------------------------------------------------------------------- */
/* Picking                                                                  */
/* ---------------------------------------------------------------------- */

typedef bool (*page_pred)(const struct allocation *a, uint32_t page);

static bool pred_owned(const struct allocation *a, uint32_t i)
{
	return a->file >= 0 && a->pg[i].owned;
}

static bool pred_deallocated(const struct allocation *a, uint32_t i)
{
	return a->file >= 0 && !a->pg[i].owned;
}

static bool pred_peerable(const struct allocation *a, uint32_t i)
{
	return live(a, &a->pg[i]) && a->pg[i].tag;
}

/*
 * A random allocation with a page that satisfies @pred, and a random run
 * [*first, *first + *count) of such pages, at most @max long: the index of
 * the allocation, or -1.
 */
static int pick_run(struct worker *w, page_pred pred, uint32_t max,
		    uint32_t *first, uint32_t *count)
{
	uint32_t start = rnd(&w->rng, MAX_ALLOCS), n, i, p0, s, e;

	for (n = 0; n < MAX_ALLOCS; n++) {
		int ai = (start + n) % MAX_ALLOCS;
		struct allocation *a = &w->allocs[ai];

		if (!a->used)
			continue;
		p0 = rnd(&w->rng, a->count);
		for (i = 0; i < a->count; i++) {
			uint32_t p = (p0 + i) % a->count;

			if (!pred(a, p))
				continue;
			s = p;
			e = p + 1;
			while (e < a->count && e - s < max && pred(a, e) &&
			       rnd(&w->rng, 4))
				e++;
			while (s > 0 && e - s < max && pred(a, s - 1) &&
			       rnd(&w->rng, 4))
				s--;
			*first = s;
			*count = e - s;
			return ai;
		}
	}
	return -1;
}

/* A random used mapping and a random run of its present pages: or -1. */
static int pick_mapped_run(struct worker *w, uint32_t *first, uint32_t *count)
{
	uint32_t start = rnd(&w->rng, MAX_MAPS), n, i, p0, s, e;

	for (n = 0; n < MAX_MAPS; n++) {
		int mi = (start + n) % MAX_MAPS;
		struct mapping *m = &w->maps[mi];

		if (!m->used)
			continue;
		p0 = rnd(&w->rng, m->count);
		for (i = 0; i < m->count; i++) {
			uint32_t p = (p0 + i) % m->count;

			if (!m->present[p])
				continue;
			s = p;
			e = p + 1;
			while (e < m->count && m->present[e] && rnd(&w->rng, 3))
				e++;
			while (s > 0 && m->present[s - 1] && rnd(&w->rng, 3))
				s--;
			*first = s;
			*count = e - s;
			return mi;
		}
	}
	return -1;
}

static int free_slot_alloc(struct worker *w)
{
	int i;

	for (i = 0; i < MAX_ALLOCS; i++)
		if (!w->allocs[i].used)
			return i;
	return -1;
}

static int free_slot_map(struct worker *w)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (!w->maps[i].used)
			return i;
	return -1;
}

static int pick_open_file(struct worker *w)
{
	uint32_t start = rnd(&w->rng, MAX_FILES), i;

	for (i = 0; i < MAX_FILES; i++)
		if (w->files[(start + i) % MAX_FILES] >= 0)
			return (start + i) % MAX_FILES;
	return -1;
}

/* A present page of ours mapping page @page of @ai, writable if asked. */
static uint8_t *owner_addr(struct worker *w, int ai, uint32_t page,
			   bool writable)
{
	int mi;

	for (mi = 0; mi < MAX_MAPS; mi++) {
		struct mapping *m = &w->maps[mi];

		if (!m->used || m->alloc != ai || page < m->first ||
		    page >= m->first + m->count || !m->present[page - m->first] ||
		    (writable && !m->writable))
			continue;
		return m->addr + (size_t)(page - m->first) * page_size();
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Operations                                                               */
/* ---------------------------------------------------------------------- */

static void op_alloc(struct worker *w)
{
	uint32_t refs[MAX_PAGES], count, i;
	struct allocation *a;
	__u64 index;
	bool writable;
	int ai, f;

	ai = free_slot_alloc(w);
	f = pick_open_file(w);
	if (ai < 0 || f < 0)
		return;
	count = 1 + rnd(&w->rng, MAX_PAGES);
	writable = rnd(&w->rng, 4);
	if (gntalloc_alloc(w->files[f], SELF_DOMID,
			   writable ? GNTALLOC_FLAG_WRITABLE : 0, count,
			   &index, refs)) {
		if (errno == ENOSPC)
			count_op(w->st, OP_ALLOC_ENOSPC);
		else
			fail(w, "ALLOC of %u pages: %s", count, strerror(errno));
		return;
	}
	count_op(w->st, OP_ALLOC);
	__atomic_add_fetch(&w->st->pages, count, __ATOMIC_RELAXED);
	if (index % page_size())
		fail(w, "ALLOC gave index %#llx, not page aligned", index);
	a = &w->allocs[ai];
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->file = f;
	a->gen = w->file_gen[f];
	a->index = index;
	a->count = count;
	a->writable = writable;
	for (i = 0; i < count; i++) {
		a->pg[i].owned = true;
		a->pg[i].ref = refs[i];
		a->pg[i].notify_off = NOTIFY_MIN_OFFSET;
	}
}

static void op_dealloc(struct worker *w)
{
	uint32_t first, count, i;
	struct allocation *a;
	int ai;

	ai = pick_run(w, pred_owned, MAX_PAGES, &first, &count);
	if (ai < 0)
		return;
	a = &w->allocs[ai];
	if (gntalloc_dealloc(w->files[a->file],
			     a->index + first * page_size(), count)) {
		fail(w, "DEALLOC of %u pages at %#llx: %s", count,
		     a->index + first * page_size(), strerror(errno));
		return;
	}
	count_op(w->st, OP_DEALLOC);
	for (i = first; i < first + count; i++)
		a->pg[i].owned = false;
	alloc_gc(w, ai);
}

static void op_mmap(struct worker *w)
{
	const size_t ps = page_size();
	uint32_t first, count, i;
	struct allocation *a;
	struct mapping *m;
	bool writable;
	uint8_t *p;
	int ai, mi;

	mi = free_slot_map(w);
	if (mi < 0)
		return;
	ai = pick_run(w, pred_owned, MAX_PAGES, &first, &count);
	if (ai < 0)
		return;
	a = &w->allocs[ai];
	writable = rnd(&w->rng, 8);
	p = mmap(NULL, count * ps, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		 MAP_SHARED, w->files[a->file], (off_t)(a->index + first * ps));
	if (p == MAP_FAILED) {
		fail(w, "mmap of %u pages at %#llx: %s", count,
		     a->index + first * ps, strerror(errno));
		return;
	}
	count_op(w->st, OP_MMAP);
	m = &w->maps[mi];
	memset(m, 0, sizeof(*m));
	m->used = true;
	m->alloc = ai;
	m->first = first;
	m->count = count;
	m->addr = p;
	m->writable = writable;
	for (i = 0; i < count; i++) {
		struct page_state *pg = &a->pg[first + i];

		m->present[i] = true;
		pg->maps++;
		check_owner_view(w, a, first + i, p + i * ps);
		if (writable && !pg->tag) {
			pg->tag = ((__u64)w->id << 56) | ++w->tag_seq;
			wr64(p + i * ps, pg->tag);
		}
	}
}

/* Forget pages [first, first + count) of mapping @mi: they are unmapped. */
static void map_forget(struct worker *w, int mi, uint32_t first,
		       uint32_t count)
{
	struct mapping *m = &w->maps[mi];
	struct allocation *a = &w->allocs[m->alloc];
	uint32_t i;

	for (i = first; i < first + count; i++) {
		if (!m->present[i])
			continue;
		m->present[i] = false;
		a->pg[m->first + i].maps--;
	}
	for (i = 0; i < m->count; i++)
		if (m->present[i])
			return;
	m->used = false;
	/* It may have been the last hold on a closed file. */
	gen_gc(w, a->gen);
}

static void op_munmap(struct worker *w)
{
	const size_t ps = page_size();
	uint32_t first, count;
	struct mapping *m;
	int mi;

	mi = pick_mapped_run(w, &first, &count);
	if (mi < 0)
		return;
	m = &w->maps[mi];
	if (munmap(m->addr + first * ps, count * ps)) {
		fail(w, "munmap of %u pages: %s", count, strerror(errno));
		return;
	}
	count_op(w->st, OP_MUNMAP);
	map_forget(w, mi, first, count);
}

/*
 * Move a piece of a mapping elsewhere (nothing is unmapped: no page may be
 * released), shrink one (its tail is unmapped), or try to grow one (refused
 * with EFAULT: the mapping cannot grow).
 */
static void op_mremap(struct worker *w)
{
	const size_t ps = page_size();
	uint32_t first, count, i, keep;
	struct mapping *m, *to;
	uint8_t *src, *dst;
	void *ret;
	int mi, ti;

	mi = pick_mapped_run(w, &first, &count);
	if (mi < 0)
		return;
	m = &w->maps[mi];
	src = m->addr + first * ps;
	switch (rnd(&w->rng, 3)) {
	case 0:
		ti = free_slot_map(w);
		if (ti < 0)
			return;
		/* A place of our own to move to, so no other thread's. */
		dst = mmap(NULL, count * ps, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dst == MAP_FAILED) {
			fail(w, "mmap of a place to move to: %s", strerror(errno));
			return;
		}
		ret = mremap(src, count * ps, count * ps,
			     MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		if (ret != dst) {
			fail(w, "mremap moving %u pages: %s", count,
			     strerror(errno));
			munmap(dst, count * ps);
			return;
		}
		count_op(w->st, OP_MREMAP_MOVE);
		to = &w->maps[ti];
		memset(to, 0, sizeof(*to));
		to->used = true;
		to->alloc = m->alloc;
		to->first = m->first + first;
		to->count = count;
		to->addr = dst;
		to->writable = m->writable;
		for (i = 0; i < count; i++) {
			to->present[i] = true;
			w->allocs[m->alloc].pg[to->first + i].maps++;
		}
		map_forget(w, mi, first, count);
		for (i = 0; i < count; i++)
			check_owner_view(w, &w->allocs[to->alloc],
					 to->first + i, dst + i * ps);
		break;
	case 1:
		if (count < 2)
			return;
		keep = 1 + rnd(&w->rng, count - 1);
		ret = mremap(src, count * ps, keep * ps, 0);
		if (ret != src) {
			fail(w, "mremap shrinking %u pages to %u: %s", count,
			     keep, strerror(errno));
			return;
		}
		count_op(w->st, OP_MREMAP_SHRINK);
		map_forget(w, mi, first + keep, count - keep);
		break;
	default:
		ret = mremap(src, count * ps, (count + 1) * ps, MREMAP_MAYMOVE);
		if (ret != MAP_FAILED || errno != EFAULT) {
			fail(w, "mremap growing %u pages: %s, want EFAULT", count,
			     ret == MAP_FAILED ? strerror(errno) : "success");
			return;
		}
		count_op(w->st, OP_REFUSAL);
		break;
	}
}

static void op_notify(struct worker *w)
{
	uint32_t page, one, action, r;
	uint8_t *addr;
	struct page_state *p;
	struct allocation *a;
	uint16_t off;
	enum op op;
	int ai;

	ai = pick_run(w, pred_owned, 1, &page, &one);
	if (ai < 0)
		return;
	a = &w->allocs[ai];
	p = &a->pg[page];
	r = rnd(&w->rng, 20);
	if (r < 10 || !w->have_evt) {
		action = UNMAP_NOTIFY_CLEAR_BYTE;
		op = OP_NOTIFY_CLEAR;
	} else if (r < 14) {
		action = UNMAP_NOTIFY_SEND_EVENT;
		op = OP_NOTIFY_EVENT;
	} else if (r < 17) {
		action = UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT;
		op = OP_NOTIFY_BOTH;
	} else {
		action = 0;
		op = OP_NOTIFY_REMOVE;
	}
	off = NOTIFY_MIN_OFFSET + rnd(&w->rng, page_size() - NOTIFY_MIN_OFFSET);
	if (gntalloc_set_notify(w->files[a->file],
				a->index + page * page_size() + (action ? off : 0),
				action, w->have_evt ? w->evt.local_port : 0)) {
		fail(w, "SET_UNMAP_NOTIFY action %u: %s", action, strerror(errno));
		return;
	}
	count_op(w->st, op);
	p->notify = action;
	if (!action)
		return;		/* a byte marked before must now stay */
	p->notify_off = off;
	p->marked = false;
	addr = owner_addr(w, ai, page, true);
	if (addr) {
		WRITE_ONCE(addr[off], MARK);
		p->marked = true;
	}
}

static void op_peer_map(struct worker *w)
{
	uint32_t refs[MAX_PEER_PAGES], first, count, i;
	struct allocation *a;
	struct peer *pe = NULL;
	int ai, err;

	for (i = 0; i < MAX_PEERS; i++)
		if (!w->peers[i].used)
			pe = &w->peers[i];
	if (!pe || w->gntdev < 0)
		return;
	ai = pick_run(w, pred_peerable, MAX_PEER_PAGES, &first, &count);
	if (ai < 0)
		return;
	a = &w->allocs[ai];
	for (i = 0; i < count; i++)
		refs[i] = a->pg[first + i].ref;
	err = peer_map(&pe->map, w->gntdev, refs, count,
		       a->writable ? PROT_READ | PROT_WRITE : PROT_READ);
	if (err) {
		fail(w, "peer: mapping %u grants: %s", count, strerror(-err));
		return;
	}
	count_op(w->st, OP_PEER_MAP);
	pe->used = true;
	pe->alloc = ai;
	pe->first = first;
	pe->count = count;
	for (i = 0; i < count; i++) {
		struct page_state *p = &a->pg[first + i];
		uint8_t *addr = peer_byte(&pe->map, i, 0);

		p->peers++;
		check_peer_view(w, a, first + i, addr);
		if (a->writable) {
			p->peer_val = rng_next(&w->rng) | 1;
			wr64(addr + 8, p->peer_val);
		}
	}
}

static void peer_release(struct worker *w, struct peer *pe)
{
	struct allocation *a = &w->allocs[pe->alloc];
	uint32_t i;

	for (i = 0; i < pe->count; i++)
		check_peer_view(w, a, pe->first + i, peer_byte(&pe->map, i, 0));
	peer_unmap(&pe->map);
	count_op(w->st, OP_PEER_UNMAP);
	for (i = 0; i < pe->count; i++)
		a->pg[pe->first + i].peers--;
	pe->used = false;
	alloc_gc(w, pe->alloc);
}

static void op_peer_unmap(struct worker *w)
{
	uint32_t start = rnd(&w->rng, MAX_PEERS), i;

	for (i = 0; i < MAX_PEERS; i++) {
		struct peer *pe = &w->peers[(start + i) % MAX_PEERS];

		if (pe->used) {
			peer_release(w, pe);
			return;
		}
	}
}

static void op_check(struct worker *w)
{
	uint32_t first, count, i;
	struct mapping *m;
	int mi;

	mi = pick_mapped_run(w, &first, &count);
	if (mi < 0)
		return;
	m = &w->maps[mi];
	for (i = first; i < first + count; i++) {
		const struct page_state *p = &w->allocs[m->alloc].pg[m->first + i];
		uint8_t *addr = m->addr + i * page_size();

		check_owner_view(w, &w->allocs[m->alloc], m->first + i, addr);
		/*
		 * A mapping stays writable whatever became of the page: its
		 * file closed, the page deallocated.
		 */
		if (m->writable && p->tag)
			wr64(addr, p->tag);
	}
}

/* Calls that must fail, and change nothing. */
static void op_refusal(struct worker *w)
{
	const size_t ps = page_size();
	uint32_t page, one;
	struct allocation *a;
	__u64 index;
	int ai, want = ENOENT, ret;
	void *p;

	ai = pick_run(w, pred_deallocated, 1, &page, &one);
	if (ai < 0) {
		/* count == 0 */
		ret = gntalloc_alloc_rw(w->files[0], 0, NULL, NULL);
		want = EINVAL;
		goto check;
	}
	a = &w->allocs[ai];
	index = a->index + page * ps;
	switch (rnd(&w->rng, 3)) {
	case 0:
		ret = gntalloc_dealloc(w->files[a->file], index, 1);
		break;
	case 1:
		ret = gntalloc_set_notify(w->files[a->file], index + 100,
					  UNMAP_NOTIFY_CLEAR_BYTE, 0);
		break;
	default:
		p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED,
			 w->files[a->file], (off_t)index);
		ret = p == MAP_FAILED ? -1 : 0;
		if (!ret)
			munmap(p, ps);
		break;
	}
check:
	if (ret != -1 || errno != want) {
		fail(w, "a call on a deallocated page (or ALLOC of 0): %s, want %s",
		     ret ? strerror(errno) : "success", strerror(want));
		return;
	}
	count_op(w->st, OP_REFUSAL);
}

static void op_close(struct worker *w)
{
	uint32_t f = SHARED_FILES + rnd(&w->rng, OWN_FILES), i;

	if (w->files[f] < 0) {
		w->files[f] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		w->file_gen[f] = ++w->next_gen;
		if (w->files[f] < 0)
			fail(w, "open: %s", strerror(errno));
		else
			count_op(w->st, OP_OPEN);
		return;
	}
	if (close(w->files[f]))
		fail(w, "close: %s", strerror(errno));
	count_op(w->st, OP_CLOSE);
	w->files[f] = -1;
	/* Its grants go now, or with the last mapping of the file. */
	for (i = 0; i < MAX_ALLOCS; i++) {
		struct allocation *a = &w->allocs[i];

		if (!a->used || a->file != (int)f)
			continue;
		a->file = -1;
		a->closed = true;
	}
	gen_gc(w, w->file_gen[f]);
}

static void op_events(struct worker *w)
{
	if (w->have_evt && evtchn_pair_wait(&w->evt, 0) == 1)
		count_op(w->st, OP_EVENT_SEEN);
}

/* ---------------------------------------------------------------------- */
/* Children                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * A forked child: its copy of the worker's mappings maps the same pages.  It
 * checks the tags, unmaps pieces of its copy, may ALLOC a page on one of the
 * worker's own files (the file keeps it: it goes when the file is closed),
 * and exits or waits to be killed.  Only syscalls here, no stdio, no malloc:
 * the worker may be one of several threads.  Exit codes: 0 fine, 1 data,
 * 2 ALLOC, 3 munmap.
 */
static int child_main(struct worker *w, bool killable, bool do_alloc)
{
	const size_t ps = page_size();
	uint32_t i, p;

	for (i = 0; i < MAX_MAPS; i++) {
		struct mapping *m = &w->maps[i];

		if (!m->used)
			continue;
		for (p = 0; p < m->count; p++) {
			const struct page_state *pg =
				&w->allocs[m->alloc].pg[m->first + p];

			if (m->present[p] && pg->tag &&
			    rd64(m->addr + p * ps) != pg->tag)
				return 1;
		}
		if (rnd(&w->rng, 2))
			continue;
		p = rnd(&w->rng, m->count);
		if (m->present[p] && munmap(m->addr + p * ps, ps))
			return 3;
	}
	if (do_alloc) {
		struct ioctl_gntalloc_alloc_gref op = {
			.domid = SELF_DOMID,
			.flags = GNTALLOC_FLAG_WRITABLE,
			.count = 1,
		};
		int f = SHARED_FILES + rnd(&w->rng, OWN_FILES);

		if (w->files[f] >= 0) {
			if (!ioctl(w->files[f], IOCTL_GNTALLOC_ALLOC_GREF, &op)) {
				__atomic_add_fetch(&w->st->pages, 1,
						   __ATOMIC_RELAXED);
				count_op(w->st, OP_CHILD_ALLOC);
			} else if (errno == ENOSPC) {
				count_op(w->st, OP_ALLOC_ENOSPC);
			} else {
				return 2;
			}
		}
	}
	sleep_ms(killable ? CHILD_KILLABLE_MS : rnd(&w->rng, 20));
	return 0;
}

static void op_fork(struct worker *w)
{
	struct child *c = NULL;
	bool killable, do_alloc;
	pid_t pid;
	int i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (!w->children[i].pid)
			c = &w->children[i];
	if (!c)
		return;
	killable = rnd(&w->rng, 2);
	do_alloc = !killable && !rnd(&w->rng, 3);
	__atomic_add_fetch(&children_alive, 1, __ATOMIC_ACQ_REL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		w->rng.s ^= 0x5eed;	/* the child's own choices */
		_exit(child_main(w, killable, do_alloc));
	}
	if (pid < 0) {
		__atomic_sub_fetch(&children_alive, 1, __ATOMIC_ACQ_REL);
		fail(w, "fork: %s", strerror(errno));
		return;
	}
	count_op(w->st, OP_FORK);
	c->pid = pid;
	c->killable = killable;
	c->killed = false;
}

static void child_reaped(struct worker *w, struct child *c, int status)
{
	__atomic_sub_fetch(&children_alive, 1, __ATOMIC_ACQ_REL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		count_op(w->st, OP_CHILD_EXIT);
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && c->killed)
		count_op(w->st, OP_CHILD_KILLED);
	else if (WIFEXITED(status))
		fail(w, "child failed its checks (exit %d: 1 data, 2 ALLOC, 3 munmap)",
		     WEXITSTATUS(status));
	else
		fail(w, "child died of signal %d", WTERMSIG(status));
	c->pid = 0;
}

static void reap_children(struct worker *w, bool wait)
{
	int i, status;

	for (i = 0; i < MAX_CHILDREN; i++) {
		struct child *c = &w->children[i];
		pid_t ret;

		if (!c->pid)
			continue;
		if (wait && c->killable && !c->killed) {
			kill(c->pid, SIGKILL);
			c->killed = true;
		}
		ret = waitpid(c->pid, &status, wait ? 0 : WNOHANG);
		if (ret == c->pid) {
			child_reaped(w, c, status);
		} else if (ret < 0) {
			fail(w, "waitpid: %s", strerror(errno));
			c->pid = 0;
			__atomic_sub_fetch(&children_alive, 1, __ATOMIC_ACQ_REL);
		}
	}
}

static void op_kill_child(struct worker *w)
{
	int i, start = rnd(&w->rng, MAX_CHILDREN);

	for (i = 0; i < MAX_CHILDREN; i++) {
		struct child *c = &w->children[(start + i) % MAX_CHILDREN];

		if (c->pid && c->killable && !c->killed) {
			kill(c->pid, SIGKILL);
			c->killed = true;
			return;
		}
	}
}

/*
 * A child writes through its copy of a mapping and exits; the worker waits
 * for it and must see the write through its own mapping.
 */
static void op_child_write(struct worker *w)
{
	uint32_t first, count;
	struct mapping *m;
	uint8_t *addr;
	__u64 val;
	pid_t pid;
	int mi, ret;

	mi = pick_mapped_run(w, &first, &count);
	if (mi < 0)
		return;
	m = &w->maps[mi];
	/* A page that was never written must stay all zeroes. */
	if (!m->writable || !w->allocs[m->alloc].pg[m->first + first].tag)
		return;
	addr = m->addr + first * page_size() + CHILD_OFFSET;
	val = rng_next(&w->rng) | 1;
	__atomic_add_fetch(&children_alive, 1, __ATOMIC_ACQ_REL);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		wr64(addr, val);
		_exit(0);
	}
	ret = pid < 0 ? -1 : wait_child(pid);
	__atomic_sub_fetch(&children_alive, 1, __ATOMIC_ACQ_REL);
	if (pid < 0)
		fail(w, "fork: %s", strerror(errno));
	else if (ret)
		fail(w, "a child writing to its copy of a mapping ended with %d", ret);
	else if (rd64(addr) != val)
		fail(w, "%s: %#llx, want %#llx",
		     "a child's write is not seen through the worker's mapping",
		     rd64(addr), val);
	else
		count_op(w->st, OP_CHILD_WRITE);
}

/* ---------------------------------------------------------------------- */
/* A worker's life                                                          */
/* ---------------------------------------------------------------------- */

/* Give up the pages still owned on shared files (nobody else would). */
static void dealloc_shared(struct worker *w)
{
	uint32_t i, p;

	for (i = 0; i < MAX_ALLOCS; i++) {
		struct allocation *a = &w->allocs[i];

		if (!a->used || a->file < 0 || a->file >= SHARED_FILES)
			continue;
		for (p = 0; p < a->count; p++) {
			if (!a->pg[p].owned)
				continue;
			if (gntalloc_dealloc(w->files[a->file],
					     a->index + p * page_size(), 1))
				fail(w, "DEALLOC at the end: %s", strerror(errno));
			else
				count_op(w->st, OP_DEALLOC);
			a->pg[p].owned = false;
		}
		alloc_gc(w, i);
	}
}

/*
 * Unmap what is left of every mapping, piece by piece: a hole that an
 * earlier munmap() left may hold somebody else's mapping by now.
 */
static void unmap_all(struct worker *w)
{
	const size_t ps = page_size();
	uint32_t p, e;
	int i;

	for (i = 0; i < MAX_MAPS; i++) {
		struct mapping *m = &w->maps[i];

		for (p = 0; m->used && p < m->count; p = e) {
			for (e = p; e < m->count && m->present[e]; e++)
				;
			if (e == p) {
				e++;
				continue;
			}
			if (munmap(m->addr + p * ps, (e - p) * ps))
				fail(w, "munmap at the end: %s", strerror(errno));
			else
				count_op(w->st, OP_MUNMAP);
			map_forget(w, i, p, e - p);
		}
	}
}

static void close_own(struct worker *w)
{
	int f;

	for (f = SHARED_FILES; f < MAX_FILES; f++) {
		if (w->files[f] < 0)
			continue;
		close(w->files[f]);
		count_op(w->st, OP_CLOSE);
		w->files[f] = -1;
	}
	for (f = 0; f < MAX_ALLOCS; f++) {
		struct allocation *a = &w->allocs[f];

		if (!a->used || a->file < SHARED_FILES)
			continue;
		a->file = -1;
		a->closed = true;
	}
	for (f = 0; f < MAX_ALLOCS; f++)
		if (w->allocs[f].used)
			alloc_gc(w, f);
}

static void unmap_peers(struct worker *w)
{
	int i;

	for (i = 0; i < MAX_PEERS; i++)
		if (w->peers[i].used)
			peer_release(w, &w->peers[i]);
}

/*
 * The end of a worker: everything goes, in a random order - the peer first
 * (nothing pending), or last (after the owner let go: its pages are
 * pending until it unmaps, and it checks the notifications fired).
 */
static void worker_cleanup(struct worker *w)
{
	reap_children(w, true);
	switch (rnd(&w->rng, 3)) {
	case 0:
		unmap_peers(w);
		unmap_all(w);
		dealloc_shared(w);
		close_own(w);
		break;
	case 1:
		dealloc_shared(w);
		close_own(w);
		unmap_all(w);
		unmap_peers(w);
		break;
	default:
		unmap_all(w);
		dealloc_shared(w);
		unmap_peers(w);
		close_own(w);
		break;
	}
	close_if_open(w->gntdev);
	if (w->have_evt)
		evtchn_pair_close(&w->evt);
}

/*
 * A process worker's abrupt end: it keeps its own files, mappings, peer
 * mappings, notifications and pending events, and exits or is killed with
 * them.  Only what it owns on the shared files is given up first, since
 * those files outlive it; and its children, so that what they allocate is
 * counted.
 */
static __noreturn void worker_die(struct worker *w)
{
	reap_children(w, true);
	dealloc_shared(w);
	count_op(w->st, OP_WORKER_DEATH);
	if (rnd(&w->rng, 2))
		_exit(0);
	__atomic_store_n(&w->st->dying, 1, __ATOMIC_RELEASE);
	raise(SIGKILL);
	_exit(1);
}

static void worker_init(struct worker *w, unsigned int id, __u64 seed,
			bool is_process, __u64 deadline)
{
	int f;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->is_process = is_process;
	w->deadline = deadline;
	w->rng.s = seed;
	w->st = &all_stats[id];
	w->lifetime = WORKER_LIFETIME + rnd(&w->rng, WORKER_LIFETIME);
	for (f = 0; f < SHARED_FILES; f++)
		w->files[f] = cfg.shared_fds[f];
	for (; f < MAX_FILES; f++)
		w->files[f] = -1;
	for (f = 0; f < MAX_FILES; f++)
		w->file_gen[f] = ++w->next_gen;
}

static void worker_run(struct worker *w)
{
	__u64 n = 0;
	int f;

	for (f = SHARED_FILES; f < MAX_FILES; f++) {
		w->files[f] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		if (w->files[f] < 0)
			fail(w, "open: %s", strerror(errno));
	}
	w->gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
	if (w->gntdev < 0)
		fail(w, "open %s: %s", GNTDEV_DEV, strerror(errno));
	w->have_evt = evtchn_pair_open(&w->evt) == 0;
	if (!w->have_evt)
		fail(w, "an event channel pair through %s: %s", EVTCHN_DEV,
		     strerror(errno));

	while (now_ms() < w->deadline) {
		uint32_t r = rnd(&w->rng, 100);

		reap_children(w, false);
		if (w->is_process && ++n > w->lifetime)
			worker_die(w);
		if (r < 18)
			op_alloc(w);
		else if (r < 30)
			op_dealloc(w);
		else if (r < 43)
			op_mmap(w);
		else if (r < 55)
			op_munmap(w);
		else if (r < 60)
			op_mremap(w);
		else if (r < 68)
			op_notify(w);
		else if (r < 74)
			op_peer_map(w);
		else if (r < 79)
			op_peer_unmap(w);
		else if (r < 82 && rnd(&w->rng, 4))
			op_fork(w);
		else if (r < 82)
			op_child_write(w);
		else if (r < 84)
			op_kill_child(w);
		else if (r < 86)
			op_close(w);
		else if (r < 92)
			op_check(w);
		else if (r < 96)
			op_refusal(w);
		else
			op_events(w);
	}
	worker_cleanup(w);
}

static void *thread_main(void *arg)
{
	worker_run(arg);
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* The run                                                                  */
/* ---------------------------------------------------------------------- */

struct proc_slot {
	unsigned int id;	/* index in all_stats */
	unsigned int generation;
	pid_t pid;
};

static pid_t spawn_process(struct proc_slot *s, __u64 deadline)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		static struct worker w;

		worker_init(&w, s->id, derive_seed(cfg.seed, s->id,
						   s->generation), true,
			    deadline);
		worker_run(&w);
		_exit(0);
	}
	return pid;
}

/* Judge a process worker's end: it exits 0, or kills itself on purpose. */
static void process_ended(struct proc_slot *s, int status)
{
	struct stats *st = &all_stats[s->id];
	bool dying = __atomic_exchange_n(&st->dying, 0, __ATOMIC_ACQ_REL);

	if ((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
	    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && dying))
		return;
	if (!__atomic_fetch_add(&st->errors, 1, __ATOMIC_RELAXED))
		snprintf(st->first_error, sizeof(st->first_error),
			 "worker %u (process, generation %u) ended with status %#x",
			 s->id, s->generation, status);
}

/*
 * The supervisor of the process workers: runs them until @deadline and
 * replaces those that die.  It is forked before any thread maps anything,
 * so that the process workers it forks map nothing of the threads' (a
 * fork copies every mapping of the device).
 */
static __noreturn void
supervise(unsigned int first_id, unsigned int n, __u64 deadline)
{
	__u64 give_up = deadline + WORKER_EXIT_TIMEOUT_MS;
	struct proc_slot slots[MAX_WORKERS] = { 0 };
	unsigned int i, running = 0;
	int status;

	for (i = 0; i < n; i++) {
		slots[i].id = first_id + i;
		slots[i].pid = spawn_process(&slots[i], deadline);
		if (slots[i].pid > 0)
			running++;
	}
	while (running) {
		bool idle = true;

		for (i = 0; i < n; i++) {
			struct proc_slot *s = &slots[i];

			if (!s->pid || waitpid(s->pid, &status, WNOHANG) != s->pid)
				continue;
			idle = false;
			process_ended(s, status);
			s->pid = 0;
			running--;
			if (now_ms() + 100 < deadline) {
				s->generation++;
				s->pid = spawn_process(s, deadline);
				if (s->pid > 0)
					running++;
			}
		}
		if (now_ms() > give_up) {
			for (i = 0; i < n; i++) {
				if (!slots[i].pid)
					continue;
				kill(slots[i].pid, SIGKILL);
				waitpid(slots[i].pid, &status, 0);
				process_ended(&slots[i], status);
			}
			break;
		}
		if (idle)
			sleep_ms(10);
	}
	_exit(0);
}

static void print_usage(const char *prog)
{
	printf("usage: %s [--duration SECONDS] [--seed N] [--threads N]", prog);
	printf(" [--processes N] [--headroom PAGES]\n");
}

static __u64 parse_num(const char *s, const char *what, __u64 max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !*s || *end || *s == '-' || v > max) {
		fprintf(stderr, "gntalloc_stress: bad %s '%s'\n", what, s);
		exit(KSFT_FAIL);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "processes", required_argument, NULL, 'p' },
		{ "headroom", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *env;
	bool seeded = false;
	int c;

	env = getenv("GNTALLOC_STRESS_SECONDS");
	if (env)
		cfg.seconds = parse_num(env, "GNTALLOC_STRESS_SECONDS", 1U << 24);
	env = getenv("GNTALLOC_STRESS_SEED");
	if (env) {
		cfg.seed = parse_num(env, "GNTALLOC_STRESS_SEED", UINT64_MAX);
		seeded = true;
	}
	while ((c = getopt_long(argc, argv, "d:s:t:p:H:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg.seconds = parse_num(optarg, "duration", 1U << 24);
			break;
		case 's':
			cfg.seed = parse_num(optarg, "seed", UINT64_MAX);
			seeded = true;
			break;
		case 't':
			cfg.threads = parse_num(optarg, "thread count", MAX_WORKERS);
			break;
		case 'p':
			cfg.processes = parse_num(optarg, "process count",
						  MAX_WORKERS);
			break;
		case 'H':
			cfg.headroom = parse_num(optarg, "headroom", 1U << 24);
			break;
		case 'h':
			print_usage(argv[0]);
			exit(0);
		default:
			print_usage(argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (optind < argc || cfg.threads + cfg.processes == 0 ||
	    cfg.threads + cfg.processes > MAX_WORKERS || !cfg.seconds) {
		fprintf(stderr, "gntalloc_stress: 1 to %d workers, at least 1 second\n",
			MAX_WORKERS);
		exit(KSFT_FAIL);
	}
	if (!seeded)
		cfg.seed = ((__u64)time(NULL) << 16) ^ (__u64)getpid();
}

int main(int argc, char **argv)
{
	struct gntalloc_counters base, end;
	struct worker *threads[MAX_WORKERS] = { NULL };
	pthread_t tids[MAX_WORKERS];
	__u64 total[NR_OPS] = { 0 }, pages = 0, errors = 0, deadline;
	unsigned int idle_workers = 0;
	__u64 start, waited, limit = 0, new_limit;
	unsigned int i, id;
	int err, op, status;
	pid_t supervisor;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv);
	ksft_print_header();
	if (access(GNTALLOC_DEV, F_OK))
		ksft_exit_skip("%s is missing: %s\n", GNTALLOC_DEV,
			       "xen-gntalloc is not loaded, or this is not a Xen domain");
	if (!have_counters())
		ksft_exit_skip("%s is missing: stock driver, no counters to check\n",
			       GNTALLOC_SYSFS);
	if (access(GNTDEV_DEV, F_OK) || access(EVTCHN_DEV, F_OK))
		ksft_exit_skip("%s or %s is missing: load xen-gntdev and xen-evtchn\n",
			       GNTDEV_DEV, EVTCHN_DEV);
	ksft_set_plan(5);
	ksft_print_msg(ME ": seed %llu, %u s, %u threads, %u processes, headroom %u pages\n",
		       cfg.seed, cfg.seconds, cfg.threads, cfg.processes,
		       cfg.headroom);
	ksft_print_msg(ME ": reproduce with: " ME " --seed %llu --duration %u\n",
		       cfg.seed, cfg.seconds);

	all_stats = mmap(NULL, MAX_WORKERS * sizeof(*all_stats),
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (all_stats == MAP_FAILED)
		ksft_exit_fail_msg("mmap of the statistics: %s\n", strerror(errno));
	if (get_limit(&limit) || read_counters(&base))
		ksft_exit_fail_msg("cannot read the limit or the counters\n");
	new_limit = base.in_use + cfg.headroom;
	if (set_limit(new_limit) ||
	    write_str_file(GNTALLOC_SYSFS "/peak", "0\n"))
		ksft_exit_fail_msg("cannot set the limit or reset peak\n");
	for (i = 0; i < SHARED_FILES; i++) {
		cfg.shared_fds[i] = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		if (cfg.shared_fds[i] < 0)
			ksft_exit_fail_msg("open %s: %s\n", GNTALLOC_DEV,
					   strerror(errno));
	}

	start = now_ms();
	deadline = start + cfg.seconds * 1000ULL;
	fflush(stdout);
	supervisor = fork();
	if (supervisor < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (supervisor == 0)
		supervise(cfg.threads, cfg.processes, deadline);
	for (id = 0; id < cfg.threads; id++) {
		threads[id] = malloc(sizeof(*threads[id]));
		if (!threads[id])
			ksft_exit_fail_msg("out of memory\n");
		worker_init(threads[id], id, derive_seed(cfg.seed, id, 0),
			    false, deadline);
		if (pthread_create(&tids[id], NULL, thread_main, threads[id]))
			ksft_exit_fail_msg("pthread_create failed\n");
	}
	for (id = 0; id < cfg.threads; id++) {
		pthread_join(tids[id], NULL);
		free(threads[id]);
	}
	if (waitpid(supervisor, &status, 0) != supervisor || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		ksft_print_msg("the supervisor of the process workers failed (status %#x)\n",
			       status);
		all_stats[0].errors++;
	}
	for (i = 0; i < SHARED_FILES; i++)
		close(cfg.shared_fds[i]);
	ksft_print_msg("gntalloc_stress: ran %llu ms\n", now_ms() - start);

	waited = now_ms();
	err = wait_gauges(&base, GAUGES_ALL, &end);
	waited = now_ms() - waited;
	if (err == -ETIMEDOUT)
		err = 0;	/* judged below */
	if (set_limit(limit))
		ksft_exit_fail_msg("cannot put the limit back to %llu\n", limit);
	if (err)
		ksft_exit_fail_msg("cannot read the counters: %s\n", strerror(-err));

	for (id = 0; id < cfg.threads + cfg.processes; id++) {
		struct stats *st = &all_stats[id];
		__u64 mine = 0;

		for (op = 0; op < NR_OPS; op++) {
			total[op] += st->ops[op];
			mine += st->ops[op];
		}
		if (!mine) {
			ksft_print_msg("worker %u did nothing\n", id);
			idle_workers++;
		}
		pages += st->pages;
		errors += st->errors;
		if (st->errors)
			ksft_print_msg("worker %u: %llu errors, first: %s\n",
				       id, st->errors, st->first_error);
	}
	ksft_print_msg("gntalloc_stress: operations by kind:\n");
	for (op = 0; op < NR_OPS; op++)
		ksft_print_msg("  %-18s %10llu\n", op_names[op], total[op]);
	ksft_print_msg(ME ": %llu pages allocated; the gauges settled %llu ms after the end\n",
		       pages, waited);

	/* Figures above, fixed names below: one KTAP result per promise. */
	ksft_print_msg("errors: %llu\n", errors);
	ksft_test_result(errors == 0, "every_operation_and_check_succeeded\n");
	ksft_test_result(idle_workers == 0, "every_worker_made_progress\n");
	ksft_print_msg("in_use %llu/%llu, pending %llu/%llu (now/before)\n",
		       end.in_use, base.in_use, end.pending, base.pending);
	ksft_print_msg("mapped %llu/%llu, open_files %llu/%llu (now/before)\n",
		       end.mapped, base.mapped, end.open_files, base.open_files);
	ksft_test_result(end.in_use == base.in_use && end.pending == base.pending &&
			 end.mapped == base.mapped && end.open_files == base.open_files,
			 "gauges_back_at_baseline\n");
	ksft_print_msg("allocated_total %+lld, freed_total %+lld for %llu pages allocated;\n",
		       (__s64)(end.allocated_total - base.allocated_total),
		       (__s64)(end.freed_total - base.freed_total), pages);
	ksft_print_msg("allocated_total - freed_total %llu, in_use %llu\n",
		       end.allocated_total - end.freed_total, end.in_use);
	ksft_test_result(end.allocated_total - end.freed_total == end.in_use &&
			 end.allocated_total - base.allocated_total == pages &&
			 end.freed_total - base.freed_total == pages,
			 "no_page_lost\n");
	ksft_print_msg("limit_hits %+lld for %llu ENOSPC, alloc_failures %+lld,\n",
		       (__s64)(end.limit_hits - base.limit_hits),
		       total[OP_ALLOC_ENOSPC],
		       (__s64)(end.alloc_failures - base.alloc_failures));
	ksft_print_msg("peak %llu, limit %llu\n", end.peak, new_limit);
	ksft_test_result(end.limit_hits - base.limit_hits == total[OP_ALLOC_ENOSPC] &&
			 end.alloc_failures == base.alloc_failures &&
			 end.peak <= new_limit,
			 "limit_held\n");
	ksft_finished();
}
