// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: gntstat, the operators' view of the driver.
 *
 * gntstat (tools/xen/gntstat, /usr/bin/gntstat in the test bed) prints the
 * sysfs counters and the debugfs files (see gntalloc_debugfs_test.c): these
 * tests exec it and compare what it prints with the driver's own files, and
 * check its --set-limit, its --prometheus output and its exit status (0 ok,
 * 1 trouble or no permission, 2 usage error).
 */

#include "gntalloc_fixture.h"

#define GNTSTAT			"/usr/bin/gntstat"

/* ---------------------------------------------------------------------- */
/* gntstat                                                                  */
/* ---------------------------------------------------------------------- */

struct run {
	int status;		/* exit code, 128 + signal, or -1 */
	char out[16384];
	char err[4096];
};

static void slurp(int fd, char *buf, size_t size)
{
	ssize_t len = pread(fd, buf, size - 1, 0);

	buf[len > 0 ? len : 0] = '\0';
}

/*
 * Run gntstat with @args (NULL-terminated), as nobody if @nobody: its exit
 * status and what it printed.  0, or -errno if it could not be run.
 */
static int run_gntstat(struct run *r, bool nobody, const char *const *args)
{
	const char *argv[16] = { "gntstat" };
	int out, err, i;
	pid_t pid;

	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	r->out[0] = '\0';
	r->err[0] = '\0';
	out = memfd_create("gntstat-out", MFD_CLOEXEC);
	err = memfd_create("gntstat-err", MFD_CLOEXEC);
	if (out < 0 || err < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (dup2(out, 1) < 0 || dup2(err, 2) < 0)
			_exit(125);
		if (nobody && become_nobody())
			_exit(126);
		execv(GNTSTAT, (char *const *)argv);
		_exit(127);
	}
	r->status = wait_child(pid);
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
	close(out);
	close(err);
	return 0;
}

#define RUN(r, nobody, ...) do { \
	const char *const _args[] = { __VA_ARGS__, NULL }; \
	ASSERT_EQ(0, run_gntstat((r), (nobody), _args)); \
} while (0)

/* After a failed check: what gntstat said. */
#define SHOW(r) do { \
	const struct run *_r = (r); \
	TH_LOG("gntstat exited %d; stdout:\n%s\nstderr:\n%s", \
	       _r->status, _r->out, _r->err); \
} while (0)

