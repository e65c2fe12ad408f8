#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh [--path]: the QEMU that runs the guest, with an emulated Intel DSA.
#
# Fetches Debian's QEMU 7.2 source package (apt-get source qemu; a deb-src
# entry for the configured Debian mirror is added when there is none),
# applies tools/qemu-dsa/patches/ strictly (no fuzz, no offset), configures
# a minimal qemu-system-x86_64 with the options in tools/qemu-dsa/configure
# (x86_64-softmmu, TCG, no docs, no optional features) and builds it. Only
# the binary is kept, in a cache outside the repository keyed by the hash of
# our patches and of those options:
#
#   ${DSA_QEMU_CACHE:-~/.cache/dsa-migrate-qemu}/<key>/qemu-system-x86_64
#
# so a fresh clone reuses it, and it is rebuilt only when they change.
# --path prints that path and builds nothing. The work tree is build/qemu.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=${DSA_QEMU_CACHE:-$HOME/.cache/dsa-migrate-qemu}
WORK=$BUILD/qemu
JOBS=${JOBS:-$(($(nproc) + 1))}
SRC_LIST=/etc/apt/sources.list.d/dsa-migrate-src.sources

die() { echo "qemu-dsa: error: $*" >&2; exit 1; }
say() { echo "qemu-dsa: $*"; }

patches() { sed -e 's/#.*//' "$HERE/patches/series" | awk 'NF { print $1 }'; }

key=$( { for p in $(patches); do cat "$HERE/patches/$p"; done; cat "$HERE/configure"; } |
	sha256sum | cut -c1-16)
bin=$CACHE/$key/qemu-system-x86_64

if [ "${1:-}" = --path ]; then
	echo "$bin"
	exit 0
fi
if [ -x "$bin" ]; then
	exit 0
fi

as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	else
		command -v sudo >/dev/null || die "need root (or sudo) for: $*"
		sudo "$@"
	fi
}

# A deb-src entry for the mirror apt already uses, when there is none.
ensure_deb_src() {
	if grep -Eqs '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/*; then
		return 0
	fi
	local uri suite
	uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -m1 -E 'debian/?$' | awk '{ print $2 }')
	suite=$(grep -hE '^Suites:' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
		head -1 | awk '{ print $2 }')
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		read -r uri suite < <(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2, $3; exit }' \
			/etc/apt/sources.list)
	fi
	uri=${uri:-http://deb.debian.org/debian}
	suite=${suite:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
	say "adding deb-src $uri $suite to $SRC_LIST"
	printf 'Types: deb-src\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n%s\n' \
		"$uri" "$suite" "$suite" \
		"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
		as_root tee "$SRC_LIST" >/dev/null
	as_root apt-get update -qq
}

start=$(date +%s)
say "building qemu-system-x86_64 with intel-dsa (cache key $key)"
ensure_deb_src
rm -rf "$WORK"
mkdir -p "$WORK/dl"
chmod 755 "$WORK/dl"
# apt-get source drops privileges to _apt when it can: let it write there.
chown _apt "$WORK/dl" 2>/dev/null || true
(cd "$WORK/dl" && apt-get source -qq --download-only qemu) ||
	die "apt-get source qemu failed (is there a deb-src entry?)"
dsc=$(ls "$WORK"/dl/qemu_*.dsc | head -1)
dpkg-source -x "$dsc" "$WORK/src" > "$WORK/dpkg-source.log" 2>&1 ||
	die "dpkg-source -x failed: see $WORK/dpkg-source.log"
case "$(cat "$WORK/src/VERSION")" in
7.2.*) ;;
*) die "expected QEMU 7.2, the source package is $(cat "$WORK/src/VERSION")" ;;
esac
for p in $(patches); do
	# The same strictness as the kernel's patches/ (no fuzz, no offset).
	"$TOP/tools/kernel-tree.sh" apply-strict "$HERE/patches/$p" "$WORK/src"
	say "applies strictly: $p"
done
mkdir -p "$WORK/obj"
# shellcheck disable=SC2046
(cd "$WORK/obj" && nice "$WORK/src/configure" $(sed -e 's/#.*//' "$HERE/configure") \
	> "$WORK/configure.log" 2>&1) || die "configure failed: see $WORK/configure.log"
say "compiling (log: build/qemu/build.log)"
nice ninja -C "$WORK/obj" -j "$JOBS" qemu-system-x86_64 > "$WORK/build.log" 2>&1 ||
	{ tail -30 "$WORK/build.log" >&2; die "build failed: see $WORK/build.log"; }
"$WORK/obj/qemu-system-x86_64" -device help 2>/dev/null | grep -q '"intel-dsa"' ||
	die "the built QEMU has no intel-dsa device"
mkdir -p "$CACHE/$key"
cp "$WORK/obj/qemu-system-x86_64" "$bin.tmp"
mv "$bin.tmp" "$bin"
cp "$WORK/src/VERSION" "$CACHE/$key/VERSION"
rm -rf "$WORK/src" "$WORK/obj"
say "built in $(( $(date +%s) - start )) s: $bin"
