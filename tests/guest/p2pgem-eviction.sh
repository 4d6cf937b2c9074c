#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem uAPI test tests/uapi/p2pgem_eviction: overcommit beyond 3x VRAM,
# eviction while another process maps the buffer, VRAM-preferred fallback,
# contiguous buffers, concurrent processes, two devices.
# One line per subtest ("ok NAME", "not ok NAME: why", "skip NAME");
# fails when any subtest fails, skips when p2pgem.ko is not loaded.
set -uo pipefail

prog=$P2PBUF_REPO/tests/uapi/p2pgem_eviction
if [ ! -d /sys/module/p2pgem ]; then
	echo "p2pgem.ko is not loaded"
	exit 77
fi
if [ ! -x "$prog" ]; then
	echo "$prog is not built (make -C tests/uapi)"
	exit 1
fi
exec "$prog"
