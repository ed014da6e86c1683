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
	IPC_HELLO = 1, /* parent -> engine: the TUN queues, then the rest in IPC_FD_* order */
	IPC_READY = 2, /* engine -> parent: sandboxed, serving the TUN */
	IPC_TYPE_MAX,
};

enum {
	IPC_MAX_QUEUES = 64,		  /* TUN queues in a hello: `up --workers` */
	IPC_MAX_FDS = IPC_MAX_QUEUES + 2, /* the queues, the control socket, one spare */
	IPC_MAX_PAYLOAD = 64,
	IPC_FD_TUN = 1 << 0, /* always: hello.queues TUN queue fds (non-blocking) */
	IPC_FD_CTL = 1 << 1, /* optional: the control socket's listening fd */
	IPC_FD_ALL = IPC_FD_TUN | IPC_FD_CTL,
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
 * field and exactly queues (+1 with IPC_FD_CTL) fds. Copies it to *h: 0,
 * or -EBADMSG (the caller closes the fds).
 */
int ipc_hello_check(const struct ipc_msg *m, struct ipc_hello *h);

/* Copies the payload out if it is exactly len bytes: 0 or -EBADMSG. */
int ipc_get_data(const struct ipc_msg *m, void *out, size_t len);

/* Closes every fd m still holds. */
void ipc_msg_close(struct ipc_msg *m);

#endif
