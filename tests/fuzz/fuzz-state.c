// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for state_parse(): the module (and num.c, its number
 * parser) is included, so static helpers are covered too. Whatever parses
 * must pass state_check(), serialize, and parse back to the same record
 * (same serialization, same fields); a failure must leave a zeroed record
 * and a reason.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/priv/state.c"
#include "../../src/codec/num.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static bool same(const struct state *a, const struct state *b)
{
	unsigned int i, j;

	if (a->version != b->version || a->pid != b->pid || a->start != b->start ||
	    strcmp(a->tun, b->tun) || a->ifindex != b->ifindex || a->table != b->table ||
	    a->fwmark != b->fwmark || a->priority != b->priority ||
	    a->catch_table != b->catch_table || a->catch_priority != b->catch_priority ||
	    a->ipv6 != b->ipv6 || a->killswitch != b->killswitch || a->fw != b->fw ||
	    strcmp(a->fw_table, b->fw_table) || strcmp(a->fw_chain, b->fw_chain) ||
	    a->proxy.family != b->proxy.family ||
	    memcmp(a->proxy.addr, b->proxy.addr, sizeof(a->proxy.addr)) ||
	    a->proxy.port != b->proxy.port || a->nobj != b->nobj)
		return false;
	for (i = 0; i < a->nobj; i++) {
		if (a->obj[i].kind != b->obj[i].kind || a->obj[i].nargs != b->obj[i].nargs)
			return false;
		for (j = 0; j < STATE_OBJ_ARGS; j++)
			if (strcmp(a->obj[i].arg[j], b->obj[i].arg[j]))
				return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct state a, b;
	static const struct state zero;
	static char out[STATE_FILE_MAX], out2[STATE_FILE_MAX];
	const char *why = NULL;
	int ret, n, n2;

	if (len > STATE_FILE_MAX + 16)
		return 0;
	ret = state_parse((const char *)data, len, &a, &why);
	if (ret != 0) {
		if (ret != -EINVAL || !why || memcmp(&a, &zero, sizeof(a)))
			abort();
		return 0;
	}
	if (why || a.version != STATE_VERSION || state_check(&a, &why) != 0)
		abort();
	n = state_format(&a, out, sizeof(out), &why);
	if (n <= 0 || (size_t)n > len + INET6_ADDRSTRLEN)
		abort(); /* only the proxy address may grow (inet_ntop form) */
	if (state_parse(out, (size_t)n, &b, &why) != 0 || !same(&a, &b))
		abort();
	n2 = state_format(&b, out2, sizeof(out2), &why);
	if (n2 != n || memcmp(out, out2, (size_t)n))
		abort();
	return 0;
}
