// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: seeded fuzzing of every way in.
 *
 * Random and boundary values go to the three ioctls (count, index, flags,
 * domid, action, port), in an argument that is sound, misaligned, NULL,
 * unmapped, read-only, cut short by an unmapped page, a kernel or
 * non-canonical address, or inside a mapping of the device itself; to
 * unknown ioctl numbers; to mmap() (offset, length, flags, protection, a
 * read-only file), munmap() and mremap() of pieces of those mappings; and to
 * the limit (through both files) and peak in sysfs.
 *
 * Three parts: this file makes the calls and judges them;
 * gntalloc_fuzz_model.[ch] follows what each file holds - which pages are
 * allocated, deallocated, and mapped where - and says what every counter
 * must read; gntalloc_fuzz_oracle.[ch] says for every call which outcomes
 * the documentation allows (Documentation/userspace-api/gntalloc.rst and
 * sysfs-class-gntalloc).
 *
 * What is checked: every answer of the driver itself, to the errno - the
 * three ioctls, unknown ioctl numbers, the sysfs writes, and the driver's
 * ->mmap (MAP_PRIVATE refused, a shared mapping of a read-only file
 * allowed, ranges the file does not own refused, mappings that cannot
 * grow).  Where several errors apply, any of them may come (the order of
 * the checks is not documented); where none applies, the call must
 * succeed.  After every call every counter must be what the model says: a
 * failed call changes nothing, limit_hits counts exactly the ENOSPC of the
 * limit.  TEARDOWN puts the limit back and checks that the gauges returned
 * to where they were.
 *
 * What is not checked: the mm core's own validation of mmap(), munmap() and
 * mremap() arguments (lengths, alignment, mapping types and flags, the size
 * of the address space, MAP_SYNC, overlapping moves).  It is mm/mmap.c's,
 * not ours, and differs between kernels.  Such calls are still made (the
 * driver must not crash or leak under them, and the counters are checked
 * after each): the core's refusals must fail, with any errno, and where the
 * core's answer depends on the kernel any outcome is accepted but a
 * success the driver would refuse.  See gntalloc_fuzz_oracle.h.
 *
 * Each test prints its seed and the number of cases it tried.
 * GNTALLOC_FUZZ_SEED=N replays a run; GNTALLOC_FUZZ_SECONDS=N gives the tests
 * N seconds in all instead of 12.
 */

#include "gntalloc_fixture.h"
#include "gntalloc_fuzz_model.h"
#include "gntalloc_fuzz_oracle.h"

#define FUZZ_SECONDS		12
#define MAX_REPORTED		16	/* sysfs outcomes against the documentation */

/* The same base seed for every test of one run: set before they fork. */
static __u64 fuzz_base_seed;
static unsigned int fuzz_seconds = FUZZ_SECONDS;

static void __attribute__((constructor)) fuzz_pick_seed(void)
{
	const char *s = getenv("GNTALLOC_FUZZ_SEED");
	const char *t = getenv("GNTALLOC_FUZZ_SECONDS");

	if (s)
		fuzz_base_seed = strtoull(s, NULL, 0);
	else
		fuzz_base_seed = ((__u64)time(NULL) << 20) ^ (__u64)getpid();
	if (t && strtoul(t, NULL, 0) > 0)
		fuzz_seconds = strtoul(t, NULL, 0);
}

static __u64 rnd(struct rng *r, __u64 n)
{
	return n ? rng_next(r) % n : 0;
}

#define PICK(r, array)	((array)[rnd((r), sizeof(array) / sizeof((array)[0]))])

FIXTURE(fuzz) {
	struct gntalloc_env env;
	struct rng rng;
	__u64 seed;
	__u64 deadline;
	unsigned long cases;
	char what[256];		/* the case being tried */
	struct fz_model m;	/* what the device must look like */
	struct evtchn_pair evt;
	unsigned long enomem;
	unsigned long mismatches;	/* outcomes against the documentation */
};

static size_t ps(void)
{
	return page_size();
}

static __printf(2, 3) void fz_begin(struct _test_data_fuzz *self, const char *fmt, ...)
{
	va_list ap;

	self->cases++;
	va_start(ap, fmt);
	vsnprintf(self->what, sizeof(self->what), fmt, ap);
	va_end(ap);
}

static bool fz_time_left(struct _test_data_fuzz *self)
{
	return now_ms() < self->deadline;
}

/* Every counter as the model has it. */
static void fz_check_counters(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	struct gntalloc_counters c, w;

	fz_model_counters(&self->m, &self->env.base, &w);
	ASSERT_EQ(0, read_counters(&c));
	if (c.in_use == w.in_use && c.mapped == w.mapped && c.pending == w.pending &&
	    c.open_files == w.open_files && c.allocated_total == w.allocated_total &&
	    c.freed_total == w.freed_total && c.limit_hits == w.limit_hits &&
	    c.alloc_failures == w.alloc_failures && c.limit == w.limit)
		return;
	TH_LOG("seed %llu, case %lu: %s", self->seed, self->cases, self->what);
	TH_LOG("counters: in_use %llu want %llu, mapped %llu want %llu,",
	       c.in_use, w.in_use, c.mapped, w.mapped);
	TH_LOG("counters: pending %llu want %llu, open_files %llu want %llu",
	       c.pending, w.pending, c.open_files, w.open_files);
	TH_LOG("allocated_total %llu want %llu, freed_total %llu want %llu,",
	       c.allocated_total, w.allocated_total, c.freed_total, w.freed_total);
	TH_LOG("limit_hits %llu want %llu, alloc_failures %llu want %llu, limit %llu want %llu",
	       c.limit_hits, w.limit_hits, c.alloc_failures, w.alloc_failures,
	       c.limit, w.limit);
	ASSERT_TRUE(false) TH_LOG("the counters are not what the model says");
}

/*
 * The call's outcome must be one the documentation allows.  A wrong one is
 * logged (the first MAX_REPORTED of them) and counted, and the test goes on
 * if the model can follow what happened (@can_follow) - so that one run
 * shows every kind of wrong outcome - and fails at its end (fz_finish()).
 */
