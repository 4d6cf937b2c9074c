#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: for each topology of TOPO (default switch; TOPO="switch
# hostbridge blocked iommu" for all four), boot the emulated machine on
# the distro kernel (KERNEL=debug for the debug one; its KASAN and lock
# debugging make every figure slower, the ratios less telling) and run the
# benchmarks side by side in that one boot (tests/bench/guest-bench).
# Prints one table per topology; writes every raw sample, with the kernel,
# topology and commit, to .out/bench/results.json and a plot per metric
# (SVG, gnuplot) to .out/bench/. P2PBUF_BENCH_QUICK=1 measures every
# figure once at its smallest size (a smoke test, not figures).
# Documentation/benchmarks.rst explains the figures.
set -euo pipefail
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
topos=${TOPO:-switch}
flavour=${KERNEL:-distro}
out=${P2PBUF_OUT:-$repo/.out}/bench
report=tests/bench/report.py

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

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit+="-dirty"
kernel=$(make -s -C "$KDIR" kernelrelease 2>/dev/null || basename "$KDIR")
mkdir -p "$out"
rm -f "$out/results.json" "$out"/*.svg "$out"/*.dat
failed=0
for topo in $topos; do
	echo "bench: booting the '$topo' machine under QEMU (TCG, 2 CPUs)" >&2
	start=$SECONDS
	rc=0
	rm -f "$out/$topo/exporter.json" "$out/$topo/nvme.json" \
		"$out/$topo/rdma.json"
	tests/vm/run-vm.sh "$topo" "$out/$topo" bench || rc=$?
	cat "$out/$topo/results" 2>/dev/null || true
	echo "bench: $topo took $((SECONDS - start)) s" >&2
	if [ -f "$out/$topo/exporter.json" ] || [ -f "$out/$topo/nvme.json" ] ||
	   [ -f "$out/$topo/rdma.json" ]; then
		"$report" merge "$out/results.json" --topology "$topo" \
			--kernel "$kernel" --kind "$flavour" --commit "$commit" \
			--exporter "$out/$topo/exporter.json" \
			--nvme "$out/$topo/nvme.json" --rdma "$out/$topo/rdma.json"
	fi
	if [ $rc != 0 ]; then
		echo "bench: the guest failed on '$topo' (status $rc); see $out/$topo/guest-stderr.log" >&2
		tail -n 30 "$out/$topo/guest-stderr.log" >&2 2>/dev/null || true
		failed=1
	fi
done
if [ -f "$out/results.json" ]; then
	"$report" table "$out/results.json"
	"$report" plot "$out/results.json" "$out"
	echo "bench: raw samples in $out/results.json" >&2
fi
exit $failed
