#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side part of the harness self-test: tests/vm/scan-dmesg must report
# every kind of kernel report below, and none of the harmless lines. Each
# report is checked alone, in a log of harmless lines, so that one pattern
# cannot hide another's gap. Prints one line per failure; exit 1 if any.
set -uo pipefail

scan=$(cd "$(dirname "$0")/../vm" && pwd)/scan-dmesg
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0

harmless=(
	'[    0.000000] Linux version 6.1.0-p2pbuf (gcc) #1 SMP PREEMPT_DYNAMIC'
	'[    0.010000] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!'
	'[    0.020000] kasan: KernelAddressSanitizer initialized (generic)'
	'[    0.030000] DMA-API: preallocated 65536 debug entries'
	'[    0.030001] DMA-API: debugging enabled by kernel config'
	'[    0.040000] kmemleak: Kernel memory leak detector initialized (mem pool available: 15000)'
	'[   40.000000] p2pbuf-harness: kmemleak baseline: begin'
	'[   45.000000] kmemleak: 7 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
	'[   46.000000] p2pbuf-harness: kmemleak baseline: end'
	'[   47.000000] p2pbuf-harness: begin p2pgem-basic'
	'[   48.000000] p2pgem 0000:03:00.0: VRAM 64 MiB, CPU-visible 32 MiB'
)

reports=(
	'[   48.100000] WARNING: CPU: 1 PID: 230 at drm/p2pgem_bo.c:120 p2pgem_bo_move+0x42/0x100 [p2pgem]'
	'[   48.100000] ------------[ cut here ]------------'
	'[   48.100000] BUG: KASAN: slab-use-after-free in p2pgem_bo_release+0x21/0x80 [p2pgem]'
	'[   48.100000] BUG: KASAN: use-after-free in dma_fence_signal+0x1c/0x60'
	'[   48.100000] BUG: kernel NULL pointer dereference, address: 0000000000000008'
	'[   48.100000] kernel BUG at mm/slub.c:400!'
	'[   48.100000] general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN'
	'[   48.100000] WARNING: possible circular locking dependency detected'
	'[   48.100000] UBSAN: shift-out-of-bounds in drm/p2pgem_drv.c:77:5'
	'[   48.100000] DMA-API: platform p2pbuf_harness_dma: device driver frees DMA memory with different direction [device address=0x0000000001234000] [size=256 bytes] [mapped with DMA_TO_DEVICE] [unmapped with DMA_FROM_DEVICE]'
	'[   48.100000] DMA-API: pci 0000:05:00.0: device driver tries to free DMA memory it has not allocated [device address=0x00000000fee00000] [size=4096 bytes]'
	'[   48.100000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'
	'[   48.100000] ODEBUG: free active (active state 0) object: 00000000deadbeef object type: timer_list hint: p2pgem_timeout+0x0/0x20 [p2pgem]'
	'[   48.100000] refcount_t: underflow; use-after-free.'
	'[   48.100000] INFO: task p2pgem_basic:231 blocked for more than 120 seconds.'
)

printf '%s\n' "${harmless[@]}" > "$log"
if out=$("$scan" "$log"); then
	:
else
	echo "FAIL scan-dmesg reports harmless lines:"
	sed 's/^/    /' <<< "$out"
	failed=1
fi

for report in "${reports[@]}"; do
	printf '%s\n' "${harmless[@]}" "$report" > "$log"
	if out=$("$scan" "$log"); then
		echo "FAIL scan-dmesg misses: $report"
		failed=1
	elif [ "$out" != "during p2pgem-basic: $report" ]; then
		echo "FAIL scan-dmesg reports, for: $report"
		sed 's/^/    /' <<< "$out"
		failed=1
	fi
done

exit $failed
