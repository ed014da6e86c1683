// SPDX-License-Identifier: GPL-2.0-only
/*
 * json.c, ctl-proto.c, ctl.c and ctl-sock.c: the JSON string escaper and
 * the bounded writer; the control request parser; the status reply (JSON
 * and text, connection list cut short by CTL_CONNS_MAX or by the buffer,
 * never half an entry); every engine counter under its own name; and the
 * server in a real loop with a real engine, asked by ctl_query, each
 * connection accepted and checked by ctl_accept as `up`'s parent does and
 * handed to the server: a query answered, the socket's mode, a stale
 * socket replaced, a peer of another uid closed unanswered (as root),
 * garbage and silent clients closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl-proto.h"
#include "ctl-sock.h"
#include "ctl.h"
#include "engine.h"
#include "json.h"
#include "loop.h"
#include "url.h"

static void test_escape(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = json_escape(out, sizeof(out), "plain", 5);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "plain", 5);
	n = json_escape(out, sizeof(out), "a\"b\\c", 5);
	assert_int_equal(n, 7);
	assert_memory_equal(out, "a\\\"b\\\\c", 7);
	n = json_escape(out, sizeof(out), "\b\f\n\r\t", 5);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "\\b\\f\\n\\r\\t", 10);
	n = json_escape(out, sizeof(out), "\x01\x1f\x7f\xff", 4);
	assert_int_equal(n, 24);
	assert_memory_equal(out, "\\u0001\\u001f\\u007f\\u00ff", 24);
	/* an embedded NUL is data, not the end */
	n = json_escape(out, sizeof(out), "a\0b", 3);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "a\\u0000b", 8);
	/* measuring, and a short buffer: never written past, full length returned */
	assert_int_equal(json_escape(NULL, 0, "\"\"", 2), 4);
	memset(out, 'X', sizeof(out));
	assert_int_equal(json_escape(out, 3, "\"\"", 2), 4);
	assert_memory_equal(out, "\\\"\\X", 4);
}

static void test_jbuf(void **state)
{
	char mem[16];
	struct jbuf b;

	(void)state;
	jb_init(&b, mem, sizeof(mem));
	jb_kv_str(&b, "k", "v\n");
	assert_string_equal(mem, "\"k\":\"v\\n\"");
	assert_false(b.full);
	assert_int_equal(jb_room(&b), 15 - 9);
	jb_str(&b, "123456", 6); /* 8 bytes: does not fit, nothing written */
	assert_true(b.full);
	assert_string_equal(mem, "\"k\":\"v\\n\"");
	jb_raw(&b, "x"); /* dropped once full */
	assert_string_equal(mem, "\"k\":\"v\\n\"");
	jb_init(&b, mem, sizeof(mem));
	jb_printf(&b, "%s", "0123456789abcdef"); /* 16 > 15: dropped whole */
	assert_true(b.full);
	assert_string_equal(mem, "");
	jb_init(&b, mem, sizeof(mem));
	jb_printf(&b, "%s", "0123456789abcde"); /* exactly 15 fits */
	assert_false(b.full);
	assert_int_equal(b.len, 15);
	assert_int_equal(jb_room(&b), 0);
}

static void test_parse_request(void **state)
{
	char big[CTL_REQ_MAX + 8];

	(void)state;
	assert_int_equal(ctl_parse_request("status\n", 7), CTL_REQ_STATUS);
	assert_int_equal(ctl_parse_request("status\r\n", 8), CTL_REQ_STATUS);
	assert_int_equal(ctl_parse_request("status text\n", 12), CTL_REQ_STATUS_TEXT);
	assert_int_equal(ctl_parse_request("status\nextra", 12), CTL_REQ_STATUS);
	assert_int_equal(ctl_parse_request("", 0), -EAGAIN);
	assert_int_equal(ctl_parse_request("stat", 4), -EAGAIN);
	assert_int_equal(ctl_parse_request("status", 6), -EAGAIN);
	assert_int_equal(ctl_parse_request("Status\n", 7), -EINVAL);
	assert_int_equal(ctl_parse_request("status \n", 8), -EINVAL);
	assert_int_equal(ctl_parse_request("\n", 1), -EINVAL);
	assert_int_equal(ctl_parse_request("sta\0us\n", 7), -EINVAL);
	assert_int_equal(ctl_parse_request("sta\0", 4), -EINVAL);
	assert_int_equal(ctl_parse_request("status text more\n", 17), -EINVAL);
	memset(big, 'a', sizeof(big));
	assert_int_equal(ctl_parse_request(big, CTL_REQ_MAX - 1), -EAGAIN);
	assert_int_equal(ctl_parse_request(big, CTL_REQ_MAX), -EINVAL);
	big[CTL_REQ_MAX] = '\n'; /* a newline past the limit does not count */
	assert_int_equal(ctl_parse_request(big, CTL_REQ_MAX + 1), -EINVAL);
}

