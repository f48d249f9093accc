// SPDX-License-Identifier: GPL-2.0
/*
 * gntalloc_xdomain_repro - bring out the dom0 memory corruption seen after
 * cross-domain grant mappings in the test bed (qemu/README.md, "Guest
 * domains"; reproducers/README.md).  Not a test: a program run by hand in
 * dom0 (reproducers/xdomain-map-corrupt.sh), with the stock drivers or ours.
 *
 *	gntalloc_xdomain_repro STEP ITERATIONS [PAGES]
 *
 * It boots one guest (role "server", gntalloc_xdomain_guest), then does STEP
 * ITERATIONS times, each followed by a canary check:
 *
 *	g2d	the guest shares PAGES pages (its gntalloc), dom0 maps them
 *		through its gntdev, reads, writes, unmaps (test 1 of xdomain_data)
 *	d2g	dom0 shares PAGES pages (its gntalloc), the guest maps them
 *		through its gntdev, reads, writes, unmaps; dom0 munmaps and
 *		deallocates (test 2 of xdomain_data)
 *	d2g-ro	d2g with no writes by the guest: it maps and reads only
 *	none	nothing between the canary checks (the baseline)
 *
 * The canary: 64 MB of anonymous memory allocated at the start, and 128 MB
 * allocated afresh after every step (so that pages freed by the step are in
 * it), both filled with a pattern of their own and checked after a pause.
 * A word that differs is printed with the patterns it matches, if any: the
 * guest's and dom0's fills (seeds 11, 12, 21, 22, gntalloc_xdomain.h) tell
 * whose write landed where it should not.  After the canary, the guest must
 * still answer (its process' heap was corrupted in the test bed).
 *
 * Prints "REPRO: CORRUPTED ..." and exits 1 at the first corruption found,
 * "REPRO: clean after N" and exits 0 otherwise.
 */

#include "gntalloc_xdomain.h"

#define GUEST		"repro"
#define OLD_MB		64
#define FRESH_MB	128
#define PAUSE_MS	500

static __u64 canary_word(__u64 tag, size_t i)
{
	return 0xc0de000000000000ULL ^ (tag << 40) ^ i;
}

static void canary_fill(__u64 *w, size_t words, __u64 tag)
{
	for (size_t i = 0; i < words; i++)
		w[i] = canary_word(tag, i);
}

/* Which fill of gntalloc_xdomain.h @v is, if any: its seed, or 0. */
static uint32_t whose(__u64 v, size_t i)
{
	static const uint32_t seeds[] = { 11, 12, 21, 22 };
	size_t words = page_size() / sizeof(__u64);

	for (size_t s = 0; s < ARRAY_SIZE(seeds); s++)
		for (size_t p = 0; p < XDOM_MAX_REFS; p++)
			if (v == xdom_word(seeds[s], p, i % words))
				return seeds[s];
	return 0;
}

/* The number of words of @w that lost the pattern; the first few printed. */
static size_t canary_check(const char *what, const __u64 *w,
			   size_t words, __u64 tag)
{
	size_t bad = 0, pages = 0, last_page = (size_t)-1;
	size_t per_page = page_size() / sizeof(__u64);

	for (size_t i = 0; i < words; i++) {
		__u64 v = READ_ONCE(w[i]);

		if (v == canary_word(tag, i))
			continue;
		if (bad < 8) {
			printf("REPRO: %s: page %zu word %zu: %#018llx",
			       what, i / per_page, i % per_page, v);
			printf(" (want %#018llx, fill seed %u)\n",
			       canary_word(tag, i), whose(v, i));
		}
		if (i / per_page != last_page) {
			pages++;
			last_page = i / per_page;
		}
		bad++;
	}
	if (bad)
		printf("REPRO: %s: %zu words in %zu pages differ\n", what, bad, pages);
	fflush(stdout);
	return bad;
}

static int fail(const char *what, int err)
{
	printf("REPRO: step failed: %s: %s\n", what, strerror(-err));
	fflush(stdout);
	return err;
}

static int step_g2d(struct xdom_guest *g, int gntdev, uint32_t pages)
{
	char reply[XDOM_TEXT], refstr[XDOM_TEXT];
	uint32_t refs[XDOM_MAX_REFS];
	struct peer_map m;
	int slot, n, err;

	err = xdom_cmd(g, reply, sizeof(reply), "share 0 %u rw 11", pages);
	if (err)
		return fail("guest share", err);
	if (sscanf(reply, "%d %1023s", &slot, refstr) != 2)
		return fail("guest share reply", -EINVAL);
	n = xdom_parse_refs(refstr, refs, XDOM_MAX_REFS);
	err = peer_map_domain(&m, gntdev, (uint16_t)g->domid, refs, (uint32_t)n,
			      PROT_READ | PROT_WRITE);
	if (err)
		return fail("dom0 gntdev map", err);
	if (xdom_check(m.addr, pages, 11) != -1)
		printf("REPRO: dom0 read the guest's page wrong\n");
	xdom_fill(m.addr, pages, 12);
	err = xdom_cmd(g, reply, sizeof(reply), "check %d 12", slot);
	if (err || strcmp(reply, "ok"))
		printf("REPRO: the guest read dom0's write wrong: %d %s\n", err, reply);
	peer_unmap(&m);
	err = xdom_cmd(g, NULL, 0, "release %d", slot);
	return err ? fail("guest release", err) : 0;
}

