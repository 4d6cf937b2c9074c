#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-floor: how far below the module's cost a synchronous 4 KiB
# I/O into VRAM could go on this kernel. An experiment, not a benchmark of
# the module: a copy of the committed tree (HEAD) with floor.patch
# applied, whose p2pbuf_nvme.ko takes a "floor" parameter that strips the
# fence protocol from synchronous block-device I/O (floor.patch says what
# each setting leaves; nothing then keeps the buffer from moving under an
# I/O, so the patched module is for this measurement only). One boot of
# the switch topology on the distro kernel runs nvme_bench's 4 KiB rows
# with the three settings in turn (guest-floor) and prints their p2p/ram
# and p2p/system CPU ratios. Documentation/nvme-importer.rst, "The floor",
# reads the result. About 10 minutes.
set -euo pipefail
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cd "$repo"
out=${P2PBUF_OUT:-$repo/.out}/bench-floor

tests/install-deps.sh
if [ -z "${KDIR:-}" ]; then
	echo "bench-floor: preparing the distro test kernel (built once, then cached)" >&2
	KDIR=$(tests/kernel/build-kernel.sh distro)
fi
# Without move_notify a mapping pins the buffer, which is what keeps the
# stripped I/Os safe (floor.patch refuses them otherwise).
if grep -q '^CONFIG_DMABUF_MOVE_NOTIFY=y' "$KDIR/.config" 2>/dev/null; then
	echo "bench-floor: $KDIR has CONFIG_DMABUF_MOVE_NOTIFY; the experiment needs the distro kernel" >&2
	exit 2
fi
export KDIR P2PBUF_KERNEL=distro

work=$(mktemp -d "${TMPDIR:-/tmp}/p2pbuf-floor.XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/src"
git -C "$work/src" apply "$here/floor.patch"
cp "$here/guest-floor" "$work/src/tests/bench/guest-bench"
make -s -C "$KDIR" M="$work/src" modules
make -s -C "$work/src/libp2pbuf"
make -s -C "$work/src/tests/uapi"
make -s -C "$work/src/tests/bench"

rm -rf "$out"
mkdir -p "$out"
echo "bench-floor: booting the 'switch' machine under QEMU (TCG, 2 CPUs)" >&2
rc=0
"$work/src/tests/vm/run-vm.sh" switch "$out" bench || rc=$?
if [ -s "$out/floor.out" ]; then
	echo "p2pbuf_nvme's cost against its floor, commit $(git rev-parse --short HEAD),"
	echo "kernel $(make -s -C "$KDIR" kernelrelease 2>/dev/null || basename "$KDIR"):"
	echo "(module: as it is; no fence: lookup, checks, map check and pages per"
	echo " I/O, then one bio; bio only: lookup, checks and one bio)"
	"$here/summarize.py" "$out/floor.out" || rc=1
else
	rc=1
fi
# The patched module's warnings, if any, are the experiment's failure.
tests/vm/scan-dmesg "$out/dmesg.txt" || rc=1
if [ $rc != 0 ]; then
	echo "bench-floor: failed; see $out/floor.out, $out/guest-stderr.log and $out/dmesg.txt" >&2
	exit 1
fi
