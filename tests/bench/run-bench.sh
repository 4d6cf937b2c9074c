#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: boot the emulated machine (TOPO, default switch) on the
# distro kernel (KERNEL=debug for the debug one; its KASAN and lock
# debugging make every figure slower, the ratios less telling) and run the
# benchmarks side by side in that one boot. Prints the tables; the raw
# samples land in .out/bench/results.json. P2PBUF_BENCH_QUICK=1 moves less
# data per run (for a smoke test, not for figures).
set -euo pipefail
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
topo=${TOPO:-switch}
flavour=${KERNEL:-distro}
out=${P2PBUF_OUT:-$repo/.out}/bench

tests/install-deps.sh
if [ -z "${KDIR:-}" ]; then
	echo "bench: preparing the $flavour test kernel (built once, then cached)" >&2
	KDIR=$(tests/kernel/build-kernel.sh "$flavour")
fi
export KDIR P2PBUF_KERNEL=$flavour
make -s -C "$KDIR" M="$repo" modules
make -s -C libp2pbuf
make -s -C tests/uapi
make -s -C tests/bench

echo "bench: booting the '$topo' machine under QEMU (TCG, 2 CPUs)" >&2
rc=0
tests/vm/run-vm.sh "$topo" "$out/$topo" bench || rc=$?
cat "$out/$topo/results" 2>/dev/null
if [ -f "$out/$topo/bench.json" ]; then
	cp "$out/$topo/bench.json" "$out/results.json"
	echo "bench: raw samples in $out/results.json" >&2
fi
if [ $rc != 0 ]; then
	echo "bench: the guest failed (status $rc); see $out/$topo/guest-stderr.log" >&2
	tail -n 30 "$out/$topo/guest-stderr.log" >&2 2>/dev/null
	exit 1
fi
