#!/bin/bash
# scripts/deps.sh's install branch, which CI never reaches (its machine has
# every package): with fake apt-get, dpkg-query and systemctl first on PATH
# and, in a private mount namespace, a /usr/sbin of the test's own (so
# policy-rc.d is the test's), deps.sh must exit 0 and say "done" when it
# installs something: with a policy-rc.d of the machine's (Debian images
# ship one; an EXIT trap once made that exit 1), left as it was, and
# without one, made for the install (apt-get sees it) and removed after.
# With nothing missing it exits 0 before touching anything.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
T=$T_OUT/deps
mkdir -p "$T/bin" "$T/sbin"
cat >"$T/bin/dpkg-query" <<EOF
#!/bin/sh
# every package installed, but microsocks until apt-get has run
[ -e "$T/installed" ] || [ "\$3" != microsocks ] || exit 1
printf 'ii '
EOF
cat >"$T/bin/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$T/apt.log"
case " \$* " in
*" install "*)
	[ -x /usr/sbin/policy-rc.d ] || { echo "no policy-rc.d during install" >>"$T/apt.log"; exit 1; }
	/usr/sbin/policy-rc.d; echo "policy-rc.d says \$?" >>"$T/apt.log"
	: >"$T/installed" ;;
esac
EOF
printf '#!/bin/sh\nexit 0\n' >"$T/bin/systemctl"
chmod 0755 "$T/bin/"*

# run_deps ARGS: deps.sh in a private mount namespace whose /usr/sbin is $T/sbin.
run_deps() {
	rm -f "$T/installed" "$T/apt.log"
	unshare -m --propagation private env PATH="$T/bin:$PATH" bash -c \
		'mount --bind "$1" /usr/sbin && shift && exec bash "$@"' sh "$T/sbin" \
		"$REPO/scripts/deps.sh" "$@" >"$T/out" 2>&1
}
REPO=$(cd "$E2E_DIR/../.." && pwd)

# 1. The machine has its own policy-rc.d.
printf '#!/bin/sh\n# the machine s own\nexit 101\n' >"$T/sbin/policy-rc.d"
chmod 0755 "$T/sbin/policy-rc.d"
sum=$(sha256sum <"$T/sbin/policy-rc.d")
rc=0
run_deps --test || rc=$?
assert_eq "$rc" 0 "deps.sh --test exit status, installing, with a policy-rc.d: $(cat "$T/out")"
grep -qx "deps: done" "$T/out" || fail "deps.sh did not say done: $(cat "$T/out")"
grep -q "apt-get .* install -y --no-install-recommends microsocks$" "$T/apt.log" ||
	fail "apt-get was not asked for microsocks alone: $(cat "$T/apt.log")"
assert_eq "$(sha256sum <"$T/sbin/policy-rc.d")" "$sum" "the machine's policy-rc.d, untouched"
echo "ok: installing with the machine's policy-rc.d: exit 0, left as it was"

# 2. None: deps.sh makes one for the install and removes it.
rm -f "$T/sbin/policy-rc.d"
rc=0
run_deps --test || rc=$?
assert_eq "$rc" 0 "deps.sh --test exit status, installing, no policy-rc.d: $(cat "$T/out")"
grep -qx "policy-rc.d says 101" "$T/apt.log" || fail "no service-blocking policy-rc.d during install: $(cat "$T/apt.log")"
[ ! -e "$T/sbin/policy-rc.d" ] || fail "deps.sh left its policy-rc.d behind"
echo "ok: installing without a policy-rc.d: one made for the install, removed after"

# 3. Nothing missing: exit 0 at once, apt-get never run.
: >"$T/installed"
rm -f "$T/apt.log"
rc=0
PATH="$T/bin:$PATH" bash "$REPO/scripts/deps.sh" --test >"$T/out" 2>&1 || rc=$?
assert_eq "$rc" 0 "deps.sh --test exit status with nothing missing"
grep -q "^deps: all [0-9]* packages present$" "$T/out" || fail "deps.sh: $(cat "$T/out")"
[ ! -e "$T/apt.log" ] || fail "apt-get ran with nothing missing"
echo "ok: nothing missing: exit 0, no apt-get"
