#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem uAPI test tests/uapi/p2pgem_basic: create, map, write and read back
# in every placement; buffer and device info, wait, forced eviction, debugfs.
set -uo pipefail

# shellcheck source=lib/p2pgem-uapi
. "$P2PBUF_REPO/tests/guest/lib/p2pgem-uapi"
run_p2pgem_uapi p2pgem_basic "$@"
