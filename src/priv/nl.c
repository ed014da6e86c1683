// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtnetlink over libmnl. Requests are built in plain sight in stack buffers
 * and sent by nl_transact(), which reads until the kernel's ACK (or, for a
 * dump, NLMSG_DONE) and returns 0 or the kernel's -errno. Dumps here:
 * nl_link_names_local() (names for a log line), nl_addr_has() and
 * nl_link_walk() (every link's alias).
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nl.h"

enum {
	NL_REQ_SIZE = 1024,   /* our requests are a header and a few attributes */
	NL_RECV_SIZE = 32768, /* a whole RTM_NEWLINK reply, however many attributes */
};

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
};

struct nl *nl_open(void)
{
	struct nl *nl;
	int one = 1, saved;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return NULL;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		goto err_free;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err_close;
	/* Errors need not echo our request back; old kernels just ignore it. */
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	return nl;

err_close:
	saved = errno;
	mnl_socket_close(nl->sock);
	errno = saved;
err_free:
	saved = errno;
	free(nl);
	errno = saved;
	return NULL;
}

const void *nl_body(const struct nlmsghdr *nlh, uint16_t type, size_t size, int *ret)
{
	*ret = MNL_CB_OK;
	if (nlh->nlmsg_type != type)
		return NULL;
	if (mnl_nlmsg_get_payload_len(nlh) < size) {
		errno = EBADMSG;
		*ret = MNL_CB_ERROR;
		return NULL;
	}
	return mnl_nlmsg_get_payload(nlh);
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

struct transact {
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
	int err;   /* first callback failure, reported after the ACK */
	bool done; /* callback said MNL_CB_STOP: ignore the rest */
};

/* Never stops mnl_cb_run() early: the ACK must be read in any case. */
static int transact_cb(const struct nlmsghdr *nlh, void *data)
{
	struct transact *t = data;
	int ret;

	if (!t->cb || t->err || t->done)
		return MNL_CB_OK;
	errno = 0;
	ret = t->cb(nlh, t->data);
	if (ret == MNL_CB_ERROR)
		t->err = errno > 0 ? -errno : -EPROTO;
	else if (ret == MNL_CB_STOP)
		t->done = true;
	return MNL_CB_OK;
}

int nl_transact(struct nl *nl, struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	_Alignas(struct nlmsghdr) char buf[NL_RECV_SIZE];
	struct transact t = { .cb = cb, .data = data };
	unsigned int seq = ++nl->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* NLMSG_ERROR sets errno to the kernel's code; seq or portid
		 * mismatches come back as EPROTO/ESRCH. */
		errno = 0;
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, transact_cb, &t);
		if (ret == MNL_CB_ERROR)
			return errno > 0 ? -errno : -EPROTO;
		if (ret == MNL_CB_STOP)
			return t.err;
	}
}

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;
	int *index = data;
	int ret;

	ifi = nl_body(nlh, RTM_NEWLINK, sizeof(*ifi), &ret);
	if (!ifi)
		return ret;
	*index = ifi->ifi_index;
	return MNL_CB_STOP;
}

int nl_link_index(struct nl *nl, const char *ifname)
{
	/* zeroed: the name attribute's padding is sent as is (valgrind) */
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int index = 0, ret;

	if (strlen(ifname) == 0 || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_transact(nl, nlh, link_index_cb, &index);
	if (ret < 0)
		return ret;
	return index > 0 ? index : -ENODEV;
}

/* An RTM_NEWLINK request that changes link ifindex; attributes follow. */
static struct nlmsghdr *link_change(char *buf, int ifindex, struct ifinfomsg **ifi)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	*ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(**ifi));
	(*ifi)->ifi_family = AF_UNSPEC;
	(*ifi)->ifi_index = ifindex;
	return nlh;
}

int nl_link_set_up(struct nl *nl, int ifindex, int mtu)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0 || mtu < 0)
		return -EINVAL;
	nlh = link_change(buf, ifindex, &ifi);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	return nl_transact(nl, nlh, NULL, NULL);
}

int nl_link_set_txqlen(struct nl *nl, int ifindex, uint32_t qlen)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = link_change(buf, ifindex, &ifi);
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, qlen);
	return nl_transact(nl, nlh, NULL, NULL);
}

