#!/usr/bin/env bash
# The box on a booted systemd: a throw-away Debian 12 container with systemd as PID 1
# (debootstrap + systemd-nspawn --boot), the kiosk installed inside from its wheel and
# requirements.lock as the README says, then `kiosk install` and the checks of issue 18:
# the kiosk unit starts and stays up past its watchdog, the sync unit and the daily timer are
# active, `kiosk doctor` answers, the kiosk comes back after `kill -9`, and `kiosk uninstall
# --purge` leaves nothing behind. Run by `make boot-test` (root; network for the Debian mirror
# and PyPI). The base image is cached in $BOOT_TEST_DIR (debootstrap once, about a minute); each
# run copies it and deletes the copy.
#
# The container has no virtual consoles: the kiosk's /dev/tty1 is a pseudo-terminal of a tmux
# pane on the host (120x34, the size the large console font gives at 1920x1080), bound into the
# container, so the test also reads what the kiosk drew.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=${BOOT_TEST_DIR:-/var/tmp/rehab-kiosk-boot}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
# The README's system packages of a box, and what a booted minimal container needs besides.
PACKAGES=systemd,systemd-sysv,dbus,ca-certificates,procps,python3-venv,python3-dev,gcc,swig,libpcsclite-dev,pcscd,console-setup,udev
BASE=$WORK/base-bookworm
RUN=$WORK/run.$$
MACHINE=$RUN/root
TMUX_SOCKET=$RUN/tmux.sock
LEADER=
NSPAWN=

say() { printf 'boot-test: %s\n' "$*"; }
fail() {
	printf 'boot-test: FAILED: %s\n' "$*" >&2
	exit 1
}

cleanup() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		[ -n "$LEADER" ] && inside systemctl poweroff >/dev/null 2>&1 || true
		for _ in $(seq 30); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 1; done
		kill "$NSPAWN" 2>/dev/null || true
		wait "$NSPAWN" 2>/dev/null || true
	fi
	tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null || true
	rm -rf "$RUN"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || fail "needs root (sudo make boot-test): debootstrap and systemd-nspawn"
for program in debootstrap systemd-nspawn nsenter tmux; do
	command -v "$program" >/dev/null || fail "$program is missing (make system-packages)"
done

