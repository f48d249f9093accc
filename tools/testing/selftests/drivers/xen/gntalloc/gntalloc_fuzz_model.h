/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzzer's model of the driver's state: what gntalloc_fuzz_test's calls
 * have made of the device, kept beside the device and compared with its
 * counters after every call.
 *
 * It knows NR_FILES open files (the last one opened O_RDONLY) and the files
 * that are closed but still held by a mapping; the pages each file
 * allocated, whether the file still owns them (not deallocated, not closed)
 * and how many mappings of ours map them; the arena, ARENA_PAGES of address
 * space where the fuzzed mappings go, slot by slot; the scratch pages that
 * arguments are placed in; the limit in force; and what the monotonic
 * counters moved by.  From that it says what every counter of
 * /sys/class/gntalloc/gntalloc must read (fz_model_counters()), and which
 * user memory the kernel can read or write (fz_range_ok()).
 *
 * The model follows the calls that succeeded and the refusals it was told
 * of: it does not judge them (gntalloc_fuzz_oracle.h does).  Plain C, no
 * harness.
 */

#ifndef GNTALLOC_FUZZ_MODEL_H
#define GNTALLOC_FUZZ_MODEL_H

#include "gntalloc_lib.h"

#define HEADROOM		64	/* pages over the use at SETUP: the limit */
#define MAX_MODEL_PAGES		(2 * HEADROOM)
#define ARENA_PAGES		64	/* where the fuzzed mappings go */
#define NR_FILES		3	/* two read-write, the last read-only */
#define RO_FILE			(NR_FILES - 1)
/*
 * The scratch pages for arguments: sound (2), none (unmapped in effect),
 * read-only, none.  Whatever the kernel may write from an argument
 * (at most 16 + 4 * HEADROOM bytes) stays inside them or the arena.
 */
#define BUF_PAGES		5
#define BUF_NONE		2
#define BUF_RO			3
#define ACC_R			1
#define ACC_W			2

struct fz_page {
	bool used;
	unsigned int file_id;	/* fz_file.id of the file it was allocated in */
	__u64 pgoff;
	bool owned;		/* not yet deallocated (nor closed) */
	int maps;		/* arena slots that map it */
};

struct fz_file {
	int fd;
	unsigned int id;	/* new for every open */
	__u64 next_pgoff;	/* every later ALLOC must give this or more */
};

struct fz_slot {
	int page;		/* in pages[], or -1: a placeholder */
	int prot;
	unsigned int vma;	/* which mmap() it came from */
};

struct fz_model {
	struct fz_file files[NR_FILES];
	unsigned int next_file_id;
	struct fz_page pages[MAX_MODEL_PAGES];
	uint8_t *arena;		/* ARENA_PAGES + a guard page */
	struct fz_slot slots[ARENA_PAGES];
	unsigned int next_vma;
	uint8_t *buf;		/* BUF_PAGES scratch pages for arguments */
	__u64 base_in_use;	/* in_use at SETUP */
	__u64 limit;		/* in force */
	/* what the totals moved by since SETUP */
	__u64 allocated, freed, hits, failures;
};

/* Files, pages and ownership */
int fz_find_page(const struct fz_model *m, unsigned int file_id, __u64 pgoff);
bool fz_owned(const struct fz_model *m, int f, __u64 pgoff);
bool fz_owns_range(const struct fz_model *m, int f, __u64 pgoff, __u64 count);
int fz_used_pages(const struct fz_model *m);
__u64 fz_room(const struct fz_model *m);
unsigned int fz_files_alive(const struct fz_model *m);

/* What happened: the model follows */
void fz_opened(struct fz_model *m, int f, int fd);
void fz_allocated(struct fz_model *m, int f, __u64 index, uint32_t count);
void fz_deallocated(struct fz_model *m, int page);
void fz_limit_refused(struct fz_model *m);
void fz_alloc_failed(struct fz_model *m);
void fz_mapped(struct fz_model *m, size_t s, int f, __u64 pgoff, __u64 npages,
	       int prot);
void fz_count_maps(struct fz_model *m, int f, __u64 pgoff, __u64 npages, int delta);
void fz_forget_slots(struct fz_model *m, size_t s, size_t n);
void fz_moved(struct fz_model *m, size_t from, size_t to, size_t n);

/* What the device must show: every counter */
void fz_model_counters(const struct fz_model *m, const struct gntalloc_counters *base,
		       struct gntalloc_counters *want);

/* User memory: what the kernel can read and write */
int fz_page_access(const struct fz_model *m, uintptr_t addr);
bool fz_range_ok(const struct fz_model *m, uintptr_t addr, __u64 len, bool write);
bool fz_peek(const struct fz_model *m, void *dst, const uint8_t *src, size_t len);

#endif /* GNTALLOC_FUZZ_MODEL_H */