static void live(struct ctl_live *l)
{
	*l = (struct ctl_live){
		.version = "9.9\"x",
		.pid = 42,
		.engine_pid = 43,
		.uptime_ms = 1500,
		.eng = { [CTL_E_PKTS_IN] = 11, [CTL_E_PKTS_OUT] = 22, [CTL_E_SESSIONS_TOTAL] = 3 },
		.tcp = { [CTL_T_SEGS_IN] = 33,
			 [CTL_T_HANDSHAKES] = 2,
			 [CTL_T_UNDO] = 7,
			 [CTL_T_SYN_DEFERRED] = 8 },
		.conns = 2,
		.pending = 1,
		.mem = 4096,
		.sessions = 2,
		.win = { .size = 96,
			 .cap = 9000,
			 .in_flight = 90,
			 .waiting = 500,
			 .lowest = 4,
			 .highest = 128,
			 .losses = 3 },
		.lim = { .max_conns = 18000,
			 .max_pending = 9000,
			 .mem_limit = 1 << 30,
			 .buffer = 256 << 10,
			 .nofile = 20000,
			 .keepalive_ms = 120000,
			 .max_conns_from = "open-files" },
	};
}

static void conn(struct ctl_conn *c, int family, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport)
{
	memset(c, 0, sizeof(*c));
	c->id = 5;
	c->family = family;
	assert_int_equal(inet_pton(family, src, c->src), 1);
	assert_int_equal(inet_pton(family, dst, c->dst), 1);
	c->sport = sport;
	c->dport = dport;
	c->phase = "relay";
	c->tcp_state = "ESTABLISHED";
	c->bytes_up = 100;
	c->bytes_down = 200;
	c->age_ms = 2500;
}

static void test_reply_json(void **state)
{
	static char mem[8192];
	struct ctl_conn c[2];
	struct ctl_live l;
	struct jbuf b;

	(void)state;
	live(&l);
	conn(&c[0], AF_INET, "192.0.2.2", 40000, "198.51.100.20", 80);
	conn(&c[1], AF_INET6, "2001:db8:1::2", 40001, "2001:db8:2::20", 443);
	c[1].family = AF_INET6;
	c[1].name = "www.example.com"; /* behind a fake address */
	jb_init(&b, mem, sizeof(mem));
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS, &l, c, 2, 2), 0);
	assert_non_null(strstr(
		mem, "{\"version\":\"9.9\\\"x\",\"pid\":42,\"engine_pid\":43,\"uptime_ms\":1500,"));
	assert_non_null(strstr(mem, "\"engine\":{\"pkts_in\":11,\"pkts_out\":22,"));
	assert_non_null(strstr(mem, "\"sessions_total\":3,"));
	assert_non_null(strstr(mem, "\"tcp\":{\"segs_in\":33,"));
	assert_non_null(strstr(mem, "\"handshakes\":2,"));
	assert_non_null(strstr(mem, "\"undo\":7,\"syn_deferred\":8}"));
	assert_non_null(strstr(mem, "\"window\":{\"size\":96,\"cap\":9000,\"in_flight\":90,"
				    "\"waiting\":500,\"lowest\":4,\"highest\":128,\"losses\":3}"));
	assert_non_null(strstr(mem, "\"limits\":{\"max_conns\":18000,\"max_pending\":9000,"
				    "\"mem_limit\":1073741824,\"buffer\":262144,"
				    "\"open_files\":20000,\"idle_timeout_ms\":0,"
				    "\"keepalive_ms\":120000,\"max_conns_from\":\"open-files\"}"));
	assert_non_null(strstr(mem, "\"flows\":2,\"handshaking\":1,\"buffer_bytes\":4096,"
				    "\"sessions\":2"));
	assert_non_null(strstr(mem, "{\"id\":5,\"src\":\"192.0.2.2:40000\","
				    "\"dst\":\"198.51.100.20:80\",\"state\":\"ESTABLISHED\","
				    "\"phase\":\"relay\",\"bytes_up\":100,\"bytes_down\":200,"
				    "\"age_ms\":2500}"));
	assert_non_null(strstr(mem,
			       "\"src\":\"[2001:db8:1::2]:40001\",\"dst\":\"[2001:db8:2::20]:443\","
			       "\"name\":\"www.example.com\",\"state\""));
	assert_non_null(strstr(mem, "\"connections_listed\":2,\"connections_truncated\":false}\n"));
	assert_null(strchr(mem, '\n') + 1 == mem + b.len ? NULL : "more than one line");
	/* a detached flow has no addresses */
	c[0].family = 0;
	jb_init(&b, mem, sizeof(mem));
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS, &l, c, 1, 5), 0);
	assert_non_null(strstr(mem, "\"src\":\"-\",\"dst\":\"-\""));
	assert_non_null(strstr(mem, "\"connections_listed\":1,\"connections_truncated\":true}\n"));
}