static void fz_judge(struct __test_metadata *_metadata, struct _test_data_fuzz *self,
		     const struct outcome *o, bool ok, int err, bool can_follow)
{
	const char *got = ok ? "success" : strerrorname_np(err);
	char want[128];

	if (outcome_allows(o, ok, err))
		return;
	outcome_str(o, want, sizeof(want));
	if (self->mismatches++ < MAX_REPORTED || !can_follow)
		TH_LOG("seed %llu, case %lu: %s: got %s, want %s (documentation)",
		       self->seed, self->cases, self->what, got, want);
	ASSERT_TRUE(can_follow) TH_LOG("the model cannot follow: stopping here");
}

static void fz_finish(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	TH_LOG("%lu cases (ENOMEM %lu times)", self->cases, self->enomem);
	ASSERT_EQ(0U, self->mismatches)
		TH_LOG("%lu calls had another outcome than the documented one (above)",
		       self->mismatches);
}

/* ---------------------------------------------------------------------- */
/* Arguments: where they are put                                            */
/* ---------------------------------------------------------------------- */

/* Copy @len bytes of @src to @dst where we may write; elsewhere leave it. */
static void fz_fill(struct _test_data_fuzz *self, uint8_t *dst, const uint8_t *src, size_t len)
{
	uint8_t *ro = self->m.buf + BUF_RO * ps();
	size_t i;

	mprotect(ro, ps(), PROT_READ | PROT_WRITE);
	for (i = 0; i < len; i++) {
		uintptr_t a = (uintptr_t)(dst + i);

		if ((a >= (uintptr_t)ro && a < (uintptr_t)ro + ps()) ||
		    fz_page_access(&self->m, a) & ACC_W)
			dst[i] = src[i];
	}
	mprotect(ro, ps(), PROT_READ);
}

static const char *const ptr_kinds[] = {
	"sound", "misaligned", "NULL", "unmapped", "read-only", "cut short",
	"kernel", "non-canonical", "in a mapping of the device",
};

/*
 * Put @len bytes of @arg somewhere of a random kind and return where: the
 * kernel is given that address.  *@kind says which kind it was.
 */
static uint8_t *fz_place(struct _test_data_fuzz *self, const void *arg, size_t len, int *kind)
{
	uint8_t *buf = self->m.buf, *p;
	size_t room, i;
	int k = rnd(&self->rng, 100);

	/* Mostly sound, so that calls get past the first check. */
	k = k < 55 ? 0 : 1 + rnd(&self->rng, ARRAY_SIZE(ptr_kinds) - 1);
	switch (k) {
	case 0:
	case 1:
		room = len < 2 * ps() ? 2 * ps() - len : 0;
		p = buf + (rnd(&self->rng, room / 8 + 1) * 8) % (room + 1);
		if (k == 1 && room)
			p = buf + 1 + rnd(&self->rng, room - 1);
		break;
	case 2:
		p = NULL;
		break;
	case 3:
		p = buf + BUF_NONE * ps() + rnd(&self->rng, ps());
		break;
	case 4:
		room = len < ps() ? ps() - len : 0;
		p = buf + BUF_RO * ps() + rnd(&self->rng, room + 1);
		break;
	case 5:
		p = buf + BUF_NONE * ps() - 1 - rnd(&self->rng, len > 1 ? len - 1 : 1);
		break;
	case 6:
		p = (uint8_t *)(0xffff888000000000ULL + rnd(&self->rng, 1U << 30));
		break;
	case 7:
		p = (uint8_t *)(0x0000800000000000ULL + rnd(&self->rng, 1U << 30));
		break;
	default:
		p = NULL;
		for (i = 0; i < ARENA_PAGES && !p; i++) {
			size_t s = (rnd(&self->rng, ARENA_PAGES) + i) % ARENA_PAGES;

			if (self->m.slots[s].page >= 0)
				p = self->m.arena + s * ps() +
				    rnd(&self->rng, ps() - 16);
		}
		if (!p) {
			k = 0;
			p = buf;
		}
		break;
	}
	*kind = k;
	if (p)
		fz_fill(self, p, arg, len);
	return p;
}

/* ---------------------------------------------------------------------- */
/* Random and boundary values                                               */
/* ---------------------------------------------------------------------- */

static uint16_t pick_domid(struct _test_data_fuzz *self)
{
	static const uint16_t edges[] = {
		1, 7, 0x7fef, 0x7ff0, 0x7ff1, 0x7ff2, 0x7ff3, 0x7ff4, 0x7ff5,
		0x7ffe, 0x7fff, 0x8000, 0xffff,
	};

	switch (rnd(&self->rng, 8)) {
	case 0:
		return PICK(&self->rng, edges);
	case 1:
		return rnd(&self->rng, 0x10000);
	default:
		return SELF_DOMID;
	}
}

static uint16_t pick_flags(struct _test_data_fuzz *self)
{
	static const uint16_t edges[] = { 2, 3, 0x8000, 0x8001, 0xfffe, 0xffff };

	switch (rnd(&self->rng, 8)) {
	case 0:
		return PICK(&self->rng, edges);
	case 1:
		return rnd(&self->rng, 0x10000);
	case 2:
		return 0;
	default:
		return GNTALLOC_FLAG_WRITABLE;
	}
}

static uint32_t pick_count(struct _test_data_fuzz *self, __u64 room)
{
	const uint32_t edges[] = {
		0, 1, 2, room, room + 1, room + 2, HEADROOM, HEADROOM + 1,
		1023, 1024, 1025, 65535, 65536, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff,
	};

	switch (rnd(&self->rng, 6)) {
	case 0:
		return PICK(&self->rng, edges);
	case 1:
		return rng_next(&self->rng);
	default:
		return 1 + rnd(&self->rng, 8);
	}
}

