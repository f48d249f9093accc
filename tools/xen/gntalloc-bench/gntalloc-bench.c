// SPDX-License-Identifier: GPL-2.0
/*
 * gntalloc-bench - the cost of /dev/xen/gntalloc operations, for comparing two drivers in one
 * boot (make bench: the stock xen-gntalloc, then ours).
 *
 * Usage: gntalloc-bench [-f TSC-MHZ] [-r ROUNDS] [-s SCALE] [-t] [-w LIST] LABEL
 *   LABEL	the driver's name in the output (stock, ours)
 *   -f MHZ	the TSC frequency (the kernel's "tsc: Detected" line); default: measured
 *   -r ROUNDS	this run is one of ROUNDS whose samples are pooled: repetitions / ROUNDS
 *   -s SCALE	multiply repetition counts and time budgets (default 1; 0.2 for a quick look)
 *   -w LIST	only these workloads, comma-separated: floor,w1,w3,w4,w5,w6,w8,w9 (w1 includes w2),
 *		w1n0 (w1 and w2 at N=0 only, with w1's diagnostics: the quick look at N=0)
 *		or profiles: p1, p3, p4 (a fixed count of the W1, W3, W4 operation)
 *   -t		turn ftrace on (tracing_on) around the operations of a profile only
 *
 * Workloads (all grants go to domid 0, i.e. dom0 grants to itself, which Xen allows):
 *   w1  ALLOC 1 + DEALLOC 1 on one fd while N grants are held on another fd (N up to 10^6)
 *   w2  xengntshr_share_pages(1 page) + touch + xengntshr_unshare (libxengnttab), same N
 *   w3  ALLOC of 1024 pages in one call (and its DEALLOC), per page; again "settled" (see
 *       SETTLE_S), and so W1 at N=0
 *   w4  close() of a file holding 100k grants
 *   w5  ALLOC 1 + DEALLOC 1 loop in two processes on two fds (pinned to CPUs 0 and 1) versus
 *       one process: throughput ratio
 *   w6  kernel memory per outstanding grant beyond its page (/proc/meminfo Slab over 100k,
 *       cross-checked with the free pages of /proc/zoneinfo)
 *   w8  a window: xengntshr_share_pages() of 64 to 8,100 pages (a 1080p window is 2,025, 4K
 *       8,100) + a write to every page + xengntshr_unshare(), per page; beside it the floor of
 *       as many anonymous zeroed pages mapped (MAP_POPULATE), written and unmapped; for 2,025
 *       and 8,100 pages, a diagnostic split of the window into its steps (ALLOC, mmap, DEALLOC,
 *       write, munmap), timed one by one
 *   w9  buffers: one file holding 5,000 buffers of 16 to 512 pages (seeded random sizes), each
 *       ALLOCed, mmapped and written; a frame frees one (munmap + DEALLOC) and makes another;
 *       10,000 frames (scaled), or what fits a minute; 500 buffers first (see W9_SETUP_S)
 *   floor  a rejected ioctl (unknown number) on the device; a zeroed anonymous page through
 *       mmap(MAP_POPULATE) + touch + munmap (1 page, and 1024 pages per page)
 *
 * Everything but w5 runs pinned to CPU 1 and is timed with its TSC (see now_ns()); every sample
 * is guarded by canaries against a busy host (see GUARDED).
 * Each point is measured as SAMPLES batches; a batch is as many operations as fit in a time
 * budget (found by a calibrating warm-up run), so clock reads cost nothing and slow points
 * take as long as fast ones. The result of a point is the median, p10 and p90 of the per-op
 * cost of its batches. Two lines per point on stdout, the summary and the samples (which the
 * host pools over rounds, -r):
 *
 *   BENCH,<label>,<workload>,<param>,<metric>,<unit>,<median>,<p10>,<p90>,<samples>,<batch>
 *   BENCH-RAW,<label>,<workload>,<param>,<metric>,<unit>,<batch>,<sample> <sample>...
 *
 * Progress goes to stderr. Exit status 0 if every operation worked, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xen/gntalloc.h>
#include <x86intrin.h>
#include <xengnttab.h>

#define DEV "/dev/xen/gntalloc"
#define PAGE 4096
#define BATCH_PAGES 1024 /* what libxengnttab users typically ask at once */

/*
 * The "settled" points: the same operation again after SETTLE_S seconds of it, longer than our
 * driver's default quarantine_ms (2 s). Until then every reference a DEALLOC ends waits in
 * quarantine and none comes back; from then on as many come back as go in, as in a program
 * that has run for a while. The first points show the one state, these the other.
 */
#define SETTLE_S 3

#define BIG_N 100000	 /* w4, w6 */

static const char *label;
static double scale = 1.0;
static const char *only;
static int ncpus;
static const long sweep[] = { 0, 1000, 10000, 100000, 200000, 1000000 };

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gntalloc-bench: FAIL: ");
	vfprintf(stderr, fmt, ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench[%s]: ", label);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static int wanted(const char *w)
{
	char list[128], *tok, *save;

	if (!only)
		return 1;
	snprintf(list, sizeof(list), "%s", only);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, w))
			return 1;
	return 0;
}

