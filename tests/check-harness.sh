#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-harness: the harness's own test. Runs `make check` on one
# topology with a module planted that WARNs on load (tests/harness/) and
# passes only if that run fails on the dmesg check while its test
# assertions still pass.
set -uo pipefail
# Variables given to the top-level make (TOPO, TESTS) reach this script in
# the environment; keep them out of the sub-makes below, where MAKEFLAGS
# would override those makefiles' own variables (libp2pbuf's TESTS).
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${P2PBUF_OUT:-$repo/.out}/harness
topo=${TOPO:-switch}
topo=${topo%% *}

log=$(HARNESS=warn TOPO=$topo TESTS='probe-*' P2PBUF_OUT=$out \
	"$repo/tests/check.sh" 2>&1)
rc=$?
echo "$log" | sed 's/^/    /'

if [ $rc = 0 ]; then
	echo "FAIL harness: a planted WARN did not fail the run"
	echo "0 passed, 1 failed"
	exit 1
fi
if ! grep -q "^FAIL $topo/dmesg-clean" <<< "$log" ||
   ! grep -q "p2pbuf_harness_warn" <<< "$log"; then
	echo "FAIL harness: the run failed, but not on the planted WARN"
	echo "0 passed, 1 failed"
	exit 1
fi
if grep -E '^FAIL ' <<< "$log" | grep -vq "^FAIL $topo/dmesg-clean"; then
	echo "FAIL harness: other checks failed too"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "PASS harness: the planted WARN failed the run, and nothing else did"
echo "1 passed, 0 failed"
