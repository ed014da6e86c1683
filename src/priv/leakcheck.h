/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `proxyvpn exec --check-leaks`: what a command in exec's namespace could
 * still ask a host service to do for it. Run by the namespace child in the
 * command's place: same view (nsview.h), same uid, no capabilities.
 */
#ifndef PROXYVPN_LEAKCHECK_H
#define PROXYVPN_LEAKCHECK_H

/*
 * Tries to connect to each known host service socket (resolvers, the
 * buses, X11, Wayland, container managers...) and to every other Unix
 * socket under /run, /var/run, /tmp, /var/tmp, $XDG_RUNTIME_DIR and
 * ~/.gnupg, closing each connection at once, and prints one line per
 * socket to stdout plus the name-lookup settings in effect. Returns the
 * exit status: 0 if no socket was reachable, 1 otherwise.
 */
int leakcheck_run(void);

#endif
