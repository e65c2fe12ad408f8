# SPDX-License-Identifier: GPL-2.0
#
# DSA-offloaded batched page migration for Linux 6.12: build, boot and test.
#
#   make run      build everything, boot the two-node guest, show the demo
#   make qemu     the QEMU with the emulated Intel DSA (cached outside the repo)
#   make test     static checks, host self-tests, KUnit and guest tests
#   make bench    benchmarks (ratios taken in one run) into build/bench-results.json,
#                 migrate-bench's table, CSV, JSON and PNG into build/bench/
#   make stress   the long stress runs (lockrule/loop-stress for 10 minutes)
#   make vanilla  build the unpatched base with the same config
#   make series   the overlay as a git format-patch series against the base
#   make series-check   ... and build every patch of it (slow)
#   make fresh-check    .ci/run in a clean debootstrapped bookworm root (as root)
#
# Variables: ONLY=<glob> runs only the guest tests whose suite/name match,
# COPY=dsa|soft|cpu picks how make run copies (emulated DSA by default),
# JOBS=<n> sets build parallelism, CCACHE_DIR moves the compiler cache.

BUILD      := $(CURDIR)/build
KERNEL     := $(BUILD)/obj/arch/x86/boot/bzImage
GUEST_BIN  := $(BUILD)/guest-bin
INITRAMFS  := $(BUILD)/initramfs.cpio
# The same patched tree with our features compiled out (no overlay-only
# config fragment): it must build and pass the harness tests too.
KERNEL_OFF := $(BUILD)/obj-off/arch/x86/boot/bzImage
INITRAMFS_OFF := $(BUILD)/initramfs-off.cpio
# The unpatched base, for the benchmarks that compare against it.
KERNEL_VANILLA := $(BUILD)/vanilla/arch/x86/boot/bzImage
INITRAMFS_VANILLA := $(BUILD)/initramfs-vanilla.cpio
# Benchmarks that run on both kernels (tests/bench-manifest): the suite
# vanilla-too/, one glob for the vanilla boot, and the names for compare.py.
BENCH_BOTH_GLOB := vanilla-too/*
BENCH_BOTH := vanilla-too/sync-batch vanilla-too/held-anon-quarter vanilla-too/held-anon-half
# migrate-bench's results on both kernels (attachments of vanilla-too/migrate-bench).
MIGRATE_BENCH_JSON := $(BUILD)/guest-bench/attachments/vanilla-too_migrate-bench/migrate-bench.json \
	$(BUILD)/guest-bench-vanilla/attachments/vanilla-too_migrate-bench/migrate-bench.json
ONLY       ?= *
COPY       ?= dsa
PYTHON     ?= python3
# The QEMU with the emulated DSA (tools/qemu-dsa), cached by patch hash.
QEMU       := $(shell tools/qemu-dsa/build.sh --path)

export BUILD

.PHONY: all deps source config kernel kernel-deb kernel-off bench-kernels dsa-setup migrate-bench guest-bin initramfs initramfs-off \
	initramfs-vanilla qemu run test bench stress vanilla \
	series series-check static-checks host-tests fresh-check clean distclean help \
	space-test space-bench space-run

all: kernel initramfs

# Room on build/'s filesystem, checked before anything is built (a full disk
# otherwise shows only as a compiler error deep in a kernel build).
space-test space-bench space-run:
	@tools/check-space.sh $(patsubst space-%,%,$@)

help:
	@sed -n '3,18p' Makefile | sed 's/^# \{0,1\}//'

deps:
	@tools/install-deps.sh

source: deps
	@tools/kernel-tree.sh source

config: source
	@tools/kernel-tree.sh config

kernel: deps
	@tools/kernel-tree.sh build

# Programs written on the kernel's kselftest_harness.h (tests/reliability)
# need the extracted pristine tree.
guest-bin: deps
	@tools/kernel-tree.sh pristine
	@$(MAKE) -s -C tests OUT=$(GUEST_BIN) \
		KSFT_DIR=$(BUILD)/pristine/linux-source-6.12/tools/testing/selftests

# tools/dsa-setup, for the operator and for the guest's tools/ tests.
dsa-setup: deps
	@$(MAKE) -s -C tools/dsa-setup OUT=$(BUILD)/tools

# tools/migrate-bench: move_pages() throughput per folio size and engine.
migrate-bench: deps
	@$(MAKE) -s -C tools/migrate-bench OUT=$(BUILD)/tools

initramfs: kernel guest-bin dsa-setup migrate-bench
	@tools/mkinitramfs.sh $(INITRAMFS) $(GUEST_BIN) $(BUILD)/obj/modroot

qemu: deps
	@tools/qemu-dsa/build.sh

kernel-off: kernel
	@tools/kernel-tree.sh compile-off

initramfs-off: kernel-off guest-bin dsa-setup migrate-bench
	@tools/mkinitramfs.sh $(INITRAMFS_OFF) $(GUEST_BIN) $(BUILD)/obj-off/modroot

run: space-run initramfs qemu
	@$(PYTHON) tools/harness/run.py demo --qemu $(QEMU) --kernel $(KERNEL) --initrd $(INITRAMFS) \
		--outdir $(BUILD)/guest-run --timeout 900 --copy $(COPY)

series: deps
	@tools/series.sh

series-check: kernel
	@tools/series.sh --build-each

static-checks: series kernel
	@tools/static-checks.sh > $(BUILD)/static.tap

host-tests:
	@$(PYTHON) -m unittest discover -s tests/host -t .

test: space-test initramfs initramfs-off static-checks qemu
	@$(PYTHON) tools/harness/run.py test --qemu $(QEMU) --kernel $(KERNEL) --initrd $(INITRAMFS) \
		--outdir $(BUILD)/guest-test --static $(BUILD)/static.tap \
		--off-kernel $(KERNEL_OFF) --off-initrd $(INITRAMFS_OFF) \
		--results $(BUILD)/test-results.json --only '$(ONLY)'

initramfs-vanilla: vanilla guest-bin dsa-setup migrate-bench
	@tools/mkinitramfs.sh $(INITRAMFS_VANILLA) $(GUEST_BIN) $(BUILD)/vanilla/modroot

# P2: the seed-003 workloads and sync-batch on ours, vanilla and ours compiled
# out (which tells the feature from the first-lock rule), in rotating order
# over BENCH_BOOTS boots each. P1: instructions per migrated page under QEMU
# -icount on vanilla, on ours compiled out, and on ours (tests/icount-manifest).
# P1's kernels are built without the debug and KUnit fragments, ours as an
# operator builds it (tools/kernel-tree.sh bench-kernels).
BENCH_BOOTS ?= 3
BENCH_KERNELS := --kernel ours=$(KERNEL):$(INITRAMFS) \
	--kernel vanilla=$(KERNEL_VANILLA):$(INITRAMFS_VANILLA) \
	--kernel off=$(KERNEL_OFF):$(INITRAMFS_OFF)
BENCH_KDIR := $(BUILD)/bench-kernels
ICOUNT_KERNELS := $(foreach k,ours vanilla off,\
	--kernel $(k)=$(BENCH_KDIR)/$(k)/arch/x86/boot/bzImage:$(BENCH_KDIR)/initramfs-$(k).cpio)

bench-kernels: guest-bin dsa-setup migrate-bench
	@tools/kernel-tree.sh bench-kernels
	@for k in ours vanilla off; do \
		tools/mkinitramfs.sh $(BENCH_KDIR)/initramfs-$$k.cpio $(GUEST_BIN) \
			$(BENCH_KDIR)/$$k/modroot || exit 1; done

bench: space-bench initramfs initramfs-off initramfs-vanilla bench-kernels qemu
	@$(PYTHON) tools/harness/run.py test --qemu $(QEMU) --kernel $(KERNEL) --initrd $(INITRAMFS) \
		--outdir $(BUILD)/guest-bench --manifest bench-manifest \
		--results $(BUILD)/bench-results.json --only '$(ONLY)'
	@$(PYTHON) tools/harness/run.py test --qemu $(QEMU) --kernel $(KERNEL_VANILLA) \
		--initrd $(INITRAMFS_VANILLA) --outdir $(BUILD)/guest-bench-vanilla \
		--manifest bench-manifest --results $(BUILD)/bench-vanilla.json \
		--only '$(BENCH_BOTH_GLOB)'
	@$(PYTHON) tools/harness/compare.py --only '$(ONLY)' $(BUILD)/bench-results.json \
		$(BUILD)/bench-vanilla.json $(BENCH_BOTH)
	@mkdir -p $(BUILD)/bench
	@if [ -f $(word 1,$(MIGRATE_BENCH_JSON)) ] || [ '$(ONLY)' = '*' ]; then \
		tools/migrate-bench/migrate-bench-plot --png $(BUILD)/bench/migrate-bench.png \
		--table $(BUILD)/bench/migrate-bench.txt --csv $(BUILD)/bench/migrate-bench.csv \
		--json $(BUILD)/bench/migrate-bench.json $(MIGRATE_BENCH_JSON) && \
		echo "make bench: migrate-bench's table, CSV, JSON and plot in build/bench/" && \
		cat $(BUILD)/bench/migrate-bench.txt; \
	else echo "make bench: ONLY=$(ONLY) left out vanilla-too/migrate-bench: no plot"; fi
	@$(PYTHON) tools/harness/alternate.py --qemu $(QEMU) --manifest bench-manifest \
		--only 'vanilla-too/[sh]*' --boots $(BENCH_BOOTS) $(BENCH_KERNELS) \
		--reference vanilla --outdir $(BUILD)/bench/alternate \
		--results $(BUILD)/bench/alternate.json --table $(BUILD)/bench/alternate.txt
	@$(PYTHON) tools/harness/alternate.py --icount --qemu $(QEMU) --manifest icount-manifest \
		--boots 1 $(ICOUNT_KERNELS) --reference vanilla --outdir $(BUILD)/bench/icount \
		--results $(BUILD)/bench/icount.json --table $(BUILD)/bench/icount.txt

stress: initramfs qemu
	@$(PYTHON) tools/harness/run.py test --qemu $(QEMU) --kernel $(KERNEL) --initrd $(INITRAMFS) \
		--outdir $(BUILD)/guest-stress --manifest stress-manifest \
		--results $(BUILD)/stress-results.json --only '$(ONLY)' --timeout 7200

vanilla: deps
	@tools/kernel-tree.sh vanilla

# Debian packages of our kernel for an operator's machine, from the host's
# configuration (/boot/config-$(uname -r), or CONFIG=FILE) with
# configs/operator/dsa-migrate.config merged in: tools/kernel-deb.sh.
kernel-deb: deps
	@tools/kernel-deb.sh $(if $(CONFIG),--config $(CONFIG))

# FRESH_STEPS=all|source|deps, FRESH_CACHES=cold|host, FRESH_WORKTREE=1:
# see tools/fresh-check.sh.
fresh-check:
	@tools/fresh-check.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-off $(BUILD)/vanilla $(BUILD)/guest-* $(BUILD)/series* \
		$(BUILD)/initramfs*.cpio $(BUILD)/static.tap $(BUILD)/test-results.json

distclean:
	rm -rf $(BUILD)
