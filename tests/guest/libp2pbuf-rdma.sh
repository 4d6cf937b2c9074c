#!/bin/bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The p2pbuf authors
#
# RDMA registration of p2pbuf buffers with a real rdma-core device: a
# soft-RoCE (rxe) link on the guest's loopback interface, driven through
# libibverbs and its rxe provider. 6.1's rxe cannot register dma-buf memory,
# so this checks that libp2pbuf and the example say so precisely, that the
# device otherwise works, and that nothing leaks; a device that can register
# is checked for the MR's range instead.
set -uo pipefail

dev=p2pbuf_rxe
fail=0

if ! zgrep -q '^CONFIG_RDMA_RXE=[ym]' /proc/config.gz 2>/dev/null &&
	! modprobe rdma_rxe 2>/dev/null; then
	echo "SKIP: kernel without soft-RoCE (CONFIG_RDMA_RXE)"
	exit 77
fi
ip link set lo up || exit 1
rdma link add "$dev" type rxe netdev lo || { echo "FAIL: rdma link add"; exit 1; }
trap 'rdma link delete "$dev"' EXIT

out=$(ibv_devices)
echo "$out"
grep -q "$dev" <<< "$out" || { echo "FAIL: ibv_devices does not list $dev"; fail=1; }

for kind in udmabuf p2pgem; do
	p2pbuf-test-peer rdma "$dev" "$kind"
	rc=$?
	[ $rc = 0 ] || [ $rc = 77 ] || fail=1
done

# The example reports the refusal in words and fails.
if out=$(examples/rdma-register p2pgem 2>&1); then
	grep -q "^$dev: registered " <<< "$out" ||
		{ echo "FAIL: rdma-register: $out"; fail=1; }
else
	grep -q "^$dev: .*(this RDMA device cannot register dma-buf memory)$" <<< "$out" ||
		{ echo "FAIL: rdma-register: $out"; fail=1; }
fi
echo "$out"
exit $fail
