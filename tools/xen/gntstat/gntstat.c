// SPDX-License-Identifier: GPL-2.0
/*
 * gntstat - show and tune the xen-gntalloc grant allocator
 *
 * Reads the limit and the live counters from /sys/class/gntalloc/gntalloc/,
 * the per-process and per-domain views from debugfs (gntalloc/files and
 * gntalloc/domains), and sets the limit with the same rules as the driver.
 * --prometheus prints all of it in the Prometheus text format (below).
 * Documentation/admin-guide/xen-gntalloc.rst describes every value.
 *
 * Exit status: 0 on success, 1 when the driver or a file cannot be read or
 * written, 2 on a usage error.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xen/gntalloc.h>

#define SYSFS_DIR	"/sys/class/gntalloc/gntalloc"
#define MODULE_DIR	"/sys/module/xen_gntalloc"
#define DEBUGFS_DIR	"/sys/kernel/debug/gntalloc"

/* The files of SYSFS_DIR, from the UAPI's list, and their indexes */
#define GNTALLOC_SYSFS_FILE(name, mode) #name,
static const char *const counter_names[] = GNTALLOC_SYSFS_FILES;
#undef GNTALLOC_SYSFS_FILE
#define NR_COUNTERS (sizeof(counter_names) / sizeof(counter_names[0]))

#define GNTALLOC_SYSFS_FILE(name, mode) C_##name,
enum counter_index GNTALLOC_SYSFS_FILES;
#undef GNTALLOC_SYSFS_FILE

static const char *sysfs_dir = SYSFS_DIR;
static const char *debugfs_dir = DEBUGFS_DIR;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: gntstat [-j] [-p] [-w SECONDS [-n COUNT]]\n"
		"       gntstat --set-limit PAGES\n"
		"       gntstat --prometheus[=FILE]\n"
		"Show the xen-gntalloc limit and counters (/sys/class/gntalloc/gntalloc).\n"
		"\n"
		"  -w, --watch SECONDS  print the counters every SECONDS, with per-second\n"
		"                       rates of allocations, frees, limit hits and failures\n"
		"  -n, --count COUNT    with --watch: stop after COUNT samples\n"
		"  -p, --processes      also list each open file of the device (opener pid,\n"
		"                       pages held, mapped, pending) and each peer domain;\n"
		"                       needs root and debugfs at /sys/kernel/debug\n"
		"  -j, --json           print JSON (one object per sample with --watch)\n"
		"      --set-limit PAGES  set the system-wide limit: a decimal number from\n"
		"                       0 to 4294967295; needs root\n"
		"      --prometheus[=FILE]  print the counters, the limit and each peer\n"
		"                       domain's use in the Prometheus text format; with\n"
		"                       FILE, replace FILE atomically instead (for the node\n"
		"                       exporter's textfile collector)\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 ok, 1 driver or file trouble, 2 usage error.\n");
}

/* Explain why the counters are not there, as helpfully as we can. */
static void driver_missing(void)
{
	if (access(MODULE_DIR, F_OK) == 0)
		fprintf(stderr,
			"gntstat: the loaded xen-gntalloc has no counters (%s is missing):\n"
			"         it is probably the stock driver, not this project's\n",
			sysfs_dir);
	else
		fprintf(stderr,
			"gntstat: the xen-gntalloc driver is not loaded (no %s);\n"
			"         load it with 'insmod xen-gntalloc.ko' or 'modprobe xen-gntalloc'\n",
			sysfs_dir);
}

static int read_counter(const char *name, unsigned long long *val)
{
	char path[256], buf[64], *end;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysfs_dir, name);
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			driver_missing();
		else
			fprintf(stderr, "gntstat: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!fgets(buf, sizeof(buf), f)) {
		fprintf(stderr, "gntstat: %s: cannot read\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n')) {
		fprintf(stderr, "gntstat: %s: unexpected '%s'\n", path, buf);
		return -1;
	}
	return 0;
}

static int read_counters(unsigned long long *vals)
{
	for (size_t i = 0; i < NR_COUNTERS; i++)
		if (read_counter(counter_names[i], &vals[i]))
			return -1;
	return 0;
}

static void print_table(const unsigned long long *vals)
{
	for (size_t i = 0; i < NR_COUNTERS; i++) {
		printf("%-20s %12llu", counter_names[i], vals[i]);
		if (i == C_in_use && vals[C_limit])
			printf("  (%.1f%% of limit)",
			       100.0 * (double)vals[C_in_use] /
			       (double)vals[C_limit]);
		printf("\n");
	}
}