/* The value after "name" at the start of a line of a table, or -1. */
static int table_value(const char *out, const char *name, __u64 *val)
{
	const char *line = out;
	char key[32];

	while (line && *line) {
		if (sscanf(line, "%31s %llu", key, val) == 2 &&
		    !strcmp(key, name))
			return 0;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

/* The number after "\"name\":" in JSON, or -1. */
static int json_value(const char *out, const char *name, __u64 *val)
{
	char key[40], *end;
	const char *p;

	snprintf(key, sizeof(key), "\"%s\":", name);
	p = strstr(out, key);
	if (!p)
		return -1;
	errno = 0;
	*val = strtoull(p + strlen(key), &end, 10);
	return errno || end == p + strlen(key) ? -1 : 0;
}

/* The line after the one at @p, or NULL. */
static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The line after the one that holds @heading, or NULL. */
static const char *after_heading(const char *out, const char *heading)
{
	const char *p = strstr(out, heading);

	if (!p)
		return NULL;
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The counters, twice the same, around a run of gntstat: 0 or -errno. */
static int stable_counters(struct gntalloc_counters *c)
{
	struct gntalloc_counters again;
	int err, tries;

	for (tries = 0; tries < 10; tries++) {
		err = read_counters(c);
		if (err)
			return err;
		err = read_counters(&again);
		if (err)
			return err;
		if (!memcmp(c, &again, sizeof(again)))
			return 0;
		sleep_ms(50);
	}
	return -EAGAIN;
}

FIXTURE(gntstat) {
	struct gntalloc_fixture fx;
	void *map;
	size_t map_len;
	struct run run;
};

/* Each test holds 3 pages, 1 of them mapped, so that no counter is 0. */
FIXTURE_SETUP(gntstat)
{
	__u64 index;

	if (!gntalloc_fixture_setup(_metadata, &self->fx, 0))
		return;
	/* Always in the test bed's VM: missing is a failure, not a skip. */
	ASSERT_EQ(0, access(GNTSTAT, X_OK))
		TH_LOG("%s: %s", GNTSTAT, strerror(errno));
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 3, &index, NULL));
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	self->map_len = page_size();
}

FIXTURE_TEARDOWN_PARENT(gntstat)
{
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(gntstat, help_exits_0_and_shows_usage)
{
	RUN(&self->run, false, "--help");
	EXPECT_EQ(0, self->run.status) SHOW(&self->run);
	EXPECT_EQ(0, strncmp(self->run.out, "Usage: gntstat", 14));
}

TEST_F(gntstat, usage_errors_exit_2)
{
	static const char *const bad[][3] = {
		{ "-x" }, { "-n", "2" }, { "-w", "0" }, { "-w", "abc" },
		{ "extra" }, { "--set-limit", "5", "-j" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		RUN(&self->run, false, bad[i][0], bad[i][1], bad[i][2]);
		EXPECT_EQ(2, self->run.status) SHOW(&self->run);
	}
}

/*
 * Run gntstat with @arg (NULL: none) between two equal readings of the
 * counters, which it must then show: @c gets them.
 */
static void run_on_still_counters(struct __test_metadata *_metadata,
				  struct _test_data_gntstat *self, const char *arg,
				  struct gntalloc_counters *c)
{
	struct gntalloc_counters before;

	/* References leaving quarantine would move quarantined meanwhile */
	ASSERT_EQ(0, quarantine_off());
	ASSERT_EQ(0, stable_counters(&before));
	RUN(&self->run, false, arg);
	ASSERT_EQ(0, stable_counters(c));
	ASSERT_EQ(0, memcmp(&before, c, sizeof(*c)))
		TH_LOG("the counters moved while gntstat ran");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);
}

/* Every counter of @c is in @out, as @value_of reads it from the @form */
static void expect_counters_shown(struct __test_metadata *_metadata,
				  const char *out, struct gntalloc_counters *c,
				  int (*value_of)(const char *, const char *,
						  __u64 *),
				  const char *form)
{
	__u64 val;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gntalloc_counter_files); i++) {
		const char *name = gntalloc_counter_files[i].name;

		ASSERT_EQ(0, value_of(out, name, &val))
			TH_LOG("no %s in the %s", name, form);
		EXPECT_EQ(*counter_field(c, i), val)
			TH_LOG("%s", name);
	}
}

TEST_F(gntstat, table_shows_the_sysfs_counters)
{
	struct gntalloc_counters c;

	run_on_still_counters(_metadata, self, NULL, &c);
	EXPECT_LE(3U, c.in_use);
	EXPECT_LE(1U, c.mapped);
	expect_counters_shown(_metadata, self->run.out, &c, table_value,
			      "table");
}

TEST_F(gntstat, json_shows_the_sysfs_counters)
{
	struct gntalloc_counters c;

	run_on_still_counters(_metadata, self, "-j", &c);
	ASSERT_EQ(0, strncmp(self->run.out, "{\"counters\":{", 13));
	expect_counters_shown(_metadata, self->run.out, &c, json_value,
			      "JSON");
}