int nl_link_set_names(struct nl *nl, int ifindex, const char *name, const char *alias)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE] = { 0 };
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (ifindex <= 0 || (name && (!*name || strlen(name) >= IFNAMSIZ)) ||
	    (alias && strlen(alias) >= IFALIASZ))
		return -EINVAL;
	nlh = link_change(buf, ifindex, &ifi);
	if (name)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (alias)
		mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
	return nl_transact(nl, nlh, NULL, NULL);
}

struct walk {
	int (*cb)(int ifindex, const char *name, const char *alias, void *arg);
	void *arg;
};

/* A string attribute: NUL-terminated within its payload, else NULL. */
static const char *attr_str(const struct nlattr *a)
{
	const char *s = mnl_attr_get_payload(a);
	uint16_t n = mnl_attr_get_payload_len(a);

	return n > 0 && memchr(s, '\0', n) ? s : NULL;
}

static int walk_cb(const struct nlmsghdr *nlh, void *data)
{
	struct walk *w = data;
	const struct ifinfomsg *ifi;
	const struct nlattr *a;
	const char *name = NULL, *alias = "";
	int ret;

	ifi = nl_body(nlh, RTM_NEWLINK, sizeof(*ifi), &ret);
	if (!ifi)
		return ret;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) == IFLA_IFNAME)
			name = attr_str(a);
		else if (mnl_attr_get_type(a) == IFLA_IFALIAS && attr_str(a))
			alias = attr_str(a);
	}
	if (!name)
		return MNL_CB_OK;
	return w->cb(ifi->ifi_index, name, alias, w->arg) ? MNL_CB_STOP : MNL_CB_OK;
}

int nl_link_walk(struct nl *nl,
		 int (*cb)(int ifindex, const char *name, const char *alias, void *arg), void *arg)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE] = { 0 };
	struct walk w = { .cb = cb, .arg = arg };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return nl_transact(nl, nlh, walk_cb, &w);
}

int nl_link_set_no_linklocal(struct nl *nl, int ifindex)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct nlattr *spec, *in6;
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (ifindex <= 0)
		return -EINVAL;
	nlh = link_change(buf, ifindex, &ifi);
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, spec);
	return nl_transact(nl, nlh, NULL, NULL);
}

int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, int prefixlen)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	size_t alen;

	if (family == AF_INET)
		alen = 4;
	else if (family == AF_INET6)
		alen = 16;
	else
		return -EAFNOSUPPORT;
	if (ifindex <= 0 || prefixlen < 0 || (size_t)prefixlen > alen * 8)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = (unsigned char)prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	/* Usable at once: no tentative phase (a TUN is IFF_NOARP anyway). */
	if (family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	/*
	 * A host address needs no prefix route (IPv4 adds none for a /32);
	 * without this flag IPv6 puts one in the main table, which host
	 * mode promises to leave alone.
	 */
	if (family == AF_INET6 && prefixlen == 128)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	return nl_transact(nl, nlh, NULL, NULL);
}

int nl_route_add_default(struct nl *nl, int ifindex, int family, uint32_t table)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (ifindex <= 0 || table == RT_TABLE_UNSPEC)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = 0;
	/* Table ids past 255 only fit in RTA_TABLE; the kernel prefers it. */
	rtm->rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	/* IPv6 has no route scopes; iproute2 also sends universe there. */
	rtm->rtm_scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nl_transact(nl, nlh, NULL, NULL);
}

/* What nl_link_names_local() is collecting. */
struct names {
	const char *skip;
	char *out;
	size_t len, off;
	unsigned int shown, more;
};

