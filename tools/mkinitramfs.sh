#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT.cpio GUEST_BIN_DIR [MODULES_ROOT]
#
# Builds the test guest's initramfs: static busybox, tests/guest/init, the
# static guest programs, tests/manifest and the kernel's modules.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: mkinitramfs.sh OUT.cpio GUEST_BIN_DIR [MODULES_ROOT]}
bin_dir=${2:?usage: mkinitramfs.sh OUT.cpio GUEST_BIN_DIR [MODULES_ROOT]}
mod_root=${3:-}
busybox=${BUSYBOX:-/bin/busybox}

file "$busybox" | grep -q 'statically linked' ||
	{ echo "mkinitramfs: $busybox is not static: apt-get install busybox-static" >&2; exit 1; }

root=$(mktemp -d "${out%/*}/initramfs-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,mnt,etc,lib/modules,tests/bin}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$TOP/tests/guest/init" "$root/init"
cp "$TOP/tests/manifest" "$root/tests/manifest"
cp "$TOP/tests/bench-manifest" "$root/tests/bench-manifest"
cp "$TOP/tests/stress-manifest" "$root/tests/stress-manifest"
cp "$TOP/tests/icount-manifest" "$root/tests/icount-manifest"
# Arguments of the make-run demo (tests/demo/args), one line.
[ -f "$TOP/tests/demo/args" ] && cp "$TOP/tests/demo/args" "$root/tests/demo-args"
install -m 755 "$TOP/tests/demo/setup" "$root/tests/demo-setup"
for f in "$bin_dir"/*; do
	[ -x "$f" ] && [ -f "$f" ] && cp "$f" "$root/tests/bin/"
done
if [ -n "$mod_root" ] && [ -d "$mod_root/lib/modules" ]; then
	cp -a "$mod_root/lib/modules/." "$root/lib/modules/"
fi
# An empty ext4 for lockrule/loop-stress, unpacked onto tmpfs in the guest.
mkfs_ext4=$(PATH=$PATH:/sbin:/usr/sbin command -v mkfs.ext4) ||
	{ echo "mkinitramfs: mkfs.ext4 is missing: apt-get install e2fsprogs" >&2; exit 1; }
: > "$root/tests/ext4.img"
"$mkfs_ext4" -q -F -b 4096 -J size=4 -E lazy_itable_init=1,lazy_journal_init=1 \
	"$root/tests/ext4.img" 48M
gzip -9 "$root/tests/ext4.img"
# Debian's accel-config for the emulated DSA's tests (tests/dsa-emu), with
# the shared libraries ldd names and the dynamic loader, at their paths.
add_dynamic() {
	local prog=$1 lib
	mkdir -p "$root$(dirname "$prog")"
	cp "$prog" "$root$prog"
	for lib in $(ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
# tools/dsa-setup (make dsa-setup), as /bin/dsa-setup, with its libraries.
dsa_setup=$TOP/build/tools/dsa-setup
if [ -x "$dsa_setup" ]; then
	add_dynamic "$dsa_setup"
	mv "$root$dsa_setup" "$root/bin/dsa-setup"
	install -m 644 "$TOP/tools/dsa-setup/dsa-migrate.conf" "$root/etc/dsa-migrate.conf"
else
	echo "mkinitramfs: no build/tools/dsa-setup (make dsa-setup): the tools/ tests will fail" >&2
fi
# tools/migrate-bench (make migrate-bench), as /bin/migrate-bench, with libnuma.
migrate_bench=$TOP/build/tools/migrate-bench
if [ -x "$migrate_bench" ]; then
	add_dynamic "$migrate_bench"
	mv "$root$migrate_bench" "$root/bin/migrate-bench"
else
	echo "mkinitramfs: no build/tools/migrate-bench (make migrate-bench): the tools/ tests will fail" >&2
fi
accel_config=$(command -v accel-config || true)
if [ -n "$accel_config" ]; then
	add_dynamic "$accel_config"
else
	echo "mkinitramfs: no accel-config (apt-get install accel-config): the DSA tests will fail" >&2
fi
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $(du -h "$out" | cut -f1) in ${out#$TOP/}"
