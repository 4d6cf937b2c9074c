#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Scope: every topology
# The NVMe importer (tests/uapi/p2pbuf_nvme): block I/O between the
# emulated NVMe namespace and p2pgem buffers, bad input, fences, eviction
# racing with I/O, I/O errors. The path each I/O takes (p2p or
# direct-system) follows the topology.
set -uo pipefail

if [ ! -e /dev/p2pbuf_nvme ]; then
	echo "p2pbuf_nvme.ko is not loaded"
	exit 77
fi
# shellcheck source=lib/p2pgem-uapi
. "$P2PBUF_REPO/tests/guest/lib/p2pgem-uapi"
run_p2pgem_uapi p2pbuf_nvme "$@"
