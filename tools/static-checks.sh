#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# static-checks.sh: the static checks of `make test`, printed as the same
# "HARNESS: begin/end" blocks with TAP inside that the guest prints, so one
# parser reads both. Needs build/pristine (make source) and build/series
# (make series).
#
#   static/patches-apply  every patch of patches/series applies strictly
#   static/checkpatch     checkpatch.pl on every patch of the generated series
#   static/kernel-doc     scripts/kernel-doc -Wall on every new .c/.h file
#   static/w1-sparse      W=1 and sparse: clean on new objects, nothing beyond
#                         the pristine tree on patched ones (object-checks.sh)
#   static/kernel-deb-config
#                         make kernel-deb's configuration step (kernel-deb.sh
#                         --check-only) on x86_64_defconfig and on our test
#                         kernel's configuration: every line of
#                         configs/operator/dsa-migrate.config holds (the
#                         feature and the DSA engine on, test-only options
#                         off); and on a configuration without PCI it stops,
#                         naming CONFIG_INTEL_IDXD
#
# A check that finds nothing to check (no patch, no file, no object) fails:
# a green result must mean that something was checked. Sourced (as the host
# self-tests do), it only defines its functions.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PRISTINE=$BUILD/pristine/linux-source-6.12
OVERLAY_DIRS="mm drivers include"

# check NAME WHAT: reads "status<TAB>description<TAB>details" lines on stdin
# (status: ok, fail or skip) and prints one TAP block for them. No line at
# all is a failure: "found no WHAT to check".
check() {
	local name=$1 nothing=${2:-input} n=0 failed=0 status what details
	local -a lines=()
	while IFS=$'\t' read -r status what details; do
		lines+=("$status"$'\t'"$what"$'\t'"$details")
	done
	echo "HARNESS: begin static/$name"
	echo "TAP version 13"
	if [ ${#lines[@]} -eq 0 ]; then
		echo "1..1"
		echo "not ok 1 - found no $nothing to check"
		echo "# a check that checked nothing is not a pass"
		echo "HARNESS: end static/$name rc=1 seconds=0"
		return
	fi
	echo "1..${#lines[@]}"
	for line in "${lines[@]}"; do
		IFS=$'\t' read -r status what details <<< "$line"
		n=$((n + 1))
		if [ "$status" = ok ]; then
			echo "ok $n - $what"
		else
			echo "not ok $n - $what"
			failed=1
		fi
		[ -n "$details" ] && printf '%s\n' "$details" | tr '\v' '\n' | sed 's/^/# /'
	done
	echo "HARNESS: end static/$name rc=$failed seconds=0"
}

# One-line details: vertical tabs stand for newlines inside a TAB-separated row.
oneline() { tr '\n' '\v' | sed 's/\v$//'; }

patches_apply() {
	local tmp p out
	tmp=$(mktemp -d "$BUILD/static.XXXXXX") || return
	cp -al "$PRISTINE/." "$tmp/" && chmod -R u+w "$tmp"
	for p in $(sed -e 's/#.*//' "$TOP/patches/series" 2>/dev/null | awk '{ print $1 }'); do
		if out=$("$TOP/tools/kernel-tree.sh" apply-strict "$TOP/patches/$p" "$tmp" 2>&1); then
			printf 'ok\t%s\t\n' "$p"
		else
			printf 'fail\t%s\t%s\n' "$p" "$(printf '%s' "$out" | tail -n 8 | oneline)"
			break
		fi
	done
	rm -rf "$tmp"
}

checkpatch() {
	local p out
	for p in "$BUILD"/series/*.patch; do
		[ -e "$p" ] || continue
		case "$p" in */0000-cover-letter.patch) continue ;; esac
		# The pristine tree is Debian's tarball, without upstream's
		# history: the commit ids of Fixes: tags cannot be looked up.
		if out=$(cd "$PRISTINE" && perl scripts/checkpatch.pl --no-tree --terse \
			--show-types --ignore UNKNOWN_COMMIT_ID "$p" 2>&1); then
			printf 'ok\t%s\t\n' "${p##*/}"
		else
			printf 'fail\t%s\t%s\n' "${p##*/}" "$(printf '%s' "$out" | head -n 20 | oneline)"
		fi
	done
}

kernel_doc() {
	local f out dir
	for dir in $OVERLAY_DIRS; do
		[ -d "$TOP/$dir" ] || continue
		git -C "$TOP" ls-files --cached --others --exclude-standard -- "$dir" |
			grep -E '\.(c|h)$' || true
	done | while read -r f; do
		out=$(perl "$PRISTINE/scripts/kernel-doc" -Wall -none "$TOP/$f" 2>&1)
		if [ -z "$out" ]; then
			printf 'ok\t%s\t\n' "$f"
		else
			printf 'fail\t%s\t%s\n' "$f" "$(printf '%s' "$out" | head -n 20 | oneline)"
		fi
	done
}

# kernel_deb_one LABEL CONFIG WANT: WANT is "holds", or the symbol a failure must name.
kernel_deb_one() {
	local label=$1 config=$2 want=$3 out rc=0
	out=$("$TOP/tools/kernel-deb.sh" --check-only --no-source --config "$config" \
		--obj "$work/obj-$label" 2>&1) || rc=$?
	if [ "$want" = holds ] && [ "$rc" = 0 ]; then
		printf 'ok\t%s: every line of the operator fragment holds\t\n' "$label"
	elif [ "$want" != holds ] && [ "$rc" != 0 ] && printf '%s' "$out" | grep -q "wanted $want="; then
		printf 'ok\t%s: refused, naming %s\t\n' "$label" "$want"
	else
		printf 'fail\t%s: want %s, exit %s\t%s\n' "$label" "$want" "$rc" \
			"$(printf '%s' "$out" | tail -n 8 | oneline)"
	fi
}

kernel_deb_config() {
	local work
	[ -f "$BUILD/src/Makefile" ] || return 0
	work=$(mktemp -d "$BUILD/static-deb.XXXXXX") || return
	if make -s -C "$BUILD/src" O="$work/defconfig" ARCH=x86_64 defconfig > "$work/log" 2>&1; then
		kernel_deb_one defconfig "$work/defconfig/.config" holds
		sed 's/^CONFIG_PCI=y$/# CONFIG_PCI is not set/' "$work/defconfig/.config" > "$work/nopci"
		kernel_deb_one no-pci "$work/nopci" CONFIG_INTEL_IDXD
	else
		printf 'fail\tx86_64_defconfig\t%s\n' "$(tail -n 8 "$work/log" | oneline)"
	fi
	[ -f "$BUILD/obj/.config" ] && kernel_deb_one test-kernel "$BUILD/obj/.config" holds
	rm -rf "$work"
}

main() {
	[ -d "$PRISTINE" ] || { echo "static-checks: run make source first" >&2; exit 1; }
	patches_apply | check patches-apply "patch in patches/series"
	checkpatch | check checkpatch "patch in ${BUILD#$TOP/}/series"
	kernel_doc | check kernel-doc ".c or .h file in $OVERLAY_DIRS"
	"$TOP/tools/object-checks.sh" | check w1-sparse "object"
	kernel_deb_config | check kernel-deb-config "configuration"
	# The verdicts are in the TAP above; run.py fails a check whose block is missing.
	exit 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
