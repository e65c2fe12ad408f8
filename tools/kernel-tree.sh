#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-tree.sh - prepare, configure and build the kernel trees of this project.
#
#   kernel-tree.sh pristine   extract the Debian linux-source-6.12 tarball once
#                             (again only when the tarball changes) and record
#                             the base version in build/base-version
#   kernel-tree.sh source     patched tree: pristine + patches/series (strictly,
#                             no fuzz, no offset) + our new files (the overlay),
#                             synced into build/src so that only files whose
#                             content changed get a new mtime
#   kernel-tree.sh config     merge configs/*.config onto allnoconfig (patched)
#   kernel-tree.sh build      bzImage and modules of the patched tree
#   kernel-tree.sh compile-off
#                             the patched tree (as synced by "source") with
#                             the overlay-only config fragments left out:
#                             our features compiled out, in build/obj-off
#   kernel-tree.sh vanilla    config and build of the unpatched base
#   kernel-tree.sh bench-kernels
#                             the three kernels of make bench's instruction
#                             counts (compass P1), without the debug and
#                             KUnit fragments (marked "# not in bench
#                             kernels"), in build/bench-kernels/: vanilla,
#                             ours compiled out, and ours as an operator
#                             builds it (configs/operator/dsa-migrate.config)
#   kernel-tree.sh check-patches
#                             only check that patches/series applies strictly
#   kernel-tree.sh apply-strict PATCH DIR
#                             apply one patch strictly (used by the self-tests)
#
# Everything lives under build/ (git-ignored); ccache lives outside the repo.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
TARBALL=${TARBALL:-/usr/src/linux-source-6.12.tar.xz}
PRISTINE_PARENT=$BUILD/pristine
PRISTINE=$PRISTINE_PARENT/linux-source-6.12
STAGE=$BUILD/stage
SRC=$BUILD/src
OBJ=${OBJ:-$BUILD/obj}
VANILLA_OBJ=${VANILLA_OBJ:-$BUILD/vanilla}
OFF_OBJ=${OFF_OBJ:-$BUILD/obj-off}
JOBS=${JOBS:-$(($(nproc) + 1))}
OVERLAY_DIRS="mm drivers include Documentation"

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/dsa-migrate-ccache}
export CCACHE_BASEDIR=$BUILD
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_SLOPPINESS=time_macros,include_file_mtime,include_file_ctime

die() { echo "kernel-tree: error: $*" >&2; exit 1; }
say() { echo "kernel-tree: $*"; }

cmd_pristine() {
	[ -f "$TARBALL" ] || die "$TARBALL not found: install linux-source-6.12 (make deps)"
	local sum
	sum=$(sha256sum "$TARBALL" | cut -d' ' -f1)
	if [ -f "$PRISTINE_PARENT/.stamp" ] && [ "$(cat "$PRISTINE_PARENT/.stamp")" = "$sum" ] &&
	   [ -f "$PRISTINE/Makefile" ]; then
		return 0
	fi
	say "extracting $TARBALL (pristine base, cached until the tarball changes)"
	rm -rf "$PRISTINE_PARENT" "$STAGE" "$SRC"
	mkdir -p "$PRISTINE_PARENT"
	tar -xf "$TARBALL" -C "$PRISTINE_PARENT"
	[ -f "$PRISTINE/Makefile" ] || die "tarball did not contain linux-source-6.12/"
	chmod -R a-w "$PRISTINE"
	local deb kver
	deb=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
	kver=$(make -s -C "$PRISTINE" kernelversion 2>/dev/null)
	printf 'linux-source-6.12 %s (kernel %s, tarball sha256 %s)\n' \
		"$deb" "$kver" "$sum" > "$BUILD/base-version"
	echo "$sum" > "$PRISTINE_PARENT/.stamp"
}

# Patch names of patches/series: the first word of each line ('#' comments
# and blank lines ignored); the words after it name new files (tools/series.sh).
series_patches() {
	[ -f "$TOP/patches/series" ] || return 0
	sed -e 's/#.*//' "$TOP/patches/series" | awk 'NF { print $1 }'
}

