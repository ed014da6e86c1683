// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for ipc_parse(), the decoder of what the privileged
 * parent of `up` receives from the (possibly compromised) engine. Invariant:
 * an accepted record is exactly header + the type's payload size, with a
 * zero reserved field, and re-encodes to the same bytes. A hello that
 * ipc_hello_check() accepts (with as many fds as the generation's low
 * byte, mod IPC_MAX_FDS + 1) names 1..IPC_MAX_QUEUES queues and exactly
 * their fds; a control connection has one fd, a pong none.
 */
#include <assert.h>
#include <string.h>

#include "../../src/codec/ipc.c"
#include "../../src/lib/fdpass.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t again[sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD];
	struct ipc_hello hello;
	struct ipc_hdr h;
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	if (ipc_parse(data, len, &m) < 0)
		return 0;
	assert(ipc_type_size(m.type) == (int)m.len);
	assert(len == sizeof(h) + m.len && m.len <= IPC_MAX_PAYLOAD);
	h = (struct ipc_hdr){ .type = m.type, .len = m.len };
	memcpy(again, &h, sizeof(h));
	memcpy(again + sizeof(h), m.data, m.len);
	assert(memcmp(again, data, len) == 0);
	m.nfds = m.len > 4 ? m.data[4] % (IPC_MAX_FDS + 1U) : 0;
	if (ipc_hello_check(&m, &hello) == 0) {
		assert(hello.queues >= 1 && hello.queues <= IPC_MAX_QUEUES);
		assert(m.nfds == hello.queues && hello.fds == IPC_FD_TUN);
	}
	{
		struct ipc_ctl c;
		uint32_t seq;

		m.fds[0] = m.nfds ? 3 : -1;
		if (ipc_ctl_check(&m, &c) == 0)
			assert(m.type == IPC_CTL && m.nfds == 1 && c.zero == 0);
		if (ipc_ping_check(&m, IPC_PONG, 7, &seq) == 0)
			assert(m.type == IPC_PONG && m.nfds == 0 &&
			       m.len == sizeof(struct ipc_ping));
	}
	return 0;
}
