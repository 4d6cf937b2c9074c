#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test, run in the guest in harness mode only: load a module
# that reads freed memory twice (tests/harness/p2pbuf_harness_kasan.c). The
# test itself passes; both KASAN reports must reach dmesg, where scan-dmesg
# fails the run on them and names this test.
set -euo pipefail

insmod "$P2PBUF_REPO/tests/harness/p2pbuf_harness_kasan.ko"
rmmod p2pbuf_harness_kasan