# Apply one patch in directory $2, refusing fuzz, offsets and rejects.
apply_strict() {
	local patch=$1 dir=$2 out
	[ -f "$patch" ] || die "patches/series names $(basename "$patch"), which does not exist"
	# A patch may only add files (its diff is empty): nothing to apply.
	grep -q '^--- ' "$patch" || return 0
	if ! out=$(patch -d "$dir" -p1 -F0 -N --dry-run --no-backup-if-mismatch < "$patch" 2>&1); then
		printf '%s\n' "$out" >&2
		die "$(basename "$patch") does not apply to the base: it has drifted"
	fi
	if printf '%s\n' "$out" | grep -Eq 'offset|fuzz|FAILED|Reversed|ignored'; then
		printf '%s\n' "$out" >&2
		die "$(basename "$patch") applies only with offset or fuzz: refresh it"
	fi
	patch -d "$dir" -p1 -F0 -N -s --no-backup-if-mismatch < "$patch" >/dev/null
}

overlay_files() {
	local dir
	cd "$TOP"
	for dir in $OVERLAY_DIRS; do
		[ -d "$dir" ] || continue
		if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
			git ls-files --cached --others --exclude-standard -- "$dir"
		else
			find "$dir" -type f
		fi
	done | sort -u
}

lay_overlay() {
	local dest=$1 f
	for f in $(overlay_files); do
		case "$f" in
		Kconfig|Makefile) die "the overlay must never replace the root $f" ;;
		esac
		[ -e "$PRISTINE/$f" ] &&
			die "$f exists in the base tree: change it with a patch in patches/, not a copy"
		mkdir -p "$dest/$(dirname "$f")"
		cp --remove-destination "$TOP/$f" "$dest/$f"
	done
}

cmd_check_patches() {
	cmd_pristine
	local tmp p
	tmp=$(mktemp -d "$BUILD/check.XXXXXX")
	trap 'rm -rf "$tmp"' RETURN
	cp -al "$PRISTINE/." "$tmp/"
	chmod -R u+w "$tmp" 2>/dev/null || true
	for p in $(series_patches); do
		apply_strict "$TOP/patches/$p" "$tmp"
		say "applies strictly: $p"
	done
}

cmd_source() {
	cmd_pristine
	local p
	say "staging the patched tree"
	rm -rf "$STAGE"
	mkdir -p "$STAGE"
	cp -al "$PRISTINE/." "$STAGE/"
	chmod -R u+w "$STAGE"
	for p in $(series_patches); do
		apply_strict "$TOP/patches/$p" "$STAGE"
	done
	lay_overlay "$STAGE"
	mkdir -p "$SRC"
	# Content comparison, no times: unchanged files keep their mtime, so
	# make rebuilds only what really changed.
	rsync -rlpc --delete "$STAGE/" "$SRC/"
	rm -rf "$STAGE"
	say "patched tree ready in ${SRC#$TOP/}"
}

