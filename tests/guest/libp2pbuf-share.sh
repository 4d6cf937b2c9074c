#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# Two processes (fork and exec) share real dma-bufs through libp2pbuf: one
# and many buffers in one message, from udmabuf, vgem and (when p2pgem.ko is
# loaded) p2pgem VRAM; a sw_sync fence imported into buffer 0 orders the
# writer's bytes before the reader's reads; the reader's bytes come back;
# descriptor and system dma-buf counts return to where they started.
set -uo pipefail

peer=libp2pbuf/p2pbuf-test-peer
ran=0 fail=0
for kind in udmabuf vgem p2pgem; do
	for count in 1 8 32; do
		echo "--- share $kind $count"
		rc=0
		"$peer" share "$kind" "$count" || rc=$?
		case $rc in
		0) ran=$((ran + 1)) ;;
		77) ;;
		*) echo "FAIL: share $kind $count (exit $rc)"; fail=1 ;;
		esac
	done
done
[ $fail = 0 ] || exit 1
[ $ran -gt 0 ] || { echo "neither udmabuf nor vgem available"; exit 77; }
exit 0