TEST_F(gntstat, processes_lists_our_pid_and_domain)
{
	__u64 held, mapped, pending, grants, dpending;
	unsigned int domid;
	int n;
	const char *p;
	char comm[32], want[32];
	bool ours = false, dom0 = false;
	int pid, at;

	comm_of_self(want, sizeof(want));
	RUN(&self->run, false, "-p");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);

	p = after_heading(self->run.out, "COMMAND");
	ASSERT_NE(NULL, p);
	for (; p && *p && *p != '\n'; p = next_line(p)) {
		at = 0;
		n = sscanf(p, "%d %llu %llu %llu %n",
			   &pid, &held, &mapped, &pending, &at);
		ASSERT_EQ(4, n);
		snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(p + at, "\n"),
			 p + at);
		if (pid != getpid())
			continue;
		EXPECT_FALSE(ours) TH_LOG("our pid twice");
		ours = true;
		EXPECT_EQ(3U, held);
		EXPECT_EQ(1U, mapped);
		EXPECT_EQ(0U, pending);
		EXPECT_STREQ(want, comm);
	}
	EXPECT_TRUE(ours) TH_LOG("pid %d is not listed", getpid());

	p = after_heading(self->run.out, "DOMID");
	ASSERT_NE(NULL, p);
	for (; p && *p && *p != '\n'; p = next_line(p)) {
		n = sscanf(p, "%u %llu %llu", &domid, &grants,
			   &dpending);
		ASSERT_EQ(3, n);
		if (domid == SELF_DOMID) {
			dom0 = true;
			EXPECT_LE(3U, grants);
		}
	}
	EXPECT_TRUE(dom0) TH_LOG("domain 0 is not listed");

	/* The same in JSON. */
	RUN(&self->run, false, "-p", "-j");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);
	snprintf(want, sizeof(want), "{\"pid\":%d,\"held\":3,", getpid());
	EXPECT_NE(NULL, strstr(self->run.out, want));
	EXPECT_NE(NULL, strstr(self->run.out, "\"domains\":[{\"domid\":0,"));
}

TEST_F(gntstat, processes_as_nobody_exits_1_naming_root)
{
	RUN(&self->run, true, "-p");
	EXPECT_EQ(1, self->run.status) SHOW(&self->run);
	EXPECT_NE(NULL, strstr(self->run.err, "root"));
}

TEST_F(gntstat, set_limit_changes_the_limit)
{
	__u64 limit;

	RUN(&self->run, false, "--set-limit", "2000");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);
	ASSERT_EQ(0, read_u64_file(GNTALLOC_SYSFS "/limit", &limit));
	EXPECT_EQ(2000U, limit);
	ASSERT_EQ(0, get_limit(&limit));
	EXPECT_EQ(2000U, limit);

	RUN(&self->run, false, "--set-limit", "4294967295");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);
	ASSERT_EQ(0, read_u64_file(GNTALLOC_SYSFS "/limit", &limit));
	EXPECT_EQ(4294967295U, limit);
}

TEST_F(gntstat, set_limit_refuses_bad_values_with_exit_2)
{
	static const char *const bad[] = {
		"abc", "-1", "4294967296", "", "12abc", " 5", "0x10",
		"99999999999",
	};
	__u64 limit;
	size_t i;

	ASSERT_EQ(0, set_limit(1500));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		RUN(&self->run, false, "--set-limit", bad[i]);
		EXPECT_EQ(2, self->run.status) SHOW(&self->run);
		ASSERT_EQ(0, read_u64_file(GNTALLOC_SYSFS "/limit", &limit));
		EXPECT_EQ(1500U, limit) TH_LOG("'%s' changed the limit", bad[i]);
	}
}

TEST_F(gntstat, set_limit_as_nobody_exits_1_naming_root)
{
	__u64 limit;

	ASSERT_EQ(0, set_limit(1500));
	RUN(&self->run, true, "--set-limit", "7");
	EXPECT_EQ(1, self->run.status) SHOW(&self->run);
	EXPECT_NE(NULL, strstr(self->run.err, "root"));
	ASSERT_EQ(0, read_u64_file(GNTALLOC_SYSFS "/limit", &limit));
	EXPECT_EQ(1500U, limit);
}

TEST_F(gntstat, watch_prints_count_samples)
{
	__u64 in_use, pending, mapped, files;
	const char *p;
	double t;
	int samples = 0;
	int n;

	RUN(&self->run, false, "-w", "1", "-n", "2");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);
	p = after_heading(self->run.out, "IN_USE");
	ASSERT_NE(NULL, p);
	for (; p && *p; p = next_line(p)) {
		n = sscanf(p, "%lf %llu %llu %llu %llu",
			   &t, &in_use, &pending, &mapped, &files);
		ASSERT_EQ(5, n);
		samples++;
		EXPECT_EQ(self->fx.env.base.in_use + 3, in_use);
		EXPECT_EQ(self->fx.env.base.mapped + 1, mapped);
		EXPECT_EQ(self->fx.env.base.open_files + 1, files);
		EXPECT_TRUE(t >= 0.5 * samples) TH_LOG("sample %d at %.1f s", samples, t);
	}
	EXPECT_EQ(2, samples);

	RUN(&self->run, false, "-w", "1", "-n", "2", "-j");
	ASSERT_EQ(0, self->run.status) SHOW(&self->run);
	samples = 0;
	for (p = self->run.out; p && *p; p = next_line(p)) {
		EXPECT_EQ(0, strncmp(p, "{\"time\":", 8));
		samples++;
	}
	EXPECT_EQ(2, samples);
}

