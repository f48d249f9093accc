/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A second domain for the xen-gntalloc selftests: helpers, without the
 * kselftest harness, for dom0's side (gntalloc_xdomain_test) and for the
 * guest's (gntalloc_xdomain_guest, the program a guest runs as its role).
 *
 * A guest is a PV domU made with Xen's own `xl create` from the test bed's
 * guest initramfs (qemu/mkguest.sh: busybox, the stock Xen modules, the same
 * xen-gntalloc as dom0's, and gntalloc_xdomain_guest).  Its /init loads the
 * modules and runs the role named on its command line (xdomain.role=).  The
 * role "server" takes commands from dom0 through xenstore, under the guest's
 * own home, /local/domain/<domid>/data/gntalloc:
 *
 *	ready	the guest writes "1" once it takes commands
 *	cmd	dom0 writes "SEQ VERB ARGS..."
 *	reply	the guest answers "SEQ RC TEXT": RC 0 or -errno
 *
 * The verbs (gntalloc_xdomain_guest.c) share pages through the guest's
 * /dev/xen/gntalloc, map dom0's through its /dev/xen/gntdev, bind an
 * interdomain event channel, read its counters and kernel log, and crash.
 * Everything is bounded: booting (XDOM_BOOT_MS), a command (XDOM_CMD_MS),
 * a domain going away (XDOM_GONE_MS).  A guest runs with panic_on_warn=1:
 * a WARN or an oops crashes it, and Xen destroys it (on_crash="destroy"); a
 * command to a guest that is gone fails at once, and dom0's side prints the
 * guest's console (xenconsoled logs it to XDOM_CONSOLE_DIR).
 *
 * Every function returns 0 or -errno unless its comment says otherwise.
 */

#ifndef GNTALLOC_XDOMAIN_H
#define GNTALLOC_XDOMAIN_H

#include <stdarg.h>
#include <xenstore.h>

#include "gntalloc_lib.h"

#define XDOM_KERNEL		"/xdomain/vmlinuz"
#define XDOM_RAMDISK		"/xdomain/guest.cpio.gz"
#define XDOM_CONSOLE_DIR	"/var/log/xen/console"
#define XDOM_CFG_DIR		"/tmp"
#define XDOM_MEMORY_MB		128
/* Under QEMU's emulation a guest boots in 6-15 s; a loaded machine is slower. */
#define XDOM_BOOT_MS		120000
#define XDOM_CMD_MS		20000
#define XDOM_GONE_MS		30000
#define XDOM_HOME		"data/gntalloc"	/* under /local/domain/<domid> */
#define XDOM_MAX_REFS		64
#define XDOM_TEXT		1024

/* ---------------------------------------------------------------------- */
/* Both sides: the pages' contents                                          */
/* ---------------------------------------------------------------------- */

static inline __u64 xdom_word(uint32_t seed, size_t page, size_t i)
{
	return ((__u64)seed << 32) ^ ((__u64)page << 20) ^ i ^ 0x5a5a0000ULL;
}

/* Fill @pages pages at @addr with @seed's pattern. */
static inline void xdom_fill(void *addr, size_t pages, uint32_t seed)
{
	size_t words = page_size() / sizeof(__u64), p, i;
	__u64 *w = addr;

	for (p = 0; p < pages; p++)
		for (i = 0; i < words; i++)
			WRITE_ONCE(w[p * words + i], xdom_word(seed, p, i));
}

/* The first page at @addr that does not hold @seed's pattern, or -1. */
static inline long xdom_check(const void *addr, size_t pages,
			      uint32_t seed)
{
	size_t words = page_size() / sizeof(__u64), p, i;
	const __u64 *w = addr;

	for (p = 0; p < pages; p++)
		for (i = 0; i < words; i++)
			if (READ_ONCE(w[p * words + i]) != xdom_word(seed, p, i))
				return (long)p;
	return -1;
}

/* "r1,r2,..." of @count refs into @buf. */
static inline void xdom_format_refs(char *buf, size_t size,
				    const uint32_t *refs, uint32_t count)
{
	size_t len = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < count && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%u",
					i ? "," : "", refs[i]);
}

/* Parse "r1,r2,...": how many (at most @max), or -EINVAL. */
static inline int xdom_parse_refs(const char *s, uint32_t *refs, uint32_t max)
{
	uint32_t n = 0;
	char *end;

	while (*s && n < max) {
		refs[n++] = (uint32_t)strtoul(s, &end, 10);
		if (end == s)
			return -EINVAL;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			break;
	}
	return (int)n;
}

/* xenstore: write @value to @path (one transaction-less write). */
static inline int xdom_xs_write(struct xs_handle *xs, const char *path,
				const char *value)
{
	return xs_write(xs, XBT_NULL, path, value, (unsigned int)strlen(value)) ?
	       0 : -(errno ? errno : EIO);
}