/*
 * Time is read from the TSC of the CPU the process is pinned to. In this test bed (Xen PV dom0
 * under QEMU TCG) clock_gettime() is a system call costing ~40 us, and the xen clocksource,
 * kept monotonic across vCPUs whose Xen time drifts apart, stands still for up to ~15 ms at a
 * time; the TSC (the host's, read natively) costs ~0.03 us and runs steadily on each CPU.
 */
static double tsc_mhz;

static inline uint64_t now_ns(void)
{
	return (uint64_t)(__rdtsc() * 1000.0 / tsc_mhz);
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity to CPU %d", cpu);
}

/* TSC ticks per microsecond against CLOCK_MONOTONIC_RAW over about a second */
static double calibrate_tsc(void)
{
	uint64_t c0 = clock_ns(CLOCK_MONOTONIC_RAW), t0 = __rdtsc(), c1, t1;

	do
		c1 = clock_ns(CLOCK_MONOTONIC_RAW);
	while (c1 - c0 < 1000000000u);
	t1 = __rdtsc();
	return (t1 - t0) * 1000.0 / (c1 - c0);
}

static int rounds = 1; /* -r: this is one of that many rounds, whose samples the host pools */

/* A repetition count: scaled, and split between the rounds */
static int scaled(int n, int min)
{
	int v = (int)(n * scale / rounds + 0.5);

	return v < min ? min : v;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Linear interpolation between closest ranks; v must be sorted. */
static double pct(const double *v, int n, double p)
{
	double pos = p * (n - 1);
	int i = (int)pos;

	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/*
 * The host pools the samples of several rounds (BENCH-RAW) and takes its statistics from
 * them; the BENCH summary line is this round's alone.
 */
static void emit(const char *wl, long param, const char *metric, const char *unit, double *v,
		 int n, long batch)
{
	int i;

	qsort(v, n, sizeof(*v), cmp_double);
	printf("BENCH,%s,%s,%ld,%s,%s,%.4g,%.4g,%.4g,%d,%ld\n", label, wl, param, metric, unit,
	       pct(v, n, 0.5), pct(v, n, 0.1), pct(v, n, 0.9), n, batch);
	printf("BENCH-RAW,%s,%s,%ld,%s,%s,%ld,", label, wl, param, metric, unit, batch);
	for (i = 0; i < n; i++)
		printf("%s%.5g", i ? " " : "", v[i]);
	printf("\n");
	fflush(stdout);
}

/*
 * A canary: a fixed piece of pure user-space arithmetic (~0.2 ms). Under TCG a vCPU runs only
 * while its QEMU thread has a host CPU; when other work on the host (colleagues' builds) takes
 * that CPU, the canary takes longer than its best. Every sample runs between two canaries and
 * is taken again, after a pause, while either is slow (GUARDED); after 5 tries it is kept and
 * counted as disturbed. The canaries go to the host too, which reports their slowdown.
 */
#define MAX_CANARIES 8192
#define QUIET 1.08 /* a canary this much slower than the best means a busy host */
static double canaries[MAX_CANARIES], canary_best = 1e30;
static int ncanaries;
static double redone, disturbed; /* samples taken again, and kept although disturbed */

static double canary(void)
{
	volatile uint64_t x = 1;
	uint64_t t0 = now_ns();
	double us;
	int i;

	for (i = 0; i < 100000; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	us = (now_ns() - t0) / 1e3;
	if (ncanaries < MAX_CANARIES)
		canaries[ncanaries++] = us;
	if (us < canary_best)
		canary_best = us;
	return us;
}

static int quiet(void)
{
	return canary() <= canary_best * QUIET;
}

#define GUARDED(...)                                       \
	do {                                               \
		int tries_ = 0, ok_;                       \
		for (;;) {                                 \
			ok_ = quiet();                     \
			__VA_ARGS__;                       \
			ok_ = quiet() && ok_;              \
			if (ok_)                           \
				break;                     \
			if (tries_++ == 5) {               \
				disturbed++;               \
				break;                     \
			}                                  \
			redone++;                          \
			usleep(100000);                    \
		}                                          \
	} while (0)

/* ---- the device ---- */

static int dev_open(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open " DEV);
	return fd;
}

static struct ioctl_gntalloc_alloc_gref *alloc_buf(unsigned int count)
{
	struct ioctl_gntalloc_alloc_gref *op;

	op = calloc(1, sizeof(*op) + (size_t)count * sizeof(uint32_t));
	if (!op)
		die("calloc");
	return op;
}

/* ALLOC @count writable pages for dom0 on @fd; returns the byte index. */
static uint64_t gnt_alloc(int fd, struct ioctl_gntalloc_alloc_gref *op, unsigned int count)
{
	op->domid = 0;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = count;
	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op))
		die("ALLOC of %u pages", count);
	return op->index;
}

static void gnt_dealloc(int fd, uint64_t index, unsigned int count)
{
	struct ioctl_gntalloc_dealloc_gref op = { .index = index, .count = count };

	if (ioctl(fd, IOCTL_GNTALLOC_DEALLOC_GREF, &op))
		die("DEALLOC of %u pages", count);
}

/* Grow what @fd holds from *@held to @target grants, in ALLOCs of BATCH_PAGES. */
static void hold(int fd, long *held, long target)
{
	static struct ioctl_gntalloc_alloc_gref *op;

	if (!op)
		op = alloc_buf(BATCH_PAGES);
	while (*held < target) {
		long n = target - *held;

		if (n > BATCH_PAGES)
			n = BATCH_PAGES;
		gnt_alloc(fd, op, n);
		*held += n;
	}
}

/* ---- batches ---- */

typedef void (*op_fn)(void *ctx);

/*
 * Run @fn as SAMPLES batches of equal size; the size is what fits in @budget_ms according to a
 * warm-up run that itself lasts about @budget_ms. Emits per-op cost in microseconds.
 */
static void measure(const char *wl, long param, const char *metric, op_fn fn, void *ctx,
		    double budget_ms, int samples, double per)
{
	uint64_t t0, budget = (uint64_t)(budget_ms * scale * 1e6);
	double *v = calloc(samples, sizeof(double));
	long batch = 0, i;
	int s;

	t0 = now_ns();
	do {
		fn(ctx);
		batch++;
	} while (now_ns() - t0 < budget);
	for (s = 0; s < samples; s++)
		GUARDED(t0 = now_ns();
			for (i = 0; i < batch; i++)
				fn(ctx);
			v[s] = (now_ns() - t0) / 1e3 / batch / per);
	emit(wl, param, metric, "us", v, samples, batch);
	free(v);
}

/* ---- w7: the floors ---- */

static void op_bad_ioctl(void *ctx)
{
	int fd = *(int *)ctx;

	/* 'G' 99 is no gntalloc ioctl: both drivers reject it at once (ENOTTY). */
	if (ioctl(fd, _IO('G', 99), 0) != -1 || errno != ENOTTY)
		die("an unknown ioctl was not rejected with ENOTTY");
}

static void op_anon(void *ctx)
{
	size_t pages = *(size_t *)ctx, i;
	volatile char *p;

	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		die("mmap of %zu anonymous pages", pages);
	for (i = 0; i < pages; i++)
		p[i * PAGE] = 1;
	if (munmap((void *)p, pages * PAGE))
		die("munmap");
}

static void run_floors(void)
{
	int fd = dev_open();
	size_t one = 1, many = BATCH_PAGES;

	note("floor: rejected ioctl, anonymous zeroed pages");
	measure("floor", 0, "rejected-ioctl", op_bad_ioctl, &fd, 30, scaled(31, 11), 1);
	measure("floor", 1, "anon-page-mmap-touch-munmap", op_anon, &one, 30, scaled(31, 11), 1);
	measure("floor", 1024, "anon-1024-pages-per-page", op_anon, &many, 30, scaled(31, 11),
		BATCH_PAGES);
	close(fd);
}

/* ---- w1, w2: one op while N grants are held elsewhere ---- */

static void op_alloc_dealloc(void *ctx)
{
	static struct ioctl_gntalloc_alloc_gref op;
	int fd = *(int *)ctx;

	gnt_dealloc(fd, gnt_alloc(fd, &op, 1), 1);
}

static void op_share(void *ctx)
{
	xengntshr_handle *xgs = ctx;
	volatile uint8_t *p;
	uint32_t ref;

	p = xengntshr_share_pages(xgs, 0, 1, &ref, 1);
	if (!p)
		die("xengntshr_share_pages");
	p[0] = 1; /* touch */
	if (xengntshr_unshare(xgs, (void *)p, 1))
		die("xengntshr_unshare");
}

/* W1 and W2 at the first @points values of sweep[] */
static void run_sweep(size_t points)
{
	int holder = dev_open(), fd = dev_open();
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	long held = 0;
	size_t i;
	uint64_t t0;

	if (!xgs)
		die("xengntshr_open");
	for (i = 0; i < points; i++) {
		t0 = now_ns();
		hold(holder, &held, sweep[i]);
		note("w1/w2 at N=%ld (growing the holder took %.1f s)", held,
		     (now_ns() - t0) / 1e9);
		measure("w1", held, "alloc1+dealloc1", op_alloc_dealloc, &fd, 40, scaled(31, 11), 1);
		if (!held) {
			t0 = now_ns();
			while (now_ns() - t0 < SETTLE_S * 1000000000ull)
				op_alloc_dealloc(&fd);
			measure("w1", held, "alloc1+dealloc1-settled", op_alloc_dealloc, &fd, 40,
				scaled(31, 11), 1);
		}
		measure("w2", held, "xengntshr-share+touch+unshare", op_share, xgs, 40,
			scaled(31, 11), 1);
	}
	t0 = now_ns();
	close(holder);
	note("closed the holder of %ld grants in %.2f s", held, (now_ns() - t0) / 1e9);
	xengntshr_close(xgs);
	close(fd);
}

/* ---- w3: 1024 pages in one ALLOC ---- */

static void w3_samples(int fd, struct ioctl_gntalloc_alloc_gref *op, int n, int warmups,
		       const char *alloc_metric, const char *dealloc_metric)
{
	double *va = calloc(n, sizeof(double)), *vd = calloc(n, sizeof(double));
	uint64_t t0, t1, t2, index;
	int s;

	for (s = -warmups; s < n; s++) {
		GUARDED(t0 = now_ns();
			index = gnt_alloc(fd, op, BATCH_PAGES);
			t1 = now_ns();
			gnt_dealloc(fd, index, BATCH_PAGES);
			t2 = now_ns());
		if (s < 0)
			continue;
		va[s] = (t1 - t0) / 1e3 / BATCH_PAGES;
		vd[s] = (t2 - t1) / 1e3 / BATCH_PAGES;
	}
	emit("w3", BATCH_PAGES, alloc_metric, "us", va, n, 1);
	emit("w3", BATCH_PAGES, dealloc_metric, "us", vd, n, 1);
	free(va);
	free(vd);
}

static void run_bulk(void)
{
	struct ioctl_gntalloc_alloc_gref *op = alloc_buf(BATCH_PAGES);
	int fd = dev_open(), n = scaled(31, 11);
	uint64_t t0;

	note("w3: ALLOC of %d pages in one call", BATCH_PAGES);
	w3_samples(fd, op, n, 2, "alloc-per-page", "dealloc-per-page"); /* two warm-ups */
	t0 = now_ns();
	while (now_ns() - t0 < SETTLE_S * 1000000000ull)
		gnt_dealloc(fd, gnt_alloc(fd, op, BATCH_PAGES), BATCH_PAGES);
	w3_samples(fd, op, n, 0, "alloc-per-page-settled", "dealloc-per-page-settled");
	close(fd);
	free(op);
}

/*
 * w1 diagnostics, at N=0: does the cost of ALLOC 1 + DEALLOC 1 depend on the page offsets the
 * op fd has reached? Offsets are never reused, and a driver that keeps a file's grants in a
 * radix tree (xarray) needs one node per level for a lone entry: none at offset 0, one below
 * 64, two below 4096, three below 262144. W1 runs mostly at offsets from 4096 up.
 */
static void run_offset_diag(void)
{
	int n = scaled(31, 11), s, i, fd;
	double *vlo = calloc(n, sizeof(double)), *vhi = calloc(n, sizeof(double));
	uint64_t t0;

	note("w1 diagnostics: ALLOC 1 + DEALLOC 1 at page offsets 1-63 and from 4096 on");
	for (s = 0; s < n; s++)
		GUARDED(fd = dev_open();
			op_alloc_dealloc(&fd); /* offset 0 */
			t0 = now_ns();
			for (i = 1; i < 64; i++)
				op_alloc_dealloc(&fd);
			vlo[s] = (now_ns() - t0) / 1e3 / 63;
			close(fd));
	fd = dev_open();
	for (i = 0; i < 4096; i++)
		op_alloc_dealloc(&fd);
	for (s = 0; s < n; s++)
		GUARDED(t0 = now_ns();
			for (i = 0; i < 63; i++)
				op_alloc_dealloc(&fd);
			vhi[s] = (now_ns() - t0) / 1e3 / 63);
	close(fd);
	emit("w1diag", 0, "offsets-1-63", "us", vlo, n, 63);
	emit("w1diag", 0, "offsets-4096-up", "us", vhi, n, 63);
	free(vlo);
	free(vhi);
}

/* ---- w4: close() of a file holding 100k grants ---- */

static void run_close(void)
{
	int n = scaled(7, 3), s;
	double *vc = calloc(n, sizeof(double)), *vs = calloc(n, sizeof(double));
	uint64_t t0, t1;

	note("w4: close() of a file holding %d grants, %d times", BIG_N, n);
	for (s = 0; s < n; s++) {
		int fd;
		long held;

		GUARDED(fd = dev_open();
			held = 0;
			t0 = now_ns();
			hold(fd, &held, BIG_N);
			t1 = now_ns();
			vs[s] = (t1 - t0) / 1e3 / BIG_N;
			t0 = now_ns();
			if (close(fd))
				die("close");
			t1 = now_ns();
			vc[s] = (t1 - t0) / 1e6);
	}
	emit("w4", BIG_N, "close-ms", "ms", vc, n, 1);
	for (s = 0; s < n; s++)
		vc[s] = vc[s] * 1e3 / BIG_N;
	emit("w4", BIG_N, "close-per-grant", "us", vc, n, 1);
	emit("w4", BIG_N, "setup-alloc-per-grant", "us", vs, n, 1);
	free(vc);
	free(vs);
}

/* ---- w5: two processes versus one ---- */

/*
 * Fork @nproc workers, pinned to CPUs @first_cpu, @first_cpu + 1..., each with its own fd,
 * released together; each runs ALLOC 1 + DEALLOC 1 for @secs and reports its count. Returns operations per second, all
 * workers together.
 */
static double run_workers(int nproc, double secs, int first_cpu)
{
	int go[2], res[2], ready[2], i, st;
	long total = 0, count;
	char c;

	if (pipe(go) || pipe(res) || pipe(ready))
		die("pipe");
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int fd = dev_open();
			uint64_t end;

			pin((first_cpu + i) % ncpus);
			close(go[1]);
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 0)
				_exit(2);
			end = now_ns() + (uint64_t)(secs * 1e9);
			count = 0;
			do {
				for (int k = 0; k < 8; k++)
					op_alloc_dealloc(&fd);
				count += 8;
			} while (now_ns() < end);
			if (write(res[1], &count, sizeof(count)) != sizeof(count))
				_exit(2);
			_exit(0);
		}
	}
	close(res[1]);
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < nproc; i++)
		if (read(ready[0], &c, 1) != 1)
			die("a worker died before starting");
	close(go[1]); /* EOF starts them all */
	for (i = 0; i < nproc; i++) {
		if (read(res[0], &count, sizeof(count)) != sizeof(count))
			die("a worker died");
		total += count;
	}
	for (i = 0; i < nproc; i++)
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			die("a worker failed");
	close(res[0]);
	close(ready[0]);
	return total / secs;
}

