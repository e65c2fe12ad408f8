#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# object-checks.sh: compiles our objects again with W=1 and sparse and prints
# one "status<TAB>what<TAB>details" row per object, for static-checks.sh:
#
#   - an object of a new file (the overlay) must have no warning at all;
#   - an object of an upstream file our patches change must have no warning
#     that the same object of the pristine tree does not have.
#
# Works in its own output directories (build/obj-check, build/obj-check-base)
# so the normal build is not disturbed. Needs build/obj/.config (make kernel).
# No new object, or an object that does not build, is a failing row.
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
SRC=$BUILD/src
PRISTINE=$BUILD/pristine/linux-source-6.12
CHECK_OBJ=$BUILD/obj-check
BASE_OBJ=$BUILD/obj-check-base
OVERLAY_DIRS="mm drivers"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/dsa-migrate-ccache}

oneline() { tr '\n' '\v' | sed 's/\v$//'; }

# The objects built from new .c files, and from upstream .c files we patch.
new_objects() {
	git -C "$TOP" ls-files --cached --others --exclude-standard -- $OVERLAY_DIRS |
		grep '\.c$' | sed 's/\.c$/.o/' || true
}

patched_objects() {
	cat "$TOP"/patches/*.patch 2>/dev/null | sed -n 's|^+++ b/\(.*\)\.c$|\1.o|p' | sort -u
}

# Prepare a configured output directory for tree $1 in $2 with config $3.
prepare() {
	local src=$1 obj=$2 config=$3
	mkdir -p "$obj"
	if ! cmp -s "$config" "$obj/.config.wanted"; then
		cp "$config" "$obj/.config"
		cp "$config" "$obj/.config.wanted"
		make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >/dev/null 2>&1 || return 1
	fi
	make -s -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$(($(nproc) + 1))" \
		prepare >/dev/null 2>&1
}

# Compiler and sparse output on stdin -> its warnings and errors without
# directories, line and column numbers, sorted, one per line: the same
# warning at another line is the same warning.
filter_warnings() {
	grep -E '(warning|error):' |
		sed -E 's|^([^ :]*/)?([^/ :]+):[0-9]+(:[0-9]+)?:|\2:|' | sort
}

# The W=1 and sparse warnings of object $3 of tree $1 in $2, one per line;
# an object that does not build says so (no output must not pass). The
# object is removed first: kbuild would not compile an up-to-date one
# again, and its gcc warnings would be missing (ccache replays them).
warnings() {
	local src=$1 obj=$2 object=$3 out rc
	rm -f "$obj/$object"
	out=$(make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" W=1 C=2 CHECK=sparse \
		"$object" 2>&1)
	rc=$?
	printf '%s\n' "$out" | filter_warnings
	[ "$rc" -eq 0 ] || echo "$object: does not build (make exit code $rc)"
}

# new_row OBJECT WARNINGS: an object of a new file must have no warning.
new_row() {
	local object=$1 found=$2
	if [ -z "$found" ]; then
		printf 'ok\t%s: W=1 and sparse clean\t\n' "$object"
	else
		printf 'fail\t%s: W=1 and sparse clean\t%s\n' "$object" \
			"$(printf '%s\n' "$found" | head -n 15 | oneline)"
	fi
}

# patched_row OBJECT OURS THEIRS: a patched upstream object must have no
# warning that the pristine tree's object (THEIRS) lacks.
patched_row() {
	local object=$1 ours=$2 theirs=$3 added what
	added=$(comm -23 <(printf '%s\n' "$ours" | grep .) <(printf '%s\n' "$theirs" | grep .))
	what="$object: no W=1 or sparse warning beyond the pristine tree's $(printf '%s\n' "$theirs" | grep -c .)"
	if [ -z "$added" ]; then
		printf 'ok\t%s\t\n' "$what"
	else
		printf 'fail\t%s\t%s\n' "$what" "$(printf '%s\n' "$added" | head -n 15 | oneline)"
	fi
}

main() {
	local config=$BUILD/obj/.config object objects
	objects=$(new_objects)
	[ -n "$objects" ] ||
		{ printf 'fail\tnew objects\tfound no new .c file in %s to check\n' "$OVERLAY_DIRS"; exit 0; }
	[ -f "$config" ] || { printf 'fail\tconfigured tree\tno build/obj/.config: run make kernel\n'; exit 0; }
	command -v sparse >/dev/null || { printf 'fail\tsparse\tsparse is not installed\n'; exit 0; }
	prepare "$SRC" "$CHECK_OBJ" "$config" ||
		{ printf 'fail\tprepare\tcannot prepare %s\n' "${CHECK_OBJ#$TOP/}"; exit 0; }

	for object in $objects; do
		new_row "$object" "$(warnings "$SRC" "$CHECK_OBJ" "$object")"
	done

	objects=$(patched_objects)
	[ -n "$objects" ] || exit 0
	# The pristine tree does not know our config symbols: olddefconfig drops them.
	prepare "$PRISTINE" "$BASE_OBJ" "$config" ||
		{ printf 'fail\tprepare\tcannot prepare %s\n' "${BASE_OBJ#$TOP/}"; exit 0; }
	for object in $objects; do
		patched_row "$object" "$(warnings "$SRC" "$CHECK_OBJ" "$object")" \
			"$(warnings "$PRISTINE" "$BASE_OBJ" "$object")"
	done
	exit 0
}

# Sourced (as the host self-tests do), it only defines its functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
