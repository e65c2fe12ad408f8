#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# import-commits.sh KERNEL_GIT BASE..HEAD
#
# Turns commits made in a kernel git tree (for example a worktree of
# build/series-git, whose tag "base" is the pristine tree) into this repo's
# layout, the inverse of tools/series.sh:
#
#   - a file a commit adds becomes an overlay file at its kernel path;
#   - the commit's changes to existing files become patches/NNNN-*.patch, a
#     git format-patch mail (an empty diff when it only adds files);
#   - patches/series gets one line per commit: the patch, then its new files.
#
# Existing patches and series lines are replaced; the header comment of
# patches/series is kept. Commits may not delete or rename upstream files.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
kernel=${1:?usage: import-commits.sh KERNEL_GIT BASE..HEAD}
range=${2:?usage: import-commits.sh KERNEL_GIT BASE..HEAD}
base=${range%%..*}

die() { echo "import-commits: error: $*" >&2; exit 1; }

commits=$(git -C "$kernel" rev-list --reverse --no-merges "$range")
[ -n "$commits" ] || die "no commits in $range"

header=$(sed -n '/^#/p' "$TOP/patches/series" 2>/dev/null || true)
rm -f "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch
series=$(mktemp)
trap 'rm -f "$series"' EXIT
[ -n "$header" ] && printf '%s\n' "$header" > "$series"

n=0
for commit in $commits; do
	n=$((n + 1))
	status=$(git -C "$kernel" diff --name-status --no-renames "$commit^" "$commit")
	if printf '%s\n' "$status" | grep -q '^D'; then
		die "$(git -C "$kernel" log -1 --format=%s "$commit") deletes files"
	fi
	added=$(printf '%s\n' "$status" | awk '$1 == "A" { print $2 }')
	modified=$(printf '%s\n' "$status" | awk '$1 == "M" { print $2 }')
	for f in $added; do
		git -C "$kernel" cat-file -e "$base:$f" 2>/dev/null &&
			die "$f exists in the base; it must be modified, not added"
		mkdir -p "$TOP/$(dirname "$f")"
		git -C "$kernel" show "$commit:$f" > "$TOP/$f"
	done
	name=$(git -C "$kernel" format-patch -1 --start-number "$n" --suffix=.patch \
		-o "$TOP/patches" "$commit" -- ${modified:-:/nonexistent-path})
	# shellcheck disable=SC2086
	echo "$(basename "$name") $(echo $added)" | sed 's/ $//' >> "$series"
done
mv "$series" "$TOP/patches/series"
trap - EXIT
echo "import-commits: $n commit(s) into patches/ and the overlay"