# Fragments: configs/*.config in name order. A fragment whose first line is
# "# overlay-only" names symbols that exist only in the patched tree; the
# "base" set leaves those out (vanilla, and the compiled-out variant).
# full: every fragment; base: not the overlay-only ones; bench-base: base
# without the "# not in bench kernels" ones, plus configs/bench/bench.config;
# bench-operator: bench-base plus the operator's fragment.
config_fragments() {
	local want=$1 f
	for f in "$TOP"/configs/*.config; do
		if [ "$want" != full ] && head -n1 "$f" | grep -q '^# overlay-only'; then
			continue
		fi
		if [ "${want#bench-}" != "$want" ] && grep -q '^# not in bench kernels' "$f"; then
			continue
		fi
		echo "$f"
	done
	if [ "${want#bench-}" != "$want" ]; then
		echo "$TOP/configs/bench/bench.config"
	fi
	if [ "$want" = bench-operator ]; then
		echo "$TOP/configs/operator/dsa-migrate.config"
	fi
}

merge_config() {
	local src=$1 obj=$2 kind=$3 frags sum log mismatch
	frags=$(config_fragments "$kind")
	# shellcheck disable=SC2086
	sum=$(cat $frags | sha256sum | cut -d' ' -f1)
	if [ -f "$obj/.config" ] && [ -f "$obj/.config-stamp" ] &&
	   [ "$(cat "$obj/.config-stamp")" = "$sum" ]; then
		return 0
	fi
	mkdir -p "$obj"
	log=$obj/merge_config.log
	say "merging config fragments for the $kind tree: $(for f in $frags; do basename "$f"; done | tr '\n' ' ')"
	# shellcheck disable=SC2086
	(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -n -O "$obj" $frags) > "$log" 2>&1 ||
		{ cat "$log" >&2; die "merge_config.sh failed"; }
	# "# CONFIG_X is not set" for a symbol this configuration cannot see is
	# what was asked for; any other difference is not.
	if mismatch=$(awk '/^Value requested for/ { name = $4 }
		/^Requested value:/ { want = $0 }
		/^Actual value:/ { if (!(want ~ /is not set$/ && $0 ~ /^Actual value: *$/))
			print name ": " want " / " $0 }' "$log") && [ -n "$mismatch" ]; then
		echo "$mismatch" >&2
		die "config fragments ask for values the $kind tree does not take (see above)"
	fi
	echo "$sum" > "$obj/.config-stamp"
}

cmd_config() {
	[ -d "$SRC" ] || cmd_source
	merge_config "$SRC" "$OBJ" full
}

kbuild() {
	local src=$1 obj=$2
	shift 2
	make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" \
		-j"$JOBS" "$@"
}

build_tree() {
	local src=$1 obj=$2 log=$2/build.log
	say "building bzImage and modules in ${obj#$TOP/} (log: ${log#$TOP/})"
	if ! kbuild "$src" "$obj" bzImage modules > "$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -40 >&2
		die "kernel build failed, see ${log#$TOP/}"
	fi
	rm -rf "$obj/modroot"
	kbuild "$src" "$obj" INSTALL_MOD_PATH="$obj/modroot" INSTALL_MOD_STRIP=1 \
		modules_install >> "$log" 2>&1 || die "modules_install failed, see ${log#$TOP/}"
	say "built $(kbuild "$src" "$obj" -s kernelrelease 2>/dev/null)"
}

cmd_build() {
	cmd_source
	cmd_config
	build_tree "$SRC" "$OBJ"
}

# Without "source": the caller (make) synced build/src already.
cmd_compile_off() {
	[ -d "$SRC" ] || die "no patched tree: run kernel-tree.sh source first"
	merge_config "$SRC" "$OFF_OBJ" base
	build_tree "$SRC" "$OFF_OBJ"
}

cmd_vanilla() {
	cmd_pristine
	merge_config "$PRISTINE" "$VANILLA_OBJ" base
	build_tree "$PRISTINE" "$VANILLA_OBJ"
}

cmd_bench_kernels() {
	local dir=$BUILD/bench-kernels
	cmd_pristine
	[ -d "$SRC" ] || cmd_source
	merge_config "$PRISTINE" "$dir/vanilla" bench-base
	build_tree "$PRISTINE" "$dir/vanilla"
	merge_config "$SRC" "$dir/off" bench-base
	build_tree "$SRC" "$dir/off"
	merge_config "$SRC" "$dir/ours" bench-operator
	build_tree "$SRC" "$dir/ours"
}

case "${1:-}" in
pristine) cmd_pristine ;;
source) cmd_source ;;
config) cmd_config ;;
build) cmd_build ;;
compile-off) cmd_compile_off ;;
vanilla) cmd_vanilla ;;
bench-kernels) cmd_bench_kernels ;;
check-patches) cmd_check_patches ;;
apply-strict) apply_strict "${2:?patch}" "${3:?directory}" ;;
*) die "usage: $0 pristine|source|config|build|compile-off|vanilla|bench-kernels|check-patches|apply-strict PATCH DIR" ;;
esac
