#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-deps.sh [PACKAGE...]: install the Debian packages the project needs
# (or only the packages named, e.g. debootstrap for make fresh-check),
# idempotently. Only what is missing is installed; a second run does nothing.
set -euo pipefail

PACKAGES="linux-source-6.12 qemu-system-x86 ccache busybox-static gcc make
libc6-dev flex bison bc libelf-dev libssl-dev cpio xz-utils kmod rsync file
patch perl git python3 libnuma-dev sparse e2fsprogs gzip
dpkg-dev meson ninja-build pkg-config libglib2.0-dev libpixman-1-dev zlib1g-dev
accel-config libaccel-config1 libaccel-config-dev libfdt-dev gnuplot-nox"
# The fourth line builds the QEMU with the emulated DSA (tools/qemu-dsa);
# accel-config goes into the guest's initramfs; tools/dsa-setup links
# against libaccel-config; gnuplot-nox draws migrate-bench's plots.
if [ $# -gt 0 ]; then PACKAGES="$*"; fi

missing=""
for pkg in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

as_root=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null ||
		{ echo "install-deps: need root (or sudo) to install:$missing" >&2; exit 1; }
	as_root=sudo
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing > /dev/null
