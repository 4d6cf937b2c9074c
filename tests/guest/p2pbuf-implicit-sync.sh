#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Implicit synchronisation in p2pbuf's importer helpers, through the test
# importer (tests/uapi/p2pbuf_implicit_sync): edu device DMA into and out
# of a p2pgem VRAM buffer against sw_sync fences imported into the dma-buf
# and a p2pgem copy held back by one; bad input.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail

for m in p2pbuf p2pbuf_test_importer; do
	if [ ! -d /sys/module/$m ]; then
		echo "$m.ko is not loaded"
		exit 77
	fi
done
# shellcheck source=lib/p2pgem-uapi
. "$P2PBUF_REPO/tests/guest/lib/p2pgem-uapi"
run_p2pgem_uapi p2pbuf_implicit_sync "$@"
