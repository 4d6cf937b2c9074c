#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench cannot rot: every benchmark of tests/bench runs once at its
# smallest size (exporter_bench --quick; nvme_bench for one size and queue
# depth; rdma_bench --quick over rxe on the NIC) and tests/bench/report.py checks that every metric has figures
# and that the tables and results.json can be made from them. No timing is
# asserted: under TCG the figures are noise. Runs on the debug kernel's
# switch topology only (the figures' code paths do not depend on the
# topology; the topology tests cover those).
set -uo pipefail

repo=$P2PBUF_REPO
if [ "${P2PBUF_KERNEL:-}" != debug ] || [ "${P2PBUF_TOPO:-}" != switch ]; then
	echo "bench-smoke: the debug kernel's switch topology only"
	exit 77
fi
# shellcheck source=lib/kconfig
. "$repo/tests/guest/lib/kconfig"
# shellcheck source=lib/rxe-nic
. "$repo/tests/guest/lib/rxe-nic"
for m in p2pgem p2pbuf_test_importer p2pbuf_nvme; do
	if [ ! -d /sys/module/$m ]; then
		echo "bench-smoke: $m.ko is not loaded"
		exit 77
	fi
done
if [ ! -x "$repo/tests/bench/exporter_bench" ] ||
   [ ! -x "$repo/tests/bench/nvme_bench" ] ||
   [ ! -x "$repo/tests/bench/rdma_bench" ]; then
	echo "bench-smoke: the benchmarks are not built (make -C tests/bench)"
	exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
rc=0
start=$SECONDS
"$repo/tests/bench/exporter_bench" --quick --json "$dir/exporter.json" \
	> "$dir/exporter.txt" || rc=1
echo "bench-smoke: exporter_bench took $((SECONDS - start)) s" >&2
start=$SECONDS
"$repo/tests/bench/nvme_bench" --quick --seconds 0.1 --op read --size 4096 \
	--qd 1 --json "$dir/nvme.json" /dev/nvme0n1 > "$dir/nvme.txt" || rc=1
# Runs far shorter than a thread's start: each thread still does one I/O
# (a run without any used to fail with EIO on a loaded machine).
"$repo/tests/bench/nvme_bench" --seconds 0.000001 --op read --size 4096 \
	--qd 1 /dev/nvme0n1 > "$dir/nvme-short.txt" 2>&1 || {
	cat "$dir/nvme-short.txt" >&2
	echo "bench-smoke: nvme_bench failed on runs shorter than a thread's start" >&2
	rc=1
}
echo "bench-smoke: nvme_bench took $((SECONDS - start)) s" >&2
start=$SECONDS
rxe_nic_up || { echo "FAIL: setting up rxe on the NIC"; exit 1; }
loaded=
[ -d /sys/module/p2pbuf_rdma ] ||
	{ insmod "$repo/rdma-importer/p2pbuf_rdma.ko" \
		op_timeout_ms="$RDMA_TEST_TIMEOUT_MS" && loaded=1; }
if [ -d /sys/module/p2pbuf_rdma ]; then
	"$repo/tests/bench/rdma_bench" --quick --addr "$RXE_NIC_ADDR" \
		--json "$dir/rdma.json" > "$dir/rdma.txt" 2>&1 || rc=1
	[ -z "$loaded" ] || rmmod p2pbuf_rdma || rc=1
else
	echo "bench-smoke: insmod p2pbuf_rdma.ko failed" > "$dir/rdma.txt"
	rc=1
fi
rxe_nic_down
echo "bench-smoke: rdma_bench took $((SECONDS - start)) s" >&2
if [ $rc != 0 ]; then
	cat "$dir/exporter.txt" "$dir/nvme.txt" "$dir/rdma.txt" >&2
	echo "bench-smoke: a benchmark failed"
	exit 1
fi
if ! "$repo/tests/bench/report.py" smoke "$dir/exporter.json" \
	"$dir/nvme.json" "$dir/rdma.json" > "$dir/table.txt"; then
	cat "$dir/table.txt" >&2
	echo "bench-smoke: the report is incomplete"
	exit 1
fi
cat "$dir/table.txt" >&2
exit 0
