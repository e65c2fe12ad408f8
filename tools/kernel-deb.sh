#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-deb.sh [--config FILE] [--check-only] [--no-source] [--obj DIR]
#
# Debian packages of our patched kernel for an operator's machine, built
# from the configuration of the host it runs on (/boot/config-$(uname -r),
# or --config FILE) with configs/operator/dsa-migrate.config merged in: the
# batched migration copy, idxd and the DSA engine, and none of the
# test-only options. Every line of that fragment must hold after
# olddefconfig; one that does not (an option whose dependencies the host
# configuration lacks) stops the build with its name.
#
#   --check-only  merge and check the configuration, build nothing
#   --no-source   use build/src as it is (make test's check, after make kernel)
#   --obj DIR     where to configure and build (default build/deb/obj); the
#                 packages land in its parent directory
#
# The build itself (make bindeb-pkg) is long: it is meant for the operator's
# machine. It needs dpkg-dev (dpkg-buildpackage) and the kernel's usual build
# dependencies: build-essential bc bison flex libelf-dev libssl-dev kmod cpio
# rsync.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SRC=$BUILD/src
FRAGMENT=$TOP/configs/operator/dsa-migrate.config
JOBS=${JOBS:-$(nproc)}

die() { echo "kernel-deb: error: $*" >&2; exit 1; }
say() { echo "kernel-deb: $*"; }

usage() {
	echo "usage: kernel-deb.sh [--config FILE] [--check-only] [--no-source] [--obj DIR]" >&2
	exit 2
}

config=
check_only=0
stage=1
obj=$BUILD/deb/obj
while [ $# -gt 0 ]; do
	case "$1" in
	--config) config=${2:-}; [ -n "$config" ] || usage; shift 2 ;;
	--check-only) check_only=1; shift ;;
	--no-source) stage=0; shift ;;
	--obj) obj=${2:-}; [ -n "$obj" ] || usage; shift 2 ;;
	*) usage ;;
	esac
done

if [ -z "$config" ]; then
	config=/boot/config-$(uname -r)
	[ -f "$config" ] || die "no $config (the running kernel's configuration):" \
		"give one with CONFIG=FILE, e.g. the config-* file of your distribution's" \
		"kernel package"
fi
[ -f "$config" ] || die "$config: no such file"
grep -q '^CONFIG_' "$config" || die "$config: not a kernel configuration (no CONFIG_ line)"

# The patched tree, as `make kernel` stages it.
if [ "$stage" = 1 ]; then
	"$TOP/tools/kernel-tree.sh" source >&2
fi
[ -f "$SRC/Makefile" ] || die "no patched tree in $SRC: run without --no-source"

mkdir -p "$obj"
cp "$config" "$obj/.config"
say "merging ${FRAGMENT#$TOP/} onto $config"
(cd "$SRC" && ARCH=x86_64 scripts/kconfig/merge_config.sh -m -O "$obj" "$obj/.config" \
	"$FRAGMENT") > "$obj/merge_config.log" 2>&1 ||
	{ cat "$obj/merge_config.log" >&2; die "merge_config.sh failed"; }

# A distribution's configuration names its own signing keys, which this tree
# does not have: build with none rather than fail late.
for key in SYSTEM_TRUSTED_KEYS SYSTEM_REVOCATION_KEYS; do
	value=$(sed -n "s/^CONFIG_$key=\"\\(.*\\)\"$/\\1/p" "$obj/.config")
	if [ -n "$value" ] && [ ! -f "$SRC/$value" ]; then
		say "CONFIG_$key=\"$value\" is not in this tree: set to \"\""
		"$SRC/scripts/config" --file "$obj/.config" --set-str "$key" ""
	fi
done
make -C "$SRC" O="$obj" ARCH=x86_64 olddefconfig > "$obj/olddefconfig.log" 2>&1 ||
	{ tail -20 "$obj/olddefconfig.log" >&2; die "make olddefconfig failed"; }

# Every line of the fragment holds in the final configuration.
missing=0
while read -r line; do
	case "$line" in
	CONFIG_*=*)
		if ! grep -qxF "$line" "$obj/.config"; then
			have=$(grep -E "^(# )?${line%%=*}[= ]" "$obj/.config" || echo "absent")
			echo "kernel-deb: wanted $line, got: $have" >&2
			missing=$((missing + 1))
		fi
		;;
	"# CONFIG_"*" is not set")
		symbol=${line#\# }
		symbol=${symbol%% *}
		if grep -q "^$symbol=" "$obj/.config"; then
			echo "kernel-deb: wanted $symbol off, got: $(grep "^$symbol=" "$obj/.config")" >&2
			missing=$((missing + 1))
		fi
		;;
	esac
done < "$FRAGMENT"
[ "$missing" = 0 ] || die "$missing line(s) of ${FRAGMENT#$TOP/} do not hold: the host" \
	"configuration lacks what they depend on (see \`make -C build/src O=$obj menuconfig\`," \
	"search for the symbol)"
say "configuration ready: $obj/.config ($(grep -c '=[ym]$' "$obj/.config") options on)"
[ "$check_only" = 0 ] || exit 0

command -v dpkg-buildpackage >/dev/null ||
	die "dpkg-buildpackage not found: apt-get install dpkg-dev (and the kernel's build" \
		"dependencies: build-essential bc bison flex libelf-dev libssl-dev kmod cpio rsync)"
say "building Debian packages with $JOBS jobs (long; log: $obj/bindeb-pkg.log)"
if ! make -C "$SRC" O="$obj" ARCH=x86_64 -j"$JOBS" bindeb-pkg > "$obj/bindeb-pkg.log" 2>&1; then
	grep -E 'error|Error' "$obj/bindeb-pkg.log" | head -20 >&2
	die "make bindeb-pkg failed, see $obj/bindeb-pkg.log"
fi
say "packages:"
ls -1 "$(dirname "$obj")"/*.deb
say "install with: dpkg -i $(dirname "$obj")/linux-image-*.deb, then reboot"
