#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# Buffer passing under abuse, with real dma-bufs: peers killed before and
# after sending and with a message unread, sending to a dead peer; bad
# headers, counts and sizes, truncated control messages, memfds and pipes
# where dma-bufs belong. Nothing may leak: not a descriptor, not a dma-buf.
# Also the device and buffer API on vgem and p2pgem, and explain of p2pgem
# buffers against the kernel's probe.
set -uo pipefail

peer=libp2pbuf/p2pbuf-test-peer
ran=0 fail=0
for kind in udmabuf vgem p2pgem; do
	for what in death reject; do
		echo "--- $what $kind"
		rc=0
		"$peer" "$what" "$kind" || rc=$?
		case $rc in
		0) ran=$((ran + 1)) ;;
		77) ;;
		*) echo "FAIL: $what $kind (exit $rc)"; fail=1 ;;
		esac
	done
done
for driver in vgem p2pgem; do
	echo "--- device $driver"
	rc=0
	"$peer" device $driver || rc=$?
	case $rc in
	0) ran=$((ran + 1)) ;;
	77) ;;
	*) echo "FAIL: device $driver (exit $rc)"; fail=1 ;;
	esac
done
echo "--- explain-buffer"
rc=0
"$peer" explain-buffer || rc=$?
case $rc in
0) ran=$((ran + 1)) ;;
77) ;;
*) echo "FAIL: explain-buffer (exit $rc)"; fail=1 ;;
esac
[ $fail = 0 ] || exit 1
[ $ran -gt 0 ] || { echo "neither udmabuf nor vgem available"; exit 77; }
exit 0
