// SPDX-License-Identifier: GPL-2.0
/*
 * xen-gntalloc selftests: unloading the module.
 *
 * The module cannot be unloaded while a file of it is open or mapped (the
 * file holds a module reference: EWOULDBLOCK), and it keeps working.  With
 * no file left but pages still mapped by a peer, unloading hands those pages
 * to the kernel's grant-table core, which frees each when the peer lets go:
 * the peer keeps its data meanwhile, and the core's own (dynamic debug)
 * messages show the hand-over and the freeing.  That test loads the module
 * again from GNTALLOC_MODULE (default /gntalloc/xen-gntalloc.ko, where the
 * test bed puts it), with the limit it had, and checks the device is back.
 *
 * It runs last (see the Makefile): a failure here may leave the module out.
 * A driver built into the kernel cannot be unloaded: then every test skips,
 * saying so.
 */

#include "gntalloc_fixture.h"

#include <sys/syscall.h>

#define MODULE_NAME	"xen_gntalloc"
#define MODULE_PATH	"/gntalloc/xen-gntalloc.ko"
#define DEBUGFS		"/sys/kernel/debug"
#define DYNDBG_CONTROL	DEBUGFS "/dynamic_debug/control"
#define GNTTAB_DYNDBG	"file drivers/xen/grant-table.c "

/* ---------------------------------------------------------------------- */
/* Unloading                                                                */
/* ---------------------------------------------------------------------- */

static int delete_module(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK);
}

static const char *module_path(void)
{
	const char *path = getenv("GNTALLOC_MODULE");

	return path ? path : MODULE_PATH;
}

static bool module_loaded(void)
{
	return access("/sys/module/" MODULE_NAME, F_OK) == 0;
}

/*
 * A built-in driver has /sys/module/<name>/ (for its parameters) but none of
 * a loaded module's attributes, initstate among them.
 */
static bool module_built_in(void)
{
	return module_loaded() &&
	       access("/sys/module/" MODULE_NAME "/initstate", F_OK) != 0;
}

/* Load our module from module_path() with @limit: 0 or -errno. */
static int load_module(__u64 limit)
{
	char params[64];
	int fd, ret;

	fd = open(module_path(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(params, sizeof(params), "limit=%llu", limit);
	ret = syscall(__NR_finit_module, fd, params, 0);
	if (ret)
		ret = -errno;
	close(fd);
	return ret;
}

/* Is the device usable: open, ALLOC, mmap, write, DEALLOC, munmap? */
static int device_works(void)
{
	__u64 index;
	uint8_t *p;
	int fd, err = 0;

	fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (gntalloc_alloc_rw(fd, 2, &index, NULL)) {
		err = -errno;
		goto out;
	}
	p = gntalloc_mmap(fd, index, 2);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	p[page_size()] = MARK;
	if (gntalloc_dealloc(fd, index, 2))
		err = -errno;
	munmap(p, 2 * page_size());
out:
	close(fd);
	return err;
}

FIXTURE(unload) {
	struct gntalloc_fixture fx;
	void *map;
	size_t map_len;
	int kmsg;
	bool dyndbg;
};

FIXTURE_SETUP(unload)
{
	if (module_built_in())
		SKIP(return,
		     "%s is built into the kernel (no /sys/module/%s/initstate): it cannot be unloaded",
		     MODULE_NAME, MODULE_NAME);
	if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_NO_FILE))
		return;
	self->kmsg = -1;
}

FIXTURE_TEARDOWN_PARENT(unload)
{
	if (env_in_test_process(&self->fx.env))
		close_if_open(self->kmsg);
	if (self->dyndbg)
		write_str_file(DYNDBG_CONTROL, GNTTAB_DYNDBG "-p");
	/* A test that unloaded the module and failed must not leave it out. */
	if (!module_loaded())
		EXPECT_EQ(0, load_module(self->fx.env.limit))
			TH_LOG("cannot load %s again: the rest of the suite will fail",
			       module_path());
	gntalloc_fixture_teardown(_metadata, &self->fx);
}

TEST_F(unload, refused_while_a_file_is_open_and_the_device_keeps_working)
{
	self->fx.fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd);
	ASSERT_EQ(-1, delete_module(MODULE_NAME)) TH_LOG("the module was unloaded");
	ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, device_works());
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, NULL, NULL));
}

TEST_F(unload, refused_while_a_mapping_is_left)
{
	__u64 index;

	self->fx.fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, NULL));
	self->map_len = page_size();
	self->map = fx_mmap(&self->fx, self->fx.fd, index, 1);
	ASSERT_NE(MAP_FAILED, self->map) {
		self->map = NULL;
	}
	ASSERT_EQ(0, close(self->fx.fd));
	self->fx.fd = -1;
	/* The mapping holds the file, the file holds the module. */
	ASSERT_EQ(-1, delete_module(MODULE_NAME)) TH_LOG("the module was unloaded");
	ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY)
		TH_LOG("delete_module: %s", strerror(errno));
	WRITE_ONCE(*(uint8_t *)self->map, MARK);
	ASSERT_EQ(0, device_works());
}

/* Kernel log lines from @fd (opened at the end of /dev/kmsg) into @buf. */
static size_t read_kmsg(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1024 < size) {
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten: go on with the next */
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return len;
}

