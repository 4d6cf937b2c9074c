#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem's P2P-aware dma-buf export seen from a real importer
# (tests/uapi/p2pbuf_dmabuf with tests/importer/p2pbuf_test_importer.ko):
# the decision matrix {VRAM, system, VRAM-preferred} x {static, dynamic,
# dynamic P2P} on this topology, peer importers (VRAM device 1, NVMe),
# edu device DMA into and out of VRAM, eviction racing with DMA, pin quota,
# sync_file export and import, vmap, debugfs, the P2P query, p2pgem
# importing and copying (device to device, vgem) and bad input.
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
run_p2pgem_uapi p2pbuf_dmabuf "$@"
