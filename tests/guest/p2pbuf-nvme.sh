#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scope: every topology
# The NVMe importer (tests/uapi/p2pbuf_nvme): block I/O between the
# emulated NVMe namespace and p2pgem buffers, bad input, fences, eviction
# racing with I/O, I/O errors, removal of the controller and unbind of the
# exporter during I/O, rmmod with fences held. The path each I/O takes
# (p2p or direct-system) follows the topology. The last subtests unbind
# p2pgem devices and unload p2pbuf_nvme: both come back here.
set -uo pipefail

repo=$P2PBUF_REPO
if [ ! -e /dev/p2pbuf_nvme ]; then
	echo "p2pbuf_nvme.ko is not loaded"
	exit 77
fi
params=()
for p in /sys/module/p2pbuf_nvme/parameters/*; do
	params+=("$(basename "$p")=$(cat "$p")")
done
mapfile -t devs < <(find /sys/bus/pci/drivers/p2pgem -maxdepth 1 -name '0000:*' -printf '%f\n' | sort)

restore() {
	local dev rc=0
	if [ ! -d /sys/module/p2pbuf_nvme ] &&
	   ! insmod "$repo/nvme-importer/p2pbuf_nvme.ko" "${params[@]}"; then
		echo "insmod p2pbuf_nvme.ko ${params[*]} failed"
		rc=1
	fi
	for dev in "${devs[@]}"; do
		[ -e "/sys/bus/pci/drivers/p2pgem/$dev" ] && continue
		echo "$dev" > /sys/bus/pci/drivers/p2pgem/bind 2>/dev/null
		if [ ! -e "/sys/bus/pci/drivers/p2pgem/$dev" ]; then
			echo "$dev is not back with p2pgem"
			rc=1
		fi
	done
	if [ ! -e /sys/class/nvme/nvme0 ]; then
		echo 1 > /sys/bus/pci/rescan
		sleep 2
		[ -e /sys/class/nvme/nvme0 ] || { echo "nvme0 is not back"; rc=1; }
	fi
	return $rc
}

# shellcheck source=lib/p2pgem-uapi
. "$repo/tests/guest/lib/p2pgem-uapi"
(run_p2pgem_uapi p2pbuf_nvme "$@")
rc=$?
restore || rc=1
exit $rc