static int linkinfo_kind_cb(const struct nlattr *a, void *data)
{
	const char **kind = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*kind = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		tb[IFLA_IFNAME] = a;
	else if (type == IFLA_MASTER && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		tb[IFLA_MASTER] = a;
	else if (type == IFLA_LINKINFO && mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
		tb[IFLA_LINKINFO] = a;
	return MNL_CB_OK;
}

static int link_names_cb(const struct nlmsghdr *nlh, void *data)
{
	static const char *const kinds[] = { "bridge", "veth", "tun" };
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct names *n = data;
	const char *kind = NULL, *name;
	size_t i;
	int w, ret;

	if (!nl_body(nlh, RTM_NEWLINK, sizeof(struct ifinfomsg), &ret))
		return ret;
	mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr_cb, tb);
	if (!tb[IFLA_IFNAME] || !tb[IFLA_LINKINFO] || tb[IFLA_MASTER])
		return MNL_CB_OK; /* a bridge's port: its traffic enters by the bridge */
	mnl_attr_parse_nested(tb[IFLA_LINKINFO], linkinfo_kind_cb, &kind);
	name = mnl_attr_get_str(tb[IFLA_IFNAME]);
	if (!kind || (n->skip && !strcmp(name, n->skip)))
		return MNL_CB_OK;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return MNL_CB_OK;
	/* once one did not fit, the rest are only counted (in dump order) */
	w = !n->more && n->off < n->len
		    ? snprintf(n->out + n->off, n->len - n->off, "%s%s", n->shown ? ", " : "", name)
		    : -1;
	if (w < 0 || (size_t)w >= n->len - n->off) {
		if (n->off < n->len)
			n->out[n->off] = '\0'; /* drop the part that did not fit */
		n->more++;
		return MNL_CB_OK;
	}
	n->off += (size_t)w;
	n->shown++;
	return MNL_CB_OK;
}

int nl_link_names_local(struct nl *nl, const char *skip, char *out, size_t len)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE] = { 0 };
	struct names n = { .skip = skip, .out = out, .len = len };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int ret;

	if (!len)
		return -EINVAL;
	out[0] = '\0';
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_transact(nl, nlh, link_names_cb, &n);
	if (ret < 0)
		return ret;
	return (int)n.more;
}

struct link_state {
	const char *name;
	int ret;
};

static int link_state_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_state *ls = data;
	const struct ifinfomsg *ifi;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	bool named = false;
	int ret;

	ifi = nl_body(nlh, RTM_NEWLINK, sizeof(*ifi), &ret);
	if (!ifi)
		return ret;
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
	{
		if (mnl_attr_get_type(a) != IFLA_IFNAME)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) {
			errno = EBADMSG;
			return MNL_CB_ERROR;
		}
		named = !strcmp(mnl_attr_get_str(a), ls->name);
	}
	ls->ret = !named ? -ENODEV : (ifi->ifi_flags & IFF_UP) ? 1 : 0;
	return MNL_CB_STOP;
}

int nl_link_state(struct nl *nl, int ifindex, const char *ifname)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct link_state ls = { .name = ifname, .ret = -ENODEV };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	int ret;

	if (ifindex <= 0 || !ifname)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_transact(nl, nlh, link_state_cb, &ls);
	if (ret == -ENODEV)
		return -ENODEV;
	return ret < 0 ? ret : ls.ret;
}

struct addr_has {
	int ifindex, family, prefixlen;
	const void *addr;
	size_t alen;
	bool found;
};

static int addr_has_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_has *h = data;
	const struct ifaddrmsg *ifa;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	int ret;

	ifa = nl_body(nlh, RTM_NEWADDR, sizeof(*ifa), &ret);
	if (!ifa)
		return ret;
	if ((int)ifa->ifa_index != h->ifindex || ifa->ifa_family != h->family ||
	    ifa->ifa_prefixlen != h->prefixlen)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa))
	{
		uint16_t t = mnl_attr_get_type(a);

		/* IPv4 has both (IFA_LOCAL is ours); IPv6 only IFA_ADDRESS */
		if (t != IFA_LOCAL && t != IFA_ADDRESS)
			continue;
		if (mnl_attr_get_payload_len(a) == h->alen &&
		    !memcmp(mnl_attr_get_payload(a), h->addr, h->alen))
			h->found = true;
	}
	return MNL_CB_OK;
}

int nl_addr_has(struct nl *nl, int ifindex, int family, const void *addr, int prefixlen)
{
	_Alignas(struct nlmsghdr) char buf[NL_REQ_SIZE];
	struct addr_has h = {
		.ifindex = ifindex, .family = family, .prefixlen = prefixlen, .addr = addr
	};
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	int ret;

	if (family == AF_INET)
		h.alen = 4;
	else if (family == AF_INET6)
		h.alen = 16;
	else
		return -EAFNOSUPPORT;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)family;
	ret = nl_transact(nl, nlh, addr_has_cb, &h);
	return ret < 0 ? ret : h.found;
}
