// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's model of the driver's state (see gntalloc_fuzz_model.h).
 *
 * The rules it follows are the documented ones (Documentation/userspace-api/
 * gntalloc.rst): a page is owned from ALLOC until DEALLOC or the close of
 * its file, mapped while a mapping holds it, and released - it leaves the
 * model, freed_total counts it - when it is neither; a closed file lives on
 * while a mapping of it does, and its pages go with the last such mapping.
 */

#include "gntalloc_fuzz_model.h"

static size_t ps(void)
{
	return page_size();
}

int fz_find_page(const struct fz_model *m, unsigned int file_id, __u64 pgoff)
{
	int i;

	for (i = 0; i < MAX_MODEL_PAGES; i++)
		if (m->pages[i].used && m->pages[i].file_id == file_id &&
		    m->pages[i].pgoff == pgoff)
			return i;
	return -1;
}

bool fz_owned(const struct fz_model *m, int f, __u64 pgoff)
{
	int i = fz_find_page(m, m->files[f].id, pgoff);

	return i >= 0 && m->pages[i].owned;
}

/* Are pages [pgoff, pgoff + count) all owned by file @f? */
bool fz_owns_range(const struct fz_model *m, int f, __u64 pgoff, __u64 count)
{
	__u64 i;

	if (!count || pgoff + count < pgoff || count > MAX_MODEL_PAGES)
		return false;
	for (i = 0; i < count; i++)
		if (!fz_owned(m, f, pgoff + i))
			return false;
	return true;
}

int fz_used_pages(const struct fz_model *m)
{
	int i, n = 0;

	for (i = 0; i < MAX_MODEL_PAGES; i++)
		n += m->pages[i].used;
	return n;
}

/* Pages that one more ALLOC may take before the limit refuses it. */
__u64 fz_room(const struct fz_model *m)
{
	return m->limit - m->base_in_use - fz_used_pages(m);
}

static bool fz_file_open(const struct fz_model *m, unsigned int file_id)
{
	int f;

	for (f = 0; f < NR_FILES; f++)
		if (m->files[f].id == file_id)
			return true;
	return false;
}

/* Does a mapping of ours still hold the file (every mapping does)? */
static bool fz_file_mapped(const struct fz_model *m, unsigned int file_id)
{
	int i;

	for (i = 0; i < ARENA_PAGES; i++)
		if (m->slots[i].page >= 0 &&
		    m->pages[m->slots[i].page].file_id == file_id)
			return true;
	return false;
}

/* Files that are open, or closed and held by a mapping. */
unsigned int fz_files_alive(const struct fz_model *m)
{
	unsigned int ids[ARENA_PAGES], n = 0, i, j;

	for (i = 0; i < ARENA_PAGES; i++) {
		unsigned int id;

		if (m->slots[i].page < 0)
			continue;
		id = m->pages[m->slots[i].page].file_id;
		if (fz_file_open(m, id))
			continue;
		for (j = 0; j < n && ids[j] != id; j++)
			;
		if (j == n)
			ids[n++] = id;
	}
	return NR_FILES + n;
}

/* A page neither owned nor mapped is released: it leaves the model. */
static void fz_maybe_release(struct fz_model *m, int i)
{
	struct fz_page *p = &m->pages[i];

	if (p->used && !p->owned && !p->maps) {
		p->used = false;
		m->freed++;
	}
}

/*
 * A closed file lives on while a mapping holds it; when the last one goes,
 * so do its grants, as at close.
 */
static void fz_reap_files(struct fz_model *m)
{
	int i;

	for (i = 0; i < MAX_MODEL_PAGES; i++) {
		struct fz_page *p = &m->pages[i];

		if (!p->used || !p->owned || fz_file_open(m, p->file_id) ||
		    fz_file_mapped(m, p->file_id))
			continue;
		p->owned = false;
		fz_maybe_release(m, i);
	}
}

/* File @f is (re)opened as @fd: the file it was, if any, is closed. */
void fz_opened(struct fz_model *m, int f, int fd)
{
	m->files[f].fd = fd;
	m->files[f].id = m->next_file_id++;
	m->files[f].next_pgoff = 0;
	fz_reap_files(m);
}

/* ALLOC gave file @f @count pages at byte @index. */
void fz_allocated(struct fz_model *m, int f, __u64 index, uint32_t count)
{
	__u64 pgoff = index / ps();
	uint32_t n;
	int i = 0;

	for (n = 0; n < count; n++) {
		while (m->pages[i].used)
			i++;
		m->pages[i] = (struct fz_page){
			.used = true,
			.file_id = m->files[f].id,
			.pgoff = pgoff + n,
			.owned = true,
		};
	}
	m->allocated += count;
	m->files[f].next_pgoff = pgoff + count;
}

/* DEALLOC gave up page @i (of pages[]). */
void fz_deallocated(struct fz_model *m, int i)
{
	m->pages[i].owned = false;
	fz_maybe_release(m, i);
}

