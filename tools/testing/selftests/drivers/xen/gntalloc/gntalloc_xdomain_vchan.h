/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libxenvchan for the xdomain selftests, in a file of its own: libxenvchan.h
 * brings Xen's copy of the evtchn ioctls, which clash with the kernel's
 * <xen/evtchn.h> that the rest of the suite uses.
 *
 * The exchange, over any byte stream (a vchan, or the UNIX socket of Xen's
 * vchan-socket-proxy): the sender writes the length (8 bytes, host order),
 * then that many bytes of xdom_stream_byte(seed, i); the receiver answers
 * with the FNV-1a hash (8 bytes) of what it read, and the sender compares it
 * with its own.  Then the sender closes, and the receiver after it.
 */

#ifndef GNTALLOC_XDOMAIN_VCHAN_H
#define GNTALLOC_XDOMAIN_VCHAN_H

#include <stddef.h>
#include <stdint.h>

#define XDOM_FNV_BASIS	0xcbf29ce484222325ULL

static inline uint64_t xdom_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static inline uint8_t xdom_stream_byte(uint32_t seed, uint64_t i)
{
	uint64_t z = (i / 8 + seed) * 0x9e3779b97f4a7c15ULL;

	z ^= z >> 29;
	return (uint8_t)(z >> (8 * (i % 8)));
}

/*
 * Serve @count vchan connections in turn, as the vchan server at @path for
 * @domid, with rings of @ring bytes a side; @ready(i) is called once the
 * i-th server is published.  0, or -1 when one failed (a message on stderr).
 */
int xdom_vchan_serve(const char *path, int domid, size_t ring, unsigned int count,
		     void (*ready)(unsigned int i));

/*
 * As a vchan client of @domid at @path (waiting up to @wait_ms for the
 * server), send @bytes of @seed's stream and check the hash that comes back.
 * 0, or -1 (a message on stderr).
 */
int xdom_vchan_send(const char *path, int domid, uint64_t bytes, uint32_t seed,
		    int wait_ms);

#endif /* GNTALLOC_XDOMAIN_VCHAN_H */