static void print_json_counters(const unsigned long long *vals)
{
	printf("\"counters\":{");
	for (size_t i = 0; i < NR_COUNTERS; i++)
		printf("%s\"%s\":%llu", i ? "," : "", counter_names[i], vals[i]);
	printf("}");
}

static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static FILE *open_debugfs(const char *name)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", debugfs_dir, name);
	f = fopen(path, "r");
	if (f)
		return f;
	if (errno == EACCES || errno == EPERM)
		fprintf(stderr, "gntstat: %s: permission denied: the per-process view needs root\n",
			path);
	else if (errno == ENOENT)
		fprintf(stderr,
			"gntstat: %s is missing: mount debugfs (mount -t debugfs none /sys/kernel/debug)\n"
			"         and load this project's xen-gntalloc\n", path);
	else
		fprintf(stderr, "gntstat: %s: %s\n", path, strerror(errno));
	return NULL;
}

/*
 * Print debugfs gntalloc/files ("pid held mapped pending comm") and
 * gntalloc/domains ("domid grants pending quota", the quota being the
 * domain's quota, 4294967295 for none) as tables or JSON arrays.
 */
static int print_processes(bool json)
{
	unsigned long long held, mapped, pending, grants, quota;
	char line[512];
	int pid, n, comm_at;
	unsigned int domid;
	bool first = true;
	FILE *f;

	f = open_debugfs("files");
	if (!f)
		return -1;
	if (json)
		printf(",\"files\":[");
	else
		printf("\n%8s %10s %10s %10s  %s\n", "PID", "HELD", "MAPPED", "PENDING",
		       "COMMAND");
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		n = sscanf(line, "%d %llu %llu %llu %n", &pid, &held, &mapped,
			   &pending, &comm_at);
		if (n != 4)
			continue;
		if (json) {
			printf("%s{\"pid\":%d,\"held\":%llu,\"mapped\":%llu,\"pending\":%llu,\"comm\":",
			       first ? "" : ",", pid, held, mapped, pending);
			print_json_string(line + comm_at);
			printf("}");
		} else {
			printf("%8d %10llu %10llu %10llu  %s\n", pid, held, mapped,
			       pending, line + comm_at);
		}
		first = false;
	}
	fclose(f);

	f = open_debugfs("domains");
	if (!f)
		return -1;
	first = true;
	if (json)
		printf("],\"domains\":[");
	else
		printf("\n%8s %10s %10s %10s\n", "DOMID", "GRANTS", "PENDING",
		       "QUOTA");
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' ||
		    sscanf(line, "%u %llu %llu %llu", &domid, &grants, &pending,
			   &quota) != 4)
			continue;
		if (json)
			printf("%s{\"domid\":%u,\"grants\":%llu,\"pending\":%llu,\"quota\":%llu}",
			       first ? "" : ",", domid, grants, pending, quota);
		else if (quota == UINT_MAX)
			printf("%8u %10llu %10llu %10s\n", domid, grants, pending,
			       "-");
		else
			printf("%8u %10llu %10llu %10llu\n", domid, grants,
			       pending, quota);
		first = false;
	}
	fclose(f);
	if (json)
		printf("]");
	return 0;
}

