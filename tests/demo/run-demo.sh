#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build what is needed, boot the emulated machine (TOPO, default
# switch) and show what p2pbuf does there.
set -euo pipefail
# Variables given to the top-level make (TOPO, TESTS) reach this script in
# the environment; keep them out of the sub-makes below, where MAKEFLAGS
# would override those makefiles' own variables (libp2pbuf's TESTS).
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
topo=${TOPO:-switch}
out=${P2PBUF_OUT:-$repo/.out}/demo-$topo

tests/install-deps.sh
if [ -z "${KDIR:-}" ]; then
	echo "demo: preparing the test kernel (built once, then cached)" >&2
	KDIR=$(tests/kernel/build-kernel.sh)
fi
export KDIR
make -s -C "$KDIR" M="$repo" modules
make -s -C libp2pbuf
make -s -C tests/uapi
echo "demo: preparing the Vulkan root (Debian trixie, built once, then cached)" >&2
make -s -C tests/vulkan > /dev/null

echo "demo: booting the '$topo' machine under QEMU (TCG, 2 CPUs)" >&2
rc=0
tests/vm/run-vm.sh "$topo" "$out" demo || rc=$?
cat "$out/results" 2>/dev/null
# Where the NVMe device's reads went, from QEMU's trace of the device.
if [ -s "$out/demo-bars" ] && [ -s "$out/nvme-trace.log" ]; then
	read -r gem start end < "$out/demo-bars"
	echo
	echo "Seen from outside the guest (QEMU's trace of the NVMe device):"
	awk -v s="$start" -v e="$end" -v g="$gem" '
	function hex(x,    v, i, c) {
		sub(/^0[xX]/, "", x); v = 0
		for (i = 1; i <= length(x); i++) {
			c = index("0123456789abcdef", tolower(substr(x, i, 1)))
			v = v * 16 + c - 1
		}
		return v
	}
	BEGIN { lo = hex(s); hi = hex(e) }
	/^pci_nvme_read / { rd = 1; next }
	/^pci_nvme_write / { rd = 0; next }
	/^pci_nvme_map_addr / {
		if (!rd) next
		a = hex($3); n = $5 + 0
		if (a >= lo && a + n <= hi + 1) {
			inbar += n; if (!first || a < first) first = a
			if (a + n > last) last = a + n
		} else {
			other += n
		}
	}
	END {
		printf "  the NVMe device wrote %d KiB of its reads into %s'"'"'s BAR 2 (%s-%s),\n",
		       inbar / 1024, g, s, e
		if (inbar)
			printf "  at bus addresses 0x%x-0x%x: peer to peer, not through RAM;\n", first, last - 1
		printf "  %d KiB of its reads went to other addresses (file system metadata, and the\n", other / 1024
		printf "  compat read, which the CPU then copied into VRAM).\n"
	}' "$out/nvme-trace.log"
fi
if [ $rc != 0 ]; then
	echo "demo: the guest failed (status $rc); console log: $out/console.log" >&2
	tail -n 30 "$out/guest-stderr.log" "$out/console.log" >&2 2>/dev/null
	exit 1
fi
