// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scripted proxy (see fake-proxy.h). Every wait is bounded: a test that
 * expects what never comes fails in its timeout, it does not hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake-proxy.h"

int fake_proxy_start(struct fake_proxy *fp, enum proxy_type type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	memset(fp, 0, sizeof(*fp));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fp->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fp->lfd < 0)
		return -errno;
	if (bind(fp->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fp->lfd, 64) < 0 ||
	    getsockname(fp->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		int ret = -errno;

		close(fp->lfd);
		fp->lfd = -1;
		return ret;
	}
	fp->port = ntohs(sa.sin_port);
	fp->url.type = type;
	strcpy(fp->url.host, "127.0.0.1");
	fp->url.port = fp->port;
	memcpy(&fp->up.addr, &sa, sizeof(sa));
	fp->up.addrlen = sizeof(sa);
	fp->up.proxy = &fp->url;
	return 0;
}

void fake_proxy_auth(struct fake_proxy *fp, const char *user, const char *pass)
{
	fp->url.has_auth = true;
	snprintf(fp->url.user, sizeof(fp->url.user), "%s", user);
	snprintf(fp->url.pass, sizeof(fp->url.pass), "%s", pass);
}

void fake_proxy_stop(struct fake_proxy *fp)
{
	if (fp->lfd >= 0)
		close(fp->lfd);
	fp->lfd = -1;
}

void loop_pump(struct loop *l, int ms)
{
	struct epoll_event ev[64];
	int n, i;

	loop_run_timers(l);
	n = epoll_wait(l->epfd, ev, 64, ms);
	for (i = 0; i < n; i++) {
		struct loop_io *io = ev[i].data.ptr;

		if (io->fd >= 0)
			io->cb(io, ev[i].events);
	}
	if (l->idle)
		l->idle(l, l->idle_arg);
}

/* Whether fd has something to read (or EOF) within ms, pumping l in small steps. */
static bool wait_readable(struct loop *l, int fd, int ms)
{
	int waited;

	for (waited = 0; waited <= ms; waited += 5) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		loop_pump(l, 0);
		if (poll(&p, 1, 5) == 1)
			return true;
	}
	return false;
}

int fake_proxy_accept(struct fake_proxy *fp, struct loop *l, int timeout_ms)
{
	if (!wait_readable(l, fp->lfd, timeout_ms))
		return -1;
	return accept4(fp->lfd, NULL, NULL, SOCK_CLOEXEC);
}

bool fake_expect(struct loop *l, int fd, const void *want, size_t n, int timeout_ms)
{
	uint8_t got[4096];
	size_t have = 0;

	if (n > sizeof(got))
		return false;
	while (have < n) {
		ssize_t k;

		if (!wait_readable(l, fd, timeout_ms))
			return false;
		k = recv(fd, got + have, n - have, MSG_DONTWAIT);
		if (k <= 0)
			return false;
		have += (size_t)k;
	}
	return memcmp(got, want, n) == 0;
}

ssize_t fake_read(struct loop *l, int fd, void *buf, size_t cap, int timeout_ms)
{
	if (!wait_readable(l, fd, timeout_ms))
		return -1;
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

bool fake_send(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);

		if (k <= 0)
			return false;
		b += k;
		n -= (size_t)k;
	}
	return true;
}

void fake_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}
