#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fresh-check.sh (make fresh-check): does the CI run on a fresh Debian
# bookworm machine, with nothing installed by hand?
#
#  1. debootstrap --variant=minbase bookworm, from the Debian mirror the
#     host's apt sources name; the result is cached as a tarball
#     (build/fresh/base-*.tar) and every run unpacks it into an untouched
#     build/fresh/root.
#  2. The root gets the host's apt sources (*.list, *.sources, the keyrings
#     they name, an apt proxy if the host has one) and /etc/resolv.conf,
#     nothing else. No deb-src is added: tools/qemu-dsa/build.sh adds it, and
#     that is part of what is checked (the project's own
#     dsa-migrate-src.sources is therefore not copied).
#  3. git clone of the committed HEAD into /src/main (FRESH_WORKTREE=1: plus
#     the working tree's uncommitted changes, untracked files included,
#     .gitignore respected).
#  4. In a private mount and PID namespace (unshare): proc, sysfs (ro), a bind
#     of /dev and /dev/pts, a tmpfs /dev/shm (and the host caches with
#     FRESH_CACHES=host), then, as root in the chroot, only "bash .ci/run",
#     which installs the packages with tools/install-deps.sh and runs make
#     test. On exit, even on failure, left-over processes of the root are
#     killed, everything is unmounted and findmnt must list nothing under
#     the root; the namespaces also make the mounts invisible to the host and
#     take them away if this script is killed.
#
# Environment:
#   FRESH_STEPS=all     (default) bash .ci/run: about 40 min cold on 2 cores
#   FRESH_STEPS=source  tools/install-deps.sh (twice: the second must install
#                       nothing), make -n test, then make source config
#                       host-tests: extraction, patches, kconfig, perl and
#                       python checks, no kernel or QEMU build
#   FRESH_STEPS=deps    the same, stopping after make -n test
#   FRESH_CACHES=cold   (default) the root's own, empty ccache and QEMU cache
#   FRESH_CACHES=host   bind-mount the host's ccache and QEMU cache (read-write)
#                       at /root/.cache/ in the root: checks the install path
#                       in minutes instead of a cold build
#   FRESH_WORKTREE=1    include the uncommitted changes of the working tree
#   FRESH_REBUILD=1     debootstrap again instead of using the cached tarball
#   FRESH_VERBOSE=1     show the chroot's output too (it is always in the log)
#   JOBS                passed on into the root when set
#
# Output: build/fresh/fresh-check.log (everything), the packages installed in
# the root (build/fresh/installed-packages.txt), the last line of .ci/run
# ("N passed, N failed"), the time of each step. Exits non-zero on failure.
# The root stays in build/fresh/root for inspection, unmounted; the next run
# replaces it. Must run as root (debootstrap, mount, chroot).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
FRESH=$TOP/build/fresh
ROOT=$FRESH/root
LOG=$FRESH/fresh-check.log
TIMES=$FRESH/.times
SUITE=bookworm
VARIANT=minbase
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
STEPS=${FRESH_STEPS:-all}
CACHES=${FRESH_CACHES:-cold}
WORKTREE=${FRESH_WORKTREE:-0}
HOST_CCACHE=${CCACHE_DIR:-$HOME/.cache/dsa-migrate-ccache}
HOST_QEMU_CACHE=${DSA_QEMU_CACHE:-$HOME/.cache/dsa-migrate-qemu}
ROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { echo "fresh-check: $*"; echo "fresh-check: $*" >> "$LOG"; }
die() {
	echo "fresh-check: error: $*" >&2
	echo "fresh-check: error: $*" >> "$LOG"
	exit 1
}

# Run a command with its output in the log only; on failure show its tail.
logged() {
	if ! "$@" >> "$LOG" 2>&1; then
		tail -n 20 "$LOG" | sed 's/^/  | /' >&2
		die "failed: $* (log: ${LOG#"$TOP"/})"
	fi
}

