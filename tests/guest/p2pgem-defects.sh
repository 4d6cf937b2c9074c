#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The defects of issue 10 (tests/uapi/p2pgem_defects, with the test
# importer and tests/oddexp/p2pbuf_oddexp.ko):
# - a move zaps only the moved buffer object's CPU mappings;
# - a vmap's pin gives the pin quota back;
# - dma-bufs that are not a whole number of pages are refused by the
#   import.

set -uo pipefail

for m in p2pbuf p2pgem p2pbuf_test_importer p2pbuf_oddexp; do
	if [ ! -d /sys/module/$m ]; then
		echo "$m.ko is not loaded"
		exit 77
	fi
done
prog=$P2PBUF_REPO/tests/uapi/p2pgem_defects
rc=0
for t in zap-only-moved vmap-quota odd-import; do
	"$prog" --run "$t" || rc=1
done
exit $rc
