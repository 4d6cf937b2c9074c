#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test, run in the guest in harness mode only: load a module
# that leaks an allocation (tests/harness/p2pbuf_harness_leak.c) and leave
# it loaded. The test itself passes; the harness's kmemleak scan after the
# last test must find the leak and name this test.
set -euo pipefail

insmod "$P2PBUF_REPO/tests/harness/p2pbuf_harness_leak.ko"