# step NAME [DETAIL]: a timed step; step_end [RESULT] ends it.
step_name="" step_t0=0
step() {
	step_name=$1
	step_t0=$(date +%s)
	say "$1${2:+ $2} ..."
}
step_end() {
	local dt=$(($(date +%s) - step_t0))
	say "$step_name: ${1:-done} in $dt s"
	echo "$step_name $dt s" >> "$TIMES"
}

# Mount points at or under $1, in this process's mount namespace.
mounts_under() {
	findmnt -rn -o TARGET | awk -v p="$1" '$0 == p || index($0, p "/") == 1'
}

# rm -rf of a directory under build/fresh, never through a mount point.
safe_rm() {
	local dir=$1 m
	[ -e "$dir" ] || [ -L "$dir" ] || return 0
	case "$dir" in
	"$FRESH"/?*) ;;
	*) die "refusing to delete $dir: not under $FRESH" ;;
	esac
	m=$(mounts_under "$dir")
	[ -z "$m" ] || die "refusing to delete $dir: mounted under it: $(tr '\n' ' ' <<< "$m")"
	rm -rf --one-file-system "$dir"
}

# The first Debian mirror of the host's apt sources (not -security).
host_mirror() {
	local uri
	uri=$(grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr -s ' \t' '\n' | grep -m1 -E '^[a-z]+://.*/debian/?$' || true)
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed -e 's/#.*//' -e 's/\[[^]]*\]//' |
			awk '$1 == "deb" && $2 ~ /^[a-z]+:\/\/.*\/debian\/?$/ { print $2; exit }' || true)
	fi
	echo "${uri:-}"
}

# The host's apt source files the root gets: all but the deb-src entry of
# tools/qemu-dsa/build.sh, which the check must see it add.
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && [ "${f##*/}" != dsa-migrate-src.sources ] && echo "$f"
	done
	return 0
}

# Installed packages of the root, one a line, sorted.
root_packages() {
	dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Package}\n' |
		awk '$1 == "ii" { print $2 }' | sort
}