/* A byte index: near the file's pages, at the edges, or anywhere. */
static __u64 pick_index(struct _test_data_fuzz *self, int f)
{
	static const __u64 edges[] = {
		0, 1, 4095, 4096, 1ULL << 32, 1ULL << 63, (1ULL << 63) - 4096,
		0x7ffffffffffff000ULL, 0x8000000000000000ULL,
		0xfffffffffffff000ULL, 0xffffffffffffffffULL,
		(1ULL << 51) << 12, ((1ULL << 51) - 1) << 12,
	};
	__u64 pg;
	int i, start;

	switch (rnd(&self->rng, 8)) {
	case 0:
		return PICK(&self->rng, edges);
	case 1:
		return rng_next(&self->rng);
	case 2:
		pg = self->m.files[f].next_pgoff + rnd(&self->rng, 4);
		return pg * ps();
	default:
		start = rnd(&self->rng, MAX_MODEL_PAGES);
		for (i = 0; i < MAX_MODEL_PAGES; i++) {
			const struct fz_page *p =
				&self->m.pages[(start + i) % MAX_MODEL_PAGES];

			if (p->used && p->file_id == self->m.files[f].id)
				return p->pgoff * ps();
		}
		return rnd(&self->rng, 4) * ps();
	}
}

/* ---------------------------------------------------------------------- */
/* The three ioctls                                                         */
/* ---------------------------------------------------------------------- */

static int fz_file_pick(struct _test_data_fuzz *self)
{
	return rnd(&self->rng, NR_FILES);
}

static void fuzz_alloc(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	uint8_t arg[sizeof(struct ioctl_gntalloc_alloc_gref) + 4 * (HEADROOM + 2)];
	struct ioctl_gntalloc_alloc_gref op = { 0 }, seen;
	__u64 room = fz_room(&self->m);
	struct outcome o = { 0 };
	const size_t hdr = offsetof(struct ioctl_gntalloc_alloc_gref, gref_ids);
	uint32_t refs[HEADROOM + 2], i;
	int f = fz_file_pick(self), kind, ret, err;
	__u64 index;
	uint8_t *p;
	size_t len;

	op.domid = pick_domid(self);
	op.flags = pick_flags(self);
	op.count = pick_count(self, room);
	op.index = rng_next(&self->rng);
	memset(arg, 0xee, sizeof(arg));
	memcpy(arg, &op, hdr);
	len = hdr + 4 * (op.count < HEADROOM + 2 ? op.count : HEADROOM + 2);
	p = fz_place(self, arg, len, &kind);
	fz_begin(self, "ALLOC domid %#x flags %#x count %u, argument %s, file %d",
		 op.domid, op.flags, op.count, ptr_kinds[kind], f);

	oracle_alloc(&self->m, p, &o, &seen);
	ret = ioctl(self->m.files[f].fd, IOCTL_GNTALLOC_ALLOC_GREF, p);
	err = errno;
	fz_judge(_metadata, self, &o, ret == 0, err, ret != 0);
	if (ret == 0) {
		memcpy(&index, p + 8, 8);
		memcpy(refs, p + hdr, 4 * seen.count);
		ASSERT_EQ(0U, index % ps()) TH_LOG("%s: index %#llx", self->what, index);
		ASSERT_LE(self->m.files[f].next_pgoff, index / ps())
			TH_LOG("%s: index %#llx reused", self->what, index);
		for (i = 0; i < seen.count; i++)
			ASSERT_NE(0U, refs[i]) TH_LOG("%s: gref %u is 0", self->what, i);
		fz_allocated(&self->m, f, index, seen.count);
	} else if (err == ENOSPC) {
		fz_limit_refused(&self->m);
	} else if (err == ENOMEM) {
		fz_alloc_failed(&self->m);
		self->enomem++;
	}
	fz_check_counters(_metadata, self);
}

static void fuzz_dealloc(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	struct ioctl_gntalloc_dealloc_gref op = { 0 }, seen;
	struct outcome o = { 0 };
	int f = fz_file_pick(self), kind, ret, err, i;
	__u64 pg, n;
	uint8_t *p;

	op.index = pick_index(self, f);
	switch (rnd(&self->rng, 6)) {
	case 0:
		op.count = pick_count(self, 0);
		break;
	case 1:
		op.count = 1;
		break;
	default:
		/* As many owned pages as follow: a DEALLOC that may work. */
		for (n = 0; fz_owned(&self->m, f, op.index / ps() + n); n++)
			;
		op.count = n ? 1 + rnd(&self->rng, n) : 1 + rnd(&self->rng, 3);
		break;
	}
	p = fz_place(self, &op, sizeof(op), &kind);
	fz_begin(self, "DEALLOC index %#llx count %u, argument %s, file %d",
		 (__u64)op.index, op.count, ptr_kinds[kind], f);

	oracle_dealloc(&self->m, f, p, &o, &seen);
	ret = ioctl(self->m.files[f].fd, IOCTL_GNTALLOC_DEALLOC_GREF, p);
	err = errno;
	fz_judge(_metadata, self, &o, ret == 0, err, ret != 0);
	if (ret == 0) {
		for (pg = 0; pg < seen.count; pg++) {
			i = fz_find_page(&self->m, self->m.files[f].id,
					 seen.index / ps() + pg);
			fz_deallocated(&self->m, i);
		}
	}
	fz_check_counters(_metadata, self);
}

