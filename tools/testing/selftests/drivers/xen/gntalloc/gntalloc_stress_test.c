// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: concurrency.
 *
 * Threads or processes allocate, map, write and check, fork, set unmap
 * notifications, deallocate and unmap in random orders and pieces, and open
 * and close files, all at once, on one shared file or on files of their own,
 * for a bounded time.  Every step must succeed (ENOSPC from the limit
 * excepted), every page must hold what was written to it, and afterwards the
 * gauges must be back where they were (TEARDOWN) - nothing leaked, nothing
 * freed twice.
 */

#include <pthread.h>

#include "gntalloc_common.h"	/* first: it includes the harness */
#include "../../../kselftest_harness.h"

#define STRESS_MS	2000
#define MAX_WORKERS	8
#define MAX_PAGES	4

struct worker {
	unsigned int id;
	unsigned int seed;
	int shared_fd;		/* -1: the worker opens files of its own */
	uint64_t deadline;
	/* results */
	unsigned long iterations;
	unsigned long enospc;
	unsigned long errors;
	char first_error[128];
};

static void fail(struct worker *w, const char *what)
{
	if (!w->errors++)
		snprintf(w->first_error, sizeof(w->first_error), "%s: %s", what,
			 strerror(errno));
}

static uint64_t tag(const struct worker *w, unsigned long iter, size_t page)
{
	return ((uint64_t)w->id << 56) | ((uint64_t)iter << 8) | page;
}

static unsigned int rnd(struct worker *w, unsigned int n)
{
	return (unsigned int)rand_r(&w->seed) % n;
}

/* A child checks the tags, writes its own and exits: 0 if all was well. */
static int child_check(uint8_t *p, size_t pages, const uint64_t *tags)
{
	const size_t ps = page_size();
	size_t i;

	for (i = 0; i < pages; i++) {
		if (*(uint64_t *)(p + i * ps) != tags[i])
			return 1;
		*(uint64_t *)(p + i * ps + 8) = ~tags[i];
	}
	return 0;
}

/* Unmap @pages pages at @p in random pieces and order. */
static void unmap_pieces(struct worker *w, uint8_t *p, size_t pages)
{
	const size_t ps = page_size();
	bool gone[MAX_PAGES] = { false };
	size_t left = pages;

	while (left) {
		size_t i = rnd(w, pages);

		if (gone[i])
			continue;
		if (munmap(p + i * ps, ps))
			fail(w, "munmap of a piece");
		gone[i] = true;
		left--;
	}
}

/* One round: the life of one allocation. */
static void round_trip(struct worker *w, int fd)
{
	const size_t ps = page_size();
	uint32_t pages = 1 + rnd(w, MAX_PAGES);
	uint64_t tags[MAX_PAGES], index;
	bool dealloc_first = rnd(w, 2);
	uint8_t *p, *again = NULL;
	uint32_t i;

	if (gntalloc_alloc_rw(fd, pages, &index, NULL)) {
		if (errno == ENOSPC)
			w->enospc++;
		else
			fail(w, "ALLOC");
		return;
	}
	p = gntalloc_mmap(fd, index, pages);
	if (p == MAP_FAILED) {
		fail(w, "mmap");
		gntalloc_dealloc(fd, index, pages);
		return;
	}
	for (i = 0; i < pages; i++) {
		tags[i] = tag(w, w->iterations, i);
		*(uint64_t *)(p + i * ps) = tags[i];
	}
	if (rnd(w, 4) == 0) {
		again = gntalloc_mmap(fd, index, pages);
		if (again == MAP_FAILED) {
			fail(w, "second mmap");
			again = NULL;
		}
	}
	if (rnd(w, 4) == 0 &&
	    gntalloc_set_notify(fd, index + rnd(w, pages) * ps + 16,
				UNMAP_NOTIFY_CLEAR_BYTE, 0))
		fail(w, "SET_UNMAP_NOTIFY");
	if (rnd(w, 8) == 0) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(child_check(p, pages, tags));
		if (pid < 0 || wait_child(pid) != 0)
			fail(w, "child saw other data");
		else if (*(uint64_t *)(p + 8) != ~tags[0])
			fail(w, "child's write lost");
	}
	for (i = 0; i < pages; i++)
		if (*(uint64_t *)(p + i * ps) != tags[i] ||
		    (again && *(uint64_t *)(again + i * ps) != tags[i]))
			fail(w, "page holds other data");

	if (dealloc_first) {
		/* Whole or page by page; the mapping keeps the pages. */
		if (rnd(w, 2)) {
			if (gntalloc_dealloc(fd, index, pages))
				fail(w, "DEALLOC");
		} else {
			for (i = pages; i-- > 0;)
				if (gntalloc_dealloc(fd, index + i * ps, 1))
					fail(w, "DEALLOC of a page");
		}
		if (*(uint64_t *)p != tags[0])
			fail(w, "page changed at DEALLOC");
	}
	if (again && munmap(again, pages * ps))
		fail(w, "munmap of the second mapping");
	unmap_pieces(w, p, pages);
	if (!dealloc_first && gntalloc_dealloc(fd, index, pages))
		fail(w, "DEALLOC after munmap");
}

