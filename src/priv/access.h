/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who may steer the host (issue 13 item 1), the dumpcap model: `make
 * install` makes the binary root:ACCESS_GROUP mode 0750 with
 * cap_net_admin+ep, so only root and the group's members can run it at all.
 * This is the second wall, for a binary installed otherwise (mode 0755, a
 * copy with capabilities set by hand): a run whose privilege comes from the
 * file's capabilities (AT_SECURE) rather than from being root goes on only
 * if the real user is in ACCESS_GROUP.
 */
#ifndef PROXYVPN_ACCESS_H
#define PROXYVPN_ACCESS_H

#define ACCESS_GROUP "proxyvpn"

/*
 * 0 if the caller may run cmd ("up", "down"): root, a binary without file
 * capabilities (no privilege to misuse: the kernel refuses what it may
 * not), or a member of ACCESS_GROUP by real or supplementary gid. Else
 * -EACCES after one log line naming the group.
 */
int access_check(const char *cmd);

#endif
