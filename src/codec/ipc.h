/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Framed messages between the privileged parent of `up` and its engine
 * (imsg's idea, style.md 3.11), one per SOCK_SEQPACKET record:
 *
 *   struct ipc_hdr { u16 type; u16 len; u32 zero; }  then len payload bytes
 *
 * with up to IPC_MAX_FDS fds attached (SCM_RIGHTS). The header's len must
 * equal the bytes received, the reserved field must be zero, the type must
 * be known and the payload exactly that type's size: anything else is
 * -EBADMSG, and every fd that came with it is closed. The parent treats
 * such a message as proof of a compromised or broken engine.
 */
#ifndef PROXYVPN_IPC_H
#define PROXYVPN_IPC_H

#include <stddef.h>
#include <stdint.h>

enum ipc_type {
	IPC_HELLO = 1, /* parent -> engine: the TUN queues */
	IPC_READY = 2, /* engine -> parent: sandboxed, serving the TUN */
	IPC_PING = 3,  /* parent -> engine: are you there? (struct ipc_ping) */
	IPC_PONG = 4,  /* engine -> parent: the ping's generation and seq echoed */
	IPC_CTL = 5,   /* parent -> engine: one control connection, its peer checked */
	IPC_TYPE_MAX,
};

enum {
	IPC_MAX_QUEUES = 64,		  /* TUN queues in a hello: `up --workers` */
	IPC_MAX_FDS = IPC_MAX_QUEUES + 2, /* the queues and spares (a record is checked) */
	IPC_MAX_PAYLOAD = 64,
	IPC_FD_TUN = 1 << 0, /* always: hello.queues TUN queue fds (non-blocking) */
	IPC_FD_ALL = IPC_FD_TUN,
};

struct ipc_hdr {
	uint16_t type;
	uint16_t len;
	uint32_t zero;
};

struct ipc_hello {
	uint32_t fds;	     /* IPC_FD_* present, in this bit order */
	uint32_t generation; /* echoed in IPC_READY */
	uint32_t queues;     /* TUN queue fds first: 1..IPC_MAX_QUEUES */
	uint32_t zero;
};

struct ipc_ready {
	uint32_t generation;
	uint32_t zero;
};

/* IPC_PING and IPC_PONG: the heartbeat of the engine's loop. */
struct ipc_ping {
	uint32_t generation;
	uint32_t seq;
};

/*
 * IPC_CTL, with exactly one fd: a connection to the control socket that the
 * parent accepted and whose peer (SO_PEERCRED, read in the host's user
 * namespace, which the engine may not share) it let through.
 */
struct ipc_ctl {
	uint32_t uid; /* the peer's, for the engine's log */
	uint32_t zero;
};

struct ipc_msg {
	uint16_t type;
	uint16_t len;
	uint8_t data[IPC_MAX_PAYLOAD];
	int fds[IPC_MAX_FDS]; /* -1 where none */
	unsigned int nfds;
};

/* Payload size of a known type, or -1. */
int ipc_type_size(uint16_t type);

/*
 * Pure: decodes one received record (header + payload) into m (fds left
 * alone). 0 or -EBADMSG.
 */
int ipc_parse(const uint8_t *buf, size_t n, struct ipc_msg *m);

/* Sends one message with nfds fds (0..IPC_MAX_FDS). 0 or -errno. */
int ipc_send(int sock, uint16_t type, const void *data, size_t len, const int *fds,
	     unsigned int nfds);

/*
 * Receives one message. 0; -EPIPE on EOF; -EBADMSG if truncated, malformed
 * or carrying more than IPC_MAX_FDS fds (all of them closed); -errno.
 * The caller owns m->fds (ipc_msg_close).
 */
int ipc_recv(int sock, struct ipc_msg *m);

/*
 * Pure. A hello as the engine must get it: exactly sized, IPC_FD_TUN set
 * and no unknown IPC_FD_* bit, queues 1..IPC_MAX_QUEUES, a zero reserved
 * field and exactly queues fds. Copies it to *h: 0, or -EBADMSG (the caller
 * closes the fds).
 */
int ipc_hello_check(const struct ipc_msg *m, struct ipc_hello *h);

/*
 * Pure. A ping (type IPC_PING) or pong (IPC_PONG) of generation gen, with
 * no fd; its seq to *seq. 0 or -EBADMSG.
 */
int ipc_ping_check(const struct ipc_msg *m, uint16_t type, uint32_t gen, uint32_t *seq);

/*
 * Pure. An IPC_CTL as the engine must get it: exactly one fd, a zero
 * reserved field. Copies it to *c: 0 or -EBADMSG.
 */
int ipc_ctl_check(const struct ipc_msg *m, struct ipc_ctl *c);

/* Copies the payload out if it is exactly len bytes: 0 or -EBADMSG. */
int ipc_get_data(const struct ipc_msg *m, void *out, size_t len);

/* Closes every fd m still holds. */
void ipc_msg_close(struct ipc_msg *m);

#endif