static void fuzz_notify(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	static const uint32_t actions[] = {
		0, 1, 2, 3, 4, 5, 7, 8, 0x10, 0x80000000, 0x80000001, 0xffffffff,
	};
	struct ioctl_gntalloc_unmap_notify op = { 0 }, seen;
	const uint32_t ports[2] = { self->evt.local_port, self->evt.remote_port };
	struct outcome o = { 0 };
	int f = fz_file_pick(self), kind, ret, err;
	uint8_t *p;

	op.index = pick_index(self, f);
	if (rnd(&self->rng, 2))
		op.index += rnd(&self->rng, ps());
	op.action = rnd(&self->rng, 3) ? PICK(&self->rng, actions) :
					 (uint32_t)rng_next(&self->rng);
	switch (rnd(&self->rng, 6)) {
	case 0:
		op.event_channel_port = self->evt.local_port;
		break;
	case 1:
		op.event_channel_port = self->evt.remote_port;
		break;
	case 2:
		op.event_channel_port = rnd(&self->rng, 4096);
		break;
	case 3:
		op.event_channel_port = rng_next(&self->rng);
		break;
	case 4:
		op.event_channel_port = self->evt.local_port + 1 +
					rnd(&self->rng, 3);
		break;
	default:
		op.event_channel_port = PICK(&self->rng, ((const uint32_t[]){
			0, 1, 1023, 1024, 4095, 4096, 32767, 32768, 131071,
			131072, 0x7fffffff, 0xffffffff }));
		break;
	}
	p = fz_place(self, &op, sizeof(op), &kind);
	fz_begin(self, "SET_UNMAP_NOTIFY index %#llx action %#x port %u, argument %s, file %d",
		 (__u64)op.index, op.action, op.event_channel_port,
		 ptr_kinds[kind], f);

	oracle_notify(&self->m, f, p, ports, &o, &seen);
	ret = ioctl(self->m.files[f].fd, IOCTL_GNTALLOC_SET_UNMAP_NOTIFY, p);
	err = errno;
	fz_judge(_metadata, self, &o, ret == 0, err, true);
	fz_check_counters(_metadata, self);
}

/*
 * A file is closed, and a new one takes its place.  The old one goes with
 * its grants at once, or when the last mapping of it goes.
 */
static void fz_reopen(struct __test_metadata *_metadata, struct _test_data_fuzz *self, int f)
{
	int fd;

	fz_begin(self, "close and reopen file %d", f);
	ASSERT_EQ(0, close(self->m.files[f].fd));
	fd = open(GNTALLOC_DEV, (f == RO_FILE ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	ASSERT_LE(0, fd);
	fz_opened(&self->m, f, fd);
	fz_check_counters(_metadata, self);
}

/* ---------------------------------------------------------------------- */
/* Mappings: the arena                                                      */
/* ---------------------------------------------------------------------- */

/* Unmap slots [s, s + n) for sure and put placeholders there. */
static void fz_clear_slots(struct __test_metadata *_metadata, struct _test_data_fuzz *self,
			   size_t s, size_t n)
{
	uint8_t *a = self->m.arena + s * ps();

	if (s + n > ARENA_PAGES)
		n = ARENA_PAGES - s;
	ASSERT_EQ(0, munmap(a, n * ps()));
	ASSERT_EQ(a, mmap(a, n * ps(), PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
			  -1, 0));
	fz_forget_slots(&self->m, s, n);
}

/* A sound ALLOC of @count pages in file @f: the index of the first. */
static __u64 fz_alloc_in(struct __test_metadata *_metadata, struct _test_data_fuzz *self,
			 int f, uint32_t count)
{
	__u64 index = 0;

	fz_begin(self, "ALLOC of %u pages in file %d", count, f);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->m.files[f].fd, count, &index, NULL))
		TH_LOG("%s: %s", self->what, strerror(errno));
	fz_allocated(&self->m, f, index, count);
	fz_check_counters(_metadata, self);
	return index;
}

/* A few pages for the mapping fuzz to work on. */
static void fz_alloc_some(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	__u64 room = fz_room(&self->m);
	uint32_t count = 1 + rnd(&self->rng, 8);

	if (count <= room)
		fz_alloc_in(_metadata, self, fz_file_pick(self), count);
}

/* A valid DEALLOC of one owned page: later munmaps release it. */
static void fz_dealloc_one(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	int i, start = rnd(&self->rng, MAX_MODEL_PAGES), f;

	for (i = 0; i < MAX_MODEL_PAGES; i++) {
		struct fz_page *p = &self->m.pages[(start + i) % MAX_MODEL_PAGES];

		if (!p->used || !p->owned)
			continue;
		for (f = 0; f < NR_FILES; f++)
			if (self->m.files[f].id == p->file_id)
				break;
		if (f == NR_FILES)
			continue;	/* of a closed file that a mapping holds */
		fz_begin(self, "DEALLOC of page %#llx in file %d (mapped %d times)",
			 p->pgoff, f, p->maps);
		ASSERT_EQ(0, gntalloc_dealloc(self->m.files[f].fd, p->pgoff * ps(), 1))
			TH_LOG("%s: %s", self->what, strerror(errno));
		fz_deallocated(&self->m, (start + i) % MAX_MODEL_PAGES);
		fz_check_counters(_metadata, self);
		return;
	}
}

/* A page offset for mmap(): mostly an owned run of file @f. */
static __u64 pick_pgoff(struct _test_data_fuzz *self, int f, __u64 *run)
{
	static const __u64 edges[] = {
		1ULL << 32, (1ULL << 51) - 1, 1ULL << 51, 1ULL << 52,
		(1ULL << 52) - 1, 0x7ffffffffffffULL, 0xfffffffffffffULL,
		0xffffffffffffeULL,
	};
	__u64 pg = pick_index(self, f) / ps();

	*run = 0;
	switch (rnd(&self->rng, 8)) {
	case 0:
		return PICK(&self->rng, edges);
	case 1:
		return self->m.files[f].next_pgoff + rnd(&self->rng, 3);
	default:
		while (fz_owned(&self->m, f, pg + *run))
			(*run)++;
		return pg;
	}
}

/*
 * One mmap() of file @f, judged and followed: into arena slot @s if @flags
 * has MAP_FIXED or MAP_FIXED_NOREPLACE (at @addr: the slot's address, or
 * off it), anywhere otherwise.
 */
