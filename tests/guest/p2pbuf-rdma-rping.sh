#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scope: every topology
# The RDMA importer (rdma-importer/p2pbuf_rdma.ko, tests/uapi/p2pbuf_rdma)
# against rdma-core's own rping client, over soft-RoCE on the topology's
# virtio-net NIC: bad input; rping -V through a 16 MiB VRAM buffer, window
# after window, while the buffer is evicted in a loop (move_notify and
# re-maps on kernels with move_notify; P2P pages where the NIC's function
# reaches the VRAM, system memory elsewhere; the last payload in the
# buffer); rping against a stopped server; the rxe link deleted
# mid-stream and added again; the NIC's driver and p2pgem unbound
# mid-stream (bound again here); rmmod. The module is loaded here, not at boot:
# on kernels with RDMA as modules it needs ib_core and rdma_cm first.
set -uo pipefail

repo=$P2PBUF_REPO
# shellcheck source=lib/kconfig
. "$repo/tests/guest/lib/kconfig"
# shellcheck source=lib/rxe-nic
. "$repo/tests/guest/lib/rxe-nic"
# shellcheck source=lib/p2pgem-uapi
. "$repo/tests/guest/lib/p2pgem-uapi"

if [ ! -d /sys/module/p2pgem ]; then
	echo "p2pgem.ko is not loaded"
	exit 77
fi
command -v rping > /dev/null || { echo "rping is not installed (rdmacm-utils)"; exit 1; }
rxe_nic_up || { echo "FAIL: setting up rxe on the NIC"; exit 1; }
loaded=
if [ ! -d /sys/module/p2pbuf_rdma ]; then
	insmod "$repo/rdma-importer/p2pbuf_rdma.ko" op_timeout_ms="$RDMA_TEST_TIMEOUT_MS" || { rxe_nic_down; echo "FAIL: insmod p2pbuf_rdma.ko"; exit 1; }
	loaded=1
fi
# More than a second of linger is refused, and changes nothing.
param=/sys/module/p2pbuf_rdma/parameters/pin_linger_ms
linger=$(cat $param)
param_bad=
if (echo 1001 > $param) 2>/dev/null || [ "$(cat $param)" != "$linger" ]; then
	param_bad=1
	echo "FAIL: pin_linger_ms took 1001"
fi
export P2PBUF_RDMA_ADDR=$RXE_NIC_ADDR P2PBUF_RDMA_NETDEV=$RXE_NETDEV P2PBUF_RDMA_LINK=$RXE_LINK
# rping's bound for the 16 MiB run: 256 pings take about 76 s under TCG
# with KASAN, 2-6 s without.
export P2PBUF_RDMA_TIMEOUT=120
! kconfig_on KASAN || P2PBUF_RDMA_TIMEOUT=300

nic=$(basename "$(readlink -f "/sys/class/net/$RXE_NETDEV/device/..")")
nic_driver=$(readlink -f "/sys/bus/pci/devices/$nic/driver")
mapfile -t devs < <(find /sys/bus/pci/drivers/p2pgem -maxdepth 1 -name '0000:*' -printf '%f\n' | sort)
(run_p2pgem_uapi p2pbuf_rdma "$@")
rc=$?
for dev in "${devs[@]}"; do
	[ -e "/sys/bus/pci/drivers/p2pgem/$dev" ] && continue
	echo "$dev" > /sys/bus/pci/drivers/p2pgem/bind 2>/dev/null
	[ -e "/sys/bus/pci/drivers/p2pgem/$dev" ] || { echo "FAIL: $dev is not back with p2pgem"; rc=1; }
done
# The NIC, should nic-unbind have failed half-way.
if [ ! -e "/sys/bus/pci/devices/$nic/driver" ]; then
	echo "$nic" > "$nic_driver/bind"
	[ -e "/sys/bus/pci/devices/$nic/driver" ] || { echo "FAIL: $nic is not back with its driver"; rc=1; }
fi
if [ -n "$loaded" ] && ! rmmod p2pbuf_rdma; then
	echo "FAIL: rmmod p2pbuf_rdma"
	rc=1
fi
rxe_nic_down
[ -z "$param_bad" ] || rc=1
exit $rc
