#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# The programs in examples/ run and say what they should.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail

fail=0
for dev in "" vgem p2pgem; do
	# shellcheck disable=SC2086
	out=$(examples/share-buffer $dev) || { echo "FAIL: share-buffer $dev: exit $?"; fail=1; }
	echo "$out"
	grep -q "named 'example': \"hello from the other process\"" <<< "$out" ||
		{ echo "FAIL: share-buffer $dev: $out"; fail=1; }
	if [ "$dev" = p2pgem ] && ! grep -q "^sender: 1 MiB in VRAM$" <<< "$out"; then
		echo "FAIL: share-buffer p2pgem: not in VRAM: $out"
		fail=1
	fi
done
out=$(examples/list-dmabufs) || { echo "FAIL: list-dmabufs: exit $?"; fail=1; }
[ "$out" = "0 dma-bufs" ] || { echo "FAIL: list-dmabufs: $out"; fail=1; }
if [ -r /sys/kernel/debug/p2pbuf_probe/matrix ]; then
	# No process substitution: the guest has no /dev/fd.
	read -r p c <<< "$(sed -n 's/^provider=\([^ ]*\) client=\([^ ]*\) .*/\1 \2/p' \
		/sys/kernel/debug/p2pbuf_probe/matrix | head -n 1)"
	out=$(examples/explain-peer "$p" "$c") || { echo "FAIL: explain-peer: exit $?"; fail=1; }
	echo "$out"
	want=$(p2pbuf explain "$p" "$c" --json | jq -r .text)
	grep -qF -- "$want" <<< "$out" || { echo "FAIL: explain-peer says '$out', p2pbuf explain '$want'"; fail=1; }
fi
exit $fail
