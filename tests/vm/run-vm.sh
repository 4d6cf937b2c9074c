#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel on one emulated topology and run the guest side.
#
#   run-vm.sh TOPO OUTDIR [MODE]
#
# MODE is passed to the guest (tests/vm/guest-init): "check" runs the guest
# tests, "demo" runs the demo, "harness" runs the tests with a planted WARN.
# The guest writes its results, dmesg and exit status into OUTDIR (shared
# over virtio-9p); the repository is shared read-only too, at its own path
# (it may live below a directory the guest covers with a tmpfs, such as
# /tmp); the serial console goes to OUTDIR/console.log. A guest
# that does not power off within P2PBUF_VM_TIMEOUT seconds is killed.
# QEMU traces the NVMe device's reads and the addresses it maps for them
# into OUTDIR/nvme-trace.log; when the guest left OUTDIR/nvme-dma-expect
# (tests/uapi/p2pbuf_nvme, dma-trace), tests/vm/check-nvme-dma adds its
# verdict to OUTDIR/results (the trace is kept when it fails, and for the
# demo).
#
# Environment: KDIR (the test kernel build), P2PBUF_KERNEL (its flavour:
# debug, distro or debian; default debug), KIMAGE (the kernel image; default
# KDIR's bzImage), KINITRD (an initramfs, for kernels whose 9p root needs
# modules), KMODROOT (a directory holding lib/modules/RELEASE and
# boot/config-RELEASE for the guest; default KDIR/modroot when it exists),
# P2PBUF_TESTS (comma-separated shell globs of guest test names to run),
# P2PBUF_SCOPE (full, or topology: only the tests whose outcome depends on
# the PCI topology, see tests/vm/guest-run), P2PBUF_VM_TIMEOUT
# (default 2700: the KASAN kernel is slow under TCG).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
topo=$1
out=$2
mode=${3:-check}
timeout=${P2PBUF_VM_TIMEOUT:-2700}
kernel=${KIMAGE:-$KDIR/arch/x86/boot/bzImage}
initrd=${KINITRD:-}
modroot=${KMODROOT:-}
[ -n "$modroot" ] || [ ! -d "${KDIR:-}/modroot" ] || modroot=$KDIR/modroot
flavour=${P2PBUF_KERNEL:-debug}

# shellcheck source=topologies.sh
. "$here/topologies.sh"

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/console.log "$out"/status "$out"/results "$out"/dmesg.txt \
	"$out"/kmemleak.txt "$out"/kmemleak-boot.txt "$out"/nvme-trace.log \
	"$out"/nvme-dma-expect "$out"/nvme-dma.txt "$out"/demo-bars

NVME_IMAGE=$out/nvme.img
rm -f "$NVME_IMAGE"
truncate -s 64M "$NVME_IMAGE"

topo_args "$topo"

cmdline="console=ttyS0 panic=-1 root=rootfs rootfstype=9p ro"
# Every KASAN report, not only the first of the boot; and a kernel log large
# enough to keep them all for dmesg.txt.
cmdline+=" kasan_multi_shot log_buf_len=16M"
# 4-level paging even where the CPU model has LA57 (-cpu max): in 6.1,
# identify_cpu() clears the LA57 feature bit for a moment, during which
# KASAN takes every direct-map address (0xff11...) for a wild access and
# reports each interrupt's spinlocks, thousands of reports before init.
cmdline+=" no5lvl"
# KUnit suites built into the kernel (DRM's, there only to select the buddy
# allocator) do not run at boot; the project's own are modules.
cmdline+=" kunit.filter_glob=p2p*"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose"
cmdline+=" init=$repo/tests/vm/guest-init $TOPO_CMDLINE"
cmdline+=" P2PBUF_REPO=$repo P2PBUF_TOPO=$topo P2PBUF_MODE=$mode"
cmdline+=" P2PBUF_TESTS=${P2PBUF_TESTS:-*} P2PBUF_KERNEL=$flavour"
cmdline+=" P2PBUF_SCOPE=${P2PBUF_SCOPE:-full}"
[ -z "$modroot" ] || cmdline+=" P2PBUF_MODROOT=$modroot"
[ -z "${P2PBUF_BENCH_QUICK:-}" ] || cmdline+=" P2PBUF_BENCH_QUICK=1"
# Benchmarks read the clock on every I/O (the block layer, fences). The
# guest's TSC under TCG is the host's, one for all vCPUs, but 6.1 finds it
# unsynchronized at boot and falls back to the HPET, whose every read is
# an MMIO exit that waits for QEMU's global lock while the device model
# runs: a cost no real machine has, which would count as the guest's CPU
# time in proportion to the I/Os, not to the work. The tests keep the
# default clock.
[ "$mode" != bench ] || cmdline+=" clocksource=tsc tsc=reliable"
# QEMU's trace of the NVMe device's DMA; not for benchmarks: its writes
# (tens of MB a minute) take host CPU from the guest's vCPUs.
trace_args=(
	-trace pci_nvme_read -trace pci_nvme_write -trace pci_nvme_map_prp
	-trace "enable=pci_nvme_map_addr*,file=$out/nvme-trace.log"
)
[ "$mode" != bench ] || trace_args=()
initrd_args=()
[ -z "$initrd" ] || initrd_args=(-initrd "$initrd")

rc=0
timeout --foreground -k 10 "$timeout" \
	qemu-system-x86_64 -accel tcg -smp 2 -m 2G \
	"${QEMU_MACHINE[@]}" \
	-nodefaults -display none -no-reboot \
	-chardev file,id=console,path="$out/console.log" -serial chardev:console \
	-kernel "$kernel" "${initrd_args[@]}" -append "$cmdline" \
	-fsdev local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=rootfs,mount_tag=rootfs \
	-fsdev local,id=repo,path="$repo",security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=repo,mount_tag=repo \
	-fsdev local,id=results,path="$out",security_model=none,multidevs=remap \
	-device virtio-9p-pci,fsdev=results,mount_tag=results \
	"${QEMU_DEVICES[@]}" "${trace_args[@]}" \
	> "$out/qemu.log" 2>&1 || rc=$?

rm -f "$NVME_IMAGE"

if [ $rc = 124 ] || [ $rc = 137 ]; then
	echo "run-vm: $topo: guest did not finish within ${timeout}s" >&2
	exit 124
fi
if [ $rc != 0 ]; then
	echo "run-vm: $topo: qemu exited with $rc:" >&2
	cat "$out/qemu.log" >&2
	exit $rc
fi
if [ -f "$out/nvme-dma-expect" ] && [ -f "$out/results" ]; then
	"$here/check-nvme-dma" "$out/nvme-trace.log" "$out/nvme-dma-expect" \
		>> "$out/results" 2> "$out/nvme-dma.txt" ||
		echo "FAIL nvme-dma-trace (check-nvme-dma failed)" >> "$out/results"
fi
if [ "$mode" != demo ] && ! grep -q "^FAIL nvme-dma-trace" "$out/results" 2>/dev/null; then
	rm -f "$out/nvme-trace.log"
fi
if [ ! -f "$out/status" ]; then
	echo "run-vm: $topo: guest stopped without reporting a status" >&2
	exit 125
fi
exit "$(cat "$out/status")"
