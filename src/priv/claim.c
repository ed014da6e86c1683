// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who owns the host's objects (claim.h): the owner record read back from
 * the nftables table's comment and from the TUNs' aliases, whether that
 * owner still runs (/proc/PID/stat: same pid, same start time), and what
 * the calling uid may do about it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "claim.h"
#include "fw.h"
#include "nl.h"

/* The start time of pid, from /proc/PID/stat. 0 or -errno. */
static int start_of(uint32_t pid, uint64_t *start)
{
	char path[32], buf[OWNER_STAT_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	return owner_stat_start(buf, (size_t)n, start);
}

int claim_self(struct owner *o)
{
	int ret;

	o->uid = (uint32_t)getuid();
	o->pid = (uint32_t)getpid();
	ret = start_of(o->pid, &o->start);
	return ret;
}

int claim_alive(const struct owner *o)
{
	uint64_t start;

	return start_of(o->pid, &start) == 0 && start == o->start;
}

/*
 * A link whose alias is an owner record is a TUN of a live `up`: it is not
 * persistent, so it goes with the last fd, which only that `up` holds.
 */
static int walk_cb(int ifindex, const char *name, const char *alias, void *arg)
{
	struct claim *c = arg;
	struct owner o;

	(void)ifindex;
	if (owner_parse(alias, strlen(alias), &o) < 0)
		return 0;
	c->tun = true;
	c->o = o; /* the live one is the one to name */
	snprintf(c->tun_name, sizeof(c->tun_name), "%s", name);
	return 1;
}

int claim_probe(struct claim *c)
{
	char comment[FW_COMMENT_MAX + 1] = "";
	struct nl *nl;
	int ret;

	memset(c, 0, sizeof(*c));
	c->nft = fw_owner(comment);
	/* ours: the bare tag or a record, both shorter than OWNER_STR_MAX */
	if (c->nft == 1)
		snprintf(c->comment, sizeof(c->comment), "%s", comment);
	if (c->nft == 1 && owner_parse(comment, strlen(comment), &c->o) == 0)
		c->nft_owner = true;
	nl = nl_open();
	if (!nl)
		return -errno;
	ret = nl_link_walk(nl, walk_cb, c);
	nl_close(nl);
	if (ret < 0)
		return ret;
	/*
	 * A live TUN is a live up (also one whose process /proc hides from
	 * us, or whose table someone removed); else the table's owner lives
	 * if its process does (an up between its claim and its TUN).
	 */
	if (c->tun)
		c->live = true;
	else if (c->nft_owner)
		c->live = claim_alive(&c->o);
	return 0;
}

enum claim_verdict claim_verdict(const struct claim *c)
{
	uid_t me = getuid();

	if (c->live)
		return CLAIM_LIVE;
	if (c->nft == -EEXIST)
		return CLAIM_LOOKALIKE;
	if (c->nft < 0)
		return me == 0 ? CLAIM_FREE : CLAIM_UNKNOWN;
	if (c->nft == 0)
		return CLAIM_FREE;
	if (me == 0 || (c->nft_owner && c->o.uid == me))
		return CLAIM_MINE_DEAD;
	return CLAIM_OTHERS_DEAD;
}

void claim_describe(const struct owner *o, char *buf, size_t len)
{
	struct passwd *pw = getpwuid((uid_t)o->uid);

	if (pw && pw->pw_name)
		snprintf(buf, len, "pid %u of user %s (uid %u)", o->pid, pw->pw_name, o->uid);
	else
		snprintf(buf, len, "pid %u of uid %u", o->pid, o->uid);
}
