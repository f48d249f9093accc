// SPDX-License-Identifier: GPL-2.0
/*
 * gntalloc-demo - xen-gntalloc at work, seen from dom0 alone.
 *
 * A domain may grant pages to itself and map them back, so one program can play both sides of
 * a grant: it shares a few pages through libxengnttab's "gntshr" half (which drives
 * /dev/xen/gntalloc), maps the same grants back through the "gnttab" half (/dev/xen/gntdev,
 * domid 0), checks that a message written on one side is read on the other, in both directions,
 * and tears everything down. The driver's counters in /sys/class/gntalloc/gntalloc/ are printed
 * after each step; a driver without them (the stock one) reads "n/a".
 *
 * Exit status: 0 if every byte round-tripped, 1 otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xengnttab.h>
#include <xen/gntalloc.h>

#define NR_PAGES 4
#define PAGE_BYTES 4096 /* Xen grants 4 KiB frames, whatever the guest's page size */
#define COUNTERS_DIR "/sys/class/gntalloc/gntalloc/"

/* The files of COUNTERS_DIR, from the UAPI's list */
#define GNTALLOC_SYSFS_FILE(name, mode) #name,
static const char *const counters[] = GNTALLOC_SYSFS_FILES;
#undef GNTALLOC_SYSFS_FILE

#define NR_COUNTERS (sizeof(counters) / sizeof(counters[0]))
#define STEP_WIDTH 24

static int column_width(const char *name)
{
	int len = (int)strlen(name);

	return len < 6 ? 6 : len;
}

static void show_header(void)
{
	size_t i;

	printf("%-*s", STEP_WIDTH, "step");
	for (i = 0; i < NR_COUNTERS; i++)
		printf(" %*s", column_width(counters[i]), counters[i]);
	printf("\n");
}

/* One row of counters. Absent files are not an error: the stock driver has none. */
static void show(const char *step)
{
	char path[128], value[32];
	size_t i;

	printf("%-*s", STEP_WIDTH, step);
	for (i = 0; i < NR_COUNTERS; i++) {
		FILE *f;

		snprintf(path, sizeof(path), COUNTERS_DIR "%s", counters[i]);
		f = fopen(path, "r");
		if (!f || !fgets(value, sizeof(value), f))
			strcpy(value, "n/a");
		if (f)
			fclose(f);
		value[strcspn(value, "\n")] = '\0';
		printf(" %*s", column_width(counters[i]), value);
	}
	printf("\n");
	fflush(stdout);
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gntalloc-demo: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* Write a distinct message into each page on one side, read it back on the other. */
static int round_trip(char *from, char *to, const char *direction, const uint32_t *refs)
{
	char msg[PAGE_BYTES / 4];
	int i, bad = 0;

	for (i = 0; i < NR_PAGES; i++) {
		snprintf(msg, sizeof(msg), "%s: page %d, grant %u", direction, i, refs[i]);
		strcpy(from + i * PAGE_BYTES, msg);
		if (strcmp(to + i * PAGE_BYTES, msg)) {
			printf("  page %d: wrote \"%s\", read \"%.60s\"\n", i, msg, to + i * PAGE_BYTES);
			bad = 1;
		} else {
			printf("  page %d: \"%s\" arrived\n", i, msg);
		}
	}
	return bad;
}

int main(void)
{
	xengntshr_handle *xgs;
	xengnttab_handle *xgt;
	uint32_t refs[NR_PAGES];
	char *shared, *mapped;
	int i, bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("gntalloc-demo: share %d pages with domid 0 (ourselves) and map them back\n",
	       NR_PAGES);
	show_header();
	show("start");

	xgs = xengntshr_open(NULL, 0);
	if (!xgs)
		fail("xengntshr_open (/dev/xen/gntalloc): %m");
	xgt = xengnttab_open(NULL, 0);
	if (!xgt)
		fail("xengnttab_open (/dev/xen/gntdev): %m");
	show("devices open");

	/* Allocates the grants, mmaps them here and deallocates at once: the mapping owns them. */
	shared = xengntshr_share_pages(xgs, 0, NR_PAGES, refs, 1);
	if (!shared)
		fail("xengntshr_share_pages: %m");
	show("shared");
	printf("  grant references:");
	for (i = 0; i < NR_PAGES; i++)
		printf(" %u", refs[i]);
	printf("\n");

	mapped = xengnttab_map_domain_grant_refs(xgt, NR_PAGES, 0, refs, PROT_READ | PROT_WRITE);
	if (!mapped)
		fail("xengnttab_map_domain_grant_refs: %m");
	show("mapped back (gntdev)");

	bad = round_trip(shared, mapped, "gntalloc -> gntdev", refs);
	bad |= round_trip(mapped, shared, "gntdev -> gntalloc", refs);

	if (xengnttab_unmap(xgt, mapped, NR_PAGES))
		fail("xengnttab_unmap: %m");
	show("unmapped (gntdev)");
	if (xengntshr_unshare(xgs, shared, NR_PAGES))
		fail("xengntshr_unshare: %m");
	show("unshared");
	xengnttab_close(xgt);
	xengntshr_close(xgs);
	show("devices closed");

	if (bad)
		fail("data did not round-trip");
	printf("gntalloc-demo: PASS: %d pages round-tripped both ways\n", NR_PAGES);
	return 0;
}
