/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixtures of the xen-gntalloc selftests: gntalloc_lib.h plus the
 * kselftest harness (linux-source-6.12's, for every kernel under test).
 *
 * Every fixture embeds a struct gntalloc_env, most of them through the
 * shared struct gntalloc_fixture below.  SETUP records the limit and the
 * gauges (in_use, pending, mapped, open_files); TEARDOWN puts the limit back
 * and checks that every gauge returned to its SETUP value, so every test
 * also proves that it leaked nothing.  The stock driver has no counters: on
 * it the number of pages in use is measured by probing the limit (see
 * gntalloc_probe_in_use()), and the other gauges are not checked.
 *
 * A test is then about twenty lines:
 *
 *	FIXTURE(example) {
 *		struct gntalloc_fixture fx;
 *	};
 *
 *	FIXTURE_SETUP(example)
 *	{
 *		if (!gntalloc_fixture_setup(_metadata, &self->fx, FX_GNTDEV))
 *			return;
 *	}
 *
 *	FIXTURE_TEARDOWN_PARENT(example)
 *	{
 *		gntalloc_fixture_teardown(_metadata, &self->fx);
 *	}
 *
 *	TEST_F(example, peer_sees_the_owners_write)
 *	{
 *		__u64 index;
 *		uint32_t ref;
 *		uint8_t *mine;
 *
 *		ASSERT_EQ(0, gntalloc_alloc_rw(self->fx.fd, 1, &index, &ref));
 *		mine = fx_mmap(&self->fx, self->fx.fd, index, 1);
 *		ASSERT_NE(MAP_FAILED, mine);
 *		ASSERT_EQ(0, peer_map(&self->fx.peer, self->fx.gntdev, &ref, 1,
 *				      PROT_READ));
 *		mine[0] = MARK;
 *		EXPECT_EQ(MARK, peer_get(&self->fx.peer, 0, 0));
 *	}
 *
 * and TEARDOWN unmaps, closes and checks the gauges.
 *
 * Processes.  Fixtures use FIXTURE_TEARDOWN_PARENT: the harness runs
 * SETUP and the test in a process of their own, and TEARDOWN in its parent
 * once that process has ended, whatever happened to it; FIXTURE_TEARDOWN
 * (in the test's process) is skipped after a failed ASSERT in a build with
 * -O2, because the harness' longjmp brings back its local `child` as it was
 * at setjmp() time.  The same clobbered `child` makes the test's process,
 * after a failed ASSERT, take itself for the parent and run
 * FIXTURE_TEARDOWN_PARENT itself (once: the harness guards it).  So TEARDOWN
 * runs in either process, and env_in_test_process() tells which:
 * gntalloc_fixture_teardown() lets go of what the test holds only in the
 * test's process.
 *
 * With FIXTURE_TEARDOWN_PARENT the fixture's data is shared (MAP_SHARED)
 * with every process the test forks.  Code that runs in a forked child must
 * not use ASSERT_*()/EXPECT_*(), must not write to the fixture's data, and
 * must not read what the test changes in it after fork(): fork()'s result
 * goes to a local first, children get copies, and report through their exit
 * status.
 *
 * SETUP skips a test (SKIP(return, ...), naming what is missing) only when a
 * device or an interface of the replacement is absent; the 6.12 harness then
 * runs neither the test nor TEARDOWN.
 */

#ifndef GNTALLOC_FIXTURE_H
#define GNTALLOC_FIXTURE_H

#include <signal.h>

#include "gntalloc_lib.h"

/*
 * The 6.12 harness has an unused parameter (in __timeout_handler) that
 * -Wextra reports; keep our own code under -Wextra.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "../../../kselftest_harness.h"
#pragma GCC diagnostic pop
/*
 * Each TEST_F expands to the harness' wrapper, whose local `child` is live
 * across setjmp(): -Wextra warns, rightly, that it "might be clobbered by
 * longjmp" (see "Processes" above for what that does).  Ours are not used
 * after a longjmp.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

/*
 * In FIXTURE_SETUP: skip the test unless @path (a device of @module) exists;
 * @statement is SKIP()'s (return, at the call site, where it can be seen).
 */
#define REQUIRE_DEVICE(statement, path, module) do { \
	const char *_dev = (path); \
	if (access(_dev, F_OK)) \
		SKIP(statement, "%s is missing: load %s", _dev, module); \
} while (0)

/* ---------------------------------------------------------------------- */
/* The environment every fixture embeds                                     */
/* ---------------------------------------------------------------------- */

struct gntalloc_env {
	pid_t pid;			/* the test's process */
	bool counters;			/* the replacement's sysfs counters */
	__u64 limit;			/* at SETUP; TEARDOWN puts it back */
	struct gntalloc_counters base;	/* at SETUP (only in_use on stock) */
};

/* Counters now; without sysfs counters, only in_use (see read_gauges()). */
static inline int env_snapshot(const struct gntalloc_env *env,
			       struct gntalloc_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (env->counters)
		return read_counters(c);
	return gntalloc_probe_in_use(&c->in_use);
}

/*
 * The first thing of every FIXTURE_SETUP: false when it skipped the test
 * (no device), and SETUP must return at once:
 *
 *	if (!env_setup(_metadata, &self->env))
 *		return;
 */
static inline bool env_setup(struct __test_metadata *_metadata,
			     struct gntalloc_env *env)
{
	memset(env, 0, sizeof(*env));
	env->pid = getpid();
	if (access(GNTALLOC_DEV, F_OK)) {
		SKIP(return false,
		     "%s is missing: xen-gntalloc is not loaded, or this is not a Xen domain",
		     GNTALLOC_DEV);
	}
	ASSERT_EQ(0, get_limit(&env->limit)) {
		TH_LOG("cannot read %s", GNTALLOC_PARAM_LIMIT);
	}
	env->counters = have_counters();
	ASSERT_EQ(0, env_snapshot(env, &env->base)) {
		TH_LOG("cannot read the counters");
	}
	return true;
}

/*
 * Whether TEARDOWN runs in the test's own process, which must then let go of
 * what the test holds before the gauges are checked.  Otherwise it runs in
 * the parent after the test's process ended, whose exit let go of everything
 * (and there the fixture's descriptors and pointers mean nothing).  See the
 * comment at the top of this file for when each happens.
 */
static inline bool env_in_test_process(const struct gntalloc_env *env)
{
	return getpid() == env->pid;
}

/* For tests of the replacement's own interfaces; @statement as in SKIP(). */
#define REQUIRE_COUNTERS(statement, env) do { \
	if (!(env)->counters) \
		SKIP(statement, "%s is missing: stock driver, no counters", \
		     GNTALLOC_SYSFS); \
} while (0)

