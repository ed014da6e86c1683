// SPDX-License-Identifier: GPL-2.0-only
/*
 * sock_diag codec (see sockdiag.h): builds the inet_diag dump request and
 * parses replies with explicit bounds. The kernel is the only sender, but a
 * reply is still bytes from outside this process: every length is checked
 * before it is used, and the structs are copied out, never cast in place.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "sockdiag.h"

_Static_assert(SOCKDIAG_REQ_LEN == NLMSG_HDRLEN + sizeof(struct inet_diag_req_v2),
	       "SOCKDIAG_REQ_LEN");

int sockdiag_request(void *buf, size_t len, int family, uint32_t states, uint32_t seq)
{
	struct nlmsghdr h = { 0 };
	struct inet_diag_req_v2 r = { 0 };

	if ((family != AF_INET && family != AF_INET6) || states == 0)
		return -EINVAL;
	if (!buf || len < SOCKDIAG_REQ_LEN)
		return -ENOSPC;
	h.nlmsg_len = SOCKDIAG_REQ_LEN;
	h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h.nlmsg_seq = seq;
	r.sdiag_family = (uint8_t)family;
	r.sdiag_protocol = IPPROTO_TCP;
	r.idiag_states = states;
	memcpy(buf, &h, sizeof(h));
	memcpy((uint8_t *)buf + NLMSG_HDRLEN, &r, sizeof(r));
	return SOCKDIAG_REQ_LEN;
}

/* The attributes after inet_diag_msg: only INET_DIAG_CGROUP_ID is read. */
static int parse_attrs(struct rd *r, struct sockdiag_sock *s)
{
	while (r->left > 0) {
		uint16_t alen, type;
		size_t pad;

		if (r->left < 4)
			return -EBADMSG;
		memcpy(&alen, r->p, 2);
		memcpy(&type, r->p + 2, 2);
		if (alen < 4 || alen > r->left)
			return -EBADMSG;
		type &= NLA_TYPE_MASK;
		if (type == INET_DIAG_CGROUP_ID) {
			if (alen != 4 + sizeof(uint64_t))
				return -EBADMSG;
			memcpy(&s->cgroup, r->p + 4, sizeof(uint64_t));
		}
		/* The last attribute may end unpadded at the message's end. */
		pad = NLA_ALIGN(alen);
		if (pad > r->left)
			pad = r->left;
		rd_skip(r, pad);
	}
	return 0;
}

static int parse_sock(const uint8_t *p, size_t len, struct sockdiag_sock *s)
{
	struct inet_diag_msg m;
	struct rd r = { p, len };
	size_t alen;

	if (rd_bytes(&r, &m, sizeof(m)) < 0)
		return -EBADMSG;
	memset(s, 0, sizeof(*s));
	if (m.idiag_family == AF_INET)
		alen = 4;
	else if (m.idiag_family == AF_INET6)
		alen = 16;
	else
		return -EBADMSG;
	s->family = m.idiag_family;
	s->state = m.idiag_state;
	memcpy(s->src, m.id.idiag_src, alen);
	memcpy(s->dst, m.id.idiag_dst, alen);
	s->sport = ntohs(m.id.idiag_sport);
	s->dport = ntohs(m.id.idiag_dport);
	s->uid = m.idiag_uid;
	s->inode = m.idiag_inode;
	/* inet_diag_msg is a multiple of 4: the attributes start right after it */
	return parse_attrs(&r, s);
}

int sockdiag_parse(const void *buf, size_t len, uint32_t seq,
		   int (*cb)(const struct sockdiag_sock *s, void *arg), void *arg)
{
	struct rd r = { buf, len };

	if (!buf && len)
		return -EBADMSG;
	while (r.left > 0) {
		struct sockdiag_sock s;
		struct nlmsghdr h;
		size_t step;
		int ret, err;

		if (r.left < NLMSG_HDRLEN)
			return -EBADMSG;
		memcpy(&h, r.p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > r.left || h.nlmsg_seq != seq)
			return -EBADMSG;
		switch (h.nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR:
			if (h.nlmsg_len < NLMSG_HDRLEN + sizeof(err))
				return -EBADMSG;
			memcpy(&err, r.p + NLMSG_HDRLEN, sizeof(err));
			/* 0 is an ACK (none was asked for); a positive code is nonsense */
			if (err >= 0 || err < -4095)
				return -EBADMSG;
			return err;
		case NLMSG_NOOP:
			break;
		case SOCK_DIAG_BY_FAMILY:
			ret = parse_sock(r.p + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN, &s);
			if (ret < 0)
				return ret;
			ret = cb(&s, arg);
			if (ret)
				return ret < 0 ? ret : -EINVAL; /* cb broke its contract */
			break;
		default:
			return -EBADMSG;
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step > r.left)
			step = r.left;
		rd_skip(&r, step);
	}
	return 0;
}
