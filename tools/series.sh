#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series.sh [--build-each]
#
# Turns the overlay into a git format-patch series against the pristine base.
#
# Every line of patches/series is "<patch> [<new file>...]": the patch is a
# git format-patch mail whose diff changes upstream files (the diff may be
# empty for a patch that only adds files), and the paths after it are overlay
# files (new kernel files of this repo) that belong to the same commit. Every
# overlay file must be named exactly once.
#
# Output: build/series/*.patch with a cover letter, and build/series-git, a
# git tree of the base with one commit per line. --build-each then builds
# every commit with the project's config and reports TAP on stdout.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PRISTINE=$BUILD/pristine/linux-source-6.12
REPO=$BUILD/series-git
OUT=$BUILD/series
OVERLAY_DIRS="mm drivers include Documentation"
export GIT_AUTHOR_NAME="dsa-migrate" GIT_AUTHOR_EMAIL="dsa-migrate@localhost"
export GIT_COMMITTER_NAME="dsa-migrate" GIT_COMMITTER_EMAIL="dsa-migrate@localhost"

die() { echo "series: error: $*" >&2; exit 1; }
say() { echo "series: $*" >&2; }

"$TOP/tools/kernel-tree.sh" pristine >&2

base_repo() {
	local stamp
	stamp=$(cat "$BUILD/pristine/.stamp")
	if [ -d "$REPO/.git" ] && [ "$(cat "$REPO/.git/base-stamp" 2>/dev/null)" = "$stamp" ]; then
		git -C "$REPO" checkout -q -f -B series base
		git -C "$REPO" clean -q -fdx
		return 0
	fi
	say "creating the base git tree (once per base tarball)"
	rm -rf "$REPO"
	cp -a "$PRISTINE" "$REPO"
	chmod -R u+w "$REPO"
	# The Debian tarball's .gitignore hides top-level files: add with -f.
	git -C "$REPO" init -q
	git -C "$REPO" add -Af .
	git -C "$REPO" commit -q -m "$(head -n1 "$BUILD/base-version")"
	git -C "$REPO" tag base
	git -C "$REPO" checkout -q -B series base
	echo "$stamp" > "$REPO/.git/base-stamp"
}

series_lines() {
	[ -f "$TOP/patches/series" ] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$TOP/patches/series" | grep -v '^$' || true
}

overlay_files() {
	local dir
	for dir in $OVERLAY_DIRS; do
		[ -d "$TOP/$dir" ] || continue
		git -C "$TOP" ls-files --cached --others --exclude-standard -- "$dir"
	done | sort -u
}

check_overlay_coverage() {
	local named unnamed twice
	named=$(series_lines | awk '{ for (i = 2; i <= NF; i++) print $i }' | sort)
	twice=$(printf '%s\n' "$named" | uniq -d)
	[ -z "$twice" ] || die "patches/series names these files twice: $twice"
	unnamed=$(comm -23 <(overlay_files) <(printf '%s\n' "$named" | grep -v '^$'))
	[ -z "$unnamed" ] || die "overlay files no patch in patches/series names: $unnamed"
	unnamed=$(comm -13 <(overlay_files) <(printf '%s\n' "$named" | grep -v '^$'))
	[ -z "$unnamed" ] || die "patches/series names files that do not exist: $unnamed"
}

commit_line() {
	local patch=$1 info
	shift
	[ -f "$TOP/patches/$patch" ] || die "patches/series names $patch, which does not exist"
	info=$(mktemp -d "$BUILD/mailinfo.XXXXXX")
	git mailinfo "$info/msg" "$info/diff" < "$TOP/patches/$patch" > "$info/head"
	if [ -s "$info/diff" ]; then
		git -C "$REPO" apply --index "$info/diff" ||
			die "$patch does not apply to the base with git apply"
	fi
	local f
	for f in "$@"; do
		mkdir -p "$REPO/$(dirname "$f")"
		cp "$TOP/$f" "$REPO/$f"
		git -C "$REPO" add -f "$f"
	done
	local subject author email
	subject=$(sed -n 's/^Subject: //p' "$info/head")
	author=$(sed -n 's/^Author: //p' "$info/head")
	email=$(sed -n 's/^Email: //p' "$info/head")
	[ -n "$subject" ] || die "$patch has no Subject: line"
	{ echo "$subject"; echo; cat "$info/msg"; } > "$info/commit-msg"
	git -C "$REPO" commit -q --author="${author:-dsa-migrate} <${email:-dsa-migrate@localhost}>" \
		-F "$info/commit-msg"
	rm -rf "$info"
}

fill_cover_letter() {
	local cover=$OUT/0000-cover-letter.patch text=$TOP/patches/cover-letter.txt
	[ -f "$cover" ] && [ -f "$text" ] || return 0
	python3 - "$cover" "$text" <<-'EOF'
	import sys
	cover, text = sys.argv[1], open(sys.argv[2]).read().split("\n", 1)
	body = open(cover).read()
	body = body.replace("*** SUBJECT HERE ***", text[0].strip())
	body = body.replace("*** BLURB HERE ***", text[1].strip() if len(text) > 1 else "")
	open(cover, "w").write(body)
	EOF
}

build_each() {
	local obj=$BUILD/series-obj n=0 commit
	mkdir -p "$obj"
	cp "$BUILD/obj/.config" "$obj/.config" ||
		die "build the kernel first (make build): its .config is the series' config"
	local commits
	commits=$(git -C "$REPO" rev-list --reverse base..series)
	echo "1..$(printf '%s\n' "$commits" | grep -c . || true)"
	for commit in $commits; do
		n=$((n + 1))
		git -C "$REPO" checkout -q -f "$commit"
		local subject
		subject=$(git -C "$REPO" log -1 --format=%s "$commit")
		if make -C "$REPO" O="$obj" ARCH=x86_64 CC="ccache gcc" olddefconfig >/dev/null 2>&1 &&
		   make -C "$REPO" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$(($(nproc) + 1))" \
			bzImage modules > "$obj/build-$n.log" 2>&1; then
			echo "ok $n - builds: $subject"
		else
			echo "not ok $n - builds: $subject"
			grep -E 'error' "$obj/build-$n.log" | head -5 | sed 's/^/# /'
		fi
	done
	git -C "$REPO" checkout -q -f series
}

# A patch whose message has a "Not-for-merge:" trailer (test-only code) is
# sent as [PATCH NOT-FOR-MERGE n/m], so that nobody applies it by mistake.
mark_not_for_merge() {
	local patch
	for patch in "$OUT"/0*.patch; do
		grep -q '^Not-for-merge: ' "$patch" || continue
		sed -i '0,/^Subject: \[PATCH/s//Subject: [PATCH NOT-FOR-MERGE/' "$patch"
		say "marked not for merging: ${patch##*/}"
	done
}

base_repo
check_overlay_coverage
while read -r line; do
	# shellcheck disable=SC2086
	commit_line $line
done < <(series_lines)
rm -rf "$OUT"
mkdir -p "$OUT"
count=$(git -C "$REPO" rev-list --count base..series)
if [ "$count" -gt 0 ]; then
	git -C "$REPO" format-patch -q --cover-letter --base=base -o "$OUT" base..series
	fill_cover_letter
	mark_not_for_merge
fi
say "$count patch(es) against $(head -n1 "$BUILD/base-version") in ${OUT#$TOP/}"
if [ "${1:-}" = "--build-each" ]; then
	export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/dsa-migrate-ccache}
	build_each
fi