static void fz_mmap(struct __test_metadata *_metadata, struct _test_data_fuzz *self, int f,
		    uint8_t *addr, size_t s, __u64 len, int prot, int flags,
		    __u64 off)
{
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE), ret_ok;
	__u64 pgoff, alen, npages;
	struct outcome o = { 0 };
	uint8_t *ret;
	int err;

	alen = len + ps() - 1 < len ? 0 : (len + ps() - 1) & ~(ps() - 1);
	fz_begin(self, "mmap(%p, %#llx, prot %#x, flags %#x, file %d%s, offset %#llx)",
		 addr, len, prot, flags, f, f == RO_FILE ? " (opened O_RDONLY)" : "", off);

	npages = alen / ps();
	pgoff = off / ps();
	oracle_mmap(&self->m, f, (uintptr_t)addr, len, prot, flags, off, &o);
	ret = mmap(addr, len, prot, flags, self->m.files[f].fd, (off_t)off);
	err = errno;
	ret_ok = ret != MAP_FAILED;
	if (ret_ok && fixed)
		ASSERT_EQ(addr, ret) TH_LOG("%s: mapped at %p", self->what, ret);
	/* A failed MAP_FIXED may have unmapped what was there: start afresh. */
	if (!ret_ok && flags & MAP_FIXED)
		fz_clear_slots(_metadata, self, s, alen ? alen / ps() : 1);
	fz_judge(_metadata, self, &o, ret_ok, err, !ret_ok);
	if (!ret_ok) {
		fz_check_counters(_metadata, self);
		return;
	}
	if (fixed) {
		fz_mapped(&self->m, s, f, pgoff, npages, prot);
		fz_check_counters(_metadata, self);
		return;
	}
	/* Anywhere: count it while it is there, then let it go. */
	fz_count_maps(&self->m, f, pgoff, npages, 1);
	fz_check_counters(_metadata, self);
	ASSERT_EQ(0, munmap(ret, alen));
	fz_count_maps(&self->m, f, pgoff, npages, -1);
	fz_check_counters(_metadata, self);
}

static void fuzz_mmap(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE,
		PROT_READ, PROT_WRITE, PROT_NONE, PROT_READ | PROT_WRITE | PROT_EXEC,
		PROT_EXEC, PROT_READ | PROT_EXEC,
	};
	static const int types[] = {
		MAP_SHARED, MAP_SHARED, MAP_SHARED, MAP_SHARED, MAP_SHARED_VALIDATE,
		MAP_PRIVATE, 0, MAP_TYPE,
	};
	static const int extras[] = {
		0, 0, 0, MAP_POPULATE, MAP_NORESERVE, MAP_LOCKED,
	};
	int f = fz_file_pick(self), prot, flags, how;
	__u64 pgoff, run, off, len, alen, npages;
	uint8_t *addr = NULL;
	size_t s = 0;

	pgoff = pick_pgoff(self, f, &run);
	npages = run && rnd(&self->rng, 4) ? 1 + rnd(&self->rng, run) :
					     1 + rnd(&self->rng, 6);
	len = npages * ps();
	switch (rnd(&self->rng, 10)) {
	case 0:
		len = 0;
		break;
	case 1:
		len -= rnd(&self->rng, ps());	/* rounds up to the same pages */
		break;
	default:
		break;
	}
	off = pgoff * ps();
	if (!rnd(&self->rng, 12))
		off += 1 + rnd(&self->rng, ps() - 1);
	prot = PICK(&self->rng, prots);
	flags = PICK(&self->rng, types) | PICK(&self->rng, extras);
	if (!rnd(&self->rng, 16))
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;
	how = rnd(&self->rng, 10);	/* 0-6 fixed, 7 no-replace, 8-9 anywhere */
	if (!rnd(&self->rng, 20)) {
		/* Too big for any address space: never MAP_FIXED. */
		len = PICK(&self->rng, ((const __u64[]){
			1ULL << 46, 1ULL << 47, 1ULL << 48, UINT64_MAX,
			UINT64_MAX - ps() + 2 }));
		how = 8;
	}
	alen = len + ps() - 1 < len ? 0 : (len + ps() - 1) & ~(ps() - 1);
	if (how <= 7 && alen / ps() <= ARENA_PAGES) {
		s = rnd(&self->rng, ARENA_PAGES - (alen ? alen / ps() : 1) + 1);
		addr = self->m.arena + s * ps();
		flags |= how == 7 ? MAP_FIXED_NOREPLACE : MAP_FIXED;
		if (how == 0 && !rnd(&self->rng, 4))
			addr += 1 + rnd(&self->rng, ps() - 1);
	}
	fz_mmap(_metadata, self, f, addr, s, len, prot, flags, off);
}

/* A sound mapping of owned pages of a read-write file, somewhere in the arena. */
static void fz_map_some(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	int f = rnd(&self->rng, RO_FILE), prot;
	__u64 pgoff, run = 0;
	size_t s;

	pgoff = pick_index(self, f) / ps();
	while (fz_owned(&self->m, f, pgoff + run) && run < 8)
		run++;
	if (!run)
		return;
	run = 1 + rnd(&self->rng, run);
	s = rnd(&self->rng, ARENA_PAGES - run + 1);
	prot = rnd(&self->rng, 4) ? PROT_READ | PROT_WRITE :
				    rnd(&self->rng, 2) ? PROT_READ : PROT_NONE;
	fz_mmap(_metadata, self, f, self->m.arena + s * ps(), s, run * ps(), prot,
		MAP_SHARED | MAP_FIXED, pgoff * ps());
}

static void fuzz_munmap(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	size_t s = rnd(&self->rng, ARENA_PAGES), n, len;
	struct outcome o = { 0 };
	uint8_t *addr;
	int ret, err;

	n = 1 + rnd(&self->rng, 8);
	if (s + n > ARENA_PAGES)
		n = ARENA_PAGES - s;
	len = n * ps();
	addr = self->m.arena + s * ps();
	switch (rnd(&self->rng, 12)) {
	case 0:
		len = 0;
		break;
	case 1:
		addr += 1 + rnd(&self->rng, ps() - 1);
		len -= ps();
		break;
	case 2:
	case 3:
		len -= rnd(&self->rng, ps());	/* rounds up to n pages */
		break;
	default:
		break;
	}
	fz_begin(self, "munmap(arena page %zu + %zu, %#zx)", s,
		 (size_t)(addr - self->m.arena) % ps(), len);
	oracle_munmap((uintptr_t)addr, len, &o);
	ret = munmap(addr, len);
	err = errno;
	fz_judge(_metadata, self, &o, ret == 0, err, false);
	if (ret == 0)
		fz_clear_slots(_metadata, self, s, n);
	fz_check_counters(_metadata, self);
}