# The host's apt sources, the keyrings they name and its proxy: nothing else.
setup_apt() {
	local f k v n=0
	rm -f "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/*
	for f in $(host_sources); do
		cp "$f" "$ROOT$f"
		n=$((n + 1))
	done
	if [ -f /etc/apt/sources.list.d/dsa-migrate-src.sources ]; then
		say "not copying /etc/apt/sources.list.d/dsa-migrate-src.sources: tools/qemu-dsa/build.sh adds it itself, and the check must see it do so"
	fi
	[ "$n" -gt 0 ] || die "the host has no apt sources to copy"
	say "apt sources copied from the host: $n file(s):$(cd "$ROOT/etc/apt" &&
		for f in sources.list sources.list.d/*; do [ ! -f "$f" ] || printf ' %s' "$f"; done)"
	if grep -Eqs '^[[:space:]]*(deb-src|Types:.*deb-src)' "$ROOT/etc/apt/sources.list" \
		"$ROOT"/etc/apt/sources.list.d/*; then
		say "the host's sources have a deb-src entry: build.sh will use it"
	else
		say "no deb-src entry: tools/qemu-dsa/build.sh must add it (part of the check)"
	fi
	# Keyrings named by Signed-By that the root lacks (not Debian's own).
	{ cat "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/* 2>/dev/null || true; } |
		{ grep -oE '(Signed-By:|signed-by=)[[:space:]]*/[^],[:space:]]+' || true; } |
		sed -E 's/^[^:=]*[:=][[:space:]]*//' | sort -u |
		while read -r k; do
			[ -e "$ROOT$k" ] && continue
			[ -f "$k" ] || { say "warning: keyring $k named by the sources is missing on the host"; continue; }
			mkdir -p "$ROOT${k%/*}"
			cp "$k" "$ROOT$k"
			say "copied keyring $k"
		done
	# The global keyrings only for sources that name none.
	if { cat "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
		sed 's/#.*//' | grep -E '^[[:space:]]*deb(-src)?[[:space:]]' | grep -qv 'signed-by=' ||
	   awk -v RS= '/(^|\n)Types:/ && !/(^|\n)Signed-By:/ { found = 1 } END { exit !found }' \
		"$ROOT"/etc/apt/sources.list.d/*.sources 2>/dev/null; then
		for f in /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d/*; do
			if [ ! -f "$f" ] || [ -e "$ROOT$f" ]; then continue; fi
			cp "$f" "$ROOT$f"
			say "copied keyring $f (a source names no Signed-By)"
		done
	fi
	for k in Acquire::http::Proxy Acquire::https::Proxy; do
		v=$(apt-config dump 2>/dev/null | sed -n "s|^$k \"\\(.*\\)\";\$|\\1|p" | tail -n 1)
		[ -n "$v" ] || continue
		printf '%s "%s";\n' "$k" "$v" >> "$ROOT/etc/apt/apt.conf.d/00fresh-check-proxy"
		say "copied the host's $k setting"
	done
	rm -f "$ROOT/etc/resolv.conf"
	cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
}

# Copy the working tree's uncommitted state (tracked and untracked files,
# .gitignore respected, deletions too) over the clone.
overlay_worktree() {
	local clone=$1 f n
	(cd "$TOP" && git -c safe.directory="$TOP" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
		done | tar --null --no-recursion -T - -cf -) | tar -C "$clone" -xpf -
	(cd "$TOP" && git -c safe.directory="$TOP" ls-files -z --deleted) |
		while IFS= read -r -d '' f; do rm -f "$clone/$f"; done
	git -C "$clone" status --short >> "$LOG"
	n=$(git -C "$clone" status --porcelain | wc -l)
	say "FRESH_WORKTREE=1: the clone carries $n uncommitted change(s) of the working tree (git status in the log)"
}

# ---------------------------------------------------------------------------
# Inside: PID 1 of a new PID namespace, in a private mount namespace.

MOUNTED=()
ROOT_ENV=(HOME=/root PATH="$ROOT_PATH" TERM=dumb SHELL=/bin/bash USER=root LOGNAME=root)
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY JOBS; do
	if [ -n "${!v:-}" ]; then ROOT_ENV+=("$v=${!v}"); fi
done

mnt() {
	local src=$1 dst=$2
	shift 2
	if [ ! -d "$dst" ] || [ -L "$dst" ]; then die "mount point $dst is not a directory"; fi
	mount "$@" "$src" "$dst" || die "mount $* $src $dst failed"
	MOUNTED+=("$dst")
}

# The live processes of this PID namespace but PID 1 (this script) and the
# subshell listing them: the root's /proc shows only this namespace.
ns_processes() {
	local d stat
	for d in "$ROOT"/proc/[0-9]*; do
		case "${d##*/}" in 1 | "$BASHPID") continue ;; esac
		{ read -r stat < "$d/stat"; } 2>/dev/null || continue
		stat=${stat##*) }
		[ "${stat%% *}" = Z ] || echo "${d##*/}"
	done
}