/* xenstore: @path's value into @buf (NUL-terminated). */
static inline int xdom_xs_read(struct xs_handle *xs, const char *path,
			       char *buf, size_t size)
{
	unsigned int len;
	char *v = xs_read(xs, XBT_NULL, path, &len);

	if (!v)
		return -(errno ? errno : ENOENT);
	snprintf(buf, size, "%.*s", (int)len, v);
	free(v);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Dom0's side: guests made with xl                                         */
/* ---------------------------------------------------------------------- */

/*
 * A guest as dom0 knows it.  It holds no handle or descriptor: the harness
 * runs SETUP and the test in one process and TEARDOWN in another, and a
 * struct in the fixture is seen by both.
 */
struct xdom_guest {
	char name[32];
	int domid;		/* -1 once gone */
	unsigned int seq;	/* of the last command */
};

/*
 * Run the shell command made of @fmt: its exit status (or -1), with the
 * first @size - 1 bytes of its output in @out (may be NULL).
 */
static inline int xdom_sh(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512], line[256];
	size_t len = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (out)
		out[0] = '\0';
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (out && len + 1 < size)
			len += (size_t)snprintf(out + len, size - len, "%s", line);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The domid of the domain called @name, or -1 if there is none. */
static inline int xdom_domid(const char *name)
{
	char out[32];

	if (xdom_sh(out, sizeof(out), "xl domid %s 2>/dev/null", name))
		return -1;
	return atoi(out);
}

/*
 * Whether domain @domid is still guest @name: its xenstore home names it
 * (the toolstack removes the home when it destroys a domain).  Much cheaper
 * than asking xl, which under emulation costs a good part of a second.
 */
static inline bool xdom_alive(struct xs_handle *xs, int domid, const char *name)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/local/domain/%d/name", domid);
	return !xdom_xs_read(xs, path, buf, sizeof(buf)) && !strcmp(buf, name);
}

/* Print the last @lines lines of @name's console (xenconsoled's log). */
static inline void xdom_show_console(const char *name, int lines)
{
	char out[8192];

	xdom_sh(out, sizeof(out), "tail -n %d %s/guest-%s.log 2>&1", lines,
		XDOM_CONSOLE_DIR, name);
	printf("# --- console of guest %s (last %d lines) ---\n", name, lines);
	for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n"))
		printf("# %s| %s\n", name, s);
	/* and what dom0 had left: a guest that cannot start may lack memory */
	xdom_sh(out, sizeof(out), "free -m; xl list 2>&1");
	for (char *s = strtok(out, "\n"); s; s = strtok(NULL, "\n"))
		printf("# dom0| %s\n", s);
	fflush(stdout);
}

static inline void xdom_path(char *buf, size_t size, int domid,
			     const char *leaf)
{
	snprintf(buf, size, "/local/domain/%d/" XDOM_HOME "/%s", domid, leaf);
}

/* Wait up to @ms for guest @name to be gone (destroyed, crashed): 0 or -ETIMEDOUT. */
static inline int xdom_wait_gone(const char *name, int ms)
{
	__u64 deadline = now_ms() + (__u64)ms;
	int domid = xdom_domid(name);
	struct xs_handle *xs;
	int err = 0;

	if (domid < 0)
		return 0;
	xs = xs_open(0);
	if (!xs)
		return -EIO;
	while (xdom_alive(xs, domid, name)) {
		if (now_ms() > deadline) {
			err = -ETIMEDOUT;
			break;
		}
		sleep_ms(20);
	}
	xs_close(xs);
	/* and the toolstack has forgotten it */
	while (!err && xdom_domid(name) >= 0) {
		if (now_ms() > deadline)
			err = -ETIMEDOUT;
		sleep_ms(50);
	}
	return err;
}

/* Destroy @g's domain if it still exists, and wait until it is gone. */
static inline int xdom_destroy(struct xdom_guest *g)
{
	int err;

	if (xdom_domid(g->name) >= 0 && xdom_sh(NULL, 0, "xl destroy %s 2>&1", g->name))
		return -EIO;
	err = xdom_wait_gone(g->name, XDOM_GONE_MS);
	if (!err)
		g->domid = -1;
	return err;
}

/*
 * Send "VERB ARGS" (@fmt) to @g and wait for its reply, whose TEXT goes to
 * @reply (may be NULL).  The guest's RC (0 or -errno); -ETIMEDOUT if no
 * reply came in XDOM_CMD_MS, -ESRCH at once if the domain is gone (then its
 * console is printed).
 */
