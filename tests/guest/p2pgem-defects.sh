#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The defects of issue 10 (tests/uapi/p2pgem_defects, with the test
# importer and tests/oddexp/p2pbuf_oddexp.ko):
# - a move zaps only the moved buffer object's CPU mappings;
# - a vmap's pin gives the pin quota back;
# - dma-bufs that are not a whole number of pages are refused by the
#   import;
# - many importers of one buffer for one PCI function share its mapping:
#   no DMA-API debug report, neither counted in error_count (the program
#   checks) nor printed (checked here);
# - an import mapped by PCI bus address is not copied by the CPU.
# Scope: every topology (its outcome depends on the PCI topology).

set -uo pipefail

for m in p2pbuf p2pgem p2pbuf_test_importer p2pbuf_oddexp; do
	if [ ! -d /sys/module/$m ]; then
		echo "$m.ko is not loaded"
		exit 77
	fi
done
prog=$P2PBUF_REPO/tests/uapi/p2pgem_defects
# DMA-API debugging prints its first error and WARNs once on more than
# seven overlapping mappings of a cacheline (not counted as an error).
reports() { dmesg | grep -cE 'DMA-API|overlapping mappings'; }
before=$(reports)
rc=0
for t in zap-only-moved vmap-quota odd-import many-importers-vram \
	many-importers-system p2p-bus-import; do
	"$prog" --run "$t" || rc=1
done
after=$(reports)
if [ "$after" != "$before" ]; then
	echo "FAIL: DMA-API debugging reported:"
	dmesg | grep -E 'DMA-API|overlapping mappings' | tail -n 5
	rc=1
fi
exit $rc