/* ---------------------------------------------------------------------- */
/* gntstat --prometheus                                                     */
/* ---------------------------------------------------------------------- */

/*
 * The metric and type gntstat must give sysfs file @name: a value that
 * only grows (named *_total, *_hits, *_failures or *_errors) is a counter
 * whose name ends in _total; anything else is a gauge.
 */
static bool prom_counter(const char *name, char *metric, size_t size)
{
	static const char *const suffixes[] = { "_total", "_hits", "_failures", "_errors" };
	size_t len = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t n = strlen(suffixes[i]);

		if (len >= n && !strcmp(name + len - n, suffixes[i])) {
			snprintf(metric, size, "xen_gntalloc_%s%s", name,
				 i ? "_total" : "");
			return true;
		}
	}
	if (len > 3 && !strcmp(name + len - 3, "_ms"))	/* in seconds, the base unit */
		snprintf(metric, size, "xen_gntalloc_%.*s_seconds", (int)(len - 3), name);
	else
		snprintf(metric, size, "xen_gntalloc_%s", name);
	return false;
}

/* The value line of @metric for the sysfs value @val of the file @name */
static void prom_line(char *line, size_t size, const char *metric,
		      const char *name, __u64 val)
{
	size_t len = strlen(name);

	if (len > 3 && !strcmp(name + len - 3, "_ms"))
		snprintf(line, size, "%s %llu.%03llu", metric, val / 1000, val % 1000);
	else
		snprintf(line, size, "%s %llu", metric, val);
}

