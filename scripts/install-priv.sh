#!/bin/sh
# What a real install does as root, after the files are in place: the dumpcap
# model (docs/security.md, "Who may steer the host"). `make install` runs it
# when installing as root without DESTDIR; a package runs the same steps in
# its postinst (README, "Packaging").
#
#   sh scripts/install-priv.sh /usr/local/bin/proxyvpn
#
# - group proxyvpn: its members (and root) may run the binary, which carries
#   cap_net_admin, and use `up` and `down`;
# - system user proxyvpn (no login, no home, primary group nogroup, not
#   proxyvpn: the engine must not be a member of the group that may steer
#   the host): `up`'s engine runs as it;
# - the binary root:proxyvpn mode 0750 with cap_net_admin+ep (setcap, from
#   libcap2-bin).
# Idempotent. An older install's user proxyvpn whose primary group is
# proxyvpn is moved to nogroup.
set -eu
bin=${1:?usage: install-priv.sh BINARY}
[ "$(id -u)" = 0 ] || {
	echo "install-priv: must be root" >&2
	exit 1
}
command -v setcap >/dev/null || {
	echo "install-priv: setcap not found (Debian: apt-get install libcap2-bin)" >&2
	exit 1
}
if ! getent group proxyvpn >/dev/null; then
	echo "  GROUP   proxyvpn (may run up and down)"
	groupadd --system proxyvpn
fi
if ! getent passwd proxyvpn >/dev/null; then
	echo "  USER    proxyvpn (system user for up's engine)"
	useradd --system --gid nogroup --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin proxyvpn
elif [ "$(id -gn proxyvpn)" = proxyvpn ]; then
	echo "  USER    proxyvpn: primary group nogroup"
	usermod --gid nogroup proxyvpn
fi
chown root:proxyvpn "$bin"
chmod 0750 "$bin"
setcap cap_net_admin+ep "$bin"
echo "  CAPS    $bin root:proxyvpn 0750 cap_net_admin+ep (add users: usermod -aG proxyvpn USER)"