/* Does the log hold "@what <ref as %#x>" for each of @refs? */
static bool log_names_refs(const char *log, const char *what,
			   const uint32_t *refs, uint32_t count)
{
	char needle[64];
	uint32_t i;

	for (i = 0; i < count; i++) {
		snprintf(needle, sizeof(needle), "%s %#x ", what, refs[i]);
		if (!strstr(log, needle))
			return false;
	}
	return true;
}

TEST_F_TIMEOUT(unload, peer_mapped_pages_go_to_the_grant_table_core_and_back, 60)
{
	enum { N = 4 };
	static char log[256 * 1024];
	char want[128];
	uint32_t refs[N], i;
	__u64 index, start;
	uint8_t *p;
	size_t len = 0;
	bool freed = false;

	if (!self->fx.env.counters)
		SKIP(return, "%s is missing: stock driver", GNTALLOC_SYSFS);
	if (access(module_path(), R_OK))
		SKIP(return, "%s is missing: %s", module_path(),
		     "the module could not be loaded again (GNTALLOC_MODULE=)");
	if (access(GNTDEV_DEV, F_OK))
		SKIP(return, "%s is missing: load xen-gntdev", GNTDEV_DEV);
	ASSERT_EQ(0U, self->fx.env.base.open_files) TH_LOG("another program holds the device");
	ASSERT_EQ(0U, self->fx.env.base.in_use) TH_LOG("pages in use before the test");

	/* Watch the kernel log from now on; the grant-table core speaks in dynamic debug. */
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg);
	ASSERT_LE(0, lseek(self->kmsg, 0, SEEK_END));
	self->dyndbg = write_str_file(DYNDBG_CONTROL, GNTTAB_DYNDBG "+p") == 0;
	if (!self->dyndbg)
		TH_LOG("no dynamic debug (%s): the grant-table core's freeing is not observed",
		       DYNDBG_CONTROL);

	/* Pages a peer maps, released by their owner: pending. */
	self->fx.gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.gntdev);
	self->fx.fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fx.fd);
	ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, N, &index, refs));
	p = gntalloc_mmap(self->fx.fd, index, N);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < N; i++)
		*(__u64 *)(p + i * page_size()) = page_tag(i);
	ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, refs, N,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, munmap(p, N * page_size()));
	ASSERT_EQ(0, close(self->fx.fd));
	self->fx.fd = -1;
	ASSERT_EQ((__u64)N, counter("pending"));

	/* No file is open: the module goes, and hands the pages over. */
	ASSERT_EQ(0, delete_module(MODULE_NAME)) TH_LOG("delete_module: %s", strerror(errno));
	ASSERT_FALSE(module_loaded());
	ASSERT_NE(0, access(GNTALLOC_DEV, F_OK));
	len = read_kmsg(self->kmsg, log, sizeof(log));
	snprintf(want, sizeof(want), "%d pages still mapped by peers handed to the grant table",
		 N);
	EXPECT_NE(NULL, strstr(log, want)) TH_LOG("no \"%s\" in the kernel log", want);
	if (self->dyndbg)
		EXPECT_TRUE(log_names_refs(log, "deferring g.e.", refs, N))
			TH_LOG("the grant-table core did not take every page");

	/* Nothing was freed under the peer. */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(page_tag(i), peer_get64(&self->fx.peer, i, 0));
		peer_set64(&self->fx.peer, i, 8, ~page_tag(i));
	}
	sleep_ms(1500);		/* the core retries every second */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(page_tag(i), peer_get64(&self->fx.peer, i, 0));
		ASSERT_EQ(~page_tag(i), peer_get64(&self->fx.peer, i, 8));
	}
	if (self->dyndbg) {
		len = read_kmsg(self->kmsg, log, sizeof(log));
		for (i = 0; i < N; i++) {
			snprintf(want, sizeof(want), "freeing g.e. %#x ", refs[i]);
			EXPECT_EQ(NULL, strstr(log, want))
				TH_LOG("grant %#x freed while the peer maps it", refs[i]);
		}
	}

	/* The peer lets go: the core frees the pages, every second a batch. */
	peer_unmap(&self->fx.peer);
	start = now_ms();
	len = 0;
	while (self->dyndbg && now_ms() < start + DRAIN_TIMEOUT_MS) {
		len += read_kmsg(self->kmsg, log + len, sizeof(log) - len);
		freed = log_names_refs(log, "freeing g.e.", refs, N);
		if (freed)
			break;
		sleep_ms(50);
	}
	if (self->dyndbg) {
		EXPECT_TRUE(freed)
			TH_LOG("the grant-table core did not free every page within %d ms",
			       DRAIN_TIMEOUT_MS);
		TH_LOG("grant-table core freed the %d pages %llu ms after the peer unmapped them",
		       N, now_ms() - start);
	}

	/* And the module comes back, with the limit it had. */
	ASSERT_EQ(0, load_module(self->fx.env.limit)) TH_LOG("cannot load %s", module_path());
	ASSERT_TRUE(module_loaded());
	ASSERT_EQ(0, access(GNTALLOC_DEV, F_OK));
	ASSERT_EQ(self->fx.env.limit, counter("limit"));
	ASSERT_EQ(0U, counter("in_use"));
	ASSERT_EQ(0U, counter("pending"));
	ASSERT_EQ(0, device_works());
}

TEST_HARNESS_MAIN
