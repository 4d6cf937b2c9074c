#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test, run in the guest in harness mode only: load a module
# that makes two DMA-API errors (tests/harness/p2pbuf_harness_dma.c). The
# test itself passes; the harness must fail it because the DMA-API error
# count rose while it ran, and both errors must reach dmesg.
set -euo pipefail

insmod "$P2PBUF_REPO/tests/harness/p2pbuf_harness_dma.ko"
rmmod p2pbuf_harness_dma
