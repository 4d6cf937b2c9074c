#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem teardown: unload p2pgem.ko right after buffers were freed with
# moves in flight, check that every device is released cleanly, load it
# again with the same parameters, check that every device comes back and
# works. Runs after the other p2pgem tests (name order).
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
echo "p2pgem: $before device(s), parameters: ${params[*]}"

# Leave work behind: buffers freed while their moves may still run.
"$repo/tests/uapi/p2pgem_basic" --run close-frees || exit 1
"$repo/tests/uapi/p2pgem_eviction" --run evict-while-mapped || exit 1

[ -d /sys/module/p2pgem_test ] && rmmod p2pgem_test
if ! rmmod p2pgem; then
	echo "rmmod p2pgem failed"
	exit 1
fi
if [ -d /sys/bus/pci/drivers/p2pgem ]; then
	echo "the driver is still registered"
	exit 1
fi
if ! insmod "$repo/drm/p2pgem.ko" "${params[@]}"; then
	echo "insmod p2pgem.ko ${params[*]} failed"
	exit 1
fi
after=$(devices)
echo "p2pgem: $after device(s) after reloading"
if [ "$after" != "$before" ]; then
	echo "expected $before device(s)"
	exit 1
fi
"$repo/tests/uapi/p2pgem_basic" --run evict-fault-back || exit 1
"$repo/tests/uapi/p2pgem_eviction" --run two-devices || exit 1
