#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A vmap of a dma-buf whose p2pgem device was unbound fails with ENODEV,
# and a vmap held across the unbind is dropped cleanly
# (tests/uapi/p2pgem_defects --run vmap-unplugged, on the second device);
# then the device is bound again and works.
set -uo pipefail

repo=$P2PBUF_REPO
for m in p2pgem p2pbuf_test_importer p2pbuf_oddexp; do
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

rc=0
"$repo/tests/uapi/p2pgem_defects" --run vmap-unplugged || rc=1
rebind
for dev in "${devs[@]}"; do
	if [ ! -e "/sys/bus/pci/drivers/p2pgem/$dev" ]; then
		echo "$dev is not back"
		exit 1
	fi
done
"$repo/tests/uapi/p2pgem_eviction" --run two-devices || rc=1
exit $rc