/* Whether @out has the whole line @line */
static bool has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; p && *p; p = next_line(p))
		if (!strncmp(p, line, n) && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

/*
 * The exposition between two marker lines on the console: the test bed's
 * host feeds it to `promtool check metrics` (make check-deb), so that what
 * promtool judges is what gntstat printed about the real driver.
 */
static void show_for_promtool(const char *out)
{
	printf("gntstat-prometheus-begin\n%sgntstat-prometheus-end\n", out);
	fflush(stdout);
}

TEST_F(gntstat, prometheus_shows_the_counters_and_our_domain)
{
	struct gntalloc_counters c;
	char metric[64], line[160];
	__u64 grants;
	const char *p;
	int n;

	run_on_still_counters(_metadata, self, "--prometheus", &c);
	EXPECT_TRUE(has_line(self->run.out, "xen_gntalloc_up 1")) SHOW(&self->run);
	for (size_t i = 0; i < ARRAY_SIZE(gntalloc_counter_files); i++) {
		const char *name = gntalloc_counter_files[i].name;
		bool counter = prom_counter(name, metric, sizeof(metric));

		snprintf(line, sizeof(line), "# TYPE %s %s", metric,
			 counter ? "counter" : "gauge");
		EXPECT_TRUE(has_line(self->run.out, line)) TH_LOG("no '%s'", line);
		snprintf(line, sizeof(line), "# HELP %s ", metric);
		EXPECT_NE(NULL, strstr(self->run.out, line)) TH_LOG("no '%s'", line);
		prom_line(line, sizeof(line), metric, name, *counter_field(&c, i));
		EXPECT_TRUE(has_line(self->run.out, line)) TH_LOG("no '%s'", line);
	}
	/* Ours are known: a counter named _total, one given _total, a gauge */
	EXPECT_TRUE(has_line(self->run.out, "# TYPE xen_gntalloc_allocated_total counter"));
	EXPECT_TRUE(has_line(self->run.out, "# TYPE xen_gntalloc_limit_hits_total counter"));
	EXPECT_TRUE(has_line(self->run.out, "# TYPE xen_gntalloc_in_use gauge"));
	/* and one in milliseconds, given in seconds */
	EXPECT_TRUE(has_line(self->run.out, "# TYPE xen_gntalloc_quarantine_seconds gauge"));

	EXPECT_TRUE(has_line(self->run.out, "xen_gntalloc_domain_stats_available 1"));
	EXPECT_TRUE(has_line(self->run.out, "# TYPE xen_gntalloc_domain_grants gauge"));
	EXPECT_TRUE(has_line(self->run.out, "# TYPE xen_gntalloc_domain_pending gauge"));
	p = strstr(self->run.out, "\nxen_gntalloc_domain_grants{domid=\"0\"} ");
	ASSERT_NE(NULL, p) SHOW(&self->run);
	n = sscanf(p + strlen("\nxen_gntalloc_domain_grants{domid=\"0\"} "),
		   "%llu", &grants);
	ASSERT_EQ(1, n);
	EXPECT_LE(3U, grants);
	show_for_promtool(self->run.out);
}

TEST_F(gntstat, prometheus_file_is_replaced_whole)
{
	static const char dir[] = "/tmp/gntstat-textfile";
	static const char file[] = "/tmp/gntstat-textfile/xen_gntalloc.prom";
	struct stat before, after;
	char out[16384], arg[64];
	int fd;

	ASSERT_EQ(0, mkdir(dir, 0755)) TH_LOG("%s: %s", dir, strerror(errno));
	/* An old file, mode 0600: the new one must be another file, 0644 */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4, write(fd, "old\n", 4));
	close(fd);
	ASSERT_EQ(0, stat(file, &before));
	snprintf(arg, sizeof(arg), "--prometheus=%s", file);
	RUN(&self->run, false, arg);
	EXPECT_EQ(0, self->run.status) SHOW(&self->run);
	EXPECT_EQ('\0', self->run.out[0]) TH_LOG("stdout: %s", self->run.out);

	/* A new file renamed over the old one, readable by the node exporter */
	ASSERT_EQ(0, stat(file, &after));
	EXPECT_NE(before.st_ino, after.st_ino);
	EXPECT_EQ(0644U, after.st_mode & 07777);
	fd = open(file, O_RDONLY);
	ASSERT_LE(0, fd);
	slurp(fd, out, sizeof(out));
	close(fd);
	EXPECT_EQ(0, strncmp(out, "# HELP xen_gntalloc_up ", 23)) TH_LOG("%s", out);
	EXPECT_TRUE(has_line(out, "xen_gntalloc_up 1"));
	/* A directory that does not exist: exit status 1 */
	RUN(&self->run, false, "--prometheus=/tmp/gntstat-textfile/missing/x.prom");
	EXPECT_EQ(1, self->run.status) SHOW(&self->run);
	/* Nothing else left in the directory: the temporary file was renamed */
	EXPECT_EQ(0, unlink(file));
	EXPECT_EQ(0, rmdir(dir)) TH_LOG("%s is not empty: a temporary file was left", dir);
}

TEST_F(gntstat, prometheus_as_nobody_has_no_domains)
{
	RUN(&self->run, true, "--prometheus");
	EXPECT_EQ(0, self->run.status) SHOW(&self->run);
	EXPECT_TRUE(has_line(self->run.out, "xen_gntalloc_up 1"));
	EXPECT_TRUE(has_line(self->run.out, "xen_gntalloc_domain_stats_available 0"));
	EXPECT_EQ(NULL, strstr(self->run.out, "xen_gntalloc_domain_grants"));
}

TEST_F(gntstat, prometheus_takes_no_other_option)
{
	static const char *const other[] = { "-j", "-p", "-w1", "--set-limit=5" };

	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		RUN(&self->run, false, "--prometheus", other[i]);
		EXPECT_EQ(2, self->run.status) SHOW(&self->run);
	}
	RUN(&self->run, false, "--prometheus=");
	EXPECT_EQ(2, self->run.status) SHOW(&self->run);
}

TEST_HARNESS_MAIN
