// SPDX-License-Identifier: GPL-2.0
/*
 * libxenvchan's side of the xdomain selftests (gntalloc_xdomain_vchan.h).
 * The server shares its rings through /dev/xen/gntalloc (libxengnttab's
 * xengntshr), the client maps them through /dev/xen/gntdev.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>

#include "gntalloc_xdomain_vchan.h"

#define CHUNK	4096

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read exactly @size bytes: 0, or -1 when the peer went away. */
static int recv_all(struct libxenvchan *v, void *buf, size_t size)
{
	return libxenvchan_recv(v, buf, size) == (int)size ? 0 : -1;
}

static int serve_one(struct libxenvchan *v)
{
	uint8_t buf[CHUNK];
	uint64_t len, got = 0, h = XDOM_FNV_BASIS;
	int n;

	if (recv_all(v, &len, sizeof(len)))
		return -1;
	while (got < len) {
		n = libxenvchan_read(v, buf, len - got < CHUNK ? len - got : CHUNK);
		if (n <= 0)
			return -1;
		h = xdom_fnv(h, buf, (size_t)n);
		got += (uint64_t)n;
	}
	if (libxenvchan_send(v, &h, sizeof(h)) != (int)sizeof(h))
		return -1;
	/* The sender closes first: then nothing it still has to read is lost. */
	while (libxenvchan_is_open(v) == 1)
		libxenvchan_wait(v);
	return 0;
}

int xdom_vchan_serve(const char *path, int domid, size_t ring, unsigned int count,
		     void (*ready)(unsigned int i))
{
	struct libxenvchan *v;
	unsigned int i;
	int err;

	for (i = 0; i < count; i++) {
		v = libxenvchan_server_init(NULL, domid, path, ring, ring);
		if (!v) {
			fprintf(stderr, "vchan: server_init %s for domain %d: %s\n",
				path, domid, strerror(errno));
			return -1;
		}
		v->blocking = 1;
		if (ready)
			ready(i + 1);
		err = serve_one(v);
		libxenvchan_close(v);
		if (err) {
			fprintf(stderr, "vchan: connection %u of %u broke\n", i + 1, count);
			return -1;
		}
	}
	return 0;
}

int xdom_vchan_send(const char *path, int domid, uint64_t bytes, uint32_t seed,
		    int wait_ms)
{
	uint64_t deadline = ms_now() + (uint64_t)wait_ms, sent = 0, h = XDOM_FNV_BASIS;
	uint64_t back;
	struct libxenvchan *v;
	uint8_t buf[CHUNK];
	size_t n, k;

	while (!(v = libxenvchan_client_init(NULL, domid, path))) {
		if (ms_now() > deadline) {
			fprintf(stderr, "vchan: no server at %s of domain %d\n", path, domid);
			return -1;
		}
		usleep(20000);
	}
	v->blocking = 1;
	if (libxenvchan_send(v, &bytes, sizeof(bytes)) != (int)sizeof(bytes))
		goto broke;
	while (sent < bytes) {
		n = bytes - sent < CHUNK ? (size_t)(bytes - sent) : CHUNK;
		for (k = 0; k < n; k++)
			buf[k] = xdom_stream_byte(seed, sent + k);
		h = xdom_fnv(h, buf, n);
		/*
		 * write, not send: send refuses more than the ring holds (the
		 * proxy's rings are 1 KB), a blocking write waits for room.
		 */
		if (libxenvchan_write(v, buf, n) != (int)n)
			goto broke;
		sent += n;
	}
	if (recv_all(v, &back, sizeof(back)))
		goto broke;
	libxenvchan_close(v);
	if (back != h) {
		fprintf(stderr, "vchan: hash %016llx came back for %016llx\n",
			(unsigned long long)back, (unsigned long long)h);
		return -1;
	}
	return 0;
broke:
	fprintf(stderr, "vchan: the connection broke after %llu of %llu bytes\n",
		(unsigned long long)sent, (unsigned long long)bytes);
	libxenvchan_close(v);
	return -1;
}