/* Cut short by the buffer: whole entries only, still closed, still one object. */
static void test_reply_truncated(void **state)
{
	static struct ctl_conn c[CTL_CONNS_MAX];
	static char mem[4096];
	struct ctl_live l;
	struct jbuf b;
	size_t i;
	char *p;

	(void)state;
	live(&l);
	for (i = 0; i < CTL_CONNS_MAX; i++)
		conn(&c[i], AF_INET6, "2001:db8:1::2", 40000, "2001:db8:2::20", 443);
	jb_init(&b, mem, sizeof(mem));
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS, &l, c, CTL_CONNS_MAX, 5000), 0);
	assert_false(b.full);
	assert_int_equal(mem[b.len - 1], '\n');
	assert_int_equal(mem[b.len - 2], '}');
	assert_non_null(strstr(mem, "\"connections_truncated\":true}"));
	p = strstr(mem, "]},\"connections_listed\":");
	assert_null(strstr(mem, "]],"));
	assert_non_null(strstr(mem, "\"age_ms\":2500}],\"connections_listed\":"));
	(void)p;
	/* the full list fits in CTL_REPLY_MAX */
	{
		char *big = malloc(CTL_REPLY_MAX);

		assert_non_null(big);
		jb_init(&b, big, CTL_REPLY_MAX);
		assert_int_equal(
			ctl_reply_status(&b, CTL_REQ_STATUS, &l, c, CTL_CONNS_MAX, CTL_CONNS_MAX),
			0);
		assert_non_null(strstr(
			big, "\"connections_listed\":1000,\"connections_truncated\":false}"));
		free(big);
	}
	/* too small for even the counters */
	jb_init(&b, mem, 64);
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS, &l, c, 1, 1), -ENOSPC);
}

static void test_reply_text(void **state)
{
	static char mem[4096];
	struct ctl_conn c[1];
	struct ctl_live l;
	struct jbuf b;

	(void)state;
	live(&l);
	conn(&c[0], AF_INET, "192.0.2.2", 40000, "198.51.100.20", 80);
	jb_init(&b, mem, sizeof(mem));
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS_TEXT, &l, c, 1, 3), 0);
	assert_non_null(strstr(mem, "live: pid 42 (engine 43, up 1 s)"));
	assert_non_null(strstr(mem, "packets: in 11, out 22,"));
	assert_non_null(strstr(mem, "waiting: 8 SYNs deferred at limits,"));
	assert_non_null(strstr(mem, "now 500 waiting, 90 handshakes in flight of a window of 96"));
	assert_non_null(strstr(mem, "limits: max-conns 18000 (from open-files), max-pending 9000, "
				    "mem-limit 1024 MiB, buffer 256 KiB, open files 20000,"));
	assert_non_null(strstr(mem, "conn 5: 192.0.2.2:40000 -> 198.51.100.20:80 ESTABLISHED "
				    "(relay), up 100, down 200 bytes, age 2 s\n"));
	assert_non_null(strstr(mem, "(2 more connections not listed)\n"));
	/* the name behind a fake address, next to it */
	c[0].name = "www.example.com";
	jb_init(&b, mem, sizeof(mem));
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS_TEXT, &l, c, 1, 1), 0);
	assert_non_null(strstr(mem, "conn 5: 192.0.2.2:40000 -> 198.51.100.20:80 = www.example.com "
				    "ESTABLISHED (relay)"));
}

