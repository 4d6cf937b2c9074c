#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem uAPI test tests/uapi/p2pgem_basic: create, map, write and read back
# in every placement; buffer and device info, wait, forced eviction, debugfs.
# One line per subtest ("ok NAME", "not ok NAME: why", "skip NAME");
# fails when any subtest fails, skips when p2pgem.ko is not loaded.
set -uo pipefail

prog=$P2PBUF_REPO/tests/uapi/p2pgem_basic
if [ ! -d /sys/module/p2pgem ]; then
	echo "p2pgem.ko is not loaded"
	exit 77
fi
if [ ! -x "$prog" ]; then
	echo "$prog is not built (make -C tests/uapi)"
	exit 1
fi
exec "$prog"
