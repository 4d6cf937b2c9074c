#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# p2pgem uAPI test tests/uapi/p2pgem_badinput: bad input for every ioctl field
# gets a precise errno.
set -uo pipefail

# shellcheck source=lib/p2pgem-uapi
. "$P2PBUF_REPO/tests/guest/lib/p2pgem-uapi"
run_p2pgem_uapi p2pgem_badinput "$@"