static void run_parallel(void)
{
	int n = scaled(7, 3), s;
	double secs = 1.0 * (scale < 1 ? scale : 1);
	double *v1 = calloc(n, sizeof(double)), *v2 = calloc(n, sizeof(double));
	double *vr = calloc(n, sizeof(double));

	note("w5: one process versus two, %d rounds of %.1f s each", n, secs);
	for (s = 0; s < n; s++) {
		GUARDED(v1[s] = run_workers(1, secs, s % ncpus); /* alternate the CPU */
			v2[s] = run_workers(2, secs, 0));
		vr[s] = v2[s] / v1[s];
	}
	emit("w5", 1, "ops-per-s", "ops/s", v1, n, 1);
	emit("w5", 2, "ops-per-s", "ops/s", v2, n, 1);
	emit("w5", 2, "throughput-ratio-2-vs-1", "x", vr, n, 1);
	free(v1);
	free(v2);
	free(vr);
}

/* ---- w6: memory per grant ---- */

struct meminfo {
	long slab, sreclaimable, sunreclaim, other; /* kB */
	long free_pages; /* free in the buddy allocator and on the per-CPU lists */
};

static void read_meminfo(struct meminfo *m)
{
	char line[256];
	long v;
	FILE *f;
	int fd;

	/* Fold the per-CPU vmstat deltas into the totals that /proc shows. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			note("stat_refresh: %s", strerror(errno));
		close(fd);
	}
	memset(m, 0, sizeof(*m));
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Slab: %ld", &m->slab);
		sscanf(line, "SReclaimable: %ld", &m->sreclaimable);
		sscanf(line, "SUnreclaim: %ld", &m->sunreclaim);
		if (sscanf(line, "PageTables: %ld", &v) == 1 ||
		    sscanf(line, "VmallocUsed: %ld", &v) == 1 ||
		    sscanf(line, "Percpu: %ld", &v) == 1 || sscanf(line, "KernelStack: %ld", &v) == 1)
			m->other += v;
	}
	fclose(f);
	/*
	 * MemFree leaves out the pages on the per-CPU free lists, several MB here: as much noise
	 * as the cost measured. /proc/zoneinfo shows both.
	 */
	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		die("/proc/zoneinfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " pages free %ld", &v) == 1 || sscanf(line, " count: %ld", &v) == 1)
			m->free_pages += v;
	fclose(f);
}

/* Wait until RCU has freed what the last close() let go (xarray nodes are freed that way). */
static void settle(void)
{
	struct meminfo a, b;
	int i;

	read_meminfo(&a);
	for (i = 0; i < 20; i++) {
		usleep(200000);
		read_meminfo(&b);
		if (b.slab == a.slab && i >= 2)
			break;
		a = b;
	}
}

static void run_memory(void)
{
	int n = scaled(5, 3), s;
	double *vslab = calloc(n, sizeof(double)), *vunr = calloc(n, sizeof(double));
	double *vrec = calloc(n, sizeof(double)), *vfree = calloc(n, sizeof(double));
	double *voth = calloc(n, sizeof(double));
	struct meminfo m0, m1;
	long held;
	int fd;

	note("w6: kernel memory over %d grants, %d times (after one warm-up)", BIG_N, n);
	for (s = -1; s < n; s++) {
		settle();
		read_meminfo(&m0);
		fd = dev_open();
		held = 0;
		hold(fd, &held, BIG_N);
		read_meminfo(&m1);
		close(fd);
		if (s < 0)
			continue; /* the warm-up grew the grant table and the caches */
		vslab[s] = (m1.slab - m0.slab) * 1024.0 / BIG_N;
		vunr[s] = (m1.sunreclaim - m0.sunreclaim) * 1024.0 / BIG_N;
		vrec[s] = (m1.sreclaimable - m0.sreclaimable) * 1024.0 / BIG_N;
		vfree[s] = (m0.free_pages - m1.free_pages) * (double)PAGE / BIG_N - PAGE;
		voth[s] = (m1.other - m0.other) * 1024.0 / BIG_N;
	}
	emit("w6", BIG_N, "slab-bytes-per-grant", "B", vslab, n, 1);
	emit("w6", BIG_N, "sunreclaim-bytes-per-grant", "B", vunr, n, 1);
	emit("w6", BIG_N, "sreclaimable-bytes-per-grant", "B", vrec, n, 1);
	emit("w6", BIG_N, "free-pages-drop-minus-page-bytes-per-grant", "B", vfree, n, 1);
	emit("w6", BIG_N, "pagetables+vmalloc+percpu+kstack-per-grant", "B", voth, n, 1);
	free(vslab);
	free(vunr);
	free(vrec);
	free(vfree);
	free(voth);
}

/* ---- w8: window-sized shares through libxengnttab, against anonymous memory ---- */

static const size_t window_pages[] = { 64, 512, 2025, 8100 };

struct window {
	xengntshr_handle *xgs;
	uint32_t *refs;
	size_t pages;
};

/* What the GUI agent does per window: share, fill (a write to every page), unshare. */
static void op_window(void *ctx)
{
	struct window *w = ctx;
	volatile uint8_t *p;
	size_t i;

	p = xengntshr_share_pages(w->xgs, 0, w->pages, w->refs, 1);
	if (!p)
		die("xengntshr_share_pages of %zu pages", w->pages);
	for (i = 0; i < w->pages; i++)
		p[i * PAGE] = 1;
	if (xengntshr_unshare(w->xgs, (void *)p, w->pages))
		die("xengntshr_unshare of %zu pages", w->pages);
}

/*
 * w8 diagnostics: where a window's time goes, per page. The steps of xengntshr_share_pages()
 * and xengntshr_unshare() (libxengnttab's Linux code: ALLOC, mmap of the grants, DEALLOC at
 * once so that the munmap frees them), done here by hand and timed one by one, with the
 * write to every page between them. mmap and munmap include the core's page-table work, which
 * neither driver can avoid; munmap includes the driver's release of the grants.
 */
enum { PH_ALLOC, PH_MMAP, PH_DEALLOC, PH_WRITE, PH_MUNMAP, PH_N };
static const char *const phase_names[PH_N] = {
	"alloc-ioctl-per-page", "mmap-per-page", "dealloc-ioctl-per-page", "write-per-page",
	"munmap-per-page",
};

static void run_window_phases(size_t pages)
{
	struct ioctl_gntalloc_alloc_gref *op = alloc_buf(pages);
	int fd = dev_open(), n = scaled(31, 11), s, ph;
	double *v[PH_N];
	uint64_t t[PH_N + 1], index;
	volatile uint8_t *p;
	size_t i;

	for (ph = 0; ph < PH_N; ph++) {
		v[ph] = calloc(n, sizeof(double));
		if (!v[ph])
			die("calloc");
	}
	for (s = -2; s < n; s++) { /* two warm-ups */
		GUARDED(t[0] = now_ns();
			index = gnt_alloc(fd, op, pages);
			t[1] = now_ns();
			p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, index);
			if (p == MAP_FAILED)
				die("mmap of %zu grants", pages);
			t[2] = now_ns();
			gnt_dealloc(fd, index, pages);
			t[3] = now_ns();
			for (i = 0; i < pages; i++)
				p[i * PAGE] = 1;
			t[4] = now_ns();
			if (munmap((void *)p, pages * PAGE))
				die("munmap");
			t[5] = now_ns());
		for (ph = 0; s >= 0 && ph < PH_N; ph++)
			v[ph][s] = (t[ph + 1] - t[ph]) / 1e3 / pages;
	}
	for (ph = 0; ph < PH_N; ph++) {
		emit("w8diag", pages, phase_names[ph], "us", v[ph], n, 1);
		free(v[ph]);
	}
	close(fd);
	free(op);
}

