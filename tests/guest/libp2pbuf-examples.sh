#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# The programs in examples/ run and say what they should.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail

# shellcheck source=tests/guest/lib/kconfig
. "$P2PBUF_REPO/tests/guest/lib/kconfig"

fail=0
# share-buffer without a device shares a udmabuf.
devs=(vgem p2pgem)
! kconfig_on UDMABUF || devs=("" "${devs[@]}")
for dev in "${devs[@]}"; do
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
	if [ -z "$p" ]; then
		# No pair (a kernel without CONFIG_PCI_P2PDMA has no provider):
		# a VRAM device and the NVMe controller; explain says why not.
		p=$(find /sys/bus/pci/drivers/p2pgem -maxdepth 1 -name '0000:*' -printf '%f\n' | sort | head -n 1)
		c=$(find /sys/bus/pci/drivers/nvme -maxdepth 1 -name '0000:*' -printf '%f\n' | head -n 1)
	fi
	out=$(examples/explain-peer "$p" "$c") || { echo "FAIL: explain-peer: exit $?"; fail=1; }
	echo "$out"
	want=$(p2pbuf explain "$p" "$c" --json | jq -r .text)
	grep -qF -- "$want" <<< "$out" || { echo "FAIL: explain-peer says '$out', p2pbuf explain '$want'"; fail=1; }
fi
exit $fail
