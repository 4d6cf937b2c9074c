#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The defects of issue 10 (tests/uapi/p2pgem_defects, with the test
# importer):
# - a move zaps only the moved buffer object's CPU mappings.

set -uo pipefail

for m in p2pbuf p2pgem p2pbuf_test_importer; do
	if [ ! -d /sys/module/$m ]; then
		echo "$m.ko is not loaded"
		exit 77
	fi
done
prog=$P2PBUF_REPO/tests/uapi/p2pgem_defects
rc=0
for t in zap-only-moved; do
	"$prog" --run "$t" || rc=1
done
exit $rc