/* An ALLOC was refused with ENOSPC: limit_hits counts it. */
void fz_limit_refused(struct fz_model *m)
{
	m->hits++;
}

/* An ALLOC failed with ENOMEM: alloc_failures counts it. */
void fz_alloc_failed(struct fz_model *m)
{
	m->failures++;
}

/* A mapping outside the arena of @npages pages of file @f came (+1) or went (-1). */
void fz_count_maps(struct fz_model *m, int f, __u64 pgoff, __u64 npages, int delta)
{
	__u64 i;

	for (i = 0; i < npages; i++)
		m->pages[fz_find_page(m, m->files[f].id, pgoff + i)].maps += delta;
}

/* Slots [s, s + n) are gone (unmapped one way or another): placeholders. */
void fz_forget_slots(struct fz_model *m, size_t s, size_t n)
{
	size_t i;

	for (i = s; i < s + n && i < ARENA_PAGES; i++) {
		int pg = m->slots[i].page;

		m->slots[i].page = -1;
		if (pg < 0)
			continue;
		m->pages[pg].maps--;
		fz_maybe_release(m, pg);
	}
	fz_reap_files(m);
}

/* One mmap() put @npages pages of file @f at arena slot @s, in place of what was there. */
void fz_mapped(struct fz_model *m, size_t s, int f, __u64 pgoff, __u64 npages,
	       int prot)
{
	__u64 i;

	fz_forget_slots(m, s, npages);
	for (i = 0; i < npages; i++) {
		int pg = fz_find_page(m, m->files[f].id, pgoff + i);

		m->slots[s + i].page = pg;
		/* x86: write and exec imply read; none is none. */
		m->slots[s + i].prot = prot & PROT_WRITE ? PROT_READ | PROT_WRITE :
				       prot ? PROT_READ : PROT_NONE;
		m->slots[s + i].vma = m->next_vma;
		m->pages[pg].maps++;
	}
	m->next_vma++;
}

/* mremap() moved slots [from, from + n) to [to, to + n): no page was unmapped. */
void fz_moved(struct fz_model *m, size_t from, size_t to, size_t n)
{
	size_t i;

	fz_forget_slots(m, to, n);
	for (i = 0; i < n; i++) {
		m->slots[to + i] = m->slots[from + i];
		m->slots[to + i].vma = m->next_vma;
		m->slots[from + i].page = -1;
	}
	m->next_vma++;
}

/* Every counter as the model has it, over @base (the counters at SETUP). */
void fz_model_counters(const struct fz_model *m, const struct gntalloc_counters *base,
		       struct gntalloc_counters *want)
{
	__u64 in_use = 0, mapped = 0;
	int i;

	for (i = 0; i < MAX_MODEL_PAGES; i++) {
		in_use += m->pages[i].used;
		mapped += m->pages[i].used && m->pages[i].maps;
	}
	*want = *base;
	want->limit = m->limit;
	want->in_use = base->in_use + in_use;
	want->mapped = base->mapped + mapped;
	want->open_files = base->open_files + fz_files_alive(m);
	want->allocated_total = base->allocated_total + m->allocated;
	want->freed_total = base->freed_total + m->freed;
	want->limit_hits = base->limit_hits + m->hits;
	want->alloc_failures = base->alloc_failures + m->failures;
}

/* What the kernel may do at @addr: ACC_R, ACC_R | ACC_W, or 0. */
int fz_page_access(const struct fz_model *m, uintptr_t addr)
{
	uintptr_t buf = (uintptr_t)m->buf, arena = (uintptr_t)m->arena;
	size_t n;

	if (addr >= buf && addr < buf + BUF_PAGES * ps()) {
		n = (addr - buf) / ps();
		return n == BUF_NONE || n > BUF_RO ? 0 :
		       n == BUF_RO ? ACC_R : ACC_R | ACC_W;
	}
	if (addr >= arena && addr < arena + ARENA_PAGES * ps()) {
		const struct fz_slot *s = &m->slots[(addr - arena) / ps()];

		if (s->page < 0 || !s->prot)
			return 0;
		return s->prot & PROT_WRITE ? ACC_R | ACC_W : ACC_R;
	}
	return 0;	/* NULL, the kernel, the guards */
}

/* Can the kernel read (and write, if @write) [addr, addr + len)? */
bool fz_range_ok(const struct fz_model *m, uintptr_t addr, __u64 len, bool write)
{
	uintptr_t p;

	if (!len)
		return true;
	if (addr + len < addr)
		return false;
	for (p = addr & ~(ps() - 1); p < addr + len; p += ps())
		if ((fz_page_access(m, p) & (write ? ACC_W : ACC_R)) !=
		    (write ? ACC_W : ACC_R))
			return false;
	return true;
}

/* Read what the kernel would see at @src, if all of it is readable. */
bool fz_peek(const struct fz_model *m, void *dst, const uint8_t *src, size_t len)
{
	if (!fz_range_ok(m, (uintptr_t)src, len, false))
		return false;
	memcpy(dst, src, len);
	return true;
}