static void run_windows(void)
{
	struct window w = { .xgs = xengntshr_open(NULL, 0) };
	size_t i, pages;

	if (!w.xgs)
		die("xengntshr_open");
	/* window_pages[] grows: its last is the largest */
	w.refs = calloc(window_pages[sizeof(window_pages) / sizeof(window_pages[0]) - 1],
			sizeof(*w.refs));
	if (!w.refs)
		die("calloc");
	for (i = 0; i < sizeof(window_pages) / sizeof(window_pages[0]); i++) {
		w.pages = pages = window_pages[i];
		note("w8: windows of %zu pages", pages);
		measure("w8", pages, "share+write+unshare-per-page", op_window, &w, 40,
			scaled(31, 11), pages);
		measure("w8", pages, "anon-floor-per-page", op_anon, &pages, 40, scaled(31, 11),
			pages);
		if (pages >= 2025)
			run_window_phases(pages);
	}
	free(w.refs);
	xengntshr_close(w.xgs);
}

/* ---- w9: a file of many buffers, one freed and one made per frame ---- */

#define W9_BUFFERS	5000
#define W9_MIN_PAGES	16
#define W9_MAX_PAGES	512

struct w9_buf {
	volatile uint8_t *map;
	uint64_t index;
	unsigned int pages;
};