/* ---- the server, in a loop with an engine ---- */

static char dir[64];
static int dirfd_ = -1;

static int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test-ctl.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	dirfd_ = open(dir, O_DIRECTORY | O_CLOEXEC);
	return dirfd_ < 0 ? -1 : 0;
}

static int teardown_dir(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/%s", dir, CTL_SOCK);
	unlink(p);
	close(dirfd_);
	return rmdir(dir);
}

struct srv {
	struct loop loop;
	struct engine eng;
	struct ctl_server ctl;
	struct proxy_url url;
	struct loop_io done_io;
	struct loop_io lis_io; /* the listening socket, as up's parent has it */
	uid_t owner;
	unsigned int refused; /* by ctl_accept */
	int tun[2];
	char *res; /* what the client writes, until it exits (EOF) */
	size_t len, cap;
};

static void done_cb(struct loop_io *io, uint32_t events)
{
	struct srv *s = (struct srv *)((char *)io - offsetof(struct srv, done_io));
	ssize_t n;

	(void)events;
	n = read(io->fd, s->res + s->len, s->cap - 1 - s->len);
	if (n > 0)
		s->len += (size_t)n;
	else if (n == 0 || errno != EINTR)
		s->loop.stop = true;
	s->res[s->len] = '\0';
}

/* What up's parent does with the listening socket (privsep.c's ctl_cb). */
static void lis_cb(struct loop_io *io, uint32_t events)
{
	struct srv *s = (struct srv *)((char *)io - offsetof(struct srv, lis_io));
	uid_t uid;
	int fd;

	(void)events;
	while ((fd = ctl_accept(io->fd, s->owner, &uid)) != -EAGAIN) {
		if (fd == -EACCES)
			s->refused++;
		else if (fd >= 0)
			ctl_server_take(&s->ctl, fd);
		else
			break;
	}
}

static void srv_start(struct srv *s, uid_t owner)
{
	struct engine_cfg cfg = { .mtu = 1500 };
	const char *why;
	char err[128];
	int fd;

	memset(s, 0, sizeof(*s));
	assert_int_equal(url_parse("socks5://127.0.0.1:9", &s->url, &why), 0);
	cfg.proxy = &s->url;
	assert_int_equal(loop_init(&s->loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s->tun),
			 0);
	assert_int_equal(engine_init(&s->eng, &s->loop, s->tun[0], &cfg), 0);
	fd = ctl_listen(dirfd_, err, sizeof(err));
	assert_true(fd >= 0);
	s->owner = owner;
	s->lis_io.cb = lis_cb;
	assert_int_equal(loop_io_add(&s->loop, &s->lis_io, fd, EPOLLIN), 0);
	ctl_server_init(&s->ctl, &s->loop, &s->eng);
}

static void srv_stop(struct srv *s)
{
	int fd = s->lis_io.fd;

	loop_io_del(&s->loop, &s->lis_io);
	close(fd);
	ctl_server_fini(&s->ctl);
	engine_fini(&s->eng);
	close(s->tun[1]);
	loop_fini(&s->loop);
	url_clear(&s->url);
	ctl_unlink(dirfd_);
}

/*
 * Runs the loop while a child runs fn (as uid if not -1) and writes its
 * result into a pipe; returns what the child wrote.
 */
