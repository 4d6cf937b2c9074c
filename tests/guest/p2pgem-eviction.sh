#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem uAPI test tests/uapi/p2pgem_eviction: overcommit beyond 3x VRAM,
# eviction while another process maps the buffer, VRAM-preferred fallback,
# contiguous buffers, concurrent processes, two devices.
set -uo pipefail

# shellcheck source=lib/p2pgem-uapi
. "$P2PBUF_REPO/tests/guest/lib/p2pgem-uapi"
run_p2pgem_uapi p2pgem_eviction "$@"