# Inside the container, as its PID 1 sees the world (all of its namespaces).
inside() { nsenter --target "$LEADER" --all -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
kiosk() { inside /opt/rehab-kiosk/venv/bin/kiosk "$@"; }
# A command by hand on a box with the sealed database key, as the README says to run it.
kiosk_keyed() {
	inside systemd-run --quiet --pipe --wait --collect -p User=rehab-kiosk \
		-p LoadCredentialEncrypted=kiosk-db-key:/etc/credstore.encrypted/kiosk-db-key \
		/opt/rehab-kiosk/venv/bin/kiosk "$@"
}
prop() { inside systemctl show -P "$2" "$1"; }

if [ "$(cat "$BASE/.packages" 2>/dev/null)" != "$PACKAGES" ]; then
	say "debootstrap bookworm into $BASE (once)"
	rm -rf "$BASE.tmp"
	mkdir -p "$WORK"
	debootstrap --variant=minbase --include="$PACKAGES" bookworm "$BASE.tmp" "$MIRROR" \
		>"$WORK/debootstrap.log" 2>&1 || fail "debootstrap failed, see $WORK/debootstrap.log"
	echo "$PACKAGES" >"$BASE.tmp/.packages"
	rm -rf "$BASE"
	mv "$BASE.tmp" "$BASE"
fi

mkdir -p "$RUN/src"
say "copy the base image"
cp -a --reflink=auto "$BASE" "$MACHINE"
# The machine's files before the kiosk, to compare with after `kiosk uninstall --purge`.
# systemd-creds makes the machine's host key on first use: systemd's, other credentials may
# need it, so it stays.
SNAPSHOT_EXCLUDE='^\./(proc|sys|dev|run|tmp|var/tmp|var/log|var/cache|root|opt|var/lib/systemd/credential\.secret)(/|$)'

say "build the wheel (from a copy of the tree's files, as a clone has them)"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$RUN/src" 2>/dev/null) || true
"$PYTHON" -m pip --disable-pip-version-check -q wheel --no-deps --no-build-isolation \
	-w "$RUN/dist" "$RUN/src" >"$RUN/wheel.log" 2>&1 || fail "the wheel did not build: $(tail -1 "$RUN/wheel.log")"
# The locked files are fetched here, by the host's pip and its network settings, into a cache
# kept between runs; the container installs from them offline, every hash checked.
say "download the locked dependencies"
# pyscard comes as source: its metadata is read here, and it is built inside, without build
# isolation (that would fetch setuptools and PyPI's swig unpinned), by the locked setuptools
# and the container's apt swig.
"$PYTHON" -m pip --disable-pip-version-check -q download --require-hashes --no-deps \
	--no-build-isolation -r "$ROOT/requirements.lock" -d "$WORK/wheelhouse" \
	>"$RUN/download.log" 2>&1 || fail "pip download failed: $(tail -1 "$RUN/download.log")"
mkdir -p "$MACHINE/opt/rehab-kiosk/dist"
cp "$RUN"/dist/rehab_kiosk-*.whl "$ROOT/requirements.lock" "$ROOT/requirements-build.lock" \
	"$MACHINE/opt/rehab-kiosk/dist/"
cp -r "$WORK/wheelhouse" "$MACHINE/opt/rehab-kiosk/dist/"

tmux -S "$TMUX_SOCKET" new-session -d -x 120 -y 34 -s console \
	"trap '' HUP; while :; do sleep 3600; done"
CONSOLE=$(tmux -S "$TMUX_SOCKET" display-message -p -t console '#{pane_tty}')

say "boot the container (systemd as PID 1)"
systemd-nspawn --quiet --boot --register=no --keep-unit --directory="$MACHINE" \
	--machine="rehab-boot-$$" --bind="$CONSOLE:/dev/tty1" \
	</dev/null >"$RUN/console.log" 2>&1 &
NSPAWN=$!
for _ in $(seq 60); do
	LEADER=$(pgrep -P "$NSPAWN" -x systemd || true)
	[ -n "$LEADER" ] && [ "$(inside systemctl is-system-running 2>/dev/null)" = running ] && break
	sleep 1
done
[ -n "$LEADER" ] || fail "the container did not boot: $(tail -3 "$RUN/console.log")"
state=$(inside systemctl is-system-running || true)
[ "$state" = running ] || fail "the container's systemd is $state: $(inside systemctl --failed)"
say "booted: $(inside systemctl --version | head -1)"
(cd "$MACHINE" && find . -xdev | grep -Ev "$SNAPSHOT_EXCLUDE" | sort) >"$RUN/before"

say "install the locked dependencies and the wheel (README, The kiosk box)"
inside python3 -m venv /opt/rehab-kiosk/venv
inside /opt/rehab-kiosk/venv/bin/pip -q --disable-pip-version-check install \
	--no-index --find-links /opt/rehab-kiosk/dist/wheelhouse \
	--require-hashes -r /opt/rehab-kiosk/dist/requirements-build.lock
inside /opt/rehab-kiosk/venv/bin/pip -q --disable-pip-version-check install \
	--no-index --find-links /opt/rehab-kiosk/dist/wheelhouse \
	--require-hashes --no-build-isolation -r /opt/rehab-kiosk/dist/requirements.lock
inside sh -c '/opt/rehab-kiosk/venv/bin/pip -q --disable-pip-version-check install \
	--no-deps /opt/rehab-kiosk/dist/rehab_kiosk-*.whl'

say "kiosk install --encrypt-database"
cp "$MACHINE/etc/default/console-setup" "$RUN/console-setup.before"
kiosk install --encrypt-database
grep -q '^FONTSIZE="16x32"' "$MACHINE/etc/default/console-setup" || fail "the console font is not set"
# What a technician fills in (CHANGE in the starter file): keys, a printer, the centre.
lookup=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
parking="K1 = \"$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')\""
inside sed -i \
	-e "s|^lookup_key = \"\"|lookup_key = \"$lookup\"|" \
	-e "s|^# K1 = \"...\"|$parking|" \
	-e 's|^printer = "escpos"|printer = "file"|' \
	-e 's|^printer_target = .*|printer_target = "/var/lib/rehab-kiosk/tickets"|' \
	-e 's|^central_url = .*|central_url = "sqlite:////var/lib/rehab-kiosk/central.sqlite"|' \
	/etc/rehab-kiosk/kiosk.toml
kiosk_keyed config check
# The centre: here a SQLite file on the box itself (in production PostgreSQL elsewhere).
kiosk_keyed central init

say "start the units"
inside systemctl start rehab-kiosk rehab-kiosk-sync rehab-kiosk-daily.timer
for unit in rehab-kiosk.service rehab-kiosk-sync.service rehab-kiosk-daily.timer; do
	[ "$(inside systemctl is-enabled "$unit")" = enabled ] || fail "$unit is not enabled"
done

watchdog=$(prop rehab-kiosk.service WatchdogUSec)
say "wait past the watchdog ($watchdog) and a few sync rounds"
sleep 45
for unit in rehab-kiosk.service rehab-kiosk-sync.service rehab-kiosk-daily.timer; do
	[ "$(inside systemctl is-active "$unit")" = active ] ||
		fail "$unit is not active: $(inside journalctl -u "$unit" -n 20 --no-pager -o cat)"
done
[ "$(prop rehab-kiosk.service NRestarts)" = 0 ] || fail "the kiosk restarted under the watchdog"
[ "$(prop rehab-kiosk.service StatusText)" != "" ] || fail "the kiosk never told systemd it is ready"
say "kiosk active: $(prop rehab-kiosk.service StatusText); next daily run: $(prop rehab-kiosk-daily.timer NextElapseUSecRealtime)"
head -c 15 "$MACHINE/var/lib/rehab-kiosk/kiosk.sqlite" | grep -q 'SQLite format' &&
	fail "the kiosk's database is not encrypted"
say "the kiosk's database is encrypted (no SQLite header)"
screen=$(tmux -S "$TMUX_SOCKET" capture-pane -p -t console)
grep -q . <<<"$screen" || fail "the kiosk drew nothing on /dev/tty1"
# SQLCipher's own messages (an mlock it cannot do, in a container) stay off stderr, which is
# the kiosk's screen (kiosk/db/cipher.py).
if grep -q 'WARN\|ERROR' <<<"$screen"; then fail "on the kiosk's screen: $(grep -m1 'WARN\|ERROR' <<<"$screen")"; fi
say "the console (120x34): $(grep -c . <<<"$screen") lines drawn"

say "kiosk doctor"
set +e
kiosk_keyed doctor >"$RUN/doctor.txt"
doctor=$?
set -e
cat "$RUN/doctor.txt"
[ "$doctor" -le 2 ] && [ -s "$RUN/doctor.txt" ] || fail "kiosk doctor did not answer (exit $doctor)"

say "kill -9 the kiosk"
first=$(prop rehab-kiosk.service MainPID)
inside kill -9 "$first"
for _ in $(seq 30); do
	again=$(prop rehab-kiosk.service MainPID)
	[ "$again" != 0 ] && [ "$again" != "$first" ] &&
		[ "$(inside systemctl is-active rehab-kiosk.service)" = active ] && break
	sleep 1
done
[ "$again" != 0 ] && [ "$again" != "$first" ] || fail "the kiosk did not come back after kill -9"
say "back as process $again after $(prop rehab-kiosk.service NRestarts) restart"

say "kiosk uninstall --purge"
kiosk uninstall --purge
inside systemctl reset-failed 2>/dev/null || true
left=$(inside systemctl list-units --all --no-legend 'rehab-kiosk*' || true)
[ -z "$left" ] || fail "units left after uninstall: $left"
(cd "$MACHINE" && find . -xdev | grep -Ev "$SNAPSHOT_EXCLUDE" | sort) >"$RUN/after"
if ! diff -u "$RUN/before" "$RUN/after" >"$RUN/left"; then
	fail "uninstall --purge left files behind: $(grep '^[+-]\.' "$RUN/left" | tr '\n' ' ')"
fi
grep -q '^rehab-kiosk:' "$MACHINE/etc/passwd" && fail "the user rehab-kiosk is left"
cmp -s "$RUN/console-setup.before" "$MACHINE/etc/default/console-setup" ||
	fail "the console font setting was not put back"
say "ok: installed, ran past the watchdog, restarted after kill -9, uninstalled without a trace"