/*
 * Wait (wait_gauges()) until the gauges are back at the SETUP values, then
 * check them.  No ASSERT here: TEARDOWN runs under the harness' setjmp().
 */
static inline void env_expect_baseline(struct __test_metadata *_metadata,
				       const struct gntalloc_env *env)
{
	const struct gntalloc_counters *b = &env->base;
	struct gntalloc_counters c;
	int err;

	err = wait_gauges(b, GAUGES_ALL, &c);
	if (err && err != -ETIMEDOUT) {
		EXPECT_EQ(0, err) TH_LOG("cannot read the counters");
		return;
	}
	EXPECT_EQ(b->in_use, c.in_use) TH_LOG("in_use leaked");
	if (!env->counters)
		return;
	EXPECT_EQ(b->pending, c.pending) TH_LOG("pending leaked");
	EXPECT_EQ(b->mapped, c.mapped) TH_LOG("mapped leaked");
	EXPECT_EQ(b->open_files, c.open_files) TH_LOG("open_files leaked");
	EXPECT_EQ(c.in_use, c.allocated_total - c.freed_total)
		TH_LOG("allocated_total - freed_total != in_use when idle");
}

/* The other tunables back at their SETUP values, no per-domain quota */
static inline void env_restore_tunables(struct __test_metadata *_metadata,
					const struct gntalloc_env *env)
{
	const struct gntalloc_counters *b = &env->base;

	if (!env->counters)
		return;
	EXPECT_EQ(0, set_tunable("domain_limit", b->domain_limit));
	EXPECT_EQ(0, set_tunable("file_limit", b->file_limit));
	EXPECT_EQ(0, set_tunable("grant_reserve", b->grant_reserve));
	EXPECT_EQ(0, set_tunable("quarantine_ms", b->quarantine_ms));
	EXPECT_EQ(0, clear_domain_limits());
}