/* A file that lives for one allocation and is closed while mapped. */
static void short_lived_file(struct worker *w)
{
	uint64_t index;
	void *p;
	int fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fail(w, "open");
		return;
	}
	if (gntalloc_alloc_rw(fd, 1, &index, NULL)) {
		if (errno == ENOSPC)
			w->enospc++;
		else
			fail(w, "ALLOC in a short-lived file");
		close(fd);
		return;
	}
	p = gntalloc_mmap(fd, index, 1);
	if (p == MAP_FAILED)
		fail(w, "mmap in a short-lived file");
	if (close(fd))
		fail(w, "close");
	if (p != MAP_FAILED) {
		*(volatile uint8_t *)p = 1;
		if (munmap(p, page_size()))
			fail(w, "munmap after close");
	}
}

static void *worker_loop(void *arg)
{
	struct worker *w = arg;
	int fd = w->shared_fd;

	if (fd < 0)
		fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail(w, "open");
		return NULL;
	}
	while (now_ms() < w->deadline) {
		round_trip(w, fd);
		if (rnd(w, 8) == 0)
			short_lived_file(w);
		/* Files of our own come and go, with whatever they hold. */
		if (w->shared_fd < 0 && rnd(w, 16) == 0) {
			uint64_t index;

			if (gntalloc_alloc_rw(fd, 1, &index, NULL) && errno != ENOSPC)
				fail(w, "ALLOC left to close");
			close(fd);
			fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				fail(w, "reopen");
				return NULL;
			}
		}
		w->iterations++;
	}
	if (w->shared_fd < 0)
		close(fd);
	return NULL;
}

FIXTURE(stress) {
	struct gntalloc_env env;
	int shared_fd;
	struct worker *workers;	/* shared with worker processes */
	size_t workers_len;
};

FIXTURE_VARIANT(stress) {
	int threads;		/* threads in this process... */
	int processes;		/* ...or worker processes */
	bool shared_fd;		/* all on one file */
	uint32_t headroom;	/* pages allowed above use; 0: plenty */
};

FIXTURE_VARIANT_ADD(stress, threads_on_one_file) {
	.threads = 4,
	.shared_fd = true,
};

FIXTURE_VARIANT_ADD(stress, threads_on_own_files) {
	.threads = 4,
	.shared_fd = false,
};

FIXTURE_VARIANT_ADD(stress, processes_on_own_files) {
	.processes = 4,
	.shared_fd = false,
};

FIXTURE_VARIANT_ADD(stress, threads_at_the_limit) {
	.threads = 4,
	.shared_fd = false,
	.headroom = 16,
};

FIXTURE_SETUP(stress)
{
	self->shared_fd = -1;
	env_setup(_metadata, &self->env);
	self->shared_fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->shared_fd);
	self->workers_len = MAX_WORKERS * sizeof(*self->workers);
	self->workers = mmap(NULL, self->workers_len, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->workers) {
		self->workers = NULL;
	}
	/* Last: TEARDOWN puts it back only if SETUP completed. */
	ASSERT_EQ(0, limit_headroom(&self->env, variant->headroom ?: 4096));
}

FIXTURE_TEARDOWN_PARENT(stress)
{
	if (env_in_test_process(&self->env)) {
		if (self->workers)
			munmap(self->workers, self->workers_len);
		close_if_open(self->shared_fd);
	}
	env_teardown(_metadata, &self->env);
}

TEST_F_TIMEOUT(stress, everything_at_once_leaks_nothing, 60)
{
	int n = variant->threads ? variant->threads : variant->processes;
	pthread_t threads[MAX_WORKERS];
	pid_t pids[MAX_WORKERS];
	uint64_t deadline = now_ms() + STRESS_MS, limit = 0;
	int i;

	ASSERT_GE(MAX_WORKERS, n);
	if (self->env.counters)
		ASSERT_EQ(0, write_str_file(GNTALLOC_SYSFS "/peak", "0\n"));
	for (i = 0; i < n; i++) {
		struct worker *w = &self->workers[i];

		memset(w, 0, sizeof(*w));
		w->id = i + 1;
		w->seed = 0x9e3779b9U * (i + 1);
		w->shared_fd = variant->shared_fd ? self->shared_fd : -1;
		w->deadline = deadline;
	}

	for (i = 0; i < n; i++) {
		if (variant->threads) {
			ASSERT_EQ(0, pthread_create(&threads[i], NULL,
						    worker_loop,
						    &self->workers[i]));
			continue;
		}
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			worker_loop(&self->workers[i]);
			_exit(0);
		}
	}
	for (i = 0; i < n; i++) {
		if (variant->threads) {
			ASSERT_EQ(0, pthread_join(threads[i], NULL));
		} else {
			ASSERT_EQ(0, wait_child(pids[i]));
		}
	}

	for (i = 0; i < n; i++) {
		const struct worker *w = &self->workers[i];

		TH_LOG("worker %u: %lu rounds, %lu ENOSPC", w->id,
		       w->iterations, w->enospc);
		EXPECT_EQ(0UL, w->errors)
			TH_LOG("worker %u: %lu errors, first: %s", w->id,
			       w->errors, w->first_error);
		EXPECT_LT(0UL, w->iterations);
	}
	if (self->env.counters) {
		ASSERT_EQ(0, get_limit(&limit));
		EXPECT_GE(limit, counter("peak"))
			TH_LOG("in_use went over the limit");
	}
}

TEST_HARNESS_MAIN