static int step_d2g(struct xdom_guest *g, int fd, uint32_t pages, bool write)
{
	uint32_t refs[XDOM_MAX_REFS];
	char reply[XDOM_TEXT], refstr[XDOM_TEXT];
	__u64 index;
	uint8_t *mine;
	int slot, err;

	if (gntalloc_alloc(fd, (uint16_t)g->domid, GNTALLOC_FLAG_WRITABLE, pages,
			   &index, refs))
		return fail("dom0 gntalloc alloc", -errno);
	mine = gntalloc_mmap(fd, index, pages);
	if (mine == MAP_FAILED)
		return fail("dom0 gntalloc mmap", -errno);
	xdom_fill(mine, pages, 21);
	xdom_format_refs(refstr, sizeof(refstr), refs, pages);
	err = xdom_cmd(g, reply, sizeof(reply), "map 0 %s %s", write ? "rw" : "ro",
		       refstr);
	if (err)
		return fail("guest gntdev map", err);
	slot = atoi(reply);
	err = xdom_cmd(g, reply, sizeof(reply), "check %d 21", slot);
	if (err || strcmp(reply, "ok"))
		printf("REPRO: the guest read dom0's page wrong: %d %s\n", err, reply);
	if (write) {
		err = xdom_cmd(g, NULL, 0, "fill %d 22", slot);
		if (err)
			return fail("guest fill", err);
		if (xdom_check(mine, pages, 22) != -1)
			printf("REPRO: dom0 read the guest's write wrong\n");
	}
	err = xdom_cmd(g, NULL, 0, "release %d", slot);
	if (err)
		return fail("guest release", err);
	munmap(mine, pages * page_size());
	if (gntalloc_dealloc(fd, index, pages))
		return fail("dom0 gntalloc dealloc", -errno);
	return 0;
}

int main(int argc, char **argv)
{
	size_t old_words = (size_t)OLD_MB << 17, fresh_words = (size_t)FRESH_MB << 17;
	uint32_t pages = argc > 3 ? (uint32_t)atoi(argv[3]) : 1;
	const char *step = argc > 1 ? argv[1] : "";
	int iterations = argc > 2 ? atoi(argv[2]) : 0;
	struct xdom_guest g;
	__u64 *old;
	int fd, gntdev, i, err = 0;

	if (iterations <= 0 || !pages || pages > XDOM_MAX_REFS ||
	    (strcmp(step, "g2d") && strcmp(step, "d2g") && strcmp(step, "d2g-ro") &&
	     strcmp(step, "none"))) {
		fprintf(stderr, "usage: %s g2d|d2g|d2g-ro|none ITERATIONS [PAGES]\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || gntdev < 0) {
		perror("REPRO: open gntalloc/gntdev");
		return 2;
	}
	old = mmap(NULL, old_words * 8, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (old == MAP_FAILED) {
		perror("REPRO: mmap");
		return 2;
	}
	canary_fill(old, old_words, 1);
	if (xdom_boot(&g, GUEST, "server")) {
		printf("REPRO: the guest did not come up\n");
		return 2;
	}
	if (canary_check("old canary after boot", old, old_words, 1)) {
		printf("REPRO: CORRUPTED by the guest's boot alone\n");
		return 1;
	}
	for (i = 1; i <= iterations; i++) {
		__u64 *fresh;
		size_t bad;

		if (!strcmp(step, "g2d"))
			err = step_g2d(&g, gntdev, pages);
		else if (!strcmp(step, "d2g"))
			err = step_d2g(&g, fd, pages, true);
		else if (!strcmp(step, "d2g-ro"))
			err = step_d2g(&g, fd, pages, false);
		if (err)
			break;
		fresh = mmap(NULL, fresh_words * 8, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (fresh == MAP_FAILED) {
			perror("REPRO: mmap");
			return 2;
		}
		canary_fill(fresh, fresh_words, 2 + (__u64)i);
		sleep_ms(PAUSE_MS);
		bad = canary_check("fresh canary", fresh, fresh_words, 2 + (__u64)i);
		bad += canary_check("old canary", old, old_words, 1);
		munmap(fresh, fresh_words * 8);
		if (bad) {
			printf("REPRO: CORRUPTED after %s iteration %d of %d (%u pages)\n",
			       step, i, iterations, pages);
			xdom_show_console(GUEST, 20);
			return 1;
		}
		err = xdom_cmd(&g, NULL, 0, "ping");
		if (err) {
			printf("REPRO: CORRUPTED? the guest stopped answering after %s %d\n",
			       step, i);
			return 1;
		}
	}
	if (err) {
		xdom_show_console(GUEST, 20);
		return 1;
	}
	printf("REPRO: clean after %d iterations of %s (%u pages)\n", iterations, step, pages);
	xdom_destroy(&g);
	return 0;
}
