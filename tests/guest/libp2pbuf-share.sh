#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# Two processes (fork and exec) share real dma-bufs through libp2pbuf: one
# and many buffers in one message, from udmabuf, vgem and p2pgem VRAM; a
# sw_sync fence imported into buffer 0 orders the writer's bytes before the
# reader's reads; the reader's bytes come back; descriptor and system
# dma-buf counts return to where they started. On a kernel without
# CONFIG_SW_SYNC the fence part is skipped: the writer fills every buffer
# before sending them, and the rest is checked all the same.
set -uo pipefail

# shellcheck source=tests/guest/lib/peer-run
. tests/guest/lib/peer-run
fence=()
if ! kconfig_on SW_SYNC; then
	echo "SKIP fence ordering: kernel built without CONFIG_SW_SYNC; buffers shared unfenced"
	fence=(unfenced)
fi
for kind in udmabuf vgem p2pgem; do
	for count in 1 8 32; do
		echo "--- share $kind $count${fence[*]:+ ${fence[*]}}"
		peer_run "$kind" share "$kind" "$count" "${fence[@]}"
	done
done
peer_done