inner_teardown() {
	local rc=$? i pid comm left n
	trap - EXIT INT TERM HUP
	if [ "$rc" -gt 128 ]; then say "interrupted (signal $((rc - 128))): tearing down"; fi
	# Anything still running in the root (on a signal, or a daemon it
	# started): killed by pid, and only inside this PID namespace.
	if [ -r "$ROOT/proc/1/stat" ]; then
		for pid in $(ns_processes); do
			{ read -r comm < "$ROOT/proc/$pid/comm"; } 2>/dev/null || continue
			say "killing a process left running in the root: $pid ($comm)"
			kill -KILL "$pid" 2>/dev/null || true
		done
		for n in $(seq 50); do
			[ -n "$(ns_processes)" ] || break
			sleep 0.1
		done
	fi
	for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
		if ! umount "${MOUNTED[i]}" 2>> "$LOG"; then
			say "umount ${MOUNTED[i]} failed, detaching it (umount -l)"
			umount -l "${MOUNTED[i]}" 2>> "$LOG" || true
			rc=1
		fi
	done
	left=$(mounts_under "$ROOT")
	if [ -n "$left" ]; then
		say "error: still mounted under the root: $(tr '\n' ' ' <<< "$left")"
		rc=1
	elif [ ${#MOUNTED[@]} -gt 0 ]; then
		say "unmounted ${#MOUNTED[@]} mounts: findmnt lists nothing under ${ROOT#"$TOP"/}"
	fi
	exit "$rc"
}

# in_root OUTFILE COMMAND: run COMMAND with bash in /src/main as root in
# the chroot, with a clean environment; its output goes to the log and OUTFILE.
in_root() {
	local out=$1 show=/dev/null st
	shift
	: > "$out"
	if [ "${FRESH_VERBOSE:-0}" = 1 ]; then show=/dev/stdout; fi
	# In the background: wait returns at once on a signal, and the trap
	# tears everything down.
	(
		nice -n 10 chroot "$ROOT" /usr/bin/env -i "${ROOT_ENV[@]}" \
			/bin/bash -c "cd /src/main && $*" < /dev/null 2>&1 | tee -a "$out" "$LOG" > "$show"
		exit "${PIPESTATUS[0]}"
	) &
	st=0
	wait "$!" || st=$?
	return "$st"
}

inner() {
	local rc=0 out=$FRESH/steps.out
	[ "$$" = 1 ] || die "--inner must be PID 1 of its own PID namespace (unshare --pid --fork)"
	trap inner_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP

	mnt proc "$ROOT/proc" -t proc -o nosuid,nodev,noexec
	mnt sysfs "$ROOT/sys" -t sysfs -o ro,nosuid,nodev,noexec
	mnt /dev "$ROOT/dev" --bind
	mnt /dev/pts "$ROOT/dev/pts" --bind
	mnt tmpfs "$ROOT/dev/shm" -t tmpfs -o nosuid,nodev,mode=1777
	if [ "$CACHES" = host ]; then
		mnt "$HOST_CCACHE" "$ROOT/root/.cache/dsa-migrate-ccache" --bind
		mnt "$HOST_QEMU_CACHE" "$ROOT/root/.cache/dsa-migrate-qemu" --bind
	fi
	say "mounted in a private namespace: $(printf '%s ' "${MOUNTED[@]#"$ROOT"}")"

	case "$STEPS" in
	all)
		step ".ci/run" "in the root (tail -f ${LOG#"$TOP"/} to follow)"
		in_root "$FRESH/ci-run.out" "bash .ci/run" || rc=$?
		step_end "exit $rc"
		;;
	deps | source)
		step "install-deps" "(tools/install-deps.sh in the root)"
		in_root "$out" "tools/install-deps.sh" || rc=$?
		step_end "exit $rc"
		[ "$rc" = 0 ] || exit "$rc"

		step "install-deps-again" "(must find nothing missing)"
		in_root "$out" "tools/install-deps.sh" || rc=$?
		step_end "exit $rc"
		[ "$rc" = 0 ] || exit "$rc"
		if [ -s "$out" ]; then
			say "error: the second run of install-deps was not a no-op: $(head -n 3 "$out")"
			exit 1
		fi

		step "make-n-test" "(make -n test in the root: every prerequisite resolves, nothing is built)"
		in_root "$out" "make -n test" || rc=$?
		step_end "exit $rc, $(wc -l < "$out") lines"
		[ "$rc" = 0 ] || exit "$rc"

		if [ "$STEPS" = source ]; then
			step "make-source" "(make source config host-tests in the root)"
			in_root "$out" "make source config host-tests" || rc=$?
			step_end "exit $rc"
			grep -E '^(Ran|OK|FAILED)' "$out" | sed 's/^/fresh-check:   host-tests: /' || true
			[ "$rc" = 0 ] || exit "$rc"
		fi
		;;
	esac
	exit "$rc"
}

# ---------------------------------------------------------------------------
# Outside: prepare the root, run the inside, report.

report() {
	local before=$1 rc=$2 hist=$ROOT/var/log/apt/history.log runs named n m
	root_packages > "$FRESH/packages-after.txt" 2>/dev/null || true
	comm -13 "$before" "$FRESH/packages-after.txt" > "$FRESH/installed-packages.txt"
	m=$(wc -l < "$FRESH/installed-packages.txt")
	runs=$(grep -c '^Commandline: .* install ' "$hist" 2>/dev/null || true)
	named=$(grep '^Commandline: .* install ' "$hist" 2>/dev/null | sed 's/^Commandline: //' |
		tr ' ' '\n' | grep -v -e '^-' -e '^apt-get$' -e '^install$' -e '^$' | sort -u || true)
	n=$(printf '%s' "$named" | grep -c . || true)
	say "packages installed in the root: $m, in ${runs:-0} apt-get install run(s)"
	if [ "$n" -gt 0 ]; then
		say "  named by install-deps ($n): $(tr '\n' ' ' <<< "$named")"
		say "  and $(grep -cvxF -f <(printf '%s\n' "$named") "$FRESH/installed-packages.txt" || true) others: their dependencies (all $m in ${FRESH#"$TOP"/}/installed-packages.txt)"
	fi
	if [ "${runs:-0}" -gt 1 ]; then
		say "warning: more than one apt-get install ran in the root:"
		grep '^Commandline: ' "$hist" | sed 's/^/fresh-check:   /' | cut -c1-200
		rc=1
	fi
	if [ "$STEPS" = all ]; then
		if [ -s "$FRESH/ci-run.out" ]; then
			say ".ci/run's last line: $(tail -n 1 "$FRESH/ci-run.out")"
		else
			say ".ci/run printed nothing"
		fi
	else
		say "FRESH_STEPS=$STEPS: .ci/run's install step ran, make test did not"
	fi
	say "times: $(sed 's/$/,/' "$TIMES" | tr '\n' ' ' | sed 's/, $//')"
	if [ "$rc" = 0 ]; then
		say "PASSED (FRESH_STEPS=$STEPS FRESH_CACHES=$CACHES FRESH_WORKTREE=$WORKTREE); log: ${LOG#"$TOP"/}"
	else
		say "FAILED with exit $rc (FRESH_STEPS=$STEPS FRESH_CACHES=$CACHES FRESH_WORKTREE=$WORKTREE); log: ${LOG#"$TOP"/}"
	fi
	return "$rc"
}

main() {
	local mirror dbver include key f head rc=0 t_start
	case "$STEPS" in all | source | deps) ;; *) echo "fresh-check: FRESH_STEPS=$STEPS: expected all, source or deps" >&2; exit 2 ;; esac
	case "$CACHES" in cold | host) ;; *) echo "fresh-check: FRESH_CACHES=$CACHES: expected cold or host" >&2; exit 2 ;; esac
	case "$ROOT" in *[[:space:]]*) echo "fresh-check: the path $ROOT contains white space" >&2; exit 2 ;; esac
	[ "$(id -u)" = 0 ] || { echo "fresh-check: needs root (debootstrap, mount, chroot): sudo make fresh-check" >&2; exit 2; }

	mkdir -p "$FRESH"
	exec 9> "$FRESH/.lock"
	flock -n 9 || { echo "fresh-check: another fresh-check is running (${FRESH#"$TOP"/}/.lock)" >&2; exit 2; }
	: > "$LOG"
	: > "$TIMES"
	t_start=$(date +%s)
	say "started $(date -u '+%F %T UTC'): FRESH_STEPS=$STEPS FRESH_CACHES=$CACHES FRESH_WORKTREE=$WORKTREE"
	if [ "$CACHES" = host ]; then
		say "caches: HOST: $HOST_CCACHE and $HOST_QEMU_CACHE are bind-mounted read-write at /root/.cache/ in the root: this checks the install path, the builds reuse the host's caches"
	else
		say "caches: COLD: the root has its own empty ccache and QEMU cache (a true cold run; all steps take about 40 min on 2 cores)"
	fi

	dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q 'install ok installed' ||
		say "installing debootstrap on the host (tools/install-deps.sh debootstrap)"
	logged "$TOP/tools/install-deps.sh" debootstrap

	mirror=$(host_mirror)
	if [ -z "$mirror" ]; then
		mirror=http://deb.debian.org/debian
		say "no Debian mirror found in /etc/apt/sources.list*: using $mirror"
	fi
	dbver=$(dpkg-query -W -f='${Version}' debootstrap)
	# apt cannot fetch ca-certificates over https without it: a machine
	# whose sources use https was installed with it.
	include=""
	# shellcheck disable=SC2046
	if [ -n "$(host_sources)" ] && grep -qs 'https://' $(host_sources); then
		include=--include=ca-certificates
	fi
	key=$(printf '%s\n' "$SUITE" "$VARIANT" amd64 "$mirror" "$dbver" ${include:+"$include"} |
		sha256sum | cut -c1-12)
	base=$FRESH/base-$SUITE-$VARIANT-$key.tar
	trap 'rm -f "$base.tmp"' EXIT	# base is global: the trap runs after main
	if [ "${FRESH_REBUILD:-0}" = 1 ] || [ ! -f "$base" ]; then
		step "debootstrap" "--variant=$VARIANT ${include:+$include }$SUITE from $mirror (debootstrap $dbver)"
		safe_rm "$FRESH/bootstrap"
		# Its own proc and sys mounts stay in a private namespace, even if it fails.
		# shellcheck disable=SC2086
		logged unshare --mount --propagation private debootstrap --variant="$VARIANT" $include \
			--arch=amd64 --keyring="$KEYRING" "$SUITE" "$FRESH/bootstrap" "$mirror"
		logged tar -C "$FRESH/bootstrap" --numeric-owner --xattrs --xattrs-include='*' \
			-cf "$base.tmp" .
		mv "$base.tmp" "$base"
		safe_rm "$FRESH/bootstrap"
		for f in "$FRESH"/base-*.tar; do
			[ "$f" = "$base" ] || rm -f "$f"
		done
		step_end "${base#"$TOP"/}, $(du -m "$base" | cut -f1) MB"
	else
		say "debootstrap: cached ${base#"$TOP"/} of $(date -r "$base" +%F) (FRESH_REBUILD=1 makes a new one)"
	fi

	step "root" "(a pristine root in ${ROOT#"$TOP"/})"
	safe_rm "$ROOT"
	mkdir "$ROOT"
	logged tar -C "$ROOT" --numeric-owner --xattrs --xattrs-include='*' -xpf "$base"
	root_packages > "$FRESH/packages-before.txt"
	setup_apt
	chmod 1777 "$ROOT/tmp"
	if [ "$CACHES" = host ]; then
		for f in "$HOST_CCACHE" "$HOST_QEMU_CACHE"; do
			[ -d "$f" ] || { mkdir -p "$f"; say "created the empty host cache $f"; }
		done
		mkdir -p "$ROOT/root/.cache/dsa-migrate-ccache" "$ROOT/root/.cache/dsa-migrate-qemu"
	fi
	step_end "$(wc -l < "$FRESH/packages-before.txt") packages"

	step "clone" "(git clone into /src/main)"
	head=$(git -C "$TOP" -c safe.directory="$TOP" rev-parse HEAD)
	mkdir -p "$ROOT/src"
	logged git -c safe.directory="$TOP" clone --no-hardlinks --quiet "$TOP" "$ROOT/src/main"
	if [ "$(git -C "$ROOT/src/main" rev-parse HEAD)" != "$head" ]; then
		logged git -C "$ROOT/src/main" checkout --quiet --detach "$head"
	fi
	say "clone of HEAD $(git -C "$ROOT/src/main" log -1 --format='%h %s' | cut -c1-70)"
	if [ "$WORKTREE" = 1 ]; then
		overlay_worktree "$ROOT/src/main"
	fi
	step_end

	set +e
	unshare --mount --pid --fork --kill-child --propagation private -- \
		bash "$HERE/fresh-check.sh" --inner 9>&-
	rc=$?
	set -e
	# The mounts lived in the namespace only: the host must see none.
	if [ -n "$(mounts_under "$ROOT")" ]; then
		say "error: the host sees mounts under the root: $(mounts_under "$ROOT" | tr '\n' ' ')"
		rc=1
	fi
	echo "total $(($(date +%s) - t_start)) s" >> "$TIMES"
	report "$FRESH/packages-before.txt" "$rc"
}

if [ "${1:-}" = --inner ]; then
	inner
else
	main
fi
