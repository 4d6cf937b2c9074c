#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Revoke: unbind the second p2pgem device, then remove its PCI function,
# while its buffers are exported, mapped by a dynamic and a static importer
# and mapped by the CPU (tests/uapi/p2pgem_revoke); bind it again, rescan
# the bus, and check it works.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail

repo=$P2PBUF_REPO
for m in p2pgem p2pbuf_test_importer; do
	if [ ! -d /sys/module/$m ]; then
		echo "$m.ko is not loaded"
		exit 77
	fi
done
mapfile -t devs < <(find /sys/bus/pci/drivers/p2pgem -maxdepth 1 -name '0000:*' -printf '%f\n' | sort)
if [ ${#devs[@]} -lt 2 ]; then
	echo "needs two p2pgem devices"
	exit 77
fi
# The program takes away the device of the second render node: give every
# device back to p2pgem, whatever happens. After a rescan any matching
# driver may have taken the function (the probe module binds ivshmem too).
rebind() {
	local dev
	for dev in "${devs[@]}"; do
		[ -e "/sys/bus/pci/drivers/p2pgem/$dev" ] && continue
		[ -e "/sys/bus/pci/devices/$dev/driver" ] &&
			echo "$dev" > "/sys/bus/pci/devices/$dev/driver/unbind"
		echo "$dev" > /sys/bus/pci/drivers/p2pgem/bind
	done
}
trap rebind EXIT

back() {
	local dev
	for dev in "${devs[@]}"; do
		if [ ! -e "/sys/bus/pci/drivers/p2pgem/$dev" ]; then
			echo "$dev is not back"
			return 1
		fi
	done
	echo "${devs[*]} bound"
}

rc=0
"$repo/tests/uapi/p2pgem_revoke" --run unbind || rc=1
rebind
back || exit 1
# Hot removal, then a rescan finds the function again and p2pgem binds it.
"$repo/tests/uapi/p2pgem_revoke" --run remove || rc=1
echo 1 > /sys/bus/pci/rescan
rebind
back || exit 1
"$repo/tests/uapi/p2pgem_eviction" --run two-devices || rc=1
exit $rc