static inline int xdom_cmd(struct xdom_guest *g, char *reply, size_t size,
			   const char *fmt, ...)
{
	char path[128], cmd[XDOM_TEXT], buf[XDOM_TEXT], text[XDOM_TEXT];
	__u64 deadline = now_ms() + XDOM_CMD_MS, checked = now_ms();
	struct xs_handle *xs;
	unsigned int seq;
	int rc, n, err = -ETIMEDOUT;
	va_list ap;

	if (reply)
		reply[0] = '\0';
	if (g->domid < 0)
		return -ESRCH;
	xs = xs_open(0);
	if (!xs)
		return -(errno ? errno : EIO);
	seq = ++g->seq;
	n = snprintf(cmd, sizeof(cmd), "%u ", seq);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	xdom_path(path, sizeof(path), g->domid, "cmd");
	rc = xdom_xs_write(xs, path, cmd);
	if (rc) {
		xs_close(xs);
		return rc;
	}
	xdom_path(path, sizeof(path), g->domid, "reply");
	while (now_ms() < deadline) {
		unsigned int got;

		text[0] = '\0';
		if (!xdom_xs_read(xs, path, buf, sizeof(buf)) &&
		    sscanf(buf, "%u %d %1023[^\n]", &got, &rc, text) >= 2 &&
		    got == seq) {
			if (reply)
				snprintf(reply, size, "%s", text);
			err = rc;
			break;
		}
		/* A guest that crashed answers nothing: do not wait for it. */
		if (now_ms() - checked > 200) {
			checked = now_ms();
			if (!xdom_alive(xs, g->domid, g->name)) {
				err = -ESRCH;
				break;
			}
		}
		sleep_ms(5);
	}
	xs_close(xs);
	if (err == -ESRCH || err == -ETIMEDOUT) {
		printf("# guest %s (domid %d) gave no answer to '%s': %s\n",
		       g->name, g->domid, cmd,
		       err == -ESRCH ? "the domain is gone" : "timed out");
		xdom_show_console(g->name, 60);
	}
	return err;
}

/*
 * Find the running guest @name and check that it answers: 0, or -ESRCH if
 * there is no such domain.
 */
static inline int xdom_attach(struct xdom_guest *g, const char *name)
{
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->domid = xdom_domid(name);
	if (g->domid < 0)
		return -ESRCH;
	/* Commands are numbered from the time: a reused guest saw others. */
	g->seq = (unsigned int)now_ms();
	return xdom_cmd(g, NULL, 0, "ping");
}

/*
 * Start guest @name with `xl create`, running @role (the guest's /init reads
 * xdomain.role=); it is booting when this returns.  On failure its console
 * is printed and the domain destroyed.
 */
static inline int xdom_create(struct xdom_guest *g, const char *name,
			      const char *role)
{
	char cfg[128], out[2048];
	FILE *f;

	memset(g, 0, sizeof(*g));
	g->domid = -1;
	g->seq = (unsigned int)now_ms();	/* the start, until it is up */
	snprintf(g->name, sizeof(g->name), "%s", name);
	snprintf(cfg, sizeof(cfg), XDOM_CFG_DIR "/xdom-%s.cfg", name);
	f = fopen(cfg, "we");
	if (!f)
		return -errno;
	fprintf(f,
		"name = \"%s\"\n"
		"type = \"pv\"\n"
		"kernel = \"" XDOM_KERNEL "\"\n"
		"ramdisk = \"" XDOM_RAMDISK "\"\n"
		"memory = %d\n"
		"vcpus = 1\n"
		"extra = \"console=hvc0 rdinit=/init quiet panic_on_warn=1 oops=panic xdomain.role=%s\"\n"
		"on_poweroff = \"destroy\"\n"
		"on_reboot = \"destroy\"\n"
		"on_crash = \"destroy\"\n",
		name, XDOM_MEMORY_MB, role);
	fclose(f);
	if (xdom_sh(out, sizeof(out), "xl create -q %s 2>&1", cfg)) {
		printf("# xl create %s failed:\n%s", cfg, out);
		xdom_show_console(name, 60);
		xdom_destroy(g);
		return -EIO;
	}
	g->domid = xdom_domid(name);
	if (g->domid < 0) {
		xdom_show_console(name, 60);
		return -ESRCH;
	}
	return 0;
}

/*
 * Wait until a guest that xdom_create() started takes commands, at most
 * XDOM_BOOT_MS from its start.  On failure its console is printed and the
 * domain destroyed.
 */
static inline int xdom_wait_ready(struct xdom_guest *g)
{
	__u64 start = g->seq, deadline = start + XDOM_BOOT_MS;
	char path[128], buf[64];
	struct xs_handle *xs;
	int err = -ETIMEDOUT;

	xs = xs_open(0);
	if (!xs) {
		xdom_destroy(g);
		return -EIO;
	}
	xdom_path(path, sizeof(path), g->domid, "ready");
	while (now_ms() < deadline) {
		if (!xdom_xs_read(xs, path, buf, sizeof(buf)) && buf[0] == '1') {
			err = 0;
			break;
		}
		if (!xdom_alive(xs, g->domid, g->name)) {
			err = -ESRCH;
			break;
		}
		sleep_ms(100);
	}
	xs_close(xs);
	if (err) {
		printf("# guest %s did not come up: %s\n", g->name,
		       err == -ESRCH ? "the domain died" : "timed out");
		xdom_show_console(g->name, 60);
		xdom_destroy(g);
		return err;
	}
	printf("# guest %s (domid %d) up in %llu ms\n", g->name, g->domid,
	       now_ms() - start);
	g->seq = (unsigned int)now_ms();
	return 0;
}

/* xdom_create() and xdom_wait_ready(). */
static inline int xdom_boot(struct xdom_guest *g, const char *name,
			    const char *role)
{
	int err = xdom_create(g, name, role);

	return err ? err : xdom_wait_ready(g);
}

#endif /* GNTALLOC_XDOMAIN_H */
