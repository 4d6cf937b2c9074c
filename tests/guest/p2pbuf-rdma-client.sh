#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scope: every topology
# The RDMA importer's own protocol (tests/uapi/p2pbuf_rdma_client, through
# libp2pbuf-rdma's client) over soft-RoCE on the topology's NIC: 64 MiB
# each way through a VRAM buffer evicted in a loop, one request of 32 MiB
# into a 64 MiB VRAM buffer, bad requests answered with their errno on a
# connection that goes on, a sync_file exported mid-transfer, an RDMA
# transfer chained to an NVMe write by fences alone, p2pgem unbound
# mid-transfer. The module is loaded here, as in p2pbuf-rdma-rping.sh.
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
rxe_nic_up || { echo "FAIL: setting up rxe on the NIC"; exit 1; }
loaded=
if [ ! -d /sys/module/p2pbuf_rdma ]; then
	insmod "$repo/rdma-importer/p2pbuf_rdma.ko" op_timeout_ms="$RDMA_TEST_TIMEOUT_MS" || { rxe_nic_down; echo "FAIL: insmod p2pbuf_rdma.ko"; exit 1; }
	loaded=1
fi
export P2PBUF_RDMA_ADDR=$RXE_NIC_ADDR P2PBUF_RDMA_NETDEV=$RXE_NETDEV P2PBUF_RDMA_LINK=$RXE_LINK
(run_p2pgem_uapi p2pbuf_rdma_client "$@")
rc=$?
if [ -n "$loaded" ] && ! rmmod p2pbuf_rdma; then
	echo "FAIL: rmmod p2pbuf_rdma"
	rc=1
fi
rxe_nic_down
exit $rc
