/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fault injection between the TUN and the TCP stack, for tests only: an
 * object of its own (fault_new) that the engine hands each packet and that
 * hands them back, later, twice or never, through a callback. It exists
 * only when the build defines PROXYVPN_FAULT (make fault); otherwise the
 * few calls the engine makes are empty inlines and the binary holds no
 * fault code at all.
 *
 * Configured once at engine start from the environment:
 *   PROXYVPN_FAULT="seed=7,in.loss=5,out.loss=5,reorder=25,dup=1,corrupt=0.1,delay=20"
 * loss, reorder, dup, corrupt are percentages (0-100, up to 4 decimals),
 * delay is in ms (0-10000); each key alone applies to both directions, with
 * "in." to packets from the TUN (the app's) only, with "out." to packets to
 * the TUN only. seed (decimal, 64 bits) makes every decision reproducible.
 *
 * Per packet and direction, in order: loss drops it; corrupt flips one
 * random bit (the IP/TCP checksums must catch it); dup sends it twice;
 * reorder holds it back until 1-3 more packets passed in that direction or
 * FAULT_REORDER_MS went by; delay holds every packet for delay ms (FIFO).
 * Held packets are copies in memory of our own, at most FAULT_MAX_HELD
 * packets and FAULT_MAX_HELD_BYTES bytes: a packet that does not fit is
 * dropped and counted as overflow.
 */
#ifndef PROXYVPN_FAULT_H
#define PROXYVPN_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct fault;

enum fault_dir {
	FAULT_IN,  /* TUN -> engine: the app's packets */
	FAULT_OUT, /* engine -> TUN */
	FAULT_NDIR,
};

#ifdef PROXYVPN_FAULT

#include "loop.h"

enum {
	FAULT_MAX_HELD = 4096, /* packets held at once, both directions */
	FAULT_MAX_HELD_BYTES = 32 << 20,
	FAULT_REORDER_MS = 2,	    /* longest a reordered packet is held */
	FAULT_REORDER_MAX_SKIP = 3, /* released after 1..this many later packets */
	FAULT_DELAY_MAX_MS = 10000,
	FAULT_PPM = 1000000, /* rates are parts per million: 100 % */
	FAULT_ERR_LEN = 160,
	FAULT_PKT_MAX = 65536 + 64, /* a whole TUN frame (engine.c checks it) */
};

struct fault_rates {
	uint32_t loss, corrupt, dup, reorder; /* ppm */
	uint32_t delay_ms;
};

struct fault_cfg {
	uint64_t seed;
	struct fault_rates dir[FAULT_NDIR];
};

struct fault_counters {
	uint64_t pkts; /* handed to the fault layer */
	uint64_t lost, corrupted, duplicated, reordered, delayed;
	uint64_t overflow;  /* dropped: no room to hold it */
	uint64_t delivered; /* passed on (a duplicate counts twice) */
};

/* Passes a packet on: into the stack (FAULT_IN) or to the TUN (FAULT_OUT). */
typedef void fault_deliver_fn(void *ctx, enum fault_dir d, const uint8_t *pkt, size_t len);

/*
 * Parses a PROXYVPN_FAULT value ("" = no faults). 0, or -EINVAL with a
 * one-line reason in err (which names the offending item).
 */
int fault_parse(const char *s, struct fault_cfg *cfg, char *err, size_t errlen);
/* NULL with errno set on failure. Timers run on l. */
struct fault *fault_new(struct loop *l, const struct fault_cfg *cfg, fault_deliver_fn *deliver,
			void *ctx);
/* Drops whatever is still held; safe on NULL. */
void fault_free(struct fault *f);
/* Takes one packet: delivers it now, later, twice, or never. */
void fault_packet(struct fault *f, enum fault_dir d, const struct iovec *iov, int iovcnt);
const struct fault_counters *fault_counters(const struct fault *f, enum fault_dir d);
/*
 * Frames start with a virtio-net header (vnet.h): corruption flips a bit of
 * the packet, not of the header, and since nobody checks an offloaded
 * checksum, it clears the header's checksum flags of a frame from the TUN
 * (the stack then verifies it) and drops a frame to the TUN that leaves its
 * checksum to the kernel (the app's kernel would not have caught it).
 */
void fault_set_vnet(struct fault *f, bool on);
/* Packets held right now (reorder + delay, both directions). */
size_t fault_held(const struct fault *f);

/*
 * The layer PROXYVPN_FAULT asks for (vnet: the frames carry virtio-net
 * headers), with its settings logged: 0 with *out NULL when the variable is
 * unset, 0 with *out set, or -EINVAL (a bad value: one line logged) or
 * -ENOMEM.
 */
int fault_from_env(struct loop *l, bool vnet, fault_deliver_fn *cb, void *ctx, struct fault **out);
/* One line of counters, both directions (NULL: nothing). */
void fault_log_stats(const struct fault *f);

#else /* !PROXYVPN_FAULT: the shipping build, where there is never a layer */

static inline void fault_packet(struct fault *f, enum fault_dir d, const struct iovec *iov,
				int iovcnt)
{
	(void)f;
	(void)d;
	(void)iov;
	(void)iovcnt;
}

static inline void fault_free(struct fault *f)
{
	(void)f;
}

static inline void fault_log_stats(const struct fault *f)
{
	(void)f;
}

#endif /* PROXYVPN_FAULT */

#endif