/* A slot mapping the device, and the run of slots of the same mmap from it. */
static bool pick_mapped_slot(struct _test_data_fuzz *self, size_t *s, size_t *same_vma)
{
	size_t i, start = rnd(&self->rng, ARENA_PAGES);

	for (i = 0; i < ARENA_PAGES; i++) {
		size_t j = (start + i) % ARENA_PAGES, e = j + 1;

		if (self->m.slots[j].page < 0)
			continue;
		while (e < ARENA_PAGES && self->m.slots[e].page >= 0 &&
		       self->m.slots[e].vma == self->m.slots[j].vma)
			e++;
		*s = j;
		*same_vma = e - j;
		return true;
	}
	return false;
}

static void fuzz_mremap(struct __test_metadata *_metadata, struct _test_data_fuzz *self)
{
	size_t s, same, n, d = 0;
	struct outcome o = { 0 };
	__u64 old_len, new_len;
	unsigned long flags = 0;
	uint8_t *addr, *dst = NULL;
	int kind = rnd(&self->rng, 6), err;
	void *ret;

	if (!pick_mapped_slot(self, &s, &same))
		return;
	addr = self->m.arena + s * ps();
	n = same > 1 && rnd(&self->rng, 3) ? 1 + rnd(&self->rng, same) :
					     1 + rnd(&self->rng, 4);
	if (s + n > ARENA_PAGES)
		n = ARENA_PAGES - s;
	old_len = n * ps();
	new_len = old_len;
	switch (kind) {
	case 0:		/* shrink: the tail goes, whatever it is */
		if (n < 2)
			n = 2;
		if (s + n > ARENA_PAGES)
			return;
		old_len = n * ps();
		new_len = (1 + rnd(&self->rng, n - 1)) * ps();
		flags = rnd(&self->rng, 2) ? MREMAP_MAYMOVE : 0;
		break;
	case 1:		/* grow: the device's mappings cannot */
		new_len = old_len + (1 + rnd(&self->rng, 4)) * ps();
		if (!rnd(&self->rng, 6))
			old_len = 0;
		flags = rnd(&self->rng, 2) ? MREMAP_MAYMOVE : 0;
		break;
	case 2:		/* move elsewhere in the arena */
	case 3:
		d = rnd(&self->rng, ARENA_PAGES - n + 1);
		dst = self->m.arena + d * ps();
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		break;
	case 4:		/* MREMAP_DONTUNMAP: not for mappings that cannot grow */
		flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP;
		break;
	default:	/* plain invalid requests */
		switch (rnd(&self->rng, 4)) {
		case 0:
			addr += 1 + rnd(&self->rng, ps() - 1);
			break;
		case 1:
			new_len = 0;
			break;
		case 2:
			flags = MREMAP_FIXED;
			dst = self->m.arena;
			break;
		default:
			flags = 8 << rnd(&self->rng, 20);
			break;
		}
		break;
	}
	oracle_mremap((uintptr_t)addr, old_len, new_len, flags, (uintptr_t)dst, n > same, &o);
	fz_begin(self, "mremap(arena page %zu, %#llx, %#llx, %#lx, %p) over %zu pages of one mmap",
		 s, old_len, new_len, flags, dst, same);
	ret = mremap(addr, old_len, new_len, flags, dst);
	err = errno;
	fz_judge(_metadata, self, &o, ret != MAP_FAILED, err, false);
	if (kind == 0) {
		fz_clear_slots(_metadata, self, s + new_len / ps(),
			       (old_len - new_len) / ps());
	} else if ((kind == 2 || kind == 3) && !(d < s + n && s < d + n)) {
		if (ret == MAP_FAILED) {
			/* The destination was unmapped before the refusal. */
			fz_clear_slots(_metadata, self, d, n);
		} else {
			fz_moved(&self->m, s, d, n);
			/* The pages moved: no page was unmapped. */
			ASSERT_EQ(addr, mmap(addr, n * ps(), PROT_NONE,
					     MAP_PRIVATE | MAP_ANONYMOUS |
					     MAP_FIXED | MAP_NORESERVE, -1, 0));
		}
	}
	fz_check_counters(_metadata, self);
}

/* ---------------------------------------------------------------------- */
/* Unknown ioctl numbers                                                    */
/* ---------------------------------------------------------------------- */

static unsigned int pick_cmd(struct _test_data_fuzz *self)
{
	unsigned int dir, type, nr, size;

	switch (rnd(&self->rng, 4)) {
	case 0:
		return rng_next(&self->rng);
	case 1:		/* our numbers with another direction or size */
		nr = 5 + rnd(&self->rng, 3);
		dir = rnd(&self->rng, 4);
		size = PICK(&self->rng, ((const unsigned int[]){ 0, 8, 16, 20, 24, 28, 32 }));
		return _IOC(dir, 'G', nr, size);
	case 2:		/* our type, other numbers */
		return _IOC(rnd(&self->rng, 4), 'G', rnd(&self->rng, 256),
			    rnd(&self->rng, 64));
	default:	/* other drivers' types */
		dir = rnd(&self->rng, 4);
		type = rnd(&self->rng, 256);
		nr = rnd(&self->rng, 256);
		size = rnd(&self->rng, 1 << 14);
		return _IOC(dir, type, nr, size);
	}
}

/* ---------------------------------------------------------------------- */
/* sysfs: the limit and peak                                                */
/* ---------------------------------------------------------------------- */

#define CLASS_LIMIT	GNTALLOC_SYSFS "/limit"
#define CLASS_PEAK	GNTALLOC_SYSFS "/peak"

/* Inputs every run tries first: the documented edges, and near misses. */
static const char *const sysfs_edges[] = {
	"0", "0\n", "1", "1\n", "1024\n", "4294967295", "4294967295\n",
	"4294967296", "4294967296\n", "18446744073709551615\n",
	"18446744073709551616\n", "99999999999999999999999\n",
	"00000000000000000000000000000000000000001\n", "007\n",
	"", "\n", "\n\n", "1\n\n", " 1\n", "1\x20\n", "\t1\n", "1\t",
	"-0\n", "-1\n", "+1\n", "+0\n", "0x10\n", "0X10\n", "1e3\n",
	"1.0\n", "1,000\n", "\xd9\xa1\n", "abc\n", "12abc\n", "1\r\n",
};

