#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-harness: the harness's own test. First, on the host,
# tests/vm/scan-dmesg must recognise every kind of kernel report
# (tests/harness/scan-dmesg-test.sh). Then `make check` runs on one topology
# with the self-test's bugs planted (tests/harness/, guest-run's harness
# mode): a module that WARNs on load, and guest tests whose modules make two
# DMA-API errors, read freed memory twice, and leak memory. It passes only
# if that run fails on exactly these: the WARN and both KASAN reports in
# dmesg, the DMA-API error count of the test that made the errors (both
# errors printed in dmesg), and the leak found by kmemleak and traced to its
# test; every test assertion still passes. One line per proof, then
# "N passed, N failed".
set -uo pipefail
# Variables given to the top-level make (TOPO, TESTS) reach this script in
# the environment; keep them out of the sub-makes below, where MAKEFLAGS
# would override those makefiles' own variables (libp2pbuf's TESTS).
unset MAKEFLAGS MAKEOVERRIDES MFLAGS

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${P2PBUF_OUT:-$repo/.out}/harness
topo=${TOPO:-switch}
topo=${topo%% *}

passed=0 failed=0
proof() {
	local name=$1 ok=$2 why=$3

	if [ "$ok" = 0 ]; then
		echo "PASS harness:$name"
		passed=$((passed + 1))
	else
		echo "FAIL harness:$name: $why"
		failed=$((failed + 1))
	fi
}
summary() {
	echo "$passed passed, $failed failed"
	[ $failed = 0 ]
	exit
}

log=$("$repo/tests/harness/scan-dmesg-test.sh" 2>&1)
proof scan-dmesg $? "tests/vm/scan-dmesg misreads kernel reports:
$log"

log=$(HARNESS=1 KERNEL=debug TOPO=$topo TESTS='probe-*' P2PBUF_OUT=$out \
	"$repo/tests/check.sh" 2>&1)
rc=$?
echo "$log" | sed 's/^/    /'
# The debug kernel's results: check.sh names them debug/TOPO/TEST.
topo=debug/$topo

if [ $rc = 0 ]; then
	proof run 1 "the planted bugs did not fail the run"
	summary
fi
if ! grep -q "^PASS $topo/boot" <<< "$log"; then
	proof run 1 "the guest did not run"
	summary
fi
dmesg=$out/$topo/dmesg.txt

# The WARN, from the kernel log.
grep -q "^FAIL $topo/dmesg-clean" <<< "$log" &&
	grep -q "p2pbuf_harness_warn" <<< "$log"
proof warn $? "the run did not fail on the planted WARN"

# Two DMA-API errors: the test that made them fails on the error count,
# whatever was printed.
line=$(grep "^FAIL $topo/harness:dma-api " <<< "$log")
[[ "$line" =~ \(DMA-API\ error_count\ rose\ from\ ([0-9]+)\ to\ ([0-9]+)\)$ ]] &&
	[ $((BASH_REMATCH[2] - BASH_REMATCH[1])) = 2 ]
proof dma-api $? "no \"FAIL $topo/harness:dma-api (DMA-API error_count rose from N to N+2)\"${line:+, only: $line}"

# Both were printed too: the harness raised dma-api/num_errors.
printed=$(grep -c 'DMA-API: platform p2pbuf_harness_dma: .*different direction' \
	"$dmesg" 2>/dev/null)
[ "${printed:-0}" -ge 2 ]
proof dma-api-printed $? "$dmesg has ${printed:-0} of the 2 DMA-API reports"

# Two use-after-free reads: both reported by KASAN (the guest boots with
# kasan_multi_shot), and scan-dmesg names the test they came during.
kasan=$("$repo/tests/vm/scan-dmesg" "$dmesg" 2>/dev/null |
	grep -c '^during harness:kasan: .*BUG: KASAN: .*p2pbuf_harness_kasan_init')
[ "${kasan:-0}" -ge 2 ]
proof kasan $? "scan-dmesg finds ${kasan:-0} of the 2 KASAN reports during harness:kasan in $dmesg"

# The leak: kmemleak found it and named the test that loaded the module.
grep -q "^FAIL $topo/kmemleak " <<< "$log" &&
	grep -q "allocated during harness:kmemleak" <<< "$log" &&
	grep -q "p2pbuf_harness_leak_alloc" "$out/$topo/kmemleak.txt" 2>/dev/null
proof kmemleak $? "no \"FAIL $topo/kmemleak\" naming harness:kmemleak, or no p2pbuf_harness_leak_alloc in $out/$topo/kmemleak.txt"

# Nothing else failed.
others=$(grep -E '^FAIL ' <<< "$log" | grep -vE "^FAIL $topo/(dmesg-clean|harness:dma-api|kmemleak)( |$)")
[ -z "$others" ]
proof nothing-else $? "other checks failed too:
$others"

summary
