/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TCP segments for tests and fuzz targets: crafting one as an app's kernel
 * would send it into the TUN, and taking back what the stack wrote toward
 * the app (flattened, checksum completed as the kernel would with offload,
 * parsed with our own parsers). No cmocka: fuzz targets use it too.
 */
#ifndef PROXYVPN_TEST_SEGMENT_H
#define PROXYVPN_TEST_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ip.h"
#include "tcp.h"

/* One segment from the app: src:sport is the app, dst:dport where it dialled. */
struct seg_spec {
	int family;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *opt; /* optlen bytes, a multiple of 4, at most TCP_MAX_OPT */
	size_t optlen;
	const void *data;
	size_t len;
	bool bad_csum; /* a checksum that does not add up */
};

/* Builds it (IP header first) into pkt: the packet's length, or 0 if cap is short. */
size_t seg_build(uint8_t *pkt, size_t cap, const struct seg_spec *s);

/* A packet the stack wrote toward the app, taken back. */
struct seg_out {
	uint8_t pkt[8192]; /* larger packets are not captured (seg_capture: -1) */
	size_t len;
	bool has_o; /* written with a tcp_out (offload): o is set */
	struct tcp_out o;
	struct ip_view ip;
	struct tcp_seg seg;
};

/*
 * Flattens iov into out, completes an offloaded checksum the way the
 * kernel does (tcp_out: a pseudo-header sum in the field), and parses it.
 * 0, or -1 if it is no valid TCP packet (bad length, checksum, header).
 */
int seg_capture(struct seg_out *out, const struct iovec *iov, int iovcnt, const struct tcp_out *o);

#endif
