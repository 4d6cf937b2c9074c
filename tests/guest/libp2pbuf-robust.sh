#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# Buffer passing under abuse, with real dma-bufs: peers killed before and
# after sending and with a message unread, sending to a dead peer; bad
# headers, counts and sizes, truncated control messages, memfds and pipes
# where dma-bufs belong. Nothing may leak: not a descriptor, not a dma-buf.
# Also the device and buffer API on vgem and p2pgem (devices opened by name
# and adopted from the caller's descriptor), and explain of p2pgem buffers
# against the kernel's probe.
set -uo pipefail

# shellcheck source=tests/guest/lib/peer-run
. tests/guest/lib/peer-run
for kind in udmabuf vgem p2pgem; do
	for what in death reject; do
		echo "--- $what $kind"
		peer_run "$kind" "$what" "$kind"
	done
done
for driver in vgem p2pgem; do
	echo "--- device $driver"
	peer_run "$driver" device "$driver"
	echo "--- from-fd $driver"
	peer_run "$driver" from-fd "$driver"
done
echo "--- explain-buffer"
peer_run p2pgem explain-buffer
peer_done