static inline void env_teardown(struct __test_metadata *_metadata,
				const struct gntalloc_env *env)
{
	EXPECT_EQ(0, set_limit(env->limit));
	env_restore_tunables(_metadata, env);
	env_expect_baseline(_metadata, env);
}

/*
 * Check that nothing changed since @before, except limit_hits and
 * alloc_failures, which moved by @hits and @failures.  Without counters
 * (stock driver) only in_use can be checked.
 */
static inline void expect_unchanged(struct __test_metadata *_metadata,
				    const struct gntalloc_env *env,
				    const struct gntalloc_counters *before,
				    __u64 hits, __u64 failures)
{
	struct gntalloc_counters now;

	ASSERT_EQ(0, env_snapshot(env, &now));
	EXPECT_EQ(before->in_use, now.in_use);
	if (!env->counters)
		return;
	EXPECT_EQ(before->pending, now.pending);
	EXPECT_EQ(before->mapped, now.mapped);
	EXPECT_EQ(before->allocated_total, now.allocated_total);
	EXPECT_EQ(before->freed_total, now.freed_total);
	EXPECT_EQ(before->limit_hits + hits, now.limit_hits);
	EXPECT_EQ(before->alloc_failures + failures, now.alloc_failures);
}

/* Check that in_use moved by @delta pages since @before. */
static inline void expect_in_use(struct __test_metadata *_metadata,
				 const struct gntalloc_env *env,
				 const struct gntalloc_counters *before,
				 __s64 delta)
{
	struct gntalloc_counters now;

	ASSERT_EQ(0, env_snapshot(env, &now));
	EXPECT_EQ(before->in_use + (__u64)delta, now.in_use);
}

/* Allow @extra more pages than are in use now. */
static inline int limit_headroom(const struct gntalloc_env *env, __u64 extra)
{
	struct gntalloc_counters c;
	int err = env_snapshot(env, &c);

	return err ? err : set_limit(c.in_use + extra);
}

/* ---------------------------------------------------------------------- */
/* The shared fixture: the device, the peer, a child and its pipes          */
/* ---------------------------------------------------------------------- */

/* What gntalloc_fixture_setup() opens besides /dev/xen/gntalloc. */
#define FX_GNTDEV	BIT(0)	/* gntdev, for the peer: skips without it */
#define FX_EVTCHN	BIT(1)	/* one event channel pair: skips without it */
#define FX_PIPES	BIT(2)	/* to_child and to_parent */
#define FX_NO_FILE	BIT(3)	/* no /dev/xen/gntalloc: the test opens fd */

#define FX_MAPS		8		/* mappings fx_mmap() tracks */

struct gntalloc_fixture {
	struct gntalloc_env env;
	int fd;			/* /dev/xen/gntalloc */
	int fd2;		/* a second file, if the test opens one */
	int gntdev;		/* /dev/xen/gntdev, with FX_GNTDEV */
	struct evtchn_pair ev;	/* with FX_EVTCHN */
	struct peer_map peer;	/* the peer's mapping (peer_map()) */
	pid_t child;		/* a child of the test, if it forks one */
	int to_child[2];	/* with FX_PIPES: test -> child */
	int to_parent[2];	/* with FX_PIPES: child -> test */
	struct {
		void *addr;
		size_t len;
	} maps[FX_MAPS];	/* fx_mmap()'s and fx_track()'s */
};

/*
 * The first thing of FIXTURE_SETUP: open what @needs (FX_*) asks for.
 * False when it skipped the test (a device is missing): SETUP must return
 * at once.
 */
