#!/bin/bash
# Install what building (and, with --test, testing) proxyvpn needs on Debian 12.
#
#   bash scripts/deps.sh [--test]
#
# Installs only missing packages, runs `apt-get update` only if something is
# missing, never prompts. Needs root only when something has to be installed.
# tinyproxy, iperf3, nscd and sshd are installed without starting their system
# services (the tests start their own instances inside network namespaces, nscd
# in a private mount namespace: its socket path is global; sshd with its own
# host key and config); a packaged
# tinyproxy service that is already running is left alone: it listens on
# 127.0.0.1:8888 in the root namespace, which the tests never use.
set -euo pipefail

BUILD=(build-essential pkg-config libmnl-dev libcap-dev libnftables-dev libseccomp-dev libcap2-bin)
TEST=(libcmocka-dev clang clang-format libclang-rt-14-dev microsocks tinyproxy curl iproute2
	python3 socat netcat-openbsd util-linux procps iperf3 dante-server nftables valgrind
	dnsmasq-base iptables nscd dbus-daemon dbus-bin python3-dbus python3-gi
	openssh-server openssh-client git strace busybox
	nginx apache2-utils gnuplot-nox binutils proxychains4 redsocks squid)
# (busybox: its udhcpc is e2e updhcp's DHCP client; the last line: bench/smoke;
# bench/run.sh installs the same list itself)

want=("${BUILD[@]}")
case ${1:-} in
"") ;;
--test) want+=("${TEST[@]}") ;;
*)
	echo "usage: bash scripts/deps.sh [--test]" >&2
	exit 2
	;;
esac

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# The tests run `up` as root, whose engine runs as the system user proxyvpn
# (never nobody): made here as `make install` makes it (scripts/install-priv.sh),
# without the binary's group and capability, which the tests set up themselves.
engine_user() {
	getent passwd proxyvpn >/dev/null && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "deps: the tests need the system user proxyvpn (try: sudo bash scripts/deps.sh --test)" >&2
		return 1
	fi
	echo "deps: system user proxyvpn (up's engine)"
	useradd --system --gid nogroup --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin proxyvpn
}
if [ "${1:-}" = --test ]; then
	engine_user || exit 1
fi

missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#want[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "deps: must be root to install packages (try: sudo bash scripts/deps.sh ${1:-})" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Keep maintainer scripts from starting services (tinyproxy, iperf3, squid...) while
# installing: the standard policy-rc.d mechanism, only if none exists.
policy=/usr/sbin/policy-rc.d
our_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	our_policy=1
fi
# An if, not `[ ] && rm`: an EXIT trap's last status becomes the script's, and
# a false test here made every install on a machine with its own policy-rc.d
# (Debian container images) exit 1.
cleanup() {
	if [ "$our_policy" = 1 ]; then
		rm -f "$policy"
	fi
}
trap cleanup EXIT

apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt-get "${apt_opts[@]}" -q update
apt-get "${apt_opts[@]}" -q install -y --no-install-recommends "${missing[@]}"

# On systemd machines the unit may still be enabled for the next boot.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	for svc in tinyproxy iperf3 danted nginx squid redsocks nscd ssh; do
		if systemctl list-unit-files "$svc.service" >/dev/null 2>&1; then
			systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
		fi
	done
fi

still=()
for p in "${want[@]}"; do
	installed "$p" || still+=("$p")
done
if [ "${#still[@]}" -gt 0 ]; then
	echo "deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "deps: done"
