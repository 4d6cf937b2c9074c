#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`'s guest side runs and says what it should, so that the demo
# cannot rot between releases: the probe's matrix, the p2pgem and dma-buf
# demos, the p2pbuf tool's VRAM buffer seen, explained and shared, and a
# file on ext4 on the NVMe namespace read into VRAM, and rdma-core's rping
# client moving data into and out of a VRAM buffer over soft-RoCE, and a
# Vulkan program (lavapipe) writing into VRAM that the exporter reads back.
# Scope: every topology (its outcome depends on the PCI topology).
set -uo pipefail

# shellcheck source=lib/kconfig
. "$P2PBUF_REPO/tests/guest/lib/kconfig"
# The demo shows who reaches whose memory peer to peer, by the probe's
# matrix and the p2pbuf tool's explain for every peer of a VRAM buffer.
if ! kconfig_on PCI_P2PDMA; then
	echo "kernel built without CONFIG_PCI_P2PDMA"
	exit 77
fi
out=$("$P2PBUF_REPO/tests/demo/guest-demo" 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: guest-demo exit $rc"; exit 1; }
fail=0
for want in "(p2pbuf topology):" "p2pbuf alloc --device p2pgem" \
	"of vram memory from p2pgem, named demo" ": holds pattern 7" \
	"p2pbuf explain " "the peer received 2 buffers intact" \
	"p2pbuf read " ": holds pattern 11" "path compat" \
	"the server: 16 pings, 65536 bytes RDMA READ into the buffer"; do
	grep -qF -- "$want" <<< "$out" || { echo "FAIL: no '$want' in the demo"; fail=1; }
done

# The Vulkan part, where its trixie root is built (tests/vulkan), on the
# topologies where every test runs.
if [ "${P2PBUF_SCOPE:-full}" = full ] &&
	"$P2PBUF_REPO/tests/vulkan/build-root.sh" --path > /dev/null; then
	for want in "vulkan-import: read it back: intact" ": holds pattern 13"; do
		grep -qF -- "$want" <<< "$out" || { echo "FAIL: no '$want' in the demo"; fail=1; }
	done
fi

exit $fail