static inline bool gntalloc_fixture_setup(struct __test_metadata *_metadata,
					  struct gntalloc_fixture *fx,
					  unsigned int needs)
{
	memset(fx, 0, sizeof(*fx));
	fx->fd = -1;
	fx->fd2 = -1;
	fx->gntdev = -1;
	fx->ev.fd_local = -1;
	fx->ev.fd_remote = -1;
	fx->to_child[0] = -1;
	fx->to_child[1] = -1;
	fx->to_parent[0] = -1;
	fx->to_parent[1] = -1;
	if (!env_setup(_metadata, &fx->env))
		return false;
	if ((needs & FX_GNTDEV) && access(GNTDEV_DEV, F_OK))
		SKIP(return false, "%s is missing: load xen-gntdev", GNTDEV_DEV);
	if ((needs & FX_EVTCHN) && access(EVTCHN_DEV, F_OK))
		SKIP(return false, "%s is missing: load xen-evtchn", EVTCHN_DEV);
	if (!(needs & FX_NO_FILE)) {
		fx->fd = open(GNTALLOC_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fx->fd) TH_LOG("open %s: %s", GNTALLOC_DEV,
					    strerror(errno));
	}
	if (needs & FX_GNTDEV) {
		fx->gntdev = open(GNTDEV_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fx->gntdev) TH_LOG("open %s: %s", GNTDEV_DEV,
						strerror(errno));
	}
	if (needs & FX_EVTCHN)
		ASSERT_EQ(0, evtchn_pair_open(&fx->ev));
	if (needs & FX_PIPES) {
		ASSERT_EQ(0, pipe2(fx->to_child, O_CLOEXEC));
		ASSERT_EQ(0, pipe2(fx->to_parent, O_CLOEXEC));
	}
	return true;
}

/* Have TEARDOWN munmap [@addr, @addr + @len) if the test did not. */
static inline void fx_track(struct gntalloc_fixture *fx, void *addr,
			    size_t len)
{
	int i;

	for (i = 0; i < FX_MAPS; i++) {
		if (!fx->maps[i].addr) {
			fx->maps[i].addr = addr;
			fx->maps[i].len = len;
			return;
		}
	}
}

/* gntalloc_mmap(), tracked: TEARDOWN unmaps whatever is left of it. */
static inline void *fx_mmap(struct gntalloc_fixture *fx, int fd,
			    __u64 index, size_t pages)
{
	void *addr = gntalloc_mmap(fd, index, pages);

	if (addr != MAP_FAILED)
		fx_track(fx, addr, pages * page_size());
	return addr;
}

/* munmap() a whole mapping made by fx_mmap() or fx_track(); -1 if unknown. */
static inline int fx_munmap(struct gntalloc_fixture *fx, void *addr)
{
	int i;

	for (i = 0; i < FX_MAPS; i++) {
		if (fx->maps[i].addr == addr) {
			fx->maps[i].addr = NULL;
			return munmap(addr, fx->maps[i].len);
		}
	}
	return -1;
}

/* Forget @addr (the test unmapped it, or a part of it, itself). */
static inline void fx_untrack(struct gntalloc_fixture *fx, void *addr)
{
	int i;

	for (i = 0; i < FX_MAPS; i++)
		if (fx->maps[i].addr == addr)
			fx->maps[i].addr = NULL;
}

/* Kill the test's child, and reap it in the test's process (TEARDOWN). */
static inline void gntalloc_fixture_stop_child(struct gntalloc_fixture *fx)
{
	/* A child of the test may outlive it: it holds grants. */
	kill_child(&fx->child, env_in_test_process(&fx->env));
}

/*
 * The whole of FIXTURE_TEARDOWN_PARENT for most fixtures: kill the child,
 * let go of everything (in the test's process), put the limit back and
 * check the gauges.
 */
static inline void gntalloc_fixture_teardown(struct __test_metadata *_metadata,
					     struct gntalloc_fixture *fx)
{
	int i;

	gntalloc_fixture_stop_child(fx);
	if (env_in_test_process(&fx->env)) {
		for (i = 0; i < FX_MAPS; i++)
			if (fx->maps[i].addr)
				munmap(fx->maps[i].addr, fx->maps[i].len);
		peer_unmap(&fx->peer);
		close_pipe(fx->to_child);
		close_pipe(fx->to_parent);
		close_if_open(fx->gntdev);
		close_if_open(fx->fd2);
		close_if_open(fx->fd);
		evtchn_pair_close(&fx->ev);
	}
	env_teardown(_metadata, &fx->env);
}

#endif /* GNTALLOC_FIXTURE_H */