/* A random string: digits mostly, and what parsers trip on. */
static size_t pick_string(struct _test_data_fuzz *self, char *s, size_t size)
{
	static const char alphabet[] =
		"0123456789012345678901234567890123456789+- \t\nxX.,eE\r\0\xff\x80\x7f";
	size_t len, i;

	if (!rnd(&self->rng, 8)) {
		/* A long run of zeroes, up to a page: a small number. */
		len = 1 + rnd(&self->rng, size - 8);
		memset(s, '0', len);
		len += snprintf(s + len, size - len, "%u\n",
				(unsigned int)rnd(&self->rng, 100000));
		return len;
	}
	len = 1 + rnd(&self->rng, 24);
	for (i = 0; i < len; i++)
		s[i] = alphabet[rnd(&self->rng, sizeof(alphabet) - 1)];
	if (rnd(&self->rng, 2))
		s[len++] = '\n';
	return len;
}

static void printable(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < size; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = c;
		else
			o += snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (i < len)
		o += snprintf(out + o, size - o, "...(%zu bytes)", len);
	out[o] = '\0';
}

static const char *const sysfs_paths[] = {
	GNTALLOC_PARAM_LIMIT, CLASS_LIMIT, CLASS_PEAK,
};

/*
 * Write @len bytes of @s to @path; the outcome must be the documented one.
 * A wrong outcome is counted (and logged) rather than fatal, so that one
 * run shows every such input; the limit in force is then read back.
 */
static void fuzz_sysfs_write(struct __test_metadata *_metadata, struct _test_data_fuzz *self,
			     const char *path, const char *s, size_t len)
{
	bool peak = !strcmp(path, CLASS_PEAK);
	__u64 value = 0, now = 0, other = 0, index;
	char shown[96];
	int want, got;

	printable(s, len, shown, sizeof(shown));
	fz_begin(self, "write \"%s\" to %s", shown, path);
	if (!len)
		return;	/* write(2) of nothing never reaches the driver */
	want = oracle_sysfs_write(!strcmp(path, GNTALLOC_PARAM_LIMIT), peak, s, len, &value);
	got = write_buf_file(path, s, len);
	if (got != want && self->mismatches++ < MAX_REPORTED) {
		const char *got_str = got ? strerrorname_np(-got) : "success";
		const char *want_str = want ? strerrorname_np(-want) : "success";

		TH_LOG("seed %llu, case %lu: %s: got %s, want %s (documentation)",
		       self->seed, self->cases, self->what, got_str, want_str);
	}
	if (peak) {
		if (!got)
			ASSERT_EQ(counter("in_use"), counter("peak"));
		return;
	}
	if (!got)
		self->m.limit = want ? counter("limit") : value;
	/* Both doors show the same limit, the one in force. */
	ASSERT_EQ(0, read_u64_file(GNTALLOC_PARAM_LIMIT, &now));
	ASSERT_EQ(0, read_u64_file(CLASS_LIMIT, &other));
	ASSERT_EQ(self->m.limit, now) TH_LOG("%s", self->what);
	ASSERT_EQ(self->m.limit, other) TH_LOG("%s", self->what);
	/* And it holds: one page more fits exactly when below the limit. */
	if (gntalloc_alloc_rw(self->m.files[0].fd, 1, &index, NULL) == 0) {
		ASSERT_LT(self->env.base.in_use, self->m.limit) TH_LOG("%s", self->what);
		ASSERT_EQ(0, gntalloc_dealloc(self->m.files[0].fd, index, 1));
		self->m.allocated++;
		self->m.freed++;
	} else {
		ASSERT_EQ(ENOSPC, errno);
		ASSERT_GE(self->env.base.in_use, self->m.limit) TH_LOG("%s", self->what);
		fz_limit_refused(&self->m);
	}
	fz_check_counters(_metadata, self);
}

/* ---------------------------------------------------------------------- */
/* The fixture                                                              */
/* ---------------------------------------------------------------------- */

