#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A CPU fault or P2P map of a buffer object larger than the CPU-visible
# window evicts nothing from the window: p2pgem is reloaded with a 16 MiB
# window (tests/uapi/p2pgem_defects --run window-no-evict), then loaded
# again with the parameters it had, for the tests that run after this one.
set -uo pipefail

repo=$P2PBUF_REPO
if [ ! -d /sys/module/p2pgem ]; then
	echo "p2pgem.ko is not loaded"
	exit 77
fi
devices() { find /sys/bus/pci/drivers/p2pgem -maxdepth 1 -name '0000:*' | wc -l; }
before=$(devices)
params=()
for p in /sys/module/p2pgem/parameters/*; do
	params+=("$(basename "$p")=$(cat "$p")")
done
restore() {
	[ -d /sys/module/p2pgem ] && rmmod p2pgem
	insmod "$repo/drm/p2pgem.ko" "${params[@]}" ||
		{ echo "insmod p2pgem.ko ${params[*]} failed"; return 1; }
	[ "$(devices)" = "$before" ] ||
		{ echo "$(devices) device(s) after restoring, expected $before"; return 1; }
	echo "p2pgem restored: ${params[*]}"
}

[ -d /sys/module/p2pgem_test ] && rmmod p2pgem_test
rmmod p2pgem || { echo "rmmod p2pgem failed"; exit 1; }
if ! insmod "$repo/drm/p2pgem.ko" vram_mb=64 visible_mb=16; then
	echo "insmod p2pgem.ko vram_mb=64 visible_mb=16 failed"
	restore
	exit 1
fi
rc=0
"$repo/tests/uapi/p2pgem_defects" --run window-no-evict || rc=1
restore || rc=1
exit $rc
