#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A p2pgem VRAM buffer in a real Vulkan driver, Mesa's lavapipe, in the
# trixie root of tests/vulkan/build-root.sh (bookworm's Mesa cannot import
# dma-bufs): tests/uapi/p2pbuf_vulkan exports the buffer and checks it
# through p2pgem, tests/vulkan/vk-p2pbuf (inside the root, entered with
# tests/vulkan/enter-root) imports it (VK_EXT_external_memory_dma_buf),
# writes and reads it with vkCmdFillBuffer and vkCmdCopyBuffer, writes it
# from a compute shader as a storage buffer (tests/vulkan/fill.comp), syncs
# implicitly through the dma-buf's fences, exports its own memory as a
# dma-buf for p2pgem's copy engine, and keeps working across evictions.
#
# Scope: every topology (the buffer is in the device's BAR: the path from
# the CPU to it depends on the PCI topology).
#
# Skips only when the root is not built (make check builds it: as root,
# tests/vulkan/build-root.sh, and make -C tests/vulkan for the programs).
set -uo pipefail

# shellcheck source=lib/p2pgem-uapi
. "$P2PBUF_REPO/tests/guest/lib/p2pgem-uapi"

if ! root=$("$P2PBUF_REPO/tests/vulkan/build-root.sh" --path); then
	echo "the Vulkan root $root is not built (tests/vulkan/build-root.sh)"
	exit 77
fi
vk=$P2PBUF_REPO/tests/vulkan/vk-p2pbuf
if [ ! -x "$vk" ]; then
	echo "$vk is not built (make -C tests/vulkan)"
	exit 1
fi
run_p2pgem_uapi p2pbuf_vulkan "$@" -- \
	"$P2PBUF_REPO/tests/vulkan/enter-root" "$root" tests/vulkan/vk-p2pbuf
