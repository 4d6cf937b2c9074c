#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The copy engine on the GPU scheduler (tests/uapi/p2pgem_sched): a stalled
# user queue delays nobody else, job timeouts, backpressure, SIGKILL, and
# unbind and rmmod with the engine's fences still held. The last subtest
# unloads p2pgem; it is loaded again here with the same parameters and
# every device bound, for the tests that follow.
set -uo pipefail

repo=$P2PBUF_REPO
if [ ! -d /sys/module/p2pgem ]; then
	echo "p2pgem.ko is not loaded"
	exit 77
fi
params=()
for p in /sys/module/p2pgem/parameters/*; do
	params+=("$(basename "$p")=$(cat "$p")")
done
mapfile -t devs < <(find /sys/bus/pci/drivers/p2pgem -maxdepth 1 -name '0000:*' -printf '%f\n' | sort)

restore() {
	local dev
	if [ ! -d /sys/module/p2pgem ]; then
		insmod "$repo/drm/p2pgem.ko" "${params[@]}" ||
			echo "insmod p2pgem.ko ${params[*]} failed"
	fi
	for dev in "${devs[@]}"; do
		[ -e "/sys/bus/pci/drivers/p2pgem/$dev" ] && continue
		[ -e "/sys/bus/pci/devices/$dev/driver" ] &&
			echo "$dev" > "/sys/bus/pci/devices/$dev/driver/unbind"
		echo "$dev" > /sys/bus/pci/drivers/p2pgem/bind
	done
}
trap restore EXIT

rc=0
for t in user-stall job-timeout flood kill ww-contention move-enomem unbind; do
	"$repo/tests/uapi/p2pgem_sched" --run "$t" || rc=1
done
restore
for dev in "${devs[@]}"; do
	if [ ! -e "/sys/bus/pci/drivers/p2pgem/$dev" ]; then
		echo "$dev is not back with p2pgem"
		rc=1
	fi
done
# The devices work again after the reload.
"$repo/tests/uapi/p2pgem_basic" --run evict-fault-back || rc=1
exit $rc