static void run_client(struct srv *s, uid_t uid, void (*fn)(int out), char *res, size_t cap)
{
	int p[2], st;
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (uid != (uid_t)-1 && setresuid(uid, uid, uid) < 0)
			_exit(3);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	s->done_io.cb = done_cb;
	s->res = res;
	s->cap = cap;
	s->len = 0;
	res[0] = '\0';
	assert_int_equal(loop_io_add(&s->loop, &s->done_io, p[0], EPOLLIN), 0);
	s->loop.stop = false;
	assert_int_equal(loop_run(&s->loop), 0);
	loop_io_del(&s->loop, &s->done_io);
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("client: status 0x%x, wrote `%s'", st, res);
}

static void query_json(int out)
{
	static char buf[CTL_REPLY_MAX];
	ssize_t n = ctl_query(dirfd_, "status\n", buf, sizeof(buf), 5000);

	if (n < 0)
		dprintf(out, "error %zd", n);
	else
		dprintf(out, "%s", buf);
}

static void test_server_query(void **state)
{
	struct srv s;
	struct stat st;
	char res[8192];

	(void)state;
	/* a stale socket (and anything else named ctl) is replaced */
	assert_int_equal(mknodat(dirfd_, CTL_SOCK, S_IFREG | 0644, 0), 0);
	srv_start(&s, getuid());
	assert_int_equal(fstatat(dirfd_, CTL_SOCK, &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	run_client(&s, (uid_t)-1, query_json, res, sizeof(res));
	assert_true(strncmp(res, "{\"version\":", 11) == 0);
	assert_non_null(strstr(res, "\"connections\":[],\"connections_listed\":0,"
				    "\"connections_truncated\":false}\n"));
	srv_stop(&s);
	assert_int_equal(fstatat(dirfd_, CTL_SOCK, &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
}

/* Another engine's counters, as workers_snapshot would add them. */
static void fake_more(void *arg, struct ctl_more *m)
{
	(void)arg;
	m->eng.sessions_total += 5;
	m->eng.pkts_in += 100;
	m->tcp.segs_in += 40;
	m->conns += 2;
	m->pending += 1;
	m->mem += 4096;
}

/* With ctl.more set, every counter is the sum; the list stays this engine's. */
static void test_server_more(void **state)
{
	struct srv s;
	char res[8192];

	(void)state;
	srv_start(&s, getuid());
	s.eng.stats.sessions_total = 3;
	s.eng.stats.pkts_in = 11;
	s.ctl.more = fake_more;
	run_client(&s, (uid_t)-1, query_json, res, sizeof(res));
	assert_non_null(strstr(res, "\"sessions_total\":8,"));
	assert_non_null(strstr(res, "\"pkts_in\":111,"));
	assert_non_null(strstr(res, "\"segs_in\":40,"));
	assert_non_null(strstr(res, "\"flows\":2,\"handshaking\":1,\"buffer_bytes\":4096,"
				    "\"sessions\":0"));
	assert_non_null(strstr(res, "\"connections\":[],\"connections_listed\":0,"));
	/* this engine alone again */
	s.ctl.more = NULL;
	run_client(&s, (uid_t)-1, query_json, res, sizeof(res));
	assert_non_null(strstr(res, "\"sessions_total\":3,"));
	assert_non_null(strstr(res, "\"flows\":0,"));
	srv_stop(&s);
}

/* Every counter lands under its own name: the engine's offsets match the protocol's order. */
static void test_live_fill(void **state)
{
	struct srv s;
	struct ctl_more more = { .conns = 1, .pending = 2, .mem = 3 };
	struct ctl_live l = { 0 };
	uint64_t *t = (uint64_t *)&more.tcp;
	size_t i;

	(void)state;
	srv_start(&s, getuid());
	s.eng.stats = (struct engine_stats){ .pkts_in = 1,
					     .pkts_out = 2,
					     .pkts_bad = 3,
					     .pkts_unsupported = 4,
					     .tun_write_err = 5,
					     .pkts_gso_in = 99,
					     .sessions_total = 6,
					     .sessions_failed = 7,
					     .sessions_held = 8,
					     .sessions_hold_expired = 9 };
	/* struct tcp_stats lists the protocol's counters first, in its order */
	for (i = 0; i < sizeof(more.tcp) / sizeof(uint64_t); i++)
		t[i] = 100 + i;
	ctl_live_fill(&l, &s.eng, &more);
	for (i = 0; i < CTL_E_MAX; i++)
		assert_int_equal(l.eng[i], i + 1);
	for (i = 0; i < CTL_T_SYN_DEFERRED; i++)
		assert_int_equal(l.tcp[i], 100 + i);
	/* counters added later sit after gso_out in the struct */
	assert_int_equal(l.tcp[CTL_T_SYN_DEFERRED],
			 100 + offsetof(struct tcp_stats, syn_deferred) / sizeof(uint64_t));
	assert_string_equal(ctl_eng_names[CTL_E_SESSIONS_FAILED], "sessions_failed");
	assert_string_equal(ctl_tcp_names[CTL_T_UNDO], "undo");
	assert_int_equal(l.conns, 1);
	assert_int_equal(l.mem, 3);
	srv_stop(&s);
}

static void test_server_other_uid(void **state)
{
	struct srv s;
	char res[256];

	(void)state;
	if (geteuid() != 0)
		skip();
	/* the dir and socket open to uid 65534, so only the peer check stops it */
	assert_int_equal(fchmod(dirfd_, 0711), 0);
	srv_start(&s, 0);
	assert_int_equal(fchmodat(dirfd_, CTL_SOCK, 0666, 0), 0);
	run_client(&s, 65534, query_json, res, sizeof(res));
	assert_int_equal(s.refused, 1);
	assert_string_equal(res, "error -104"); /* -ECONNRESET: closed unanswered */
	/* root is answered with owner 0 */
	run_client(&s, (uid_t)-1, query_json, res, sizeof(res));
	assert_true(strncmp(res, "{\"version\":", 11) == 0);
	srv_stop(&s);
	assert_int_equal(fchmod(dirfd_, 0700), 0);
}

/* Garbage and a too-long line get closed; a silent client is timed out; no slot leaks. */
static void bad_clients(int out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char big[CTL_REQ_MAX + 1], buf[16];
	int fd[3], i;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dirfd_, CTL_SOCK);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < 3; i++) {
		fd[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(fd[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(4);
	}
	if (write(fd[0], "bogus\n", 6) != 6 || write(fd[1], big, sizeof(big)) != sizeof(big))
		_exit(5);
	dprintf(out, "%zd %zd ", read(fd[0], buf, sizeof(buf)), read(fd[1], buf, sizeof(buf)));
	/* more than CTL_MAX_CLIENTS at once: the extra ones are closed */
	{
		int more[CTL_MAX_CLIENTS + 1], closed = 0;

		for (i = 0; i <= CTL_MAX_CLIENTS; i++) {
			more[i] = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(more[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(6);
		}
		for (i = 0; i <= CTL_MAX_CLIENTS; i++) {
			struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };

			setsockopt(more[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (read(more[i], buf, sizeof(buf)) == 0)
				closed++;
		}
		dprintf(out, "closed-extra %d ", closed);
		for (i = 0; i <= CTL_MAX_CLIENTS; i++)
			close(more[i]);
	}
	close(fd[2]);
	query_json(out);
}

static void test_server_bad_clients(void **state)
{
	struct srv s;
	char res[8192], *p;

	(void)state;
	srv_start(&s, getuid());
	run_client(&s, (uid_t)-1, bad_clients, res, sizeof(res));
	/*
	 * Both bad requests: closed (EOF, or a reset for the unread tail); of 5
	 * more with fd[2] holding a slot, at least 2 are closed at once.
	 */
	assert_true(strncmp(res, "0 0 closed-extra ", 17) == 0 ||
		    strncmp(res, "0 -1 closed-extra ", 18) == 0);
	p = strstr(res, "closed-extra ") + 13;
	assert_true(*p >= '2' && *p <= '5');
	assert_non_null(strstr(res, "{\"version\":"));
	srv_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_jbuf),
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_reply_json),
		cmocka_unit_test(test_reply_truncated),
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test_setup_teardown(test_server_query, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_server_more, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_live_fill, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_server_other_uid, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_server_bad_clients, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