struct w9 {
	int fd;
	struct ioctl_gntalloc_alloc_gref *op;
	struct w9_buf *bufs;
	uint64_t rng;
	long held;
};

/* xorshift64: the same seed, so the same sizes, for both drivers */
static uint64_t w9_rand(struct w9 *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

/* A new buffer as a compositor's client makes it: ALLOC, mmap, a write to every page. */
static void w9_make(struct w9 *s, struct w9_buf *b)
{
	unsigned int i;
	void *map;

	b->pages = W9_MIN_PAGES + w9_rand(s) % (W9_MAX_PAGES - W9_MIN_PAGES + 1);
	b->index = gnt_alloc(s->fd, s->op, b->pages);
	map = mmap(NULL, (size_t)b->pages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		   b->index);
	if (map == MAP_FAILED)
		die("mmap of a buffer of %u pages", b->pages);
	b->map = map;
	for (i = 0; i < b->pages; i++)
		b->map[(size_t)i * PAGE] = 1;
	s->held += b->pages;
}

static void w9_free(struct w9 *s, struct w9_buf *b)
{
	if (munmap((void *)b->map, (size_t)b->pages * PAGE))
		die("munmap of a buffer");
	gnt_dealloc(s->fd, b->index, b->pages);
	s->held -= b->pages;
}

/* A frame of a file of @nbufs buffers */
static void op_frame(struct w9 *s, int nbufs)
{
	struct w9_buf *b = &s->bufs[w9_rand(s) % nbufs];

	w9_free(s, b);
	w9_make(s, b);
}

/*
 * The file is built within W9_SETUP_S seconds or the point is given up (the stock driver walks
 * every grant of the file on each ALLOC, mmap and DEALLOC: at 5,000 buffers, 1.3M grants, one
 * frame takes it seconds). W9_SIZES are measured in that order, the smaller file first, so a
 * driver that cannot build the big one still has a figure, which can only be faster than its
 * figure for the big file would be.
 */
#define W9_FRAMES	10000	/* frames per point, scaled and split between the rounds */
#define W9_SETUP_S	150.0	/* seconds to build the file, scaled */
#define W9_FRAMES_S	60.0	/* seconds of frames per point, scaled */
static const int w9_sizes[] = { 500, W9_BUFFERS };

static void run_buffers_of(int nbufs)
{
	struct w9 s = { .fd = dev_open(), .op = alloc_buf(W9_MAX_PAGES),
			.rng = 0x9e3779b97f4a7c15ull };
	int samples = scaled(31, 11), frames = scaled(W9_FRAMES, samples), made, i, k;
	double cap = W9_SETUP_S * scale, per_frame, fit, *v;
	uint64_t t0 = now_ns();
	long batch;

	s.bufs = calloc(nbufs, sizeof(*s.bufs));
	v = calloc(samples, sizeof(*v));
	if (!s.bufs || !v)
		die("calloc");
	for (made = 0; made < nbufs; made++) {
		if ((now_ns() - t0) / 1e9 > cap)
			break;
		w9_make(&s, &s.bufs[made]);
	}
	note("w9: %d of %d buffers, %ld pages, made in %.1f s", made, nbufs, s.held,
	     (now_ns() - t0) / 1e9);
	if (made < nbufs) {
		printf("BENCH-INFO,w9-%s,%d buffers not measured: %d made in the %.0f s allowed\n",
		       label, nbufs, made, cap);
		fflush(stdout);
		goto out;
	}
	/* A few frames to learn their cost, then as many as fit the frames' time */
	t0 = now_ns();
	for (i = 0; i < 3; i++)
		op_frame(&s, nbufs);
	per_frame = (now_ns() - t0) / 1e9 / 3;
	batch = frames / samples;
	fit = W9_FRAMES_S * scale / rounds / samples / per_frame;
	if (batch > fit)
		batch = fit;
	if (batch < 1)
		batch = 1;
	for (k = 0; k < samples; k++)
		GUARDED(t0 = now_ns();
			for (i = 0; i < batch; i++)
				op_frame(&s, nbufs);
			v[k] = (now_ns() - t0) / 1e3 / batch);
	emit("w9", nbufs, "frame", "us", v, samples, batch);
out:
	/* close() releases them all: a DEALLOC each would walk the stock driver's lists again */
	for (i = 0; i < made; i++)
		if (munmap((void *)s.bufs[i].map, (size_t)s.bufs[i].pages * PAGE))
			die("munmap of a buffer");
	close(s.fd);
	free(s.bufs);
	free(s.op);
	free(v);
}

static void run_buffers(void)
{
	size_t i;

	for (i = 0; i < sizeof(w9_sizes) / sizeof(w9_sizes[0]); i++)
		run_buffers_of(w9_sizes[i]);
}

/* ---- profiles: a fixed number of operations, with ftrace on around them only (-t) ---- */

static int trace_on_fd = -1;

/*
 * Around the traced operations, leave RCU half a second to run the callbacks queued before
 * them (not counted) and by them (counted).
 */
static void tracing(int on)
{
	if (trace_on_fd < 0)
		return;
	usleep(500000);
	if (write(trace_on_fd, on ? "1" : "0", 1) != 1)
		die("tracing_on");
}

static void profile_ops(const char *name, long ops, const char *unit)
{
	printf("BENCH-PROFILE-OPS,%s,%s,%ld,%s\n", label, name, ops, unit);
	fflush(stdout);
}

/* p1: W1 at N=0, on an fd past its first 5000 indexes as in the benchmark */
static void run_profile_w1(void)
{
	int fd = dev_open(), ops = scaled(1000, 100), i;

	for (i = 0; i < 5000; i++)
		op_alloc_dealloc(&fd);
	tracing(1);
	for (i = 0; i < ops; i++)
		op_alloc_dealloc(&fd);
	tracing(0);
	close(fd);
	profile_ops("p1", ops, "op");
}

/* p3: W3, ALLOC 1024 + DEALLOC 1024 */
static void run_profile_w3(void)
{
	struct ioctl_gntalloc_alloc_gref *op = alloc_buf(BATCH_PAGES);
	int fd = dev_open(), ops = scaled(10, 2), i;

	gnt_dealloc(fd, gnt_alloc(fd, op, BATCH_PAGES), BATCH_PAGES);
	tracing(1);
	for (i = 0; i < ops; i++)
		gnt_dealloc(fd, gnt_alloc(fd, op, BATCH_PAGES), BATCH_PAGES);
	tracing(0);
	close(fd);
	free(op);
	profile_ops("p3", (long)ops * BATCH_PAGES, "page");
}

/* p4: W4, close() of a file holding grants (fewer, to fit the trace buffer) */
static void run_profile_w4(void)
{
	long held = 0, n = scaled(10000, 2000);
	int fd = dev_open();

	hold(fd, &held, n);
	tracing(1);
	close(fd);
	tracing(0);
	profile_ops("p4", n, "grant");
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-f TSC-MHZ] [-r ROUNDS] [-s SCALE] [-t] [-w floor,w1,w1n0,w3,w4,w5,w6,w8,w9,p1,p3,p4] LABEL\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	double kernel_mhz = 0;
	uint64_t t0;
	int opt;

	while ((opt = getopt(argc, argv, "f:r:s:tw:")) != -1) {
		switch (opt) {
		case 'f':
			kernel_mhz = atof(optarg);
			break;
		case 't':
			trace_on_fd = open("/sys/kernel/tracing/tracing_on", O_WRONLY);
			if (trace_on_fd < 0)
				die("/sys/kernel/tracing/tracing_on");
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 's':
			scale = atof(optarg);
			break;
		case 'w':
			only = optarg;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1 || scale <= 0 || rounds < 1)
		usage(argv[0]);
	label = argv[optind];
	signal(SIGPIPE, SIG_IGN);

	/* One CPU for everything but w5, so that the TSC read is always the same one. */
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1)
		ncpus = 1;
	pin(ncpus > 1 ? 1 : 0);
	tsc_mhz = calibrate_tsc();
	for (opt = 0; opt < 20; opt++)
		canary(); /* its best, on a quiet host: the reference */
	printf("BENCH-INFO,tsc-mhz-%s,calibrated %.1f; kernel %.1f\n", label, tsc_mhz, kernel_mhz);
	if (kernel_mhz > 0)
		tsc_mhz = kernel_mhz;
	t0 = now_ns();

	if (wanted("floor"))
		run_floors();
	if (wanted("w3"))
		run_bulk();
	if (wanted("w1") || wanted("w1n0"))
		run_offset_diag();
	if (wanted("w5"))
		run_parallel();
	if (wanted("w1") || wanted("w2"))
		run_sweep(sizeof(sweep) / sizeof(sweep[0]));
	else if (wanted("w1n0"))
		run_sweep(1);
	if (wanted("w4"))
		run_close();
	if (wanted("w6"))
		run_memory();
	if (wanted("w8"))
		run_windows();
	if (wanted("w9"))
		run_buffers();
	if (only && wanted("p1"))
		run_profile_w1();
	if (only && wanted("p3"))
		run_profile_w3();
	if (only && wanted("p4"))
		run_profile_w4();
	if (ncanaries > 20) {
		emit("canary", 0, "user-loop", "us", canaries, ncanaries, 1);
		emit("guard", 0, "samples-redone", "n", &redone, 1, 1);
		emit("guard", 0, "samples-disturbed", "n", &disturbed, 1, 1);
	}
	note("done in %.1f s", (now_ns() - t0) / 1e9);
	return 0;
}