FIXTURE_SETUP(fuzz)
{
	__u64 h = 1469598103934665603ULL;
	struct gntalloc_counters none = { 0 }, now;
	const char *c;
	int f, fd;

	for (f = 0; f < NR_FILES; f++)
		self->m.files[f].fd = -1;
	for (f = 0; f < ARENA_PAGES; f++)
		self->m.slots[f].page = -1;
	self->evt.fd_local = -1;
	self->evt.fd_remote = -1;
	/*
	 * The model counts on no page coming back behind its back: pages a
	 * peer of an earlier test let go of come back within a second.
	 */
	if (have_counters())
		wait_gauges(&none, GAUGE_PENDING, &now);
	if (!env_setup(_metadata, &self->env))
		return;
	if (!self->env.counters)
		SKIP(return, "%s is missing: stock driver, no counters to check the model against",
		     GNTALLOC_SYSFS);
	REQUIRE_DEVICE(return, EVTCHN_DEV, "xen-evtchn");
	ASSERT_EQ(0U, self->env.base.pending) TH_LOG("pages pending before the test");

	for (c = _metadata->name; *c; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	self->seed = fuzz_base_seed ^ h;
	self->rng.s = self->seed;
	TH_LOG("seed %llu (GNTALLOC_FUZZ_SEED=%llu replays this run)",
	       self->seed, fuzz_base_seed);

	for (f = 0; f < NR_FILES; f++) {
		fd = open(GNTALLOC_DEV, (f == RO_FILE ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		ASSERT_LE(0, fd);
		fz_opened(&self->m, f, fd);
	}
	ASSERT_EQ(0, evtchn_pair_open(&self->evt));
	self->m.buf = mmap(NULL, BUF_PAGES * ps(), PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->m.buf) {
		self->m.buf = NULL;
	}
	ASSERT_EQ(0, mprotect(self->m.buf + BUF_NONE * ps(), ps(), PROT_NONE));
	ASSERT_EQ(0, mprotect(self->m.buf + BUF_RO * ps(), ps(), PROT_READ));
	ASSERT_EQ(0, mprotect(self->m.buf + (BUF_RO + 1) * ps(), ps(), PROT_NONE));
	self->m.arena = mmap(NULL, (ARENA_PAGES + 1) * ps(), PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->m.arena) {
		self->m.arena = NULL;
	}
	/* Last: TEARDOWN puts it back only if SETUP completed. */
	self->m.base_in_use = self->env.base.in_use;
	self->m.limit = self->env.base.in_use + HEADROOM;
	ASSERT_EQ(0, set_limit(self->m.limit));
}

FIXTURE_TEARDOWN_PARENT(fuzz)
{
	int f;

	if (env_in_test_process(&self->env)) {
		if (self->m.arena)
			munmap(self->m.arena, (ARENA_PAGES + 1) * ps());
		if (self->m.buf)
			munmap(self->m.buf, BUF_PAGES * ps());
		for (f = 0; f < NR_FILES; f++)
			close_if_open(self->m.files[f].fd);
		evtchn_pair_close(&self->evt);
	}
	env_teardown(_metadata, &self->env);
}

/* Run for @percent of the seconds given to the fuzz tests. */
static void fz_start(struct _test_data_fuzz *self, unsigned int percent)
{
	self->deadline = now_ms() + (__u64)fuzz_seconds * 10 * percent;
}

TEST_F_TIMEOUT(fuzz, ioctls_succeed_or_fail_as_documented, 7200)
{
	fz_start(self, 40);
	while (fz_time_left(self)) {
		uint32_t r = rnd(&self->rng, 100);

		if (r < 38)
			fuzz_alloc(_metadata, self);
		else if (r < 68)
			fuzz_dealloc(_metadata, self);
		else if (r < 92)
			fuzz_notify(_metadata, self);
		else if (r < 98)
			fz_map_some(_metadata, self);	/* arguments may live there */
		else if (r < 99)
			fz_reopen(_metadata, self, fz_file_pick(self));
		else
			fuzz_munmap(_metadata, self);
	}
	fz_finish(_metadata, self);
}

TEST_F_TIMEOUT(fuzz, mappings_succeed_or_fail_as_documented, 7200)
{
	__u64 index;
	int f;

	fz_start(self, 35);
	/*
	 * First the plainest mapping there is, through every file: owned
	 * pages, PROT_READ, MAP_SHARED.  A file opened O_RDONLY too: mmap(2)
	 * allows it, and the documentation refuses only mappings that are not
	 * MAP_SHARED.
	 */
	for (f = 0; f < NR_FILES; f++) {
		index = fz_alloc_in(_metadata, self, f, 2);
		fz_mmap(_metadata, self, f, self->m.arena + 2 * f * ps(), 2 * f,
			2 * ps(), PROT_READ, MAP_SHARED | MAP_FIXED, index);
	}
	while (fz_time_left(self)) {
		uint32_t r = rnd(&self->rng, 100);

		if (fz_used_pages(&self->m) < 24 || r < 8)
			fz_alloc_some(_metadata, self);
		else if (r < 45)
			fuzz_mmap(_metadata, self);
		else if (r < 63)
			fuzz_munmap(_metadata, self);
		else if (r < 88)
			fuzz_mremap(_metadata, self);
		else if (r < 97)
			fz_dealloc_one(_metadata, self);
		else
			fz_reopen(_metadata, self, fz_file_pick(self));
	}
	fz_finish(_metadata, self);
}

TEST_F_TIMEOUT(fuzz, unknown_ioctl_numbers_fail_with_enotty, 7200)
{
	struct outcome o = { 0 };
	uint8_t arg[64];
	unsigned int cmd;
	int kind, ret;
	uint8_t *p;

	may_fail(&o, ENOTTY);
	fz_start(self, 10);
	while (fz_time_left(self)) {
		cmd = pick_cmd(self);
		if (cmd == IOCTL_GNTALLOC_ALLOC_GREF ||
		    cmd == IOCTL_GNTALLOC_DEALLOC_GREF ||
		    cmd == IOCTL_GNTALLOC_SET_UNMAP_NOTIFY || fz_vfs_ioctl(cmd))
			continue;
		memset(arg, 0, sizeof(arg));
		arg[0] = 1;	/* count, index... all small */
		p = fz_place(self, arg, sizeof(arg), &kind);
		fz_begin(self, "ioctl %#x, argument %s", cmd, ptr_kinds[kind]);
		ret = ioctl(self->m.files[fz_file_pick(self)].fd, cmd, p);
		fz_judge(_metadata, self, &o, ret == 0, errno, false);
		if (self->cases % 16 == 0)
			fz_check_counters(_metadata, self);
	}
	fz_check_counters(_metadata, self);
	fz_finish(_metadata, self);
}

TEST_F_TIMEOUT(fuzz, sysfs_writes_succeed_or_fail_as_documented, 7200)
{
	char s[4096];
	size_t i, p, len;

	fz_start(self, 15);
	/* The edges through each file, then random strings through any. */
	for (p = 0; p < ARRAY_SIZE(sysfs_paths); p++) {
		for (i = 0; i < ARRAY_SIZE(sysfs_edges); i++)
			fuzz_sysfs_write(_metadata, self, sysfs_paths[p],
					 sysfs_edges[i], strlen(sysfs_edges[i]));
		/* A NUL inside: what follows is not "a decimal number". */
		fuzz_sysfs_write(_metadata, self, sysfs_paths[p], "12\0abc", 6);
		fuzz_sysfs_write(_metadata, self, sysfs_paths[p], "0\0abc", 5);
	}
	while (fz_time_left(self)) {
		len = pick_string(self, s, sizeof(s));
		fuzz_sysfs_write(_metadata, self, PICK(&self->rng, sysfs_paths),
				 s, len);
	}
	fz_finish(_metadata, self);
}

TEST_HARNESS_MAIN
