#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-space.sh TARGET - is there room on build/'s filesystem for make TARGET?
#
# A full disk shows up as a compiler error deep inside a kernel build (a CI
# run once stopped that way after five minutes, in obj-off, with nothing
# saying why). This check takes a second and says what is missing before
# anything is built.
#
# TARGET is test, bench or run. Each needs, at its largest, the MiB below on
# the filesystem that holds build/: 512 MiB of margin over what was measured.
# test: build/ plus the compiler and QEMU caches peaked at 6446 MiB in a cold
# run in a clean root (sampled every 20 s; QEMU's own build is 492 MiB of it)
# and 6445 MiB in a warm fresh clone. bench and run: the sum of the parts they
# build (two source trees of 1640 MiB, 300-800 MiB a kernel, QEMU's build,
# the caches). What build/ already holds counts towards the need, so a second
# run in the same tree needs only what is still to be built.
#
# Exit codes: 0 there is room, 1 there is not (with a message naming what to
# free), 2 bad usage.
#
# Environment: BUILD (default: build/ of this tree), SPACE_CHECK=0 skips the
# check; SPACE_AVAIL_MIB and SPACE_BUILD_MIB replace the df and du readings
# (for the host self-tests).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}

usage() {
	echo "usage: check-space.sh test|bench|run" >&2
	exit 2
}

[ $# -eq 1 ] || usage
case "$1" in
test)	need=7168 ;;
bench)	need=6400 ;;
run)	need=4864 ;;
*)	usage ;;
esac

[ "${SPACE_CHECK:-1}" = 0 ] && exit 0

# df and du need an existing directory: the nearest one up from build/.
where=$BUILD
while [ ! -d "$where" ]; do
	where=$(dirname "$where")
done

avail=${SPACE_AVAIL_MIB:-$(df -Pm "$where" | awk 'NR == 2 { print $4 }')}
if [ -n "${SPACE_BUILD_MIB:-}" ]; then
	have=$SPACE_BUILD_MIB
elif [ -d "$BUILD" ]; then
	have=$(du -sm "$BUILD" 2>/dev/null | cut -f1)
else
	have=0
fi
case "$avail$have" in
''|*[!0-9]*)
	echo "check-space: could not read the free space under $where (df: '$avail', du: '$have')" >&2
	exit 1
	;;
esac

missing=$((need - have - avail))
[ "$missing" -le 0 ] && exit 0

cat >&2 <<EOF
check-space: error: make $1 needs about $need MiB on the filesystem of $BUILD;
check-space: build/ holds $have MiB of it and $avail MiB are free: $missing MiB are missing.
check-space: Free space there (old clones' build/ directories, "make clean"
check-space: in trees you no longer test) and run again; SPACE_CHECK=0 skips this check.
EOF
exit 1