static int show_once(bool json, bool processes)
{
	unsigned long long vals[NR_COUNTERS];

	if (read_counters(vals))
		return 1;
	if (json) {
		printf("{");
		print_json_counters(vals);
	} else {
		print_table(vals);
	}
	if (processes && print_processes(json))
		return 1;
	if (json)
		printf("}\n");
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The counters every @interval seconds; totals become per-second rates. */
static int watch(unsigned int interval, unsigned long count, bool json,
		 bool processes)
{
	static const int totals[] = { C_allocated_total, C_freed_total,
				      C_limit_hits, C_alloc_failures };
	static const char *const rate_names[] = { "alloc_per_s", "free_per_s",
						  "limit_hits_per_s",
						  "alloc_failures_per_s" };
	unsigned long long prev[NR_COUNTERS], vals[NR_COUNTERS];
	double t0, t, prev_t, rates[4];

	if (read_counters(prev))
		return 1;
	t0 = prev_t = now();
	if (!json)
		printf("%8s %10s %8s %8s %6s %10s %10s %8s %8s\n", "TIME", "IN_USE",
		       "PENDING", "MAPPED", "FILES", "ALLOC/S", "FREE/S", "HITS/S",
		       "FAILS/S");
	for (unsigned long i = 0; !count || i < count; i++) {
		sleep(interval);
		if (read_counters(vals))
			return 1;
		t = now();
		for (int r = 0; r < 4; r++)
			rates[r] = (double)(vals[totals[r]] - prev[totals[r]]) /
				   (t - prev_t);
		if (json) {
			printf("{\"time\":%.3f,", t - t0);
			print_json_counters(vals);
			printf(",\"rates\":{");
			for (int r = 0; r < 4; r++)
				printf("%s\"%s\":%.1f", r ? "," : "", rate_names[r],
				       rates[r]);
			printf("}");
		} else {
			printf("%8.1f %10llu %8llu %8llu %6llu %10.1f %10.1f %8.1f %8.1f\n",
			       t - t0, vals[C_in_use], vals[C_pending], vals[C_mapped],
			       vals[C_open_files], rates[0], rates[1], rates[2], rates[3]);
		}
		if (processes && print_processes(json))
			return 1;
		if (json)
			printf("}\n");
		fflush(stdout);
		memcpy(prev, vals, sizeof(prev));
		prev_t = t;
	}
	return 0;
}

/* Same rule as the driver: decimal digits only, 0 to UINT32_MAX. */
static bool parse_limit(const char *s, unsigned long long *val)
{
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return false;
	errno = 0;
	*val = strtoull(s, &end, 10);
	return !errno && *val <= 4294967295ULL;
}

static int set_limit(const char *arg)
{
	unsigned long long val;
	char path[256];
	FILE *f;

	if (!parse_limit(arg, &val)) {
		fprintf(stderr,
			"gntstat: invalid limit '%s': expected a decimal number from 0 to 4294967295\n",
			arg);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/limit", sysfs_dir);
	f = fopen(path, "w");
	if (!f) {
		if (errno == ENOENT)
			driver_missing();
		else if (errno == EACCES || errno == EPERM)
			fprintf(stderr, "gntstat: setting the limit needs root (%s: %s)\n",
				path, strerror(errno));
		else
			fprintf(stderr, "gntstat: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, "%llu\n", val);
	if (fclose(f)) {
		fprintf(stderr, "gntstat: %s: the driver refused %llu: %s\n", path, val,
			strerror(errno));
		return 1;
	}
	printf("limit set to %llu pages\n", val);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* --prometheus: the Prometheus text exposition format (version 0.0.4)     */
/* ---------------------------------------------------------------------- */

/*
 * Every file of the UAPI's GNTALLOC_SYSFS_FILES list becomes the metric
 * xen_gntalloc_<file>, every column of debugfs gntalloc/domains (after the
 * domid) xen_gntalloc_domain_<column>{domid="N"}: files and columns the
 * driver adds later appear with no change here.  A value that only grows is
 * a counter and its name ends in _total (added if the file's name lacks it);
 * which ones those are is decided from the name: the driver names its totals
 * *_total, and its event counts *_hits, *_failures or *_errors.  Everything
 * else is a gauge.  The help text of the files known today is below; a new
 * one gets a generic text naming its file.
 */
static const struct {
	const char *name, *help;
} prom_help[] = {
	{ "limit", "Most pages all users of /dev/xen/gntalloc may hold together (sysfs limit)" },
	{ "in_use", "Pages counted against the limit: allocated, mapped or pending" },
	{ "pending", "Released pages that a peer domain still maps" },
	{ "mapped", "Pages in at least one user mapping" },
	{ "open_files", "Open files of /dev/xen/gntalloc" },
	{ "peak", "High-water mark of in_use since load or since reset to 0" },
	{ "allocated_total", "Pages allocated since the module was loaded" },
	{ "freed_total", "Pages freed since the module was loaded" },
	{ "limit_hits", "Allocations refused because of the limit" },
	{ "alloc_failures", "Allocations failed for memory or a full grant table" },
	{ "domain_grants", "Pages granted to the peer domain that the driver still holds, pending ones included" },
	{ "domain_pending", "Pages granted to the peer domain, released by their owner, still mapped by the peer" },
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static bool prom_is_counter(const char *name)
{
	return ends_with(name, "_total") || ends_with(name, "_hits") ||
	       ends_with(name, "_failures") || ends_with(name, "_errors");
}

/* HELP and TYPE of xen_gntalloc_<name>; its name, with _total if a counter */
/*
 * Print the HELP and TYPE lines of @name's family and put its metric name in
 * @metric.  True if @name is in milliseconds (*_ms): the metric is then in
 * seconds, Prometheus's base unit (xen_gntalloc_quarantine_seconds), and its
 * value must be printed with prom_value(..., true).
 */
static bool prom_family(FILE *out, const char *name, const char *source,
			char *metric, size_t size)
{
	const char *help = NULL;
	bool counter = prom_is_counter(name);
	bool ms = !counter && ends_with(name, "_ms");

	if (ms)
		snprintf(metric, size, "xen_gntalloc_%.*s_seconds",
			 (int)(strlen(name) - strlen("_ms")), name);
	else
		snprintf(metric, size, "xen_gntalloc_%s%s", name,
			 counter && !ends_with(name, "_total") ? "_total" : "");
	for (size_t i = 0; i < sizeof(prom_help) / sizeof(prom_help[0]); i++)
		if (!strcmp(prom_help[i].name, name))
			help = prom_help[i].help;
	if (help)
		fprintf(out, "# HELP %s %s.\n", metric, help);
	else
		fprintf(out, "# HELP %s xen-gntalloc's %s.\n", metric, source);
	fprintf(out, "# TYPE %s %s\n", metric, counter ? "counter" : "gauge");
	return ms;
}

/* The value @val of a family, converted from milliseconds to seconds if @ms */
static void prom_value(FILE *out, unsigned long long val, bool ms)
{
	if (ms)
		fprintf(out, " %llu.%03llu\n", val / 1000, val % 1000);
	else
		fprintf(out, " %llu\n", val);
}

#define PROM_MAX_COLUMNS 16

/* debugfs gntalloc/domains, read whole: its column names and its rows */
struct prom_domains {
	char names[PROM_MAX_COLUMNS][32];	/* the columns after domid */
	int columns;
	unsigned long long *rows;		/* domid, then the columns */
	size_t nr_rows;
};

/*
 * Read debugfs gntalloc/domains ("# domid grants pending ..." and one line
 * per domain).  False, quietly, if it cannot be read (not root, debugfs not
 * mounted): the output then says so in xen_gntalloc_domain_stats_available.
 */
static bool prom_read_domains(struct prom_domains *d)
{
	size_t width = 1 + PROM_MAX_COLUMNS, alloc = 0;
	char path[256], line[512], *tok, *save;
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), "%s/domains", debugfs_dir);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long vals[1 + PROM_MAX_COLUMNS];
		int n = 0;

		if (line[0] == '#') {
			/* the header: "# domid name name ..." */
			tok = strtok_r(line + 1, " \t\n", &save);
			if (!tok || strcmp(tok, "domid"))
				continue;
			d->columns = 0;
			while ((tok = strtok_r(NULL, " \t\n", &save)) &&
			       d->columns < PROM_MAX_COLUMNS)
				snprintf(d->names[d->columns++], sizeof(d->names[0]),
					 "domain_%s", tok);
			continue;
		}
		for (tok = strtok_r(line, " \t\n", &save); tok && n < 1 + PROM_MAX_COLUMNS;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			char *end;

			errno = 0;
			vals[n] = strtoull(tok, &end, 10);
			if (errno || *end)
				break;
			n++;
		}
		if (!d->columns || n != 1 + d->columns)
			continue;
		if (d->nr_rows == alloc) {
			unsigned long long *rows;

			alloc = alloc ? 2 * alloc : 64;
			rows = realloc(d->rows, alloc * width * sizeof(*rows));
			if (!rows) {
				fclose(f);
				return false;
			}
			d->rows = rows;
		}
		memcpy(d->rows + d->nr_rows++ * width, vals, sizeof(vals));
	}
	fclose(f);
	return d->columns > 0;
}

static void prom_print(FILE *out, const unsigned long long *vals, bool up)
{
	size_t width = 1 + PROM_MAX_COLUMNS;
	struct prom_domains d;
	char metric[96], source[96];
	bool domains, ms;

	fprintf(out, "# HELP xen_gntalloc_up 1 if the counters of xen-gntalloc were read from %s.\n"
		"# TYPE xen_gntalloc_up gauge\nxen_gntalloc_up %d\n", sysfs_dir, up);
	if (!up)
		return;
	for (size_t i = 0; i < NR_COUNTERS; i++) {
		snprintf(source, sizeof(source), "sysfs file %s", counter_names[i]);
		ms = prom_family(out, counter_names[i], source, metric,
				 sizeof(metric));
		fprintf(out, "%s", metric);
		prom_value(out, vals[i], ms);
	}

	domains = prom_read_domains(&d);
	fprintf(out, "# HELP xen_gntalloc_domain_stats_available 1 if the per-domain metrics were read from %s/domains (needs root and debugfs).\n"
		"# TYPE xen_gntalloc_domain_stats_available gauge\n"
		"xen_gntalloc_domain_stats_available %d\n", debugfs_dir, domains);
	for (int c = 0; domains && d.nr_rows && c < d.columns; c++) {
		snprintf(source, sizeof(source), "debugfs domains column %s",
			 d.names[c] + strlen("domain_"));
		ms = prom_family(out, d.names[c], source, metric,
				 sizeof(metric));
		for (size_t r = 0; r < d.nr_rows; r++) {
			fprintf(out, "%s{domid=\"%llu\"}", metric,
				d.rows[r * width]);
			prom_value(out, d.rows[r * width + 1 + c], ms);
		}
	}
	free(d.rows);
}

/*
 * Write @len bytes of @buf to @path through a temporary file in the same
 * directory and rename(): a reader (the node exporter) sees the old file or
 * the new one, never a part.  The temporary name does not end in .prom, so
 * the textfile collector never reads it.
 */
static int write_atomically(const char *path, const char *buf, size_t len)
{
	size_t size = strlen(path) + sizeof(".XXXXXX");
	char *tmp = malloc(size);
	ssize_t done;
	int fd;

	if (!tmp)
		return -1;
	snprintf(tmp, size, "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		fprintf(stderr, "gntstat: cannot create %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	for (size_t off = 0; off < len; off += done) {
		done = write(fd, buf + off, len - off);
		if (done < 0)
			goto fail;
	}
	if (fchmod(fd, 0644) || fsync(fd))
		goto fail;
	if (close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	free(tmp);
	return 0;
fail:
	fprintf(stderr, "gntstat: cannot write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/*
 * gntstat --prometheus[=FILE]: to stdout, or atomically to FILE.  When the
 * counters cannot be read the output still appears, with xen_gntalloc_up 0
 * (a textfile collector would otherwise go on serving the last good file),
 * and the exit status is 1.
 */
static int prometheus(const char *file)
{
	unsigned long long vals[NR_COUNTERS];
	bool up = !read_counters(vals);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	out = file ? open_memstream(&buf, &len) : stdout;
	if (!out) {
		fprintf(stderr, "gntstat: %s\n", strerror(errno));
		return 1;
	}
	prom_print(out, vals, up);
	if (file) {
		if (fclose(out) || write_atomically(file, buf, len)) {
			free(buf);
			return 1;
		}
		free(buf);
	} else if (fflush(stdout)) {
		return 1;
	}
	return up ? 0 : 1;
}

/* ---------------------------------------------------------------------- */
/* end of --prometheus                                                     */
/* ---------------------------------------------------------------------- */

static bool parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	char *end;

	errno = 0;
	*val = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno && *val <= max;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "processes", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "set-limit", required_argument, NULL, 'L' },
		{ "prometheus", optional_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long interval = 0, count = 0;
	const char *limit = NULL, *prom_file = NULL, *env;
	bool json = false, processes = false, prom = false;
	int opt;

	/* For tests: point the tool at another tree */
	env = getenv("GNTSTAT_SYSFS");
	if (env)
		sysfs_dir = env;
	env = getenv("GNTSTAT_DEBUGFS");
	if (env)
		debugfs_dir = env;

	while ((opt = getopt_long(argc, argv, "w:n:pjh", options, NULL)) != -1) {
		switch (opt) {
		case 'w':
			if (!parse_uint(optarg, 86400, &interval) || !interval) {
				fprintf(stderr, "gntstat: --watch takes 1 to 86400 seconds, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			if (!parse_uint(optarg, ULONG_MAX, &count) || !count) {
				fprintf(stderr, "gntstat: --count takes a positive number, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'p':
			processes = true;
			break;
		case 'j':
			json = true;
			break;
		case 'L':
			limit = optarg;
			break;
		case 'P':
			prom = true;
			prom_file = optarg;
			if (prom_file && !*prom_file) {
				fprintf(stderr, "gntstat: --prometheus=FILE needs a file name\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gntstat: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (prom) {
		if (limit || interval || count || processes || json) {
			fprintf(stderr, "gntstat: --prometheus takes no other option\n");
			return 2;
		}
		return prometheus(prom_file);
	}
	if (limit) {
		if (interval || count || processes || json) {
			fprintf(stderr, "gntstat: --set-limit takes no other option\n");
			return 2;
		}
		return set_limit(limit);
	}
	if (count && !interval) {
		fprintf(stderr, "gntstat: --count goes with --watch\n");
		return 2;
	}
	if (interval)
		return watch(interval, count, json, processes);
	return show_once(json, processes);
}
